// A cashout claim as the engine's native API answers it (POST /v1/claims, GET /v1/claims/:id), and the
// follower that polls a claim until the flow stops it: at `baseMs` after each change, doubling up to
// `maxMs` while nothing moves or the engine cannot be reached (the claim goes on without the till).
import { z } from 'zod';
import type { EngineClient } from '../engine-client.ts';
import { CLAIM_STATUSES, type ClaimStatus } from '../../contract/till-events.ts';
import type { ClaimView } from './cashout.ts';

const ClaimAnswerSchema = z.object({
  claim_id: z.string(),
  status: z.enum(CLAIM_STATUSES),
  url: z.string(),
  expires_at: z.string(),
  failure: z.object({ message: z.string() }).nullable().optional(),
});

/** What the flow keeps of an engine's claim answer. */
export function claimView(answer: unknown): ClaimView {
  const c = ClaimAnswerSchema.parse(answer);
  return { id: c.claim_id, url: c.url, expiresAt: c.expires_at, status: c.status };
}

/** Calls `onStatus` with each new status of the claim; returns the function that stops following. */
export function followClaim(
  engine: EngineClient,
  claimId: string,
  poll: { baseMs: number; maxMs: number },
  onStatus: (status: ClaimStatus, failure: string | null) => void,
): () => void {
  let stopped = false;
  let wake: (() => void) | undefined;
  let delay = poll.baseMs;
  let seen: ClaimStatus | undefined;
  const pause = () =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, delay);
      wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  const loop = async () => {
    while (!stopped) {
      await pause();
      if (stopped) return;
      try {
        const c = ClaimAnswerSchema.parse(await engine.get(`/v1/claims/${encodeURIComponent(claimId)}`));
        if (c.status !== seen) {
          seen = c.status;
          delay = poll.baseMs; // something moved: look again soon
          onStatus(c.status, c.failure?.message ?? null);
          continue;
        }
      } catch {
        // Not reachable now, or an answer we cannot read: keep following, less often.
      }
      delay = Math.min(delay * 2, poll.maxMs);
    }
  };
  void loop();
  return () => {
    stopped = true;
    wake?.();
  };
}
