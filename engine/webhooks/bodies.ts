// The body of each webhook format, rendered once when the event is recorded:
// - native: ours, for the configured subscribers: {id, type, created, subject, data}.
// - seed000: what noebs sends its cashout providers: {name, details: {response, code, time, amount}}.
// - seed001: the callback Hello Clever documents for withdrawals (money_out, status settled|failed,
//   amount in major units), with the caller's endpoint and authorization header echoed as documented.
// The seed formats read the fields they need from the event's data, named as the documents name them;
// an event without them is a programming error, thrown so the state change itself rolls back.
import { z } from 'zod';
import { decimalNumber, serializeJson } from '../http/json.ts';
import { isoTime } from '../routes/shared.ts';

export type WebhookFormat = 'native' | 'seed000' | 'seed001';

export interface RenderedEvent {
  id: string;
  type: string;
  subject: { kind: string; id: string };
  data: Record<string, unknown>;
  createdAt: number;
}

/** The data a seed000 event carries: the provider's name and the transaction's outcome. */
export const Seed000Data = z.object({
  name: z.string().min(1),
  response: z.string(),
  code: z.number().int(),
  amount: z.number().int(),
});

/** The data a seed001 event carries: the withdrawal as the document's callback describes it. */
export const Seed001Data = z.object({
  withdrawal_id: z.string().min(1),
  client_transaction_id: z.string(),
  merchant_name: z.string(),
  site_name: z.string(),
  customer_id: z.string(),
  /** Minor units; the callback carries major units. */
  amount: z.number().int(),
  currency: z.string(),
  withdrawal_method: z.enum(['au_bank_npp_aud', 'au_payid_npp_aud']),
  // The document's callback reports only the outcome.
  status: z.enum(['settled', 'failed']),
  /** Epoch milliseconds. */
  created_at: z.number().int(),
  updated_at: z.number().int(),
  payout_method_params: z.record(z.string(), z.string()),
});

function read<T>(schema: z.ZodType<T>, event: RenderedEvent, format: WebhookFormat): T {
  const parsed = schema.safeParse(event.data);
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
  throw new Error(`event ${event.type}: its data cannot make a ${format} webhook body (${issues})`);
}

/**
 * The exact bytes to send. `target` is where it goes and the headers it goes with (seed 001 echoes
 * both in its body).
 */
export function renderBody(
  format: WebhookFormat,
  event: RenderedEvent,
  target: { url: string; headers: Record<string, string> },
): string {
  switch (format) {
    case 'native':
      return serializeJson({
        id: event.id,
        type: event.type,
        created: isoTime(event.createdAt),
        subject: event.subject,
        data: event.data,
      });
    case 'seed000': {
      const d = read(Seed000Data, event, format);
      return serializeJson({
        name: d.name,
        details: { response: d.response, code: d.code, time: isoTime(event.createdAt), amount: d.amount },
      });
    }
    case 'seed001': {
      const d = read(Seed001Data, event, format);
      const authorization = Object.entries(target.headers).find(([k]) => k.toLowerCase() === 'authorization');
      return serializeJson({
        transaction_type: 'money_out',
        withdrawal_id: d.withdrawal_id,
        client_transaction_id: d.client_transaction_id,
        merchant_name: d.merchant_name,
        site_name: d.site_name,
        customer_id: d.customer_id,
        amount: decimalNumber(d.amount, d.currency),
        withdrawal_method: d.withdrawal_method,
        status: d.status,
        created_at: new Date(d.created_at).toISOString(),
        updated_at: new Date(d.updated_at).toISOString(),
        payout_method_params: d.payout_method_params,
        webhook_notification: { endpoint_url: target.url, authorization_header: authorization?.[1] ?? '' },
      });
    }
  }
}
