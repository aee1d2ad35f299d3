// The engine's webhook deliveries for the manager's screen: the till lists them and re-sends one with
// its own app credentials (the `webhooks` scope), so the screen needs no engine key. Every query is
// validated here first: the engine sees only what its own API accepts.
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { LocalApiRoutes } from '../api/server.ts';
import type { EngineClient } from '../engine-client.ts';
import { queryInt } from '../history/filters.ts';
import { fromEngineError } from './engine-errors.ts';

const ListQuerySchema = z
  .object({
    status: z.enum(['pending', 'delivered', 'failed']).optional(),
    limit: queryInt(1, 500).optional(),
    offset: queryInt(0, 1_000_000).optional(),
  })
  .strict();
const DeliveryParamsSchema = z
  .object({ id: z.string().regex(/^dlv_[0-9a-f-]{36}$/, 'must be a delivery id (dlv_...)') })
  .strict();

export function webhookRoutes(engine: EngineClient): LocalApiRoutes {
  return ({ app, operator, parse }) => {
    app.get('/api/webhooks/deliveries', async (req) => {
      await operator(req, 'manager');
      const q = parse(ListQuerySchema, req.query);
      const search = new URLSearchParams();
      for (const [key, value] of Object.entries(q)) if (value !== undefined) search.set(key, String(value));
      try {
        return await engine.get(`/v1/webhooks/deliveries?${search.toString()}`);
      } catch (error) {
        throw fromEngineError(error, 'list webhook deliveries');
      }
    });

    app.get('/api/webhooks/deliveries/:id', async (req) => {
      await operator(req, 'manager');
      const { id } = parse(DeliveryParamsSchema, req.params);
      try {
        return await engine.get(`/v1/webhooks/deliveries/${id}`);
      } catch (error) {
        throw fromEngineError(error, 'show this webhook delivery');
      }
    });

    app.post('/api/webhooks/deliveries/:id/resend', async (req) => {
      await operator(req, 'manager');
      const { id } = parse(DeliveryParamsSchema, req.params);
      try {
        // Each press is a new re-send: its own key (a lost answer repeated by hand sends once more,
        // which a receiver deduplicates by the event id).
        return await engine.post(`/v1/webhooks/resend/${id}`, {}, { idempotencyKey: randomUUID() });
      } catch (error) {
        throw fromEngineError(error, 're-send this webhook');
      }
    });
  };
}
