// The manager screen's live state from the till's event stream: the connection, the queue's state, the
// terminals, and a counter that moves on every change of an operation (the history, totals and queue
// sections reload on it).
import { signal } from '@preact/signals';
import type { DeviceSummary, QueueStateMessage, ServerMessage } from '../../../contract/till-events.ts';
import type { ConnectionState } from '../shared/events.ts';

export const connection = signal<ConnectionState>('connecting');
export const queue = signal<QueueStateMessage | null>(null);
/** null until the till said (GET /api/devices or a `devices` message). */
export const devices = signal<DeviceSummary[] | null>(null);
/** The till's IANA time zone (its days are the history's days): times are shown in it. */
export const tillZone = signal<string | undefined>(undefined);
/** Moves after `history_changed` messages: what shows operations reads again. */
export const historyVersion = signal(0);

// A busy till sends an operation event per step of every sale: the sections read again at most twice
// a second, not once per event.
const HISTORY_SETTLE_MS = 500;
let settling: ReturnType<typeof setTimeout> | undefined;

export function onMessage(message: ServerMessage): void {
  switch (message.type) {
    case 'ready':
    case 'queue_state':
      queue.value = message.queue;
      break;
    case 'devices':
      devices.value = message.devices;
      break;
    case 'history_changed':
      settling ??= setTimeout(() => {
        settling = undefined;
        historyVersion.value += 1;
      }, HISTORY_SETTLE_MS);
      break;
    default:
      break;
  }
}
