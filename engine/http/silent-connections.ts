// A server that stops must not wait on a client that connected and never spoke. Node 20's
// server.close() closes idle keep-alive connections itself, but not one that was accepted and has
// not sent a byte yet (nodejs/node#63452, fixed in later Node lines): close() then waits until the
// client goes (measured on Node 20.20: still waiting after 200 s). Clients do leave such
// connections: undici keeps the socket of a fetch aborted while it was connecting (a till's outbox
// or the engine's webhook worker stopping at that moment), and browsers open speculative ones. So
// when the server closes, those are closed too, as newer Node does; a connection that has begun a
// request is left to finish it.
import type { Server, Socket } from 'node:net';
import type { FastifyInstance } from 'fastify';

/**
 * Watches `server`'s connections; `close()`, called with or just before `server.close()`, destroys
 * the silent ones and any accepted after it. Silent means nothing read: on HTTP the TCP connection
 * (`connection`); on HTTPS also the TLS connection after its handshake (`secureConnection`, whose
 * `bytesRead` counts decrypted bytes), so a client that finished the handshake and sent no request
 * is silent too, as is one that never began it.
 */
export function silentConnections(server: Server): { close(): void } {
  const open = new Set<Socket>();
  let closing = false;
  const track = (socket: Socket) => {
    // Accepted in the moment before the listener closes: it has sent nothing either.
    if (closing) return void socket.destroy();
    open.add(socket);
    socket.once('close', () => open.delete(socket));
  };
  server.on('connection', track);
  server.on('secureConnection', track);
  return {
    close() {
      closing = true;
      for (const socket of open) if (socket.bytesRead === 0) socket.destroy();
    },
  };
}

/** For a fastify app: the silent connections are closed as the app closes (any new request gets 503). */
export function closeSilentConnectionsOnClose(app: FastifyInstance): void {
  const silent = silentConnections(app.server);
  app.addHook('preClose', (done) => {
    silent.close();
    done();
  });
}
