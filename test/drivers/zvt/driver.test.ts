import { afterEach, describe, expect, it } from 'vitest';
import { memoryPair } from '../../../drivers/transport/memory.ts';
import { withFaults } from '../../../drivers/transport/fault.ts';
import { ZvtError, ZvtTerminal } from '../../../drivers/zvt/driver.ts';
import { ZvtSimulator } from '../../../drivers/zvt/simulator.ts';
import type { ZvtFraming } from '../../../drivers/zvt/channel.ts';
import { TEST_PAN, memoryRig, observable } from './helpers.ts';
import type { Rig } from './helpers.ts';
import { rejection } from '../../fixtures/rejection.ts';

const rigs: Rig[] = [];
afterEach(async () => {
  for (const r of rigs.splice(0)) await r.close();
});

async function rig(framing: ZvtFraming, opts: Parameters<typeof memoryRig>[1] = {}): Promise<Rig> {
  const r = await memoryRig(framing, opts);
  rigs.push(r);
  return r;
}

/** The ZvtError a command rejects with. */
const zvtRejection = (p: Promise<unknown>) => rejection(p, ZvtError);

for (const framing of ['tcp', 'serial'] as const) {
  describe(`ZvtTerminal + simulator over a memory pair (${framing} framing)`, () => {
    it('registration', async () => {
      const r = await rig(framing);
      const c = await r.terminal.register({ password: '123456', currency: 978 });
      expect(c).toEqual({ terminalStatus: 0, terminalId: '52500038', currency: 978 });
      expect(r.sim.commands).toEqual(['06 00']);
    });

    it('status enquiry', async () => {
      const r = await rig(framing);
      const s = await r.terminal.statusEnquiry();
      expect(s).toMatchObject({
        terminalStatus: 0,
        terminalStatusText: 'PT ready',
        softwareVersion: 'TILLBACK-SIM 1.0',
      });
    });

    it('read card: intermediate "insert card", then masked card data only', async () => {
      const r = await rig(framing);
      const card = await r.terminal.readCard({ timeoutSec: 20 });
      expect(card).toEqual({
        maskedPan: '535029******5177',
        expiry: '1604',
        cardType: 6,
        cardName: 'MASTERCARD',
      });
      expect(r.events[0]).toEqual({
        type: 'intermediate',
        command: '06 C0',
        status: 0x0a,
        text: 'insert card',
      });
      expect(r.events[1]).toMatchObject({ type: 'status', fields: { maskedPan: '535029******5177' } });
      expect(observable(r)).not.toContain(TEST_PAN);
    });

    it('display text', async () => {
      const r = await rig(framing);
      await r.terminal.displayText(['Cashback 5.00', 'Thank you'], { durationSec: 3 });
      expect(r.sim.displayed).toEqual([['Cashback 5.00', 'Thank you']]);
    });

    it('abort while idle is acknowledged', async () => {
      const r = await rig(framing);
      await r.terminal.abort();
      expect(r.sim.commands).toEqual(['06 B0']);
    });

    it('abort during read card ends it with 06 1E 6C as a readable error', async () => {
      const r = await rig(framing, { sim: { stepDelayMs: 40 } });
      r.terminal.on('event', (e) => {
        if (e.type === 'intermediate') void r.terminal.abort();
      });
      const err = await zvtRejection(r.terminal.readCard());
      expect(err.code).toBe('terminal_abort');
      expect(err.resultCode).toBe(0x6c);
      expect(err.message).toMatch(/06 C0 aborted by the terminal: aborted \(time-out or abort key\)/);
      expect(r.terminal.busy).toBe(false);
    });

    it.each([
      [0x6c, /aborted/],
      [0x9c, /please wait/],
      [0x78, /card expired/],
      [0x05, /network operator/],
    ])('terminal abort 06 1E %d -> coded readable error', async (code, text) => {
      const r = await rig(framing);
      r.sim.misbehave({ kind: 'abort', resultCode: code });
      const err = await zvtRejection(r.terminal.readCard());
      expect(err.toJSON()).toMatchObject({ code: 'terminal_abort', resultCode: code });
      expect(err.message).toMatch(text);
    });

    it('84 xx refusal -> coded error', async () => {
      const r = await rig(framing);
      r.sim.misbehave({ kind: 'refuse', resultCode: 0x83 });
      const err = await zvtRejection(r.terminal.register());
      expect(err).toMatchObject({ code: 'refused', resultCode: 0x83 });
      expect(err.message).toMatch(/function not possible/);
    });

    it('a second command while one runs is refused at once with busy, not interleaved', async () => {
      const r = await rig(framing, { sim: { stepDelayMs: 20 } });
      const first = r.terminal.readCard();
      let firstSettled = false;
      void first.finally(() => (firstSettled = true)).catch(() => undefined);
      const err = await zvtRejection(r.terminal.register());
      expect(err.code).toBe('busy');
      expect(firstSettled).toBe(false); // refused at once, while the read card still runs
      expect((await first).maskedPan).toBe('535029******5177');
      expect(r.sim.commands).toEqual(['06 C0']);
      // and works again afterwards
      await r.terminal.register();
    });

    it('a silent terminal -> coded timeout', async () => {
      const r = await rig(framing, { commandTimeoutMs: 150 });
      r.sim.misbehave({ kind: 'silent' });
      const t0 = Date.now();
      const err = await zvtRejection(r.terminal.statusEnquiry());
      expect(err.code).toBe('timeout');
      expect(Date.now() - t0).toBeGreaterThanOrEqual(140);
      expect(r.terminal.busy).toBe(false);
    });

    it('garbage from the terminal -> coded timeout, no crash', async () => {
      const r = await rig(framing, { commandTimeoutMs: 200 });
      r.sim.misbehave({ kind: 'garbage' });
      const err = await zvtRejection(r.terminal.register());
      expect(['timeout', 'refused']).toContain(err.code);
      r.sim.misbehave({ kind: 'none' });
      if (framing === 'serial') await r.terminal.register(); // serial resynchronises on the next frame
    });

    it('disconnect mid-command -> coded disconnected', async () => {
      const r = await rig(framing);
      r.sim.misbehave({ kind: 'disconnect' });
      const err = await zvtRejection(r.terminal.readCard());
      expect(err.code).toBe('disconnected');
      expect(r.events.some((e) => e.type === 'intermediate')).toBe(true);
      expect(r.terminal.busy).toBe(false);
      const again = await zvtRejection(r.terminal.register());
      expect(again.code).toBe('not_open');
    });
  });
}

describe('serial-only faults', () => {
  it('a terminal that NAKs every frame -> coded link error after retries', async () => {
    const r = await rig('serial', { ackTimeoutMs: 50 });
    r.sim.misbehave({ kind: 'nak' });
    const err = await zvtRejection(r.terminal.register());
    expect(err.code).toBe('link');
    expect(err.message).toMatch(/zvt_link_nak/);
  });
});

describe('argument errors', () => {
  it('bad arguments are coded and send nothing', async () => {
    const r = await rig('tcp');
    const err = await zvtRejection(r.terminal.register({ password: 'abc' }));
    expect(err.code).toBe('bad_argument');
    expect(r.terminal.busy).toBe(false);
    expect(r.sim.commands).toEqual([]);
  });
});

describe('timeouts and chunking', () => {
  it('the command timeout is overall: a terminal still talking slowly is cut off', async () => {
    const r = await rig('tcp', { commandTimeoutMs: 120, sim: { stepDelayMs: 80 } });
    const err = await zvtRejection(r.terminal.readCard());
    expect(err.code).toBe('timeout');
    expect(r.events.some((e) => e.type === 'intermediate')).toBe(true);
  });

  it('restartTimeoutOnMessage: each terminal message restarts the timer', async () => {
    const [a, b] = memoryPair();
    const sim = new ZvtSimulator(b, { framing: 'tcp', stepDelayMs: 80 });
    const t = new ZvtTerminal({
      transport: a,
      framing: 'tcp',
      commandTimeoutMs: 120,
      restartTimeoutOnMessage: true,
    });
    await sim.open();
    await t.open();
    try {
      expect((await t.readCard()).maskedPan).toBe('535029******5177');
    } finally {
      await t.close();
      await sim.close();
    }
  });

  for (const framing of ['tcp', 'serial'] as const) {
    it(`${framing}: bytes arriving one at a time, both ways`, async () => {
      const [a, b] = memoryPair();
      const ecr = withFaults(a).split(1);
      const pt = withFaults(b).split(1);
      const sim = new ZvtSimulator(pt, { framing, stepDelayMs: 1 });
      const t = new ZvtTerminal({ transport: ecr, framing, commandTimeoutMs: 3000 });
      await sim.open();
      await t.open();
      try {
        await t.register();
        expect((await t.readCard()).expiry).toBe('1604');
        await t.displayText(['x']);
      } finally {
        await t.close();
        await sim.close();
      }
    });
  }
});
