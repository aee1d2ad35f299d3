// Every WebSocket message of /api/events, both ways, as zod schemas: the one place a window learns
// what it can receive. The client's first message authenticates with the launch token (or a paired
// display's token) (a browser
// cannot set an Authorization header on a WebSocket, and a query parameter would land in URLs/logs).
import { z } from 'zod';
import { FlowEventSchema } from '../flows/events.ts';

export const ClientMessageSchema = z
  .object({ type: z.literal('auth'), token: z.string().min(1).max(128) })
  .strict();
export type ClientMessage = z.infer<typeof ClientMessageSchema>;

const QueueStateSchema = z
  .object({
    online: z.boolean().nullable(),
    waiting: z.number().int().nonnegative(),
    oldestAgeMs: z.number().int().nonnegative().nullable(),
    failed: z.number().int().nonnegative(),
  })
  .strict();

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
]);
export type ServerMessage = z.infer<typeof ServerMessageSchema>;

/** Serializes a server message, checking it first: a message the schema refuses is a server bug. */
export const encodeServerMessage = (m: ServerMessage): string => JSON.stringify(ServerMessageSchema.parse(m));
