// A server stops without waiting on a client that connected and sent nothing (Node 20's close() would
// wait for as long as the client stays), over HTTP and HTTPS, and still answers a client that had begun its request.
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it, onTestFinished } from 'vitest';
import { closeSilentConnectionsOnClose } from '../../engine/http/silent-connections.ts';
import { selfSigned } from '../fixtures/tls.ts';
import { startHarness, type Harness } from './harness.ts';

const sockets: Socket[] = [];
afterEach(() => {
  for (const s of sockets.splice(0)) s.destroy();
});

/** A TCP connection the server has accepted, that says nothing. */
async function silent(port: number): Promise<Socket> {
  const socket = connect(port, '127.0.0.1');
  sockets.push(socket);
  socket.on('error', () => undefined);
  await once(socket, 'connect');
  return socket;
}

/** Resolves once the peer has closed the socket: the server dropped it. */
const dropped = (socket: Socket) =>
  socket.closed ? Promise.resolve() : once(socket, 'close').then(() => undefined);

/** A fastify app on loopback, and the server's side of each connection it accepts. */
async function app(https?: {
  certFile: string;
  keyFile: string;
}): Promise<{ app: FastifyInstance; port: number; accepted: Socket[] }> {
  const a = Fastify({
    https: https ? { cert: readFileSync(https.certFile), key: readFileSync(https.keyFile) } : null,
  });
  closeSilentConnectionsOnClose(a);
  const accepted: Socket[] = [];
  a.server.on('connection', (s: Socket) => accepted.push(s));
  a.get('/', async () => ({ ok: true }));
  await a.listen({ host: '127.0.0.1', port: 0 });
  const address = a.server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return { app: a, port: address.port, accepted };
}

describe('closing with silent connections', () => {
  it('HTTP: closes a connection that sent nothing, and answers one that had begun its request', async () => {
    const { app: a, port, accepted } = await app();
    const quiet = await silent(port);
    const begun = await silent(port);
    begun.write('GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n');
    // The server has read the first part of the request before it is told to close.
    await expect.poll(() => accepted.filter((s) => s.bytesRead > 0).length).toBe(1);
    let answer = '';
    begun.on('data', (c: Buffer) => (answer += c.toString()));

    const closed = a.close();
    await dropped(quiet);
    expect(begun.closed).toBe(false);
    begun.write('\r\n');
    await closed;
    await dropped(begun);
    // Fastify answers a request that arrives while it closes with 503, and closes the connection.
    expect(answer).toMatch(/^HTTP\/1\.1 503 /);
  });

  it('HTTPS: closes a connection that never began the handshake, and one that finished it and sent nothing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tillback-silent-'));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    const tls = selfSigned(dir);
    const { app: a, port } = await app(tls);
    const noHandshake = await silent(port);
    const handshaken = tlsConnect({ port, host: '127.0.0.1', ca: readFileSync(tls.certFile) });
    sockets.push(handshaken);
    handshaken.on('error', () => undefined);
    await once(handshaken, 'secureConnect');

    await a.close();
    await dropped(noHandshake);
    await dropped(handshaken);
  });
});

describe('the engine and the till', () => {
  let h: Harness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  it('the engine stops with a till connected that has sent nothing yet', async () => {
    h = await startHarness({ port: 0 });
    const url = await h.engine.listen();
    const quiet = await silent(Number(new URL(url).port));
    await h.engine.close();
    await dropped(quiet);
  });
});
