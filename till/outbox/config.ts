// The outbox's configuration, validated by zod: where its file is, which engine it delivers to, how it
// retries, and how much a till may keep queued while the engine is out of reach.
import { z } from 'zod';
import { MAX_BATCH } from '../../contract/native-batch.ts';

const currencyCode = z
  .string()
  .regex(/^[A-Z][A-Z0-9]{2,7}$/, 'must be an ISO 4217 code (or a configured unit)');

export const OfflineLimitsSchema = z
  .object({
    /**
     * New offline operations are refused once the oldest waiting one is older than this. At most 30
     * days: the engine keeps idempotency keys that long by default (idempotencyRetentionDays), and a
     * resend after they are pruned would be applied again.
     */
    maxAgeHours: z
      .number()
      .int()
      .positive()
      .max(720, 'at most 720 hours: the engine keeps idempotency keys 30 days by default')
      .default(24),
    /** ... or once this many wait. */
    maxCount: z.number().int().positive().default(10_000),
    /** ... or once the waiting amounts of a currency would pass this, in minor units (unlimited if absent). */
    maxAmount: z.record(currencyCode, z.number().int().positive()).default({}),
  })
  .strict();

export const OutboxConfigSchema = z
  .object({
    /** The till's own SQLite file. */
    path: z.string().min(1),
    engine: z
      .object({
        url: z.url({ protocol: /^https?$/ }),
        appId: z.string().min(1),
        /** Sent as X-Api-Key; never logged or shown. */
        apiKey: z.string().min(1),
      })
      .strict(),
    /**
     * Most operations the sender puts in one request (the engine's POST /v1/batch, at most
     * MAX_BATCH); 1 sends each alone to its own route.
     */
    batchSize: z.number().int().min(1).max(MAX_BATCH).default(MAX_BATCH),
    /** One attempt's limit, connection to last byte of the answer. */
    timeoutMs: z.number().int().min(100).default(10_000),
    /** With nothing to send, how often the engine's /health is asked, so `online` stays current. */
    healthIntervalMs: z.number().int().min(100).default(15_000),
    retry: z
      .object({
        baseMs: z.number().int().min(1).default(1_000),
        maxMs: z.number().int().min(1).default(60_000),
      })
      .strict()
      .refine((r) => r.maxMs >= r.baseMs, { error: 'maxMs must be at least baseMs', path: ['maxMs'] })
      .prefault({}),
    limits: OfflineLimitsSchema.prefault({}),
  })
  .strict();

export type OutboxConfig = z.infer<typeof OutboxConfigSchema>;
export type OutboxConfigInput = z.input<typeof OutboxConfigSchema>;
export type OfflineLimits = z.infer<typeof OfflineLimitsSchema>;
