import { describe, expect, it } from 'vitest';
import { memoryPair } from '../../../drivers/transport/memory.ts';
import { TransportError, waitForState } from '../../../drivers/transport/transport.ts';
import type { Transport, TransportState } from '../../../drivers/transport/transport.ts';

function collect(t: Transport): { bytes: () => Buffer } {
  const chunks: Buffer[] = [];
  t.on('data', (c) => chunks.push(c));
  return { bytes: () => Buffer.concat(chunks) };
}

async function until(cond: () => boolean, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('condition not met');
    await new Promise((r) => setTimeout(r, 2));
  }
}

describe('memory pair', () => {
  it('carries bytes both ways', async () => {
    const [a, b] = memoryPair();
    const inA = collect(a);
    const inB = collect(b);
    await Promise.all([a.open(), b.open()]);
    await a.write(Buffer.from('hello'));
    await b.write(Buffer.from([0x10, 0x02, 0x00]));
    await a.write(Buffer.from(' world'));
    await until(() => inB.bytes().length === 11 && inA.bytes().length === 3);
    expect(inB.bytes().toString()).toBe('hello world');
    expect([...inA.bytes()]).toEqual([0x10, 0x02, 0x00]);
  });

  it('buffers bytes that arrive before the other end opens', async () => {
    const [a, b] = memoryPair();
    const inB = collect(b);
    await a.open();
    await a.write(Buffer.from('early'));
    await b.open();
    await until(() => inB.bytes().length === 5);
    expect(inB.bytes().toString()).toBe('early');
  });

  it('emits state changes, and close is idempotent', async () => {
    const [a] = memoryPair();
    const states: TransportState[] = [];
    a.on('state', (s) => states.push(s));
    expect(a.state).toBe('closed');
    await a.open();
    await a.open();
    await a.close();
    await a.close();
    await Promise.all([a.close(), a.close()]);
    expect(states).toEqual(['opening', 'open', 'closing', 'closed']);
  });

  it('rejects writes while not open with not_open', async () => {
    const [a] = memoryPair();
    await expect(a.write(Buffer.from('x'))).rejects.toMatchObject({ code: 'not_open' });
    await a.open();
    await a.close();
    const err = await a.write(Buffer.from('x')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TransportError);
    expect((err as TransportError).code).toBe('not_open');
  });

  it('disconnect fails both ends and rejects every pending write', async () => {
    const [a, b] = memoryPair({ latencyMs: 50 });
    await Promise.all([a.open(), b.open()]);
    const errors: (TransportError | undefined)[] = [];
    b.on('state', (s, e) => {
      if (s === 'failed') errors.push(e);
    });
    const writes = [a.write(Buffer.from('1')), a.write(Buffer.from('2')), b.write(Buffer.from('3'))];
    b.disconnect();
    const results = await Promise.allSettled(writes);
    for (const r of results) {
      expect(r.status).toBe('rejected');
      expect((r as PromiseRejectedResult).reason).toMatchObject({ code: 'disconnected' });
    }
    expect(a.state).toBe('failed');
    expect(b.state).toBe('failed');
    expect(errors[0]?.code).toBe('disconnected');
    await expect(a.write(Buffer.from('x'))).rejects.toMatchObject({ code: 'not_open' });
    await expect(a.open()).rejects.toMatchObject({ code: 'open_failed' });
    a.reconnect();
    await Promise.all([a.open(), b.open()]);
    const inB = collect(b);
    await a.write(Buffer.from('again'));
    await until(() => inB.bytes().length === 5);
    await a.close();
    await b.close();
    expect(b.state).toBe('closed');
  });

  it('close while writing rejects the pending write with not_open', async () => {
    const [a, b] = memoryPair({ latencyMs: 50 });
    await Promise.all([a.open(), b.open()]);
    const w = a.write(Buffer.from('x'));
    await a.close();
    await expect(w).rejects.toMatchObject({ code: 'not_open' });
    await waitForState(a, 'closed');
  });
});
