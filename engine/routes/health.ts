// GET /health: liveness and a store round trip, unauthenticated, for load balancers and the till.
import type { FastifyInstance } from 'fastify';
import type { Store } from '../store/store.ts';

export function healthRoutes(store: Store) {
  return async function routes(app: FastifyInstance) {
    app.get(
      '/health',
      {
        config: { rateLimit: false },
        schema: {
          summary: 'Liveness and database reachability',
          tags: ['health'],
          response: {
            200: {
              type: 'object',
              properties: { status: { const: 'ok' }, store: { type: 'string' }, time: { type: 'string' } },
            },
          },
        },
      },
      async () => {
        await store.read((tx) => tx.one('SELECT 1 AS ok'));
        return { status: 'ok', store: store.dialect, time: new Date().toISOString() };
      },
    );
  };
}
