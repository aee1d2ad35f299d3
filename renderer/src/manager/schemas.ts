// What the manager's screen reads from the till, as zod schemas: every answer is checked before it is
// shown (shared/api.ts). Objects are not strict: a newer till's extra field must not break this page.
import { z } from 'zod';
import { DeviceSummarySchema, QueueStateSchema } from '../../../contract/till-events.ts';
import { OperatorSchema } from '../shared/api.ts';
import { OPERATION_STATES, OPERATION_TYPES } from './query.ts';

const minor = z.number().int();

export const OperationSchema = z.object({
  id: z.string(),
  type: z.enum(OPERATION_TYPES),
  state: z.enum(OPERATION_STATES),
  amount: minor,
  currency: z.string(),
  cashback: minor.nullable(),
  memberRef: z.string(),
  cashier: z.string(),
  programId: z.number().int().nullable(),
  reference: z.string().nullable(),
  voidReason: z.string().nullable(),
  createdAt: z.number(),
  updatedAt: z.number(),
  attempts: z.number().int().nullable(),
  lastError: z.string().nullable(),
  refusal: z.string().nullable(),
});
export type Operation = z.infer<typeof OperationSchema>;

export const HistoryPageSchema = z.object({
  timeZone: z.string(),
  operations: z.array(OperationSchema),
  nextCursor: z.string().nullable(),
});

export const QueueEventSchema = z.object({
  seq: z.number().int(),
  operationId: z.string(),
  kind: z.string(),
  message: z.string().nullable(),
  at: z.number(),
});
export type QueueEvent = z.infer<typeof QueueEventSchema>;

export const OperationDetailSchema = z.object({
  operation: OperationSchema,
  events: z.array(QueueEventSchema),
});
export type OperationDetail = z.infer<typeof OperationDetailSchema>;

export const QueueLogSchema = z.object({
  events: z.array(QueueEventSchema),
  nextCursor: z.string().nullable(),
});

export const DeviceEventSchema = z.object({
  seq: z.number().int(),
  deviceId: z.string().nullable(),
  type: z.string(),
  summary: z.record(z.string(), z.unknown()),
  at: z.number(),
});
export type DeviceEvent = z.infer<typeof DeviceEventSchema>;
export const DeviceLogSchema = z.object({
  events: z.array(DeviceEventSchema),
  nextCursor: z.string().nullable(),
});

export const DevicesSchema = z.object({ devices: z.array(DeviceSummarySchema) });
export const QueueAnswerSchema = z.object({ queue: QueueStateSchema });

export const DayTotalsSchema = z.object({
  date: z.string(),
  currency: z.string(),
  operations: z.array(
    z.object({
      type: z.enum(OPERATION_TYPES),
      state: z.enum(OPERATION_STATES),
      count: z.number().int(),
      amount: minor,
    }),
  ),
  cashback: z.object({ earned: minor, redeemed: minor, clawedBack: minor }),
});
export type DayTotals = z.infer<typeof DayTotalsSchema>;
export const TotalsSchema = z.object({
  timeZone: z.string(),
  from: z.string(),
  to: z.string(),
  days: z.array(DayTotalsSchema),
});
export type Totals = z.infer<typeof TotalsSchema>;

export const DeliverySchema = z.object({
  delivery_id: z.string(),
  event_id: z.string(),
  event_type: z.string(),
  url: z.string(),
  status: z.enum(['pending', 'delivered', 'failed']),
  attempts: z.number().int(),
  next_attempt_at: z.string().nullable(),
  last_status_code: z.number().int().nullable(),
  last_error: z.string().nullable(),
  delivered_at: z.string().nullable(),
  created_at: z.string(),
});
export type Delivery = z.infer<typeof DeliverySchema>;
export const DeliveriesSchema = z.object({ deliveries: z.array(DeliverySchema) });

export const ManagedOperatorSchema = OperatorSchema.extend({ disabledAt: z.number().nullable() });
export type ManagedOperator = z.infer<typeof ManagedOperatorSchema>;
export const OperatorsSchema = z.object({ operators: z.array(ManagedOperatorSchema) });
export const OperatorAnswerSchema = z.object({ operator: ManagedOperatorSchema });

export const DisplaysSchema = z.object({
  displays: z.array(z.object({ id: z.number().int(), name: z.string(), createdAt: z.number() })),
});
export const PairingCodeSchema = z.object({ code: z.string(), expiresAt: z.number() });

export const SettingsSchema = z.object({
  store: z.object({ name: z.string(), locale: z.string() }),
  timeZone: z.string(),
  engine: z.object({
    mode: z.enum(['embedded', 'central']),
    url: z.string(),
    publicUrl: z.string(),
    appId: z.string(),
  }),
  program: z.object({
    id: z.number().int(),
    currency: z.string(),
    engine: z
      .object({
        name: z.string(),
        cashback_bps: z.number().int(),
        min_purchase: minor,
        max_cashback: minor.nullable(),
        allows_pin_redemption: z.boolean(),
        maturation_days: z.number().int(),
        expiry_days: z.number().int().nullable(),
      })
      .nullable(),
    engineError: z.object({ code: z.string(), message: z.string() }).nullable(),
  }),
  outbox: z.object({
    limits: z.object({
      maxAgeHours: z.number().int(),
      maxCount: z.number().int(),
      maxAmount: z.record(z.string(), minor),
    }),
    retry: z.object({ baseMs: z.number().int(), maxMs: z.number().int() }),
    timeoutMs: z.number().int(),
  }),
});
export type Settings = z.infer<typeof SettingsSchema>;
