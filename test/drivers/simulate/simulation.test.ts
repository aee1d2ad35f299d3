// The simulator end to end: startSimulation() in-process, and the till's real drivers (SerialTransport +
// SerialCardReader, PinPad, ZvtTerminal over serial and TCP) on the ports its manifest files name.
import { lstatSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { memberCode } from '../../../drivers/cards/barcode.ts';
import { checkExpiry } from '../../../drivers/cards/magstripe.ts';
import { SAMPLE_SCANS } from '../../../drivers/simulate/cards.ts';
import { readManifest } from '../../../drivers/devices/manifest.ts';
import { decryptPinTdesDukpt } from '../../../contract/crypto/tdes-dukpt.ts';
import { TEST_BDK } from '../../../drivers/pinpad/simulator.ts';
import { OWNER_FILE } from '../../../drivers/simulate/leftovers.ts';
import { startSimulation, type SimulationController } from '../../../drivers/simulate/simulation.ts';
import { waitForState, type TransportError } from '../../../drivers/transport/transport.ts';
import { SIM_PINS, VISA_PAN } from '../../fixtures/secrets.ts';
import { testLog } from '../../fixtures/test-log.ts';
import { gone, openPinPad, openReader, openZvt, processAlive, until } from './helpers.ts';

let dir: string;
let sim: SimulationController;
const output: string[] = [];
const cleanup: Array<() => unknown> = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tillback-simtest-'));
  const log = testLog('simulator');
  sim = await startSimulation({
    dir,
    out: (line) => {
      output.push(line);
      log(line);
    },
  });
});

// Each test closes its drivers: a serial port is locked while open.
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

afterAll(async () => {
  await sim.stop();
  rmSync(dir, { recursive: true, force: true });
});

const path = (id: string) => sim.device(id).address;

describe('manifest files', () => {
  it('name every simulated device in the drivers/devices/manifest.ts shape', async () => {
    const { entries, problems } = await readManifest(dir);
    expect(problems).toEqual([]);
    const byFile = Object.fromEntries(entries.map((e) => [e.file.slice(dir.length + 1), e.entry]));
    expect(Object.keys(byFile).sort()).toEqual([
      'pinpad-1.json',
      'reader-1.json',
      'scanner-1.json',
      'zvt-1.json',
      'zvt-tcp-1.json',
    ]);
    for (const [id, productId] of [
      ['reader-1', '0001'],
      ['pinpad-1', '0002'],
      ['zvt-1', '0003'],
      ['scanner-1', '0004'],
    ] as const) {
      expect(byFile[`${id}.json`]).toMatchObject({
        path: join(dir, id),
        manufacturer: 'Tillback Simulator',
        vendorId: '1209',
        productId,
        serialNumber: `SIM-${id}`,
      });
      expect(lstatSync(join(dir, id)).isSymbolicLink()).toBe(true);
    }
    expect(byFile['zvt-tcp-1.json']).toMatchObject({
      tcp: expect.stringMatching(/^127\.0\.0\.1:\d+$/),
      driver: 'zvt',
      serialNumber: 'SIM-zvt-tcp-1',
    });
  });
});

describe('magstripe reader and scanner', () => {
  it('swipes arrive as masked card events; the expired card reads and is expired; a bad LRC is a coded error', async () => {
    const r = await openReader(path('reader-1'));
    cleanup.push(() => r.transport.close());
    await sim.swipe('visa');
    const visa = await r.next();
    expect(visa.type).toBe('card');
    if (visa.type !== 'card') return;
    expect(visa.swipe.card.panMasked).toBe('411111******1111');
    expect(visa.swipe.card.withPan((p) => p === VISA_PAN)).toBe(true);
    expect(visa.swipe.tracks.map((t) => t.track)).toEqual([1, 2]);
    expect(checkExpiry(visa.swipe.card.expiry, new Date())).toBeNull();

    await sim.swipe('expired');
    const expired = await r.next();
    expect(expired.type === 'card' && checkExpiry(expired.swipe.card.expiry, new Date())?.code).toBe(
      'expired',
    );

    await sim.swipe('bad-lrc');
    const bad = await r.next();
    expect(bad.type === 'error' && bad.error.code).toBe('bad_lrc');
    expect(output.join('\n')).toContain('reader-1: swiped visa card 411111******1111');
  });

  it('scans arrive as member and receipt codes', async () => {
    const s = await openReader(path('scanner-1'));
    cleanup.push(() => s.transport.close());
    const good = memberCode('1234567');
    const wrongCheckDigit = good.slice(0, -1) + ((Number(good.at(-1)) + 1) % 10);
    await sim.scan('member');
    await sim.scan('TB-R-ABCDEFGH234567');
    await sim.scan(wrongCheckDigit);
    expect(await s.next()).toMatchObject({
      type: 'scan',
      scan: { kind: 'member', memberNumber: SAMPLE_SCANS.member.slice('TB-M-'.length) },
    });
    expect(await s.next()).toMatchObject({
      type: 'scan',
      scan: { kind: 'receipt', receiptCode: 'ABCDEFGH234567' },
    });
    expect(await s.next()).toMatchObject({ type: 'error', error: { code: 'bad_check_digit' } });
  });

  it('garbage is a coded error event and the reader goes on reading', async () => {
    const r = await openReader(path('reader-1'));
    cleanup.push(() => r.transport.close());
    await sim.garbage('reader-1');
    const e = await r.next();
    expect(e.type).toBe('error');
    await sim.swipe('visa');
    expect((await r.next()).type).toBe('card');
  });

  it('unplug: the transport reports disconnected and the link is gone; replug: reopening works', async () => {
    const r = await openReader(path('reader-1'));
    cleanup.push(() => r.transport.close());
    const lost = new Promise<TransportError | undefined>((resolve) =>
      r.transport.on('state', (s, err) => s === 'failed' && resolve(err)),
    );
    const t0 = Date.now();
    await sim.unplug('reader-1');
    expect((await lost)?.code).toBe('disconnected');
    expect(Date.now() - t0).toBeLessThan(2000);
    expect(gone(path('reader-1'))).toBe(true);
    expect(sim.device('reader-1').plugged).toBe(false);
    await expect(sim.swipe('visa')).rejects.toThrow(/unplugged/);

    await sim.replug('reader-1');
    await r.transport.open();
    await sim.swipe('visa');
    expect((await r.next()).type).toBe('card');
  });
});

describe('socat killed from outside', () => {
  it('is reported as an unplug, and replug starts afresh over the stale link', async () => {
    const s = await openReader(path('scanner-1'));
    cleanup.push(() => s.transport.close());
    const pid = sim.device('scanner-1').pid!;
    process.kill(pid, 'SIGKILL');
    await waitForState(s.transport, 'failed');
    await until(() => output.includes('scanner-1: socat went away: unplugged'));
    // The pty's hang-up can arrive before node has reaped socat: wait for the exit too.
    await until(() => !sim.device('scanner-1').plugged);
    await sim.replug('scanner-1');
    expect(sim.device('scanner-1').pid).not.toBe(pid);
    await s.transport.open();
    await sim.scan('receipt');
    expect(await s.next()).toMatchObject({ type: 'scan', scan: { kind: 'receipt' } });
  });
});

describe('PIN pad', () => {
  it('the PIN set by `pin` comes back as a KSN and a TDES DUKPT block that decrypts to it; the KSN survives a replug', async () => {
    const [pin1, pin2] = SIM_PINS;
    const { transport, pad } = await openPinPad(path('pinpad-1'));
    cleanup.push(() => transport.close());
    sim.setPin(pin1);
    const first = await pad.enterPin({ pan: VISA_PAN, timeoutMs: 10_000 });
    const decrypt = (r: { ksn: string; pinBlock: string }) =>
      decryptPinTdesDukpt(
        Buffer.from(TEST_BDK, 'hex'),
        Buffer.from(r.ksn, 'hex'),
        Buffer.from(r.pinBlock, 'hex'),
        VISA_PAN,
      );
    expect(first.ksn).toBe('FFFF9876543210E00001');
    expect(decrypt(first)).toBe(pin1);

    await sim.garbage('pinpad-1');
    await sim.unplug('pinpad-1');
    await waitForState(transport, 'failed');
    await sim.replug('pinpad-1');
    await transport.open();
    sim.setPin(pin2);
    const second = await pad.enterPin({ pan: VISA_PAN, timeoutMs: 10_000 });
    expect(second.ksn).toBe('FFFF9876543210E00002');
    expect(decrypt(second)).toBe(pin2);
    expect(output.join('\n')).toContain('pinpad-1: the customer will type a 4-digit PIN');
    expect(output.join('\n')).toContain('pinpad-1: the customer will type a 6-digit PIN');
    expect(output).toContain('pinpad-1: PIN requested: the customer types 4 digits');
    expect(output).toContain('pinpad-1: PIN block sent, KSN FFFF9876543210E00001');
  });
});

describe('ZVT terminal', () => {
  it('over the pty: registration, read card (masked), garbage survived, unplug -> disconnected', async () => {
    const { transport, terminal } = await openZvt({ path: path('zvt-1') });
    cleanup.push(() => terminal.close());
    expect((await terminal.register()).terminalId).toBe('52500038');
    await sim.garbage('zvt-1');
    const card = await terminal.readCard();
    expect(card).toMatchObject({ maskedPan: '535029******5177', expiry: '1604' });
    await sim.swipe('visa', 'zvt-1');
    expect(await terminal.readCard()).toMatchObject({ maskedPan: '411111******1111', expiry: '3012' });
    await expect(sim.swipe('bad-lrc', 'zvt-1')).rejects.toThrow(/stripe fault/);
    await expect(sim.swipe('visa', 'pinpad-1')).rejects.toThrow(/not a card reader/);
    expect((await terminal.statusEnquiry()).terminalStatus).toBe(0);
    const lost = waitForState(transport, 'failed');
    await sim.unplug('zvt-1');
    await lost;
    await expect(terminal.statusEnquiry()).rejects.toMatchObject({
      code: expect.stringMatching(/not_open|disconnected/),
    });
    await sim.replug('zvt-1');
    await terminal.open();
    expect((await terminal.statusEnquiry()).terminalStatus).toBe(0);
  });

  it('over TCP on 127.0.0.1: read card; unplug closes the port; replug listens on the same one', async () => {
    const tcp = sim.device('zvt-tcp-1').address;
    const { transport, terminal } = await openZvt({ tcp });
    cleanup.push(() => terminal.close());
    expect(await terminal.readCard()).toMatchObject({ maskedPan: '535029******5177' });
    await sim.garbage('zvt-tcp-1');
    expect((await terminal.statusEnquiry()).terminalStatus).toBe(0);
    const lost = waitForState(transport, 'failed');
    await sim.unplug('zvt-tcp-1');
    await lost;
    await expect(terminal.open()).rejects.toMatchObject({ code: 'open_failed' });
    await sim.replug('zvt-tcp-1');
    expect(sim.device('zvt-tcp-1').address).toBe(tcp);
    await sim.swipe('visa', 'zvt-tcp-1');
    await terminal.open();
    expect(await terminal.readCard()).toMatchObject({ maskedPan: '411111******1111', expiry: '3012' });
    expect(output).toContain('zvt-tcp-1: the next read card presents the visa card 411111******1111');
  });
});

describe('commands and output', () => {
  it('runs command lines, reports bad ones without effect, and never prints a PIN or a full PAN', async () => {
    const before = output.length;
    await sim.run('pin 975310');
    await sim.run('swipe 4111111111111111');
    await sim.run('pin 12');
    await sim.run('unplug nosuch-1');
    await sim.run('list');
    await sim.run('help');
    const said = output.slice(before).join('\n');
    expect(said).toContain('error: unknown card');
    expect(said).toContain('error: a PIN is 4 to 12 digits');
    expect(said).toContain('error: no device nosuch-1');
    expect(said).toMatch(/reader-1 .*plugged \(socat pid \d+\)/);
    expect(said).not.toContain('975310');
    expect(said).not.toContain(VISA_PAN);
    expect(await sim.run('quit')).toBe('quit');
  });
});

describe('stop', () => {
  it('removes every manifest file and link, and stops every socat', async () => {
    const other = mkdtempSync(join(tmpdir(), 'tillback-simtest-'));
    const s = await startSimulation({
      dir: other,
      devices: ['reader', 'pinpad', 'zvt-tcp'],
      out: () => undefined,
    });
    const pids = s.devices().flatMap((d) => (d.pid ? [d.pid] : []));
    expect(pids).toHaveLength(2);
    expect(readdirSync(other).sort()).toEqual([
      'pinpad-1',
      'pinpad-1.json',
      'reader-1',
      'reader-1.json',
      OWNER_FILE,
      'zvt-tcp-1.json',
    ]);
    await s.stop();
    await s.stop();
    expect(readdirSync(other)).toEqual([]);
    await until(() => pids.every((p) => !processAlive(p)), 2000, 'socat exit');
    rmSync(other, { recursive: true, force: true });
  });
});
