// The customer display's state: the connection and the latest flow event, as Preact signals. A flow
// that ended stays on screen for a while (the customer reads the result), then the display goes back
// to idle; the next flow's first event replaces it at once.
import { signal } from '@preact/signals';
import type { FlowEvent, ServerMessage } from '../../../contract/till-events.ts';
import type { ConnectionState } from '../shared/events.ts';
import { isNewerFlow } from '../shared/flows.ts';

/** How long a finished flow's result stays on the display. */
export const RESULT_SHOWN_MS = 20_000;

export const connection = signal<ConnectionState | 'no_token'>('connecting');
export const flow = signal<FlowEvent | null>(null);

let idleTimer: ReturnType<typeof setTimeout> | undefined;

export function onMessage(message: ServerMessage): void {
  if (message.type !== 'flow') return;
  if (!isNewerFlow(flow.value, message.flow)) return;
  flow.value = message.flow;
  clearTimeout(idleTimer);
  if (message.flow.outcome !== null) {
    const shown = message.flow.flowId;
    idleTimer = setTimeout(() => {
      if (flow.value?.flowId === shown) flow.value = null;
    }, RESULT_SHOWN_MS);
  }
}
