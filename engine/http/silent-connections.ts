// A server that stops must not wait on a client that connected and never spoke. Node 20's
// server.close() closes idle keep-alive connections itself, but not one that was accepted and has
// not sent a byte yet (nodejs/node#63452, fixed in later Node lines): close() then waits for the
// headers timeout, a minute. Clients do leave such connections: undici keeps the socket of a fetch
// aborted while it was connecting (a till's outbox stopping at that moment), and browsers open
// speculative ones. So when the app closes, those are closed too, as newer Node does; a connection
// that has begun a request is left to finish it (and fastify answers any new request 503).
import type { Socket } from 'node:net';
import type { FastifyInstance } from 'fastify';

/**
 * Silent means nothing read: on HTTP the TCP connection (`connection`); on HTTPS also the TLS
 * connection after its handshake (`secureConnection`, whose `bytesRead` counts decrypted bytes), so a
 * client that finished the handshake and sent no request is silent too, and one that never began it.
 */
export function closeSilentConnectionsOnClose(app: FastifyInstance): void {
  const open = new Set<Socket>();
  let closing = false;
  const track = (socket: Socket) => {
    // Accepted in the moment between the hook and the listener's close: it has sent nothing either.
    if (closing) return void socket.destroy();
    open.add(socket);
    socket.once('close', () => open.delete(socket));
  };
  app.server.on('connection', track);
  app.server.on('secureConnection', track);
  app.addHook('preClose', (done) => {
    closing = true;
    for (const socket of open) if (socket.bytesRead === 0) socket.destroy();
    done();
  });
}
