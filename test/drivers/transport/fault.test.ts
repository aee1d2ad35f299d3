import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { memoryPair } from '../../../drivers/transport/memory.ts';
import { seededRandom, withFaults } from '../../../drivers/transport/fault.ts';
import { waitForState } from '../../../drivers/transport/transport.ts';

async function until(cond: () => boolean, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('condition not met');
    await new Promise((r) => setTimeout(r, 2));
  }
}

async function setup(seed = 7) {
  const [device, host] = memoryPair();
  const faulty = withFaults(host, { seed });
  const chunks: Buffer[] = [];
  faulty.on('data', (c) => chunks.push(c));
  await Promise.all([device.open(), faulty.open()]);
  return { device, faulty, chunks };
}

describe('fault wrapper', () => {
  it('splits incoming chunks into pieces of n bytes', async () => {
    const { device, faulty, chunks } = await setup();
    faulty.split(3);
    await device.write(Buffer.from('abcdefgh'));
    await until(() => Buffer.concat(chunks).length === 8);
    expect(chunks.map((c) => c.toString())).toEqual(['abc', 'def', 'gh']);
    faulty.split(1);
    chunks.length = 0;
    await device.write(Buffer.from('xyz'));
    await until(() => chunks.length === 3);
    expect(chunks.map((c) => c.length)).toEqual([1, 1, 1]);
  });

  it('drops the next N chunks, then passes the rest', async () => {
    const { device, faulty, chunks } = await setup();
    faulty.drop({ next: 2 });
    for (const s of ['1', '2', '3', '4']) await device.write(Buffer.from(s));
    await until(() => chunks.length === 2);
    expect(Buffer.concat(chunks).toString()).toBe('34');
    expect(faulty.stats.chunksDropped).toBe(2);
  });

  it('drops with a probability, identically for the same seed', async () => {
    async function run(seed: number): Promise<string> {
      const { device, faulty, chunks } = await setup(seed);
      faulty.drop({ probability: 0.5 });
      for (let i = 0; i < 40; i++) await device.write(Buffer.from([65 + (i % 26)]));
      await until(() => faulty.stats.chunksIn === 40);
      return Buffer.concat(chunks).toString();
    }
    const first = await run(42);
    expect(await run(42)).toBe(first);
    expect(first.length).toBeGreaterThan(5);
    expect(first.length).toBeLessThan(35);
  });

  it('corrupts exactly the next N bytes by one bit each, deterministically', async () => {
    async function run(): Promise<Buffer> {
      const { device, faulty, chunks } = await setup(99);
      faulty.corrupt(3);
      await device.write(Buffer.from([0, 0]));
      await device.write(Buffer.from([0, 0, 0]));
      await until(() => Buffer.concat(chunks).length === 5);
      expect(faulty.stats.bytesCorrupted).toBe(3);
      return Buffer.concat(chunks);
    }
    const out = await run();
    const bitsFlipped = [...out].map((b) => b.toString(2).split('1').length - 1);
    expect(bitsFlipped).toEqual([1, 1, 1, 0, 0]);
    expect((await run()).equals(out)).toBe(true);
  });

  it('delays delivery and keeps order', async () => {
    const { device, faulty, chunks } = await setup();
    faulty.delay(80);
    const t0 = Date.now();
    await device.write(Buffer.from('A'));
    faulty.delay(0);
    await device.write(Buffer.from('B'));
    await until(() => chunks.length === 2);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(75);
    expect(Buffer.concat(chunks).toString()).toBe('AB');
  });

  it('disconnects on command: failed, pending writes rejected, inner closed', async () => {
    const [device, host] = memoryPair({ latencyMs: 30 });
    const faulty = withFaults(host);
    await Promise.all([device.open(), faulty.open()]);
    const w = faulty.write(Buffer.from('x'));
    faulty.disconnect();
    await expect(w).rejects.toMatchObject({ code: 'disconnected' });
    expect(faulty.state).toBe('failed');
    await waitForState(host, 'closed');
    await faulty.open();
    expect(host.state).toBe('open');
    await faulty.close();
  });

  it('follows the inner link when it dies', async () => {
    const [device, host] = memoryPair();
    const faulty = withFaults(host);
    await Promise.all([device.open(), faulty.open()]);
    device.disconnect();
    expect(faulty.state).toBe('failed');
  });

  it('split + corrupt never lose or add bytes (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ minLength: 1, maxLength: 64 }),
        fc.integer({ min: 1, max: 10 }),
        fc.integer(),
        async (bytes, n, seed) => {
          const { device, faulty, chunks } = await setup(seed);
          faulty.split(n).corrupt(2);
          await device.write(Buffer.from(bytes));
          await until(() => Buffer.concat(chunks).length === bytes.length);
          const out = Buffer.concat(chunks);
          expect(chunks.every((c) => c.length <= n)).toBe(true);
          expect(out.subarray(2).equals(Buffer.from(bytes).subarray(2))).toBe(true);
          await faulty.close();
        },
      ),
      { numRuns: 50 },
    );
  });

  it('seededRandom is deterministic', () => {
    const a = seededRandom(5);
    const b = seededRandom(5);
    const xs = Array.from({ length: 10 }, () => a());
    expect(Array.from({ length: 10 }, () => b())).toEqual(xs);
    expect(xs.every((x) => x >= 0 && x < 1)).toBe(true);
  });
});
