import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROFILES, matchProfile, probeProfile } from '../../../drivers/devices/profiles.ts';
import type { PortInfo } from '../../../drivers/devices/ports.ts';
import { deviceId, usbId } from '../../../drivers/devices/ports.ts';
import { SerialTransport } from '../../../drivers/transport/serial.ts';
import { PinPadSimulator } from '../../../drivers/pinpad/simulator.ts';
import { ZvtSimulator } from '../../../drivers/zvt/simulator.ts';
import { ZvtTerminal } from '../../../drivers/zvt/driver.ts';
import { SocatPair } from '../transport/socat.ts';

const serial = (fields: Partial<PortInfo>): PortInfo => ({
  source: 'serial',
  link: 'serial',
  path: '/dev/ttyUSB0',
  ...fields,
});

describe('choosing a driver without touching the device', () => {
  it.each([
    ['0001', 'serial-card-reader', 'card_reader'],
    ['0002', 'pinpad-1000se', 'pinpad'],
    ['0003', 'zvt-serial', 'zvt'],
    ['0004', 'serial-scanner', 'scanner'],
  ])('simulator product %s is %s', (productId, name, kind) => {
    const choice = matchProfile(serial({ vendorId: '1209', productId }));
    expect(choice?.profile.name).toBe(name);
    expect(choice?.profile.kind).toBe(kind);
    expect(choice?.matchedBy).toBe('vid_pid');
  });

  it('matches real USB ids, a vendor-wide id, and HID ids only on HID links', () => {
    expect(matchProfile(serial({ vendorId: '0b00', productId: '0054' }))?.profile.name).toBe('zvt-serial');
    expect(matchProfile(serial({ vendorId: '11ca', productId: '0219' }))?.profile.name).toBe('pinpad-1000se');
    expect(matchProfile(serial({ vendorId: '11ca', productId: 'beef' }))?.profile.name).toBe('pinpad-1000se');
    const magtek = { vendorId: '0801', productId: '0002' };
    expect(matchProfile({ ...serial(magtek), source: 'hid', link: 'hid' })?.profile.name).toBe('magtek-hid');
    expect(matchProfile(serial(magtek))).toBeUndefined();
  });

  it('VID/PID wins over metadata, metadata over nothing', () => {
    const both = serial({ vendorId: '1209', productId: '0001', manufacturer: 'VeriFone Inc' });
    expect(matchProfile(both)?.profile.name).toBe('serial-card-reader');
    const byName = matchProfile(serial({ vendorId: '0403', productId: '6001', manufacturer: 'Ingenico' }));
    expect(byName).toMatchObject({ matchedBy: 'metadata', profile: { name: 'zvt-serial' } });
    const hid = matchProfile({
      source: 'hid',
      link: 'hid',
      path: '/dev/hidraw3',
      product: 'Mag-Tek USB Swipe Reader',
    });
    expect(hid).toMatchObject({ matchedBy: 'metadata', profile: { name: 'magtek-hid' } });
  });

  it('a TCP manifest entry names its driver; an unmatched port is unknown', () => {
    const tcp: PortInfo = { source: 'manifest', link: 'tcp', path: '127.0.0.1:20007', driver: 'zvt' };
    expect(matchProfile(tcp)).toMatchObject({ matchedBy: 'manifest', profile: { name: 'zvt-tcp' } });
    expect(
      matchProfile(serial({ vendorId: '0403', productId: '6001', manufacturer: 'FTDI' })),
    ).toBeUndefined();
    expect(matchProfile(serial({}))).toBeUndefined();
  });

  it('profiles are in priority order with unique names and well-formed ids', () => {
    const names = PROFILES.map((p) => p.name);
    expect(new Set(names).size).toBe(names.length);
    for (const u of PROFILES.flatMap((p) => p.usb)) {
      expect(u.vendorId).toMatch(/^[0-9a-f]{4}$/);
      if (u.productId !== undefined) expect(u.productId).toMatch(/^[0-9a-f]{4}$/);
      expect(u.note.length).toBeGreaterThan(0);
    }
  });

  it('any port gets a profile of its own link or none, never an error (property)', () => {
    const hex = fc.option(fc.stringMatching(/^[0-9a-f]{4}$/), { nil: undefined });
    const text = fc.option(fc.string(), { nil: undefined });
    const port = fc.record({
      source: fc.constantFrom('serial' as const, 'manifest' as const, 'hid' as const),
      link: fc.constantFrom('serial' as const, 'hid' as const, 'tcp' as const),
      path: fc.string({ minLength: 1 }),
      vendorId: fc.oneof(hex, fc.constantFrom('1209', '0801', '0b00', '11ca')),
      productId: fc.oneof(hex, fc.constantFrom('0001', '0002', '0003', '0004', '0054')),
      manufacturer: text,
      product: text,
      driver: fc.option(fc.constantFrom('zvt', 'nonsense'), { nil: undefined }),
    });
    fc.assert(
      fc.property(port, (p) => {
        const choice = matchProfile(p);
        if (!choice) return;
        expect(choice.profile.link).toBe(p.link);
        if (choice.matchedBy === 'vid_pid') {
          expect(choice.profile.usb.some((u) => u.vendorId === p.vendorId)).toBe(true);
        }
        if (p.driver) expect(choice.matchedBy).toBe('manifest');
      }),
    );
  });

  it('identity is VID:PID:serial when all are known, else the path', () => {
    expect(
      deviceId({ path: '/dev/ttyUSB0', vendorId: '1209', productId: '0002', serialNumber: 'SIM-pinpad-1' }),
    ).toBe('1209:0002:SIM-pinpad-1');
    expect(deviceId({ path: '/dev/ttyUSB0', vendorId: '1209', productId: '0002' })).toBe('/dev/ttyUSB0');
    expect(deviceId({ path: '10.0.0.5:20007' })).toBe('10.0.0.5:20007');
    expect([usbId('0x1209'), usbId('1209'), usbId(0x801), usbId('zz'), usbId(0x10000), usbId('')]).toEqual([
      '1209',
      '1209',
      '0801',
      undefined,
      undefined,
      undefined,
    ]);
  });
});

describe('probing over real socat pseudo-terminals', () => {
  const pty = new SocatPair();
  beforeAll(() => pty.start());
  afterAll(() => pty.dispose());
  const port = (): PortInfo => serial({ path: pty.a });
  const open = () => new SerialTransport({ path: pty.a, livenessIntervalMs: 100 });
  // Long enough for a simulator on a loaded machine to answer; the silent-port test shows how short it can be.
  const ANSWER_MS = 1500;

  it('finds a PIN pad, having sent it only the harmless cancel (72)', async () => {
    const device = new SerialTransport({ path: pty.b });
    await device.open();
    const sim = new PinPadSimulator(device, { pin: '1234' });
    try {
      const choice = await probeProfile(port(), open, ANSWER_MS);
      expect(choice).toMatchObject({ matchedBy: 'probe', profile: { name: 'pinpad-1000se' } });
      expect(sim.received).toEqual(['cancel']);
    } finally {
      sim.stop();
      await device.close();
    }
  });

  it('finds a ZVT terminal after the PIN pad probe, which left it working', async () => {
    const device = new SerialTransport({ path: pty.b });
    const sim = new ZvtSimulator(device, { framing: 'serial' });
    await sim.open();
    try {
      const choice = await probeProfile(port(), open, ANSWER_MS);
      expect(choice).toMatchObject({ matchedBy: 'probe', profile: { name: 'zvt-serial' } });
      expect(sim.commands).toEqual(['05 01']); // the status enquiry, nothing else
      const terminal = new ZvtTerminal({ transport: open(), framing: 'serial' });
      try {
        await terminal.open();
        await expect(terminal.statusEnquiry()).resolves.toBeDefined();
      } finally {
        await terminal.close();
      }
    } finally {
      await device.close();
    }
  });

  it('a silent device stays unknown, and the probes give up quickly', async () => {
    const started = Date.now();
    await expect(probeProfile(port(), open, 100)).resolves.toBeUndefined();
    const ms = Date.now() - started;
    console.log(`probing a silent port took ${ms} ms`);
    expect(ms).toBeLessThan(10_000);
  });

  it('a port that cannot be opened is unknown', async () => {
    const gone = serial({ path: `${pty.dir}/nothing-here` });
    const opener = () => new SerialTransport({ path: gone.path });
    await expect(probeProfile(gone, opener, 100)).resolves.toBeUndefined();
  });
});
