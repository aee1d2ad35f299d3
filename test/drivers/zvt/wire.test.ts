// The same registration + read card over a REAL socat pty pair (SerialTransport, serial framing) and over TCP
// on 127.0.0.1 (TcpTransport, raw APDUs), with the PAN scan of everything the driver let out.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SerialTransport } from '../../../drivers/transport/serial.ts';
import { TcpTransport } from '../../../drivers/transport/tcp.ts';
import { ZvtTerminal } from '../../../drivers/zvt/driver.ts';
import { ZvtSimulator, listenZvtTcp } from '../../../drivers/zvt/simulator.ts';
import { SocatPair } from '../transport/socat.ts';
import { TEST_PAN, observable, panForms, record } from './helpers.ts';

async function registerAndRead(terminal: ZvtTerminal): Promise<void> {
  const c = await terminal.register({ password: '000000', currency: 978 });
  expect(c).toEqual({ terminalStatus: 0, terminalId: '52500038', currency: 978 });
  const card = await terminal.readCard();
  expect(card).toEqual({
    maskedPan: '535029******5177',
    expiry: '1604',
    cardType: 6,
    cardName: 'MASTERCARD',
  });
}

describe('ZVT over a real socat pty pair (serial framing)', () => {
  const pty = new SocatPair();
  beforeAll(() => pty.start());
  afterAll(() => pty.dispose());

  it('registration + read card', async () => {
    const sim = new ZvtSimulator(new SerialTransport({ path: pty.b, baudRate: 115200 }), {
      framing: 'serial',
    });
    const terminal = new ZvtTerminal({
      transport: new SerialTransport({ path: pty.a, baudRate: 115200 }),
      framing: 'serial',
      commandTimeoutMs: 5000,
    });
    const rec = record(terminal);
    const wire: Buffer[] = [];
    sim.transport.on('data', (c) => wire.push(c));
    await sim.open();
    await terminal.open();
    try {
      await registerAndRead(terminal);
      // the ECR's frames really were DLE STX ... DLE ETX CRC
      const bytes = Buffer.concat(wire);
      expect(bytes.subarray(0, 2).toString('hex')).toBe('1002');
      expect(bytes.includes(Buffer.of(0x10, 0x03))).toBe(true);
      expect(rec.events.map((e) => e.type)).toEqual(['intermediate', 'status']);
      const seen = observable(rec);
      for (const form of panForms(TEST_PAN)) expect(seen).not.toContain(form);
    } finally {
      await terminal.close();
      await sim.close();
    }
  });
});

describe('ZVT over TCP on 127.0.0.1 (raw APDUs)', () => {
  it('registration + read card, and a disconnect mid-command', async () => {
    const server = await listenZvtTcp({ stepDelayMs: 2 });
    const transport = new TcpTransport({ host: '127.0.0.1', port: server.port });
    const terminal = new ZvtTerminal({ transport, framing: 'tcp', commandTimeoutMs: 5000 });
    const rec = record(terminal);
    const errors: unknown[] = [];
    const wire: Buffer[] = [];
    transport.on('data', (c) => wire.push(c));
    try {
      await terminal.open();
      await registerAndRead(terminal);
      // the PAN did cross the wire (BCD in BMP 22, raw APDU, no DLE framing): the scan below is not vacuous
      const bytes = Buffer.concat(wire);
      expect(bytes.includes(Buffer.from(TEST_PAN, 'hex'))).toBe(true);
      expect(bytes.subarray(0, 3).toString('hex')).toBe('800000');
      const sim = server.simulators[0]!;
      expect(sim.commands).toEqual(['06 00', '06 C0']);
      sim.misbehave({ kind: 'disconnect' });
      const err = await terminal.readCard().catch((e: unknown) => e);
      errors.push(err);
      expect(err).toMatchObject({ code: 'disconnected' });
      const seen = observable(rec, errors);
      for (const form of panForms(TEST_PAN)) expect(seen).not.toContain(form);
    } finally {
      await terminal.close();
      await server.close();
    }
  });
});
