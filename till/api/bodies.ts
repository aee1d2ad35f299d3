// The request bodies of the local API, each a strict zod schema: unknown fields are refused rather
// than ignored, so a typo in a POS integration fails loudly instead of silently dropping a field.
import { z } from 'zod';
import { QueuedOperationSchema } from '../outbox/queue.ts';
import { OperatorNameSchema, OperatorRoleSchema, PinSchema } from './config.ts';

export const SignInBodySchema = z.object({ name: OperatorNameSchema, pin: PinSchema }).strict();

export const CreateOperatorBodySchema = z
  .object({ name: OperatorNameSchema, role: OperatorRoleSchema, pin: PinSchema })
  .strict();

export const UpdateOperatorBodySchema = z
  .object({
    role: OperatorRoleSchema.optional(),
    pin: PinSchema.optional(),
    disabled: z.boolean().optional(),
  })
  .strict()
  .refine((b) => Object.keys(b).length > 0, { error: 'name at least one of role, pin, disabled' });

/** A numeric id in a path. */
export const IdParamSchema = z.object({ id: z.coerce.number().int().positive() }).strict();

// An earn or refund as the outbox queues it, without the type (the route says it) and the cashier
// (the signed-in operator is).
const [earn, refund] = QueuedOperationSchema.options;
export const EarnBodySchema = earn.omit({ type: true, cashier: true });
export const RefundBodySchema = refund.omit({ type: true, cashier: true });

export const PairBodySchema = z
  .object({ code: z.string().regex(/^\d{6}$/, 'must be 6 digits'), name: z.string().trim().min(1).max(64) })
  .strict();
