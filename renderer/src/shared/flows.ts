// The rule both screens follow for what they show of a flow. Its events arrive in order on the event
// stream, but an answer to a request (a start, an input, a re-read of /api/flows/current) may cross a
// stream message sent in the same millisecond: `at` alone cannot order those. So a final event is never
// replaced by its own flow's (a final state never changes), an answer replaces only what is strictly
// older, and another flow replaces the one shown unless it is older.
import type { FlowEvent } from '../../../contract/till-events.ts';

/** Whether `next` should replace `current` on screen; `fromStream`: it came as a `flow` message. */
export function isNewerFlow(current: FlowEvent | null, next: FlowEvent, fromStream = true): boolean {
  if (!current) return true;
  if (current.flowId !== next.flowId) return current.at <= next.at;
  if (current.outcome !== null) return false;
  return fromStream ? current.at <= next.at : current.at < next.at;
}
