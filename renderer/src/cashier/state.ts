// The cashier screen's state, as Preact signals: the connection to the till, the queue, the terminals,
// the operator's session, and the flow on screen. The flow lives on the till: the screen shows the
// latest FlowEvent (from `flow` messages, and re-read from GET /api/flows/current at sign-in, at every
// reconnect and after a reload). A finished flow stays on screen until the cashier starts a new sale;
// which one was put away is kept for this tab, so a reload does not bring an old result back.
import { computed, signal } from '@preact/signals';
import type {
  DeviceSummary,
  FlowEvent,
  QueueStateMessage,
  ServerMessage,
} from '../../../contract/till-events.ts';
import type { Session } from '../shared/api.ts';
import type { ConnectionState } from '../shared/events.ts';
import { isNewerFlow } from '../shared/flows.ts';

const DISMISSED_KEY = 'tillback.cashier.dismissedFlow';

export const connection = signal<ConnectionState | 'no_token'>('connecting');
export const queue = signal<QueueStateMessage | null>(null);
/** The till's terminals (GET /api/devices, then `devices` messages); null until known. */
export const devices = signal<DeviceSummary[] | null>(null);
export const session = signal<Session | undefined>(undefined);
/** Something to tell the cashier at sign-in (their session ended). */
export const notice = signal<string | null>(null);
export const flow = signal<FlowEvent | null>(null);
const dismissed = signal<string | null>(sessionStorage.getItem(DISMISSED_KEY));

/** The flow to show: a running one always; a finished one until the cashier puts it away. */
export const shownFlow = computed<FlowEvent | null>(() => {
  const f = flow.value;
  if (!f) return null;
  return f.outcome === null || f.flowId !== dismissed.value ? f : null;
});

/** Shows a flow event: from the stream, or (`fromStream` false) from the answer to a request. */
export function showFlow(next: FlowEvent, fromStream = true): void {
  if (isNewerFlow(flow.value, next, fromStream)) flow.value = next;
}

/** "New sale": the finished flow leaves the screen (a running one cannot be put away, only cancelled). */
export function dismissFlow(): void {
  const f = flow.value;
  if (!f || f.outcome === null) return;
  dismissed.value = f.flowId;
  sessionStorage.setItem(DISMISSED_KEY, f.flowId);
}

export function onMessage(message: ServerMessage): void {
  if (message.type === 'ready' || message.type === 'queue_state') queue.value = message.queue;
  else if (message.type === 'devices') devices.value = message.devices;
  else if (message.type === 'flow') showFlow(message.flow);
}
