import { Socket as NetSocket, createServer } from 'node:net';
import type { AddressInfo, Server, Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { TcpTransport } from '../../../drivers/transport/tcp.ts';
import type { TransportError } from '../../../drivers/transport/transport.ts';

async function until(cond: () => boolean, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('condition not met');
    await new Promise((r) => setTimeout(r, 2));
  }
}

interface Harness {
  server: Server;
  port: number;
  sockets: Socket[];
  received: () => Buffer;
}

async function listen(): Promise<Harness> {
  const sockets: Socket[] = [];
  const chunks: Buffer[] = [];
  const server = createServer((s) => {
    sockets.push(s);
    s.on('data', (c) => chunks.push(c));
    s.on('error', () => undefined);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    server,
    port: (server.address() as AddressInfo).port,
    sockets,
    received: () => Buffer.concat(chunks),
  };
}

function closeServer(h: Harness): Promise<void> {
  for (const s of h.sockets) s.destroy();
  return new Promise((r) => h.server.close(() => r()));
}

describe('tcp transport', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0)) await c();
  });

  it('carries bytes both ways', async () => {
    const h = await listen();
    cleanups.push(() => closeServer(h));
    const t = new TcpTransport({ host: '127.0.0.1', port: h.port, keepAliveMs: 1000 });
    cleanups.push(() => t.close());
    const got: Buffer[] = [];
    t.on('data', (c) => got.push(c));
    await t.open();
    expect(t.state).toBe('open');
    await t.write(Buffer.from([0x06, 0x00, 0x00]));
    await until(() => h.received().length === 3);
    await until(() => h.sockets.length === 1);
    h.sockets[0]!.write(Buffer.from('80 00 00'));
    await until(() => Buffer.concat(got).toString() === '80 00 00');
    await t.close();
    expect(t.state).toBe('closed');
    await t.close();
  });

  it('server closing the connection -> failed / disconnected, pending writes rejected', async () => {
    const h = await listen();
    cleanups.push(() => closeServer(h));
    const t = new TcpTransport({ host: '127.0.0.1', port: h.port });
    cleanups.push(() => t.close());
    await t.open();
    await until(() => h.sockets.length === 1);
    const failed = new Promise<TransportError | undefined>((resolve) =>
      t.on('state', (s, e) => s === 'failed' && resolve(e)),
    );
    const t0 = Date.now();
    h.sockets[0]!.end();
    const error = await failed;
    expect(Date.now() - t0).toBeLessThan(2000);
    expect(error?.code).toBe('disconnected');
    await expect(t.write(Buffer.from('x'))).rejects.toMatchObject({ code: 'not_open' });
  });

  it('connect refused -> open_failed', async () => {
    const h = await listen();
    const port = h.port;
    await closeServer(h);
    const t = new TcpTransport({ host: '127.0.0.1', port });
    cleanups.push(() => t.close());
    const err = await t.open().catch((e: unknown) => e as TransportError);
    expect(err).toMatchObject({ code: 'open_failed' });
    expect(err?.message).toMatch(/ECONNREFUSED/);
    expect(t.state).toBe('failed');
  });

  it('connect timeout -> timeout, and the socket is destroyed', async () => {
    // A socket whose connect never completes stands in for a terminal that does not answer SYNs.
    let socket: Socket | undefined;
    class Blackhole extends NetSocket {
      override connect(): this {
        return this;
      }
    }
    const t = new TcpTransport({
      host: '192.0.2.1',
      port: 20007,
      connectTimeoutMs: 150,
      createSocket: () => (socket = new Blackhole()),
    });
    cleanups.push(() => t.close());
    const t0 = Date.now();
    const err = await t.open().catch((e: unknown) => e as TransportError);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(140);
    expect(err).toMatchObject({ code: 'timeout' });
    expect(t.state).toBe('failed');
    expect(socket?.destroyed).toBe(true);
  });
});
