// The rule both screens follow for `flow` messages: the events of one flow arrive in order, and an older
// event of a flow never replaces a newer one (a re-read of /api/flows/current may cross a message).
import type { FlowEvent } from '../../../contract/till-events.ts';

/** Whether `next` should replace `current` on screen. */
export const isNewerFlow = (current: FlowEvent | null, next: FlowEvent): boolean =>
  !current || current.flowId !== next.flowId || current.at <= next.at;
