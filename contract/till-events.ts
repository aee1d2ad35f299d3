// The till's event stream (/api/events) as zod schemas, both ways: what the till core sends its
// windows and what a window may send it. Here in contract/ because both sides need the one definition:
// the till core checks each message it sends, the renderer checks each message it receives.
// The client's first message authenticates with the launch token (or a paired display's token): a
// browser cannot set an Authorization header on a WebSocket, and a query parameter would land in
// URLs and logs.
import { z } from 'zod';

export const FLOW_KINDS = ['earn', 'redeem', 'refund', 'cashout'] as const;
export type FlowKind = (typeof FLOW_KINDS)[number];
export const OUTCOMES = ['done', 'failed', 'cancelled'] as const;
export type Outcome = (typeof OUTCOMES)[number];
export const CLAIM_STATUSES = [
  'created',
  'opened',
  'submitted',
  'processing',
  'paid',
  'failed',
  'expired',
  'cancelled',
] as const;
export type ClaimStatus = (typeof CLAIM_STATUSES)[number];

const minor = z.number().int();

/**
 * What the till's screens show of a flow, sent after every change of its state. Each carries, for the
 * cashier's screen and the customer display, the step, a prompt key per screen (the screens own the
 * words, in their language), the amount, the member as a masked label, the result, the claim to show
 * as a QR code, and any problem in plain words. Never a PAN, a PIN, a PIN block or a member token.
 */
export const FlowEventSchema = z
  .object({
    flowId: z.string(),
    kind: z.enum(FLOW_KINDS),
    step: z.string(),
    /** Set once the flow ended. */
    outcome: z.enum(OUTCOMES).nullable(),
    prompt: z.object({ cashier: z.string(), customer: z.string() }).strict(),
    /** Minor units; 0 while a refund's amount is not known yet. */
    amount: z.object({ minor, currency: z.string() }).strict(),
    /** The member as both screens may show them: a masked card, a member code, a masked phone or email. */
    member: z.string().nullable(),
    /** The outbox operation (earn, refund) or the history row (redeem, cashout), once there is one. */
    operationId: z.string().nullable(),
    result: z
      .object({
        queued: z.boolean(),
        cashback: minor.optional(),
        clawback: minor.optional(),
        redeemed: minor.optional(),
        available: minor.optional(),
        note: z.string().optional(),
      })
      .strict()
      .nullable(),
    /** Cashout: the claim page URL to show as a QR code, its expiry and its status. */
    claim: z
      .object({ id: z.string(), url: z.string(), expiresAt: z.string(), status: z.enum(CLAIM_STATUSES) })
      .strict()
      .nullable(),
    /** Redeem by one-time code: where the engine sent it (masked by the engine). */
    codeSentTo: z.string().nullable(),
    error: z.string().nullable(),
    at: z.number().int(),
  })
  .strict();
export type FlowEvent = z.infer<typeof FlowEventSchema>;

export const ClientMessageSchema = z
  .object({ type: z.literal('auth'), token: z.string().min(1).max(128) })
  .strict();
export type ClientMessage = z.infer<typeof ClientMessageSchema>;

export const QueueStateSchema = z
  .object({
    online: z.boolean().nullable(),
    waiting: z.number().int().nonnegative(),
    oldestAgeMs: z.number().int().nonnegative().nullable(),
    failed: z.number().int().nonnegative(),
  })
  .strict();
export type QueueStateMessage = z.infer<typeof QueueStateSchema>;

/**
 * A terminal as the screens show it (the cashier's status bar, the manager's terminals): what the
 * device manager lists, without its USB and serial identifiers.
 */
export const DeviceSummarySchema = z
  .object({
    id: z.string(),
    kind: z.enum(['card_reader', 'scanner', 'pinpad', 'zvt', 'unknown']),
    /** The driver profile's name, or null for a device no driver claims. */
    driver: z.string().nullable(),
    link: z.enum(['serial', 'hid', 'tcp']),
    /** Port path, or host:port for TCP. */
    path: z.string(),
    state: z.enum(['present', 'connecting', 'connected', 'disconnected', 'unplugged', 'closed']),
    label: z.string().optional(),
    product: z.string().optional(),
  })
  .strict();
export type DeviceSummary = z.infer<typeof DeviceSummarySchema>;

export const ServerMessageSchema = z.discriminatedUnion('type', [
  /** After a valid auth message, with the queue's state at that moment. */
  z.object({ type: z.literal('ready'), queue: QueueStateSchema }).strict(),
  /** After every change of the outbox. */
  z.object({ type: z.literal('queue_state'), queue: QueueStateSchema }).strict(),
  /** Before the server closes the socket for a bad or missing auth message. */
  z.object({ type: z.literal('error'), error: z.object({ code: z.string(), message: z.string() }) }).strict(),
  /** After each change to an operation (till/history/): the manager's history view reloads that row. */
  z
    .object({
      type: z.literal('history_changed'),
      operationId: z.string(),
      kind: z.enum(['queued', 'delivered', 'refused', 'attempt_failed', 'retried', 'voided']),
      at: z.number().int(),
    })
    .strict(),
  /** After every change of the current flow's state (till/flows/events.ts): what both screens show. */
  z.object({ type: z.literal('flow'), flow: FlowEventSchema }).strict(),
  /** After a terminal is added or changes state (till/terminals/): every terminal the till lists. */
  z.object({ type: z.literal('devices'), devices: z.array(DeviceSummarySchema) }).strict(),
]);
export type ServerMessage = z.infer<typeof ServerMessageSchema>;

/**
 * The screens' settings, served to every page without the launch token (they are no secret: the
 * store's name is on every claim page): what the idle display shows, how amounts and dates read, and
 * the currency the cashier types amounts in.
 */
export const ScreenSettingsSchema = z
  .object({
    storeName: z.string(),
    /** A BCP 47 locale for Intl (amounts, dates) and the language of the screens' texts. */
    locale: z.string(),
    /** The till's program currency (ISO 4217): what an amount typed on the cashier's keypad is in. */
    currency: z.string(),
  })
  .strict();
export type ScreenSettings = z.infer<typeof ScreenSettingsSchema>;
