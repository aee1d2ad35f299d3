// The flows as a part of the till core: one runner over the core's device manager and outbox, with the
// till's card tokenization key and program, and its routes on the local API.
import type { TillComponent } from '../core.ts';
import { flowRoutes } from './routes.ts';
import { createFlows } from './runner.ts';

export const flowsComponent: TillComponent = {
  name: 'flows',
  start({ config, outbox, devices, tokenizationKey, program }) {
    const flows = createFlows({
      devices,
      outbox,
      // The claim page names the store as the customer display does.
      config: { tokenizationKey, program, storeName: config.store.name },
    });
    return { routes: flowRoutes(flows), close: () => flows.close() };
  },
};
