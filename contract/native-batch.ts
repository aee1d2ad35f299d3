// POST /v1/batch, the engine's route for several earns and refunds in one request, as the engine
// serves it (engine/routes/native-batch.ts) and the till's sender calls it (till/outbox/sender.ts).
import { z } from 'zod';

/** Most operations in one batch: well under the engine's default 64 KiB body limit. */
export const MAX_BATCH = 100;

export const BATCH_TYPES = ['earn', 'refund'] as const;
export type BatchType = (typeof BATCH_TYPES)[number];

export const BatchOperationSchema = z
  .object({
    type: z.enum(BATCH_TYPES).describe('POST /v1/earn or POST /v1/refund'),
    idempotency_key: z
      .string()
      .describe("This operation's Idempotency-Key, as the single route takes it in the header"),
    body: z.record(z.string(), z.unknown()).describe('The body the single route takes'),
  })
  .strict();

export type BatchOperation = z.infer<typeof BatchOperationSchema>;

export const BatchRequestSchema = z.object({
  operations: z.array(BatchOperationSchema).min(1).max(MAX_BATCH),
});

export const BatchResultSchema = z.object({
  status: z.number().int().describe('The status the single route would have answered'),
  body: z.record(z.string(), z.unknown()).describe('Its body: the answer, or {"error": {...}}'),
});

export type BatchResult = z.infer<typeof BatchResultSchema>;

export const BatchAnswerSchema = z.object({ results: z.array(BatchResultSchema) });
