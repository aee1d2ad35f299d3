// The flows' configuration, validated by zod: the card tokenization key, the timeouts of each wait,
// how many PIN or code tries a redeem allows, and how a claim is followed.
import { z } from 'zod';

const ms = (min: number) => z.number().int().min(min);

export const FlowsConfigSchema = z
  .object({
    /**
     * The key of the keyed card hash (HMAC-SHA256 of the PAN): the engine's `secrets.cardHashKey`,
     * which the till shares so that the hash it queues finds the card the engine linked. Never logged.
     */
    tokenizationKey: z.string().min(32, 'tokenizationKey needs at least 32 characters'),
    /** The till's program: a flow started without `programId` and `currency` runs in it. */
    program: z
      .object({
        id: z.number().int().positive(),
        currency: z.string().regex(/^[A-Z][A-Z0-9]{2,7}$/, 'must be an ISO 4217 code'),
      })
      .strict()
      .optional(),
    /** Shown to the customer on the claim page. */
    storeName: z.string().trim().min(1).max(100).default('Tillback'),
    /** No swipe, scan or typed member within this: the flow ends. */
    identifyTimeoutMs: ms(1_000).default(60_000),
    /** The customer's PIN entry on the PIN pad. */
    pinTimeoutMs: ms(1_000).default(60_000),
    /** A one-time code typed by the cashier. */
    inputTimeoutMs: ms(1_000).default(180_000),
    /** How long an earn or refund waits for the engine's answer before it is shown as queued. */
    deliveryWaitMs: ms(0).default(5_000),
    /** PIN entries (or one-time codes) a redeem allows before it fails. */
    maxTries: z.number().int().min(1).max(5).default(3),
    /** One call to the engine. */
    engineTimeoutMs: ms(100).default(10_000),
    /** Following a claim: polls of GET /v1/claims/:id, doubling from base to max. */
    claimPoll: z
      .object({ baseMs: ms(10).default(500), maxMs: ms(10).default(5_000) })
      .strict()
      .refine((p) => p.maxMs >= p.baseMs, { error: 'maxMs must be at least baseMs', path: ['maxMs'] })
      .prefault({}),
  })
  .strict();

export type FlowsConfig = z.infer<typeof FlowsConfigSchema>;
export type FlowsConfigInput = z.input<typeof FlowsConfigSchema>;
