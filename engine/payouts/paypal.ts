// PayPal Payouts client (REST v1): one payout = one batch with one item, paid to a PayPal email.
//
// Sources (developer.paypal.com):
// - Create batch payout, POST /v1/payments/payouts (api/payments.payouts-batch/v1/payouts-post):
//   `sender_batch_header.sender_batch_id` is our payoutId. "PayPal does not process duplicate payouts. If
//   you specify a sender_batch_id that was used in the last 30 days, the API rejects the request with an
//   error message that shows the duplicate sender_batch_id and includes a HATEOAS link to the original
//   payout ... If you receive an HTTP 5nn status code, you can safely retry the request with the same
//   sender_batch_id." The refusal is USER_BUSINESS_ERROR with a detail on field SENDER_BATCH_ID
//   (github.com/paypal/PayPal-Ruby-SDK/issues/120); we follow its link to the original batch.
// - Show payout batch details, GET /v1/payments/payouts/{payout_batch_id}: `batch_header.batch_status`
//   (definitions/batch_enum: DENIED, PENDING, PROCESSING, SUCCESS, CANCELED) and `items[].transaction_status`
//   (definitions/transaction_enum: SUCCESS, FAILED, PENDING, UNCLAIMED, RETURNED, ONHOLD, BLOCKED,
//   REFUNDED, REVERSED), an item's `errors.{name,message}` when it failed.
// - Errors: `{name, message, debug_id, information_link, details[{field, location, issue}], links}`;
//   VALIDATION_ERROR (400), INSUFFICIENT_FUNDS (422), USER_BUSINESS_ERROR (400/422).
// - OAuth2 client credentials, POST /v1/oauth2/token with HTTP Basic client_id:secret and
//   `grant_type=client_credentials`: `{access_token, token_type, expires_in, ...}`; an expired token
//   answers 401 `{error: "invalid_token"}`.
// - Webhooks (payouts/webhooks): PAYMENT.PAYOUTS-ITEM.{BLOCKED,CANCELED,DENIED,FAILED,HELD,REFUNDED,
//   RETURNED,SUCCEEDED,UNCLAIMED}, the resource being the payout item; verified by
//   POST /v1/notifications/verify-webhook-signature (api/webhooks/v1/verify-webhook-signature-post) with
//   the PAYPAL-AUTH-ALGO, -CERT-URL, -TRANSMISSION-ID, -TRANSMISSION-SIG, -TRANSMISSION-TIME headers,
//   our webhook_id and the event, answering `{verification_status: "SUCCESS" | "FAILURE"}`.
import { z } from 'zod';
import { payoutAmount, refusedAmount } from './amount.ts';
import { exchange, quote, quoteCode, silentLogger, type HttpAnswer, type PayoutLogger } from './http.ts';
import { readOptions } from './options.ts';
import {
  PayoutUnavailable,
  type PayoutOutcome,
  type PayoutProvider,
  type PayoutRequest,
  type PayoutStatus,
} from './provider.ts';

export const PAYPAL_BASE_URLS = {
  sandbox: 'https://api-m.sandbox.paypal.com',
  live: 'https://api-m.paypal.com',
} as const;

/** Where "Log in with PayPal" sends the member to sign in (paypal-connect.ts). */
export const PAYPAL_AUTHORIZE_URLS = {
  sandbox: 'https://www.sandbox.paypal.com/signin/authorize',
  live: 'https://www.paypal.com/signin/authorize',
} as const;

export const PayPalOptionsSchema = z
  .object({
    environment: z.enum(['sandbox', 'live']).default('sandbox'),
    /** Overrides the environment's base URL (a proxy, or a local server in tests). */
    baseUrl: z.url().optional(),
    /** Overrides the environment's "Log in with PayPal" authorize URL (a local server in tests). */
    authorizeUrl: z.url().optional(),
    clientId: z.string().min(1, 'clientId is required'),
    clientSecret: z.string().min(1, 'clientSecret is required'),
    /** The id PayPal gave the webhook subscription; needed to verify webhook events. */
    webhookId: z
      .string()
      .regex(/^[A-Za-z0-9]+$/, 'webhookId is the letters and digits PayPal shows for the webhook')
      .optional(),
    timeoutMs: z.number().int().min(100).max(120_000).default(20_000),
    /** A cached token is renewed this long before PayPal says it expires. */
    tokenRefreshMarginSeconds: z.number().int().min(0).max(3600).default(300),
    emailSubject: z.string().min(1).max(255).default('You have a payout'),
  })
  .strict();

export type PayPalOptions = z.input<typeof PayPalOptionsSchema>;

export interface PayPalDeps {
  /** Clock in milliseconds, for the token cache. */
  now?: () => number;
  logger?: PayoutLogger;
}

export interface PayPalWebhookRequest {
  /** Request headers as Node gives them (lower-case names). */
  headers: Record<string, string | string[] | undefined>;
  /** The raw body text, exactly as received: PayPal verifies the event it sent, byte for byte. */
  body: string;
}

export type PayPalWebhookErrorCode = 'not_configured' | 'bad_request' | 'refused' | 'unsupported_event';

/** A webhook call we will not act on; the route answers it (400 for bad_request, 401 for refused). */
export class PayPalWebhookError extends Error {
  constructor(
    readonly code: PayPalWebhookErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'PayPalWebhookError';
  }
}

export interface PayPalProvider extends PayoutProvider {
  /** Verifies a PAYMENT.PAYOUTS-ITEM.* event with PayPal and says which payout it is about and how it went. */
  handleWebhook(request: PayPalWebhookRequest): Promise<{ payoutId: string; outcome: PayoutOutcome }>;
}

// ---- response shapes (only the fields we read; PayPal adds more) -------------------------------------

const TokenSchema = z.object({
  access_token: z.string().min(1),
  token_type: z.string().regex(/^bearer$/i),
  expires_in: z.number().int().positive(),
});

const ErrorSchema = z.object({
  name: z.string().min(1),
  message: z.string().optional(),
  details: z.array(z.object({ field: z.string().optional(), issue: z.string().optional() })).optional(),
  links: z.array(z.object({ href: z.string(), rel: z.string().optional() })).optional(),
});

const ItemSchema = z.object({
  payout_item_id: z.string().min(1),
  payout_batch_id: z.string().min(1).optional(),
  transaction_status: z.string().min(1).optional(),
  sender_batch_id: z.string().optional(),
  payout_item: z.object({ sender_item_id: z.string().optional() }).optional(),
  errors: z.object({ name: z.string().optional(), message: z.string().optional() }).optional(),
});
type Item = z.infer<typeof ItemSchema>;

const BatchSchema = z.object({
  batch_header: z.object({
    payout_batch_id: z.string().min(1),
    batch_status: z.string().min(1),
  }),
  items: z.array(ItemSchema).optional(),
});

/** Any webhook event; its resource is read once we know it is a payouts item event. */
const WebhookEventSchema = z.object({
  id: z.string().min(1),
  event_type: z.string().min(1),
  resource: z.unknown(),
});

const VerificationSchema = z.object({ verification_status: z.enum(['SUCCESS', 'FAILURE']) });

// ---- status mapping ----------------------------------------------------------------------------------

/** Item transaction_status -> ours. ONHOLD and PENDING are still moving; REFUNDED/REVERSED came back. */
const PAYPAL_ITEM_STATUS: Readonly<Record<string, PayoutStatus>> = {
  SUCCESS: 'paid',
  PENDING: 'processing',
  ONHOLD: 'processing',
  UNCLAIMED: 'unclaimed',
  RETURNED: 'returned',
  REFUNDED: 'returned',
  REVERSED: 'returned',
  FAILED: 'failed',
  BLOCKED: 'failed',
};

/** Why, in words a store manager can act on, when PayPal gives no message of its own. */
const ITEM_EXPLANATION: Readonly<Record<string, string>> = {
  FAILED: 'PayPal could not pay the recipient',
  BLOCKED: 'PayPal blocked the payout to this recipient',
  RETURNED: 'the recipient did not claim the payout within 30 days, so PayPal returned it',
  REFUNDED: 'the recipient refunded the payout',
  REVERSED: 'PayPal reversed the payout',
};

/** Webhook event type (after PAYMENT.PAYOUTS-ITEM.) -> the item status it reports. */
const PAYPAL_EVENT_ITEM_STATUS: Readonly<Record<string, string>> = {
  SUCCEEDED: 'SUCCESS',
  FAILED: 'FAILED',
  DENIED: 'FAILED',
  BLOCKED: 'BLOCKED',
  HELD: 'ONHOLD',
  UNCLAIMED: 'UNCLAIMED',
  RETURNED: 'RETURNED',
  REFUNDED: 'REFUNDED',
  // Cancelling an unclaimed item returns the money to the sender (transaction_status RETURNED).
  CANCELED: 'RETURNED',
};

const EVENT_PREFIX = 'PAYMENT.PAYOUTS-ITEM.';

/** `reference` is the payout_batch_id, the key `status()` asks PayPal with. */
function outcomeOfItemStatus(
  txStatus: string,
  item: Item | undefined,
  reference: string | undefined,
): PayoutOutcome {
  const ref = reference === undefined ? {} : { providerReference: reference };
  const status = PAYPAL_ITEM_STATUS[txStatus];
  // A status PayPal adds later decides nothing for us: keep asking.
  if (status === undefined) return { status: 'processing', ...ref };
  if (status === 'processing' || status === 'paid' || status === 'unclaimed') return { status, ...ref };
  const message = item?.errors?.message ?? ITEM_EXPLANATION[txStatus] ?? `PayPal reported ${txStatus}`;
  return {
    status,
    ...ref,
    failure: { code: quoteCode(item?.errors?.name ?? txStatus), message: quote(message) },
  };
}

/** Our outcome from a batch as PayPal shows it: the batch status first, then our item's status. */
function outcomeOfBatch(batch: z.infer<typeof BatchSchema>, payoutId: string): PayoutOutcome {
  const reference = batch.batch_header.payout_batch_id;
  const items = batch.items ?? [];
  const item =
    items.find((i) => i.payout_item?.sender_item_id === payoutId) ??
    (items.length === 1 ? items[0] : undefined);
  const batchStatus = batch.batch_header.batch_status;
  if (batchStatus === 'DENIED' || batchStatus === 'CANCELED') {
    return {
      status: 'failed',
      providerReference: reference,
      failure: {
        code: quoteCode(item?.errors?.name ?? `BATCH_${batchStatus}`),
        message: quote(item?.errors?.message ?? `PayPal ${batchStatus.toLowerCase()} the payout`),
      },
    };
  }
  if (item?.transaction_status !== undefined)
    return outcomeOfItemStatus(item.transaction_status, item, reference);
  return { status: 'processing', providerReference: reference };
}

/** Parses a PayPal batch answer; anything unreadable decides nothing and is `PayoutUnavailable`. */
export function parseBatch(text: string, payoutId: string): PayoutOutcome {
  return outcomeOfBatch(readJson(text, BatchSchema, 'the payout batch'), payoutId);
}

/** A PayPal answer read with `schema`; unreadable or incomplete is `PayoutUnavailable` (nothing decided). */
export function readJson<T>(text: string, schema: z.ZodType<T>, what: string): T {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new PayoutUnavailable('paypal', `PayPal answered ${what} with a body that is not JSON`);
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const where = parsed.error.issues.map((i) => i.path.join('.') || '(body)').join(', ');
    throw new PayoutUnavailable('paypal', `PayPal answered ${what} without the fields we need (${where})`);
  }
  return parsed.data;
}

function readError(text: string): z.infer<typeof ErrorSchema> | undefined {
  try {
    const parsed = ErrorSchema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/** "Invalid request - see details: items[0].receiver: Receiver is invalid" */
function explain(error: z.infer<typeof ErrorSchema>): string {
  const issues = (error.details ?? [])
    .map((d) => [d.field, d.issue].filter((p) => p !== undefined).join(': '))
    .filter((s) => s.length > 0);
  return quote([error.message ?? error.name, ...issues].join('; '));
}

/** PayPal's refusal of a sender_batch_id it has seen: the payout was submitted before. */
function isDuplicate(error: z.infer<typeof ErrorSchema>): boolean {
  return (error.details ?? []).some((d) => d.field?.toUpperCase() === 'SENDER_BATCH_ID');
}

/** The payout_batch_id of the original batch, from the duplicate refusal's HATEOAS link. */
function linkedBatchId(error: z.infer<typeof ErrorSchema>): string | undefined {
  for (const link of error.links ?? []) {
    const match = /\/v1\/payments\/payouts\/([A-Za-z0-9]+)(?:[/?#]|$)/.exec(link.href);
    if (match !== null) return match[1];
  }
  return undefined;
}

function header(headers: PayPalWebhookRequest['headers'], name: string): string | undefined {
  const value = headers[name];
  const first = Array.isArray(value) ? value[0] : value;
  return first === undefined || first.length === 0 ? undefined : first;
}

/** Where the client sends its calls: `baseUrl` when given, else the environment's PayPal host. */
export function paypalBaseUrl(
  opts: Pick<z.infer<typeof PayPalOptionsSchema>, 'baseUrl' | 'environment'>,
): string {
  return (opts.baseUrl ?? PAYPAL_BASE_URLS[opts.environment]).replace(/\/+$/, '');
}

// ---- the client --------------------------------------------------------------------------------------

/**
 * `POST /v1/oauth2/token` with our app's basic credentials: the client-credentials grant of the payouts
 * client and the authorization-code grant of "Log in with PayPal" are the same request with other
 * form fields.
 */
export function requestPayPalToken(
  app: { base: string; basic: string; timeoutMs: number },
  what: string,
  form: URLSearchParams,
) {
  return exchange(
    'paypal',
    what,
    `${app.base}/v1/oauth2/token`,
    {
      method: 'POST',
      headers: {
        Authorization: `Basic ${app.basic}`,
        Accept: 'application/json',
        'Content-Type': 'application/x-www-form-urlencoded',
      },
      body: form.toString(),
    },
    app.timeoutMs,
  );
}

export function createPayPalProvider(options: PayPalOptions, deps: PayPalDeps = {}): PayPalProvider {
  const opts = readOptions(PayPalOptionsSchema, options, 'PayPal');
  const base = paypalBaseUrl(opts);
  const now = deps.now ?? Date.now;
  const log = deps.logger ?? silentLogger;
  const basic = Buffer.from(`${opts.clientId}:${opts.clientSecret}`).toString('base64');

  let token: { value: string; renewAt: number } | undefined;
  let fetching: Promise<string> | undefined;

  async function fetchToken(): Promise<string> {
    const answer = await requestPayPalToken(
      { base, basic, timeoutMs: opts.timeoutMs },
      'token request',
      new URLSearchParams({ grant_type: 'client_credentials' }),
    );
    if (answer.status !== 200) {
      // Wrong credentials are a setting to fix, not a refusal of this payout: nothing is decided.
      throw new PayoutUnavailable('paypal', `PayPal refused our client credentials (HTTP ${answer.status})`);
    }
    const t = readJson(answer.text, TokenSchema, 'the token request');
    const lifetimeMs = Math.max(0, t.expires_in - opts.tokenRefreshMarginSeconds) * 1000;
    token = { value: t.access_token, renewAt: now() + lifetimeMs };
    log.info({ provider: 'paypal', expiresInSeconds: t.expires_in }, 'paypal access token renewed');
    return t.access_token;
  }

  /** The cached token, or one new token shared by every caller waiting for it. */
  async function accessToken(): Promise<string> {
    if (token !== undefined && now() < token.renewAt) return token.value;
    fetching ??= fetchToken().finally(() => {
      fetching = undefined;
    });
    return fetching;
  }

  /** A call with the bearer token; on 401 the token is renewed once and the call repeated. */
  async function call(
    what: string,
    method: 'GET' | 'POST',
    path: string,
    body?: string,
  ): Promise<HttpAnswer> {
    const send = async (bearer: string): Promise<HttpAnswer> =>
      exchange(
        'paypal',
        what,
        `${base}${path}`,
        {
          method,
          headers: {
            Authorization: `Bearer ${bearer}`,
            Accept: 'application/json',
            ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
          },
          ...(body === undefined ? {} : { body }),
        },
        opts.timeoutMs,
      );
    const first = await send(await accessToken());
    if (first.status !== 401) return first;
    token = undefined;
    const second = await send(await accessToken());
    if (second.status === 401) {
      throw new PayoutUnavailable(
        'paypal',
        `${what}: PayPal refused a freshly issued access token (HTTP 401)`,
      );
    }
    return second;
  }

  async function batch(payoutBatchId: string, payoutId: string): Promise<PayoutOutcome> {
    const answer = await call(
      'payout status',
      'GET',
      `/v1/payments/payouts/${encodeURIComponent(payoutBatchId)}`,
    );
    if (answer.status !== 200) {
      // A status query decides nothing by itself; a missing batch means a wrong reference.
      throw new PayoutUnavailable('paypal', `payout status: PayPal answered HTTP ${answer.status}`);
    }
    return parseBatch(answer.text, payoutId);
  }

  async function submit(request: PayoutRequest): Promise<PayoutOutcome> {
    if (request.method.kind !== 'paypal') {
      return {
        status: 'failed',
        failure: {
          code: 'unsupported_method',
          message: `PayPal pays PayPal accounts, not ${request.method.kind}`,
        },
      };
    }
    const refused = refusedAmount(request);
    if (refused !== undefined) return refused;
    const body = JSON.stringify({
      sender_batch_header: {
        sender_batch_id: request.payoutId,
        recipient_type: 'EMAIL',
        email_subject: opts.emailSubject,
      },
      items: [
        {
          recipient_type: 'EMAIL',
          receiver: request.method.email,
          amount: { value: payoutAmount(request), currency: request.currency },
          sender_item_id: request.payoutId,
          ...(request.note === undefined ? {} : { note: request.note }),
        },
      ],
    });
    const answer = await call('payout', 'POST', '/v1/payments/payouts', body);
    if (answer.status === 200 || answer.status === 201) return parseBatch(answer.text, request.payoutId);

    const error = readError(answer.text);
    if (error === undefined) {
      throw new PayoutUnavailable(
        'paypal',
        `payout: PayPal answered HTTP ${answer.status} without an error body`,
      );
    }
    if (isDuplicate(error)) {
      // Already submitted: this is a retry. Report the original batch, never pay again. Only its id is
      // taken from the link: our token goes to our configured base URL, never to a host in a body.
      const original = linkedBatchId(error);
      if (original === undefined) {
        throw new PayoutUnavailable(
          'paypal',
          'payout: PayPal says it was already submitted but gave no link to it',
        );
      }
      log.info(
        { provider: 'paypal', payoutId: request.payoutId, payoutBatchId: original },
        'payout already submitted',
      );
      return batch(original, request.payoutId);
    }
    if (answer.status === 401 || answer.status === 403) {
      throw new PayoutUnavailable(
        'paypal',
        `payout: PayPal refused this app (${error.name}); check its permissions`,
      );
    }
    log.warn({ provider: 'paypal', payoutId: request.payoutId, error: error.name }, 'payout refused');
    return { status: 'failed', failure: { code: error.name, message: explain(error) } };
  }

  async function status(payoutId: string, providerReference?: string): Promise<PayoutOutcome> {
    if (providerReference === undefined) {
      // Payouts v1 looks batches up only by payout_batch_id; submitting again recovers it safely.
      throw new PayoutUnavailable(
        'paypal',
        'payout status: PayPal needs the payout_batch_id; submit again to find it',
      );
    }
    return batch(providerReference, payoutId);
  }

  async function handleWebhook(
    request: PayPalWebhookRequest,
  ): Promise<{ payoutId: string; outcome: PayoutOutcome }> {
    if (opts.webhookId === undefined) {
      throw new PayPalWebhookError('not_configured', 'PayPal webhooks need the webhookId setting');
    }
    const names = [
      'auth-algo',
      'cert-url',
      'transmission-id',
      'transmission-sig',
      'transmission-time',
    ] as const;
    const values = names.map((n) => header(request.headers, `paypal-${n}`));
    const missing = names.filter((_, i) => values[i] === undefined);
    if (missing.length > 0) {
      throw new PayPalWebhookError(
        'bad_request',
        `missing PayPal headers: ${missing.map((n) => `paypal-${n}`).join(', ')}`,
      );
    }
    let event: z.infer<typeof WebhookEventSchema>;
    try {
      const parsed = WebhookEventSchema.safeParse(JSON.parse(request.body));
      if (!parsed.success) throw new Error('shape');
      event = parsed.data;
    } catch {
      throw new PayPalWebhookError('bad_request', 'the body is not a PayPal webhook event');
    }
    const [authAlgo, certUrl, transmissionId, transmissionSig, transmissionTime] = values as string[];
    // The event goes back to PayPal as the exact text it sent: re-serialising could change it.
    const verifyBody =
      `{"auth_algo":${JSON.stringify(authAlgo)},"cert_url":${JSON.stringify(certUrl)},` +
      `"transmission_id":${JSON.stringify(transmissionId)},"transmission_sig":${JSON.stringify(transmissionSig)},` +
      `"transmission_time":${JSON.stringify(transmissionTime)},"webhook_id":${JSON.stringify(opts.webhookId)},` +
      `"webhook_event":${request.body}}`;
    const answer = await call(
      'webhook verification',
      'POST',
      '/v1/notifications/verify-webhook-signature',
      verifyBody,
    );
    if (answer.status !== 200) {
      throw new PayoutUnavailable('paypal', `webhook verification: PayPal answered HTTP ${answer.status}`);
    }
    const verdict = readJson(answer.text, VerificationSchema, 'the webhook verification');
    if (verdict.verification_status !== 'SUCCESS') {
      log.warn({ provider: 'paypal', eventId: event.id }, 'webhook signature refused');
      throw new PayPalWebhookError('refused', 'PayPal did not confirm the signature of this webhook');
    }
    const itemStatus = event.event_type.startsWith(EVENT_PREFIX)
      ? PAYPAL_EVENT_ITEM_STATUS[event.event_type.slice(EVENT_PREFIX.length)]
      : undefined;
    if (itemStatus === undefined) {
      throw new PayPalWebhookError(
        'unsupported_event',
        `not a payouts item event: ${quoteCode(event.event_type)}`,
      );
    }
    const item = ItemSchema.safeParse(event.resource);
    const payoutId = item.success
      ? (item.data.sender_batch_id ?? item.data.payout_item?.sender_item_id)
      : undefined;
    if (!item.success || payoutId === undefined) {
      throw new PayPalWebhookError('bad_request', 'the event names no payout item of ours (sender_batch_id)');
    }
    return { payoutId, outcome: outcomeOfItemStatus(itemStatus, item.data, item.data.payout_batch_id) };
  }

  return { name: 'paypal', methods: ['paypal'], submit, status, handleWebhook };
}
