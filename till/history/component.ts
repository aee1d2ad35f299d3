// The history as a part of the till core: it writes the device and queue event logs from the start
// and serves the managers' history routes.
import type { TillComponent } from '../core.ts';
import { startEventLogs } from './event-logs.ts';
import { historyRoutes } from './routes.ts';

export const historyComponent: TillComponent = {
  name: 'history',
  start({ outbox, devices, config, log }) {
    const logs = startEventLogs({
      store: outbox.store,
      outbox,
      devices,
      onError: (err: unknown) => log.warn({ err }, 'an event log write failed; those events are not kept'),
    });
    return { routes: historyRoutes({ outbox, timeZone: config.timeZone }), close: () => logs.stop() };
  },
};
