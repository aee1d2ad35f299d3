// How long the page waits before asking for the claim's status again: soon at first (the sandbox and
// most providers answer in seconds), then less and less often, so a phone left open on a slow payout
// costs little battery and the server few requests.
const FIRST_MS = 800;
const FACTOR = 1.5;
const MAX_MS = 15_000;

/** The delay before status request number `attempt` (0 for the first). */
export function pollDelay(attempt: number): number {
  return Math.min(MAX_MS, Math.round(FIRST_MS * FACTOR ** Math.max(0, attempt)));
}
