import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { memoryPair } from '../../../drivers/transport/memory.ts';
import type { MemoryTransport } from '../../../drivers/transport/memory.ts';
import { PinPad, PinPadError } from '../../../drivers/pinpad/driver.ts';
import type { PinPadEvent, PinPadOptions } from '../../../drivers/pinpad/driver.ts';
import { PinPadSimulator } from '../../../drivers/pinpad/simulator.ts';
import type { PinPadSimulatorOptions } from '../../../drivers/pinpad/simulator.ts';
import { TEST_PAN, decryptPin, errorCode, until } from './helpers.ts';
import { testLog } from '../../fixtures/test-log.ts';

interface Rig {
  pad: PinPad;
  sim: PinPadSimulator;
  host: MemoryTransport;
  device: MemoryTransport;
  events: PinPadEvent[];
  logs: string[];
  /** Packets (not ACK/NAK/EOT) the host wrote. */
  hostPackets: () => number;
}

const rigs: Rig[] = [];

async function rig(
  simOptions: Partial<PinPadSimulatorOptions> = {},
  padOptions: PinPadOptions = {},
): Promise<Rig> {
  const [host, device] = memoryPair({ ids: ['memory:till', 'memory:pinpad'] });
  await Promise.all([host.open(), device.open()]);
  const logs: string[] = [];
  const writeLog = testLog('pinpad-driver');
  const pad = new PinPad(host, {
    ackTimeoutMs: 200,
    log: (l) => {
      logs.push(l);
      writeLog(l);
    },
    ...padOptions,
  });
  const sim = new PinPadSimulator(device, {
    pin: '1234',
    disconnect: () => device.disconnect(),
    ...simOptions,
  });
  const events: PinPadEvent[] = [];
  pad.on('event', (e) => {
    events.push(e);
    writeLog(e);
  });
  const r: Rig = {
    pad,
    sim,
    host,
    device,
    events,
    logs,
    hostPackets: () => events.filter((e) => e.type === 'tx' && /bytes/.test(e.what)).length,
  };
  rigs.push(r);
  return r;
}

afterEach(async () => {
  for (const r of rigs.splice(0)) {
    r.pad.close();
    r.sim.stop();
    await Promise.all([r.host.close(), r.device.close()]);
  }
});

describe('PinPad over an in-memory pair with the simulator', () => {
  it('shows a prompt (Z2), lines (Z3) and an amount', async () => {
    const { pad, sim } = await rig();
    await pad.displayPrompt('WELCOME');
    await pad.displayLines(['LINE ONE', 'LINE TWO']);
    await pad.displayAmount(1234, { currencySymbol: '$' });
    expect(sim.displays).toEqual(['WELCOME', 'LINE ONE | LINE TWO', 'TOTAL | $12.34']);
    expect(sim.received).toEqual(['display', 'displayLines', 'displayLines']);
    expect(pad.busy).toBe(false);
  });

  it('returns a KSN and PIN block that decrypt to the entered PIN (X9.24-1 vector for counter 1)', async () => {
    const { pad, sim } = await rig();
    const result = await pad.enterPin({ pan: TEST_PAN });
    expect(result).toEqual({ ksn: 'FFFF9876543210E00001', pinBlock: '1B9C1845EB993A7A', responseId: '73' });
    expect(decryptPin(result.ksn, result.pinBlock)).toBe('1234');
    expect(sim.displays).toEqual(['ENTER PIN']);
    expect(sim.counter).toBe(1);
  });

  it('advances the KSN counter per entry, in both response layouts', async () => {
    for (const responseId of ['73', '71'] as const) {
      const { pad } = await rig({ pin: '987654', responseId });
      const ksns: string[] = [];
      for (let i = 0; i < 4; i++) {
        const r = await pad.enterPin({ pan: TEST_PAN });
        expect(r.responseId).toBe(responseId);
        expect(decryptPin(r.ksn, r.pinBlock)).toBe('987654');
        ksns.push(r.ksn);
      }
      expect(ksns).toEqual([
        'FFFF9876543210E00001',
        'FFFF9876543210E00002',
        'FFFF9876543210E00003',
        'FFFF9876543210E00004',
      ]);
    }
  });

  it('resends on NAK and succeeds', async () => {
    const { pad, sim, hostPackets } = await rig();
    sim.nakNext(1);
    await pad.displayPrompt('HELLO');
    expect(hostPackets()).toBe(2);
    sim.nakNext(3);
    const r = await pad.enterPin({ pan: TEST_PAN });
    expect(decryptPin(r.ksn, r.pinBlock)).toBe('1234');
    expect(hostPackets()).toBe(6);
  });

  it('fails with nak_limit after the first transmission and 3 resends are NAKed', async () => {
    const { pad, sim, hostPackets } = await rig({ eotAfterNaks: false });
    sim.nakNext(100);
    expect(await errorCode(pad.displayPrompt('HELLO'))).toBe('nak_limit');
    expect(hostPackets()).toBe(4);
    expect(pad.busy).toBe(false);
  });

  it('fails with nak_limit when the pad answers EOT after 3 NAKs (as the manuals describe)', async () => {
    const { pad, sim, events } = await rig();
    sim.nakNext(100);
    expect(await errorCode(pad.enterPin({ pan: TEST_PAN }))).toBe('nak_limit');
    expect(events.filter((e) => e.type === 'rx').map((e) => (e.type === 'rx' ? e.what : ''))).toEqual([
      'NAK',
      'NAK',
      'NAK',
      'EOT',
    ]);
  });

  it('NAKs a garbled response and takes the resent one', async () => {
    const { pad, events } = await rig({ behaviour: { kind: 'garbage' } });
    const r = await pad.enterPin({ pan: TEST_PAN });
    expect(decryptPin(r.ksn, r.pinBlock)).toBe('1234');
    expect(events.some((e) => e.type === 'tx' && e.what === 'NAK')).toBe(true);
  });

  it('gives up with garbled when every copy of the response is corrupt', async () => {
    const { pad } = await rig({ behaviour: { kind: 'corrupt' } });
    expect(await errorCode(pad.enterPin({ pan: TEST_PAN }))).toBe('garbled');
  });

  it('reports the pad error code of a 71/73 error frame', async () => {
    const { pad } = await rig({ behaviour: { kind: 'error', code: 'A' } });
    const err = await pad.enterPin({ pan: TEST_PAN }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PinPadError);
    expect((err as PinPadError).code).toBe('pad_error');
    expect((err as PinPadError).padCode).toBe('A');
    expect((err as Error).message).toContain('no DUKPT key');
  });

  it('times out PIN entry, cancels it at the pad (72 -> EOT) and is usable again', async () => {
    const { pad, sim } = await rig({ behaviour: { kind: 'ignore' } });
    const t0 = Date.now();
    expect(await errorCode(pad.enterPin({ pan: TEST_PAN, timeoutMs: 150 }))).toBe('timeout');
    expect(Date.now() - t0).toBeGreaterThanOrEqual(140);
    expect(sim.received).toEqual(['pinEntry', 'cancel']);
    expect(sim.events.some((e) => e.type === 'cancelled')).toBe(true);
    sim.behaviour = { kind: 'enter' };
    await pad.displayPrompt('AGAIN');
    expect(sim.displays.at(-1)).toBe('AGAIN');
  });

  it('uses the configured default PIN timeout', async () => {
    const { pad } = await rig({ behaviour: { kind: 'ignore' } }, { pinTimeoutMs: 100 });
    expect(await errorCode(pad.enterPin({ pan: TEST_PAN }))).toBe('timeout');
  });

  it('cancels a running PIN entry from the host', async () => {
    const { pad, sim } = await rig({ behaviour: { kind: 'ignore' } });
    const entry = errorCode(pad.enterPin({ pan: TEST_PAN }));
    await until(() => sim.events.some((e) => e.type === 'pinRequest'));
    await pad.cancel();
    expect(await entry).toBe('cancelled');
    expect(pad.busy).toBe(false);
    expect(sim.received).toEqual(['pinEntry', 'cancel']);
    await pad.cancel(); // idle: 72 answered by ACK
    expect(sim.received).toEqual(['pinEntry', 'cancel', 'cancel']);
  });

  it('cancels before the request was ACKed: the late ACK is not taken for the answer to 72', async () => {
    const { pad, sim } = await rig({ behaviour: { kind: 'ignore' } });
    const entry = errorCode(pad.enterPin({ pan: TEST_PAN }));
    await pad.cancel();
    expect(await entry).toBe('cancelled');
    expect(sim.received).toEqual(['pinEntry', 'cancel']);
    expect(sim.events.some((e) => e.type === 'cancelled')).toBe(true);
  });

  it('reports a cancel pressed at the pad (EOT) as aborted', async () => {
    const { pad } = await rig({ behaviour: { kind: 'cancel' } });
    expect(await errorCode(pad.enterPin({ pan: TEST_PAN }))).toBe('aborted');
  });

  it('refuses a second command while one runs (busy), without disturbing the first', async () => {
    const { pad, sim } = await rig({ entryDelayMs: 50 });
    const entry = pad.enterPin({ pan: TEST_PAN });
    expect(await errorCode(pad.displayPrompt('X'))).toBe('busy');
    expect(await errorCode(pad.enterPin({ pan: TEST_PAN }))).toBe('busy');
    const r = await entry;
    expect(decryptPin(r.ksn, r.pinBlock)).toBe('1234');
    expect(sim.received).toEqual(['pinEntry']);
  });

  it('ends PIN entry with disconnected when the cable is pulled mid-entry', async () => {
    const { pad } = await rig({ behaviour: { kind: 'disconnect' } });
    expect(await errorCode(pad.enterPin({ pan: TEST_PAN }))).toBe('disconnected');
    expect(pad.busy).toBe(false);
    expect(await errorCode(pad.displayPrompt('X'))).toBe('not_open');
  });

  it('fails with no_ack when the pad stays silent (first transmission and 3 resends)', async () => {
    const { pad, sim, hostPackets } = await rig({}, { ackTimeoutMs: 30 });
    sim.stop();
    expect(await errorCode(pad.displayPrompt('HELLO'))).toBe('no_ack');
    expect(hostPackets()).toBe(4);
  });

  it('refuses invalid arguments and commands after close', async () => {
    const { pad } = await rig();
    expect(await errorCode(pad.enterPin({ pan: '4012x45678909' }))).toBe('invalid_argument');
    expect(await errorCode(pad.enterPin({ pan: TEST_PAN, minLength: 2 }))).toBe('invalid_argument');
    expect(await errorCode(pad.enterPin({ pan: TEST_PAN, timeoutMs: -1 }))).toBe('invalid_argument');
    expect(await errorCode(pad.displayPrompt('bad\x03text'))).toBe('invalid_argument');
    expect(await errorCode(pad.displayAmount(-5))).toBe('invalid_argument');
    pad.close();
    expect(await errorCode(pad.displayPrompt('X'))).toBe('closed');
  });

  it('ends with a coded error or a result whatever bytes the pad sends (fast-check)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.uint8Array({ maxLength: 40 }), { maxLength: 6 }), async (chunks) => {
        const [host, device] = memoryPair();
        await Promise.all([host.open(), device.open()]);
        const pad = new PinPad(host, { ackTimeoutMs: 20 });
        try {
          const entry = pad.enterPin({ pan: TEST_PAN, timeoutMs: 60 }).then(
            () => 'ok',
            (err: unknown) => {
              expect(err).toBeInstanceOf(PinPadError);
              return 'err';
            },
          );
          for (const c of chunks) await device.write(Buffer.from(c));
          expect(['ok', 'err']).toContain(await entry);
          expect(pad.busy).toBe(false);
        } finally {
          pad.close();
          await Promise.all([host.close(), device.close()]);
        }
      }),
      { numRuns: 40 },
    );
  });
});

describe('secrets', () => {
  it('no event, error, log line or console output contains the PIN or the PAN', async () => {
    const PIN = '918273';
    const spies = (['log', 'info', 'warn', 'error', 'debug'] as const).map((m) =>
      vi.spyOn(console, m).mockImplementation(() => undefined),
    );
    const stdout = vi.spyOn(process.stdout, 'write');
    const stderr = vi.spyOn(process.stderr, 'write');
    try {
      const { pad, sim, events, logs } = await rig({ pin: PIN });
      const errors: unknown[] = [];
      const keep = (p: Promise<unknown>) => p.catch((e: unknown) => errors.push(e));
      const ok = await pad.enterPin({ pan: TEST_PAN });
      expect(decryptPin(ok.ksn, ok.pinBlock)).toBe(PIN);
      sim.nakNext(1);
      await pad.enterPin({ pan: TEST_PAN });
      for (const behaviour of [
        { kind: 'garbage' as const },
        { kind: 'corrupt' as const },
        { kind: 'cancel' as const },
        { kind: 'error' as const, code: '4' },
        { kind: 'ignore' as const },
      ]) {
        sim.behaviour = behaviour;
        await keep(pad.enterPin({ pan: TEST_PAN, timeoutMs: 100 }));
      }
      await keep(pad.enterPin({ pan: `${TEST_PAN}x` }));
      sim.nakNext(100);
      await keep(pad.enterPin({ pan: TEST_PAN }));
      expect(errors.length).toBeGreaterThanOrEqual(6);

      const output = [
        JSON.stringify(events),
        logs.join('\n'),
        ...errors.map((e) => `${String(e)} ${(e as Error).stack ?? ''} ${JSON.stringify(e)}`),
        ...spies.flatMap((s) => s.mock.calls.map((c) => JSON.stringify(c))),
        ...stdout.mock.calls.map((c) => String(c[0])),
        ...stderr.mock.calls.map((c) => String(c[0])),
        JSON.stringify(sim.events),
      ].join('\n');
      expect(logs.length).toBeGreaterThan(20);
      expect(output).not.toContain(PIN);
      expect(output).not.toContain(TEST_PAN);
      expect(JSON.stringify(ok)).not.toContain(PIN);
    } finally {
      for (const s of [...spies, stdout, stderr]) s.mockRestore();
    }
  });
});
