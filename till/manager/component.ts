// The manager's screen's routes that need the engine, as a part of the till core: webhook deliveries
// and the settings, over one engine client with the till's own app credentials.
import type { TillComponent } from '../core.ts';
import { createEngineClient } from '../engine-client.ts';
import { settingsRoutes } from './settings.ts';
import { webhookRoutes } from './webhooks.ts';

export const managerComponent: TillComponent = {
  name: 'manager',
  start({ config, engine, program }) {
    const client = createEngineClient(engine, { timeoutMs: config.outbox.timeoutMs });
    const webhooks = webhookRoutes(client);
    const settings = settingsRoutes({ config, engine, program }, client);
    return {
      routes: async (ctx) => {
        await webhooks(ctx);
        await settings(ctx);
      },
    };
  },
};
