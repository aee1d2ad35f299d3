import { readdirSync, symlinkSync, unlinkSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SerialPort } from 'serialport';
import { SerialTransport } from '../../../drivers/transport/serial.ts';
import { waitForState } from '../../../drivers/transport/transport.ts';
import type { TransportError } from '../../../drivers/transport/transport.ts';
import { SocatPair } from './socat.ts';

async function until(cond: () => boolean, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('condition not met');
    await new Promise((r) => setTimeout(r, 2));
  }
}

/** The device end, opened with plain serialport (as a simulator would). */
async function openDevice(path: string): Promise<{ port: SerialPort; bytes: () => Buffer }> {
  const port = new SerialPort({ path, baudRate: 9600, autoOpen: false });
  await new Promise<void>((resolve, reject) => port.open((err) => (err ? reject(err) : resolve())));
  const chunks: Buffer[] = [];
  port.on('data', (c: Buffer) => chunks.push(c));
  return { port, bytes: () => Buffer.concat(chunks) };
}

function closeDevice(port: SerialPort): Promise<void> {
  return new Promise((resolve) => (port.isOpen ? port.close(() => resolve()) : resolve()));
}

function fdCount(): number {
  return readdirSync('/proc/self/fd').length;
}

/** Waits for 'failed' and returns how long after `since` it came, with the error. */
function failedAfter(
  t: SerialTransport,
  since: () => number,
): Promise<{ ms: number; error?: TransportError }> {
  return new Promise((resolve) => {
    const on = (s: string, error?: TransportError): void => {
      if (s !== 'failed') return;
      t.off('state', on);
      resolve({ ms: Date.now() - since(), error });
    };
    t.on('state', on);
  });
}

describe('serial transport over a real socat pty pair', () => {
  const pty = new SocatPair();
  beforeAll(() => pty.start());
  afterAll(() => pty.dispose());

  it('carries bytes both ways', async () => {
    const t = new SerialTransport({ path: pty.a, baudRate: 115200 });
    const got: Buffer[] = [];
    t.on('data', (c) => got.push(c));
    await t.open();
    const device = await openDevice(pty.b);
    try {
      const frame = Buffer.from([0x10, 0x02, 0x06, 0x00, 0x10, 0x10, 0x10, 0x03, 0xaa, 0x55]);
      await t.write(frame);
      await until(() => device.bytes().length === frame.length);
      expect(device.bytes().equals(frame)).toBe(true);
      const reply = Buffer.alloc(3000, 0x5a);
      await new Promise<void>((r, j) => device.port.write(reply, (e) => (e ? j(e) : r())));
      await until(() => Buffer.concat(got).length === reply.length);
      expect(Buffer.concat(got).equals(reply)).toBe(true);
    } finally {
      await closeDevice(device.port);
      await t.close();
    }
    expect(t.state).toBe('closed');
  });

  it('reports open_failed for a missing path', async () => {
    const t = new SerialTransport({ path: `${pty.dir}/nope` });
    await expect(t.open()).rejects.toMatchObject({ code: 'open_failed' });
    expect(t.state).toBe('failed');
    await t.close();
  });

  it('notices an unplug (socat killed) within 2 s, then reopens after a replug', async () => {
    const t = new SerialTransport({ path: pty.a });
    await t.open();
    let killedAt = 0;
    const failed = failedAfter(t, () => killedAt);
    killedAt = Date.now();
    await pty.kill('SIGKILL');
    const { ms, error } = await failed;
    console.log(`unplug detected in ${ms} ms: ${error?.message}`);
    expect(ms).toBeLessThan(2000);
    expect(error?.code).toBe('disconnected');
    expect(error?.message).toMatch(/the device is gone \(unplugged or switched off\? check its cable\)/);
    expect(t.state).toBe('failed');
    await expect(t.write(Buffer.from('x'))).rejects.toMatchObject({ code: 'not_open' });
    await expect(t.open()).rejects.toMatchObject({ code: 'open_failed' });

    await pty.start();
    await t.open();
    const device = await openDevice(pty.b);
    await t.write(Buffer.from('after replug'));
    await until(() => device.bytes().toString() === 'after replug');
    await closeDevice(device.port);
    await t.close();
  });

  it('no busy loop and no leaked fds over 20 open/close/unplug cycles', async () => {
    // Warm up once: libuv and the child-process machinery open a few fds lazily.
    {
      const t = new SerialTransport({ path: pty.a });
      await t.open();
      await t.close();
      await pty.restart();
    }
    const before = fdCount();
    const wallBefore = Date.now();
    const times: number[] = [];
    for (let i = 0; i < 20; i++) {
      const t = new SerialTransport({ path: pty.a, livenessIntervalMs: 100 });
      await t.open();
      await t.write(Buffer.from([i]));
      await t.close();
      await t.open();
      let killedAt = 0;
      const failed = failedAfter(t, () => killedAt);
      killedAt = Date.now();
      await pty.kill(i % 2 === 0 ? 'SIGTERM' : 'SIGKILL');
      times.push((await failed).ms);
      await t.close();
      await pty.start();
    }
    const wall = Date.now() - wallBefore;
    console.log(`20 cycles: unplug detection max ${Math.max(...times)} ms, wall ${wall} ms`);
    expect(Math.max(...times)).toBeLessThan(2000);
    expect(fdCount()).toBe(before);
  });

  it('a half-closed port does not spin: once failed the transport stays idle', async () => {
    const t = new SerialTransport({ path: pty.a });
    await t.open();
    await pty.kill('SIGKILL');
    await waitForState(t, 'failed', 2000);
    const cpuBefore = process.cpuUsage();
    await new Promise((r) => setTimeout(r, 300));
    const cpu = process.cpuUsage(cpuBefore);
    expect((cpu.user + cpu.system) / 1000).toBeLessThan(150);
    await t.close();
    await pty.start();
  });

  it('liveness check: the device path vanishing or naming another device ends the link', async () => {
    const other = new SocatPair();
    await other.start();
    const link = `${pty.dir}/device`;
    try {
      symlinkSync(pty.a, link);
      const t = new SerialTransport({ path: link, livenessIntervalMs: 100 });
      await t.open();
      // The reader sees nothing wrong here: only the liveness check can notice.
      let changedAt = Date.now();
      const moved = failedAfter(t, () => changedAt);
      unlinkSync(link);
      symlinkSync(other.a, link);
      changedAt = Date.now();
      const r1 = await moved;
      expect(r1.error?.message).toMatch(/another device/);
      expect(r1.ms).toBeLessThan(500);
      await t.close();

      await t.open();
      const gone = failedAfter(t, () => changedAt);
      unlinkSync(link);
      changedAt = Date.now();
      const r2 = await gone;
      expect(r2.error?.message).toMatch(/path is gone/);
      expect(r2.ms).toBeLessThan(500);
      await t.close();
    } finally {
      await other.dispose();
    }
  });
});
