// Seed 001: POST /api/v2/cashbacks/withdraw in the Hello Clever document's shape. Credentials are the
// engine's apps in the `app-id` and `secret-key` headers. The document shows no error body, so
// errors come in the native shape ({"error": {"code", "message", "details"}}) with the HTTP status
// it lists (400, 401) and the engine's others (403, 404, 409, 422). Amounts arrive in minor units
// and leave in major units (`10.00`), as documented.
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { DomainContext } from '../domain/context.ts';
import { DomainError } from '../domain/errors.ts';
import { WITHDRAWAL_METHODS, type Withdrawal } from '../domain/withdrawal-events.ts';
import { payoutMethodOf, withdraw, type WithdrawalMethod } from '../domain/withdrawals.ts';
import { apiPlugin, defineRoute, header, type ApiStyle, type Authenticate } from '../http/api.ts';
import { decimalNumber } from '../http/json.ts';
import type { PayoutMethodKind } from '../payouts/provider.ts';
import { WebhookUrl } from '../webhooks/address-policy.ts';
import { errors, positiveMinor, style as nativeStyle } from './native.ts';
import { accountNumberField, bodyId, bsbField, payidField } from './shared.ts';

const style: ApiStyle = {
  renderError: nativeStyle.renderError,
  credentials: (req) => {
    const appId = header(req, 'app-id');
    const secret = header(req, 'secret-key');
    return appId && secret ? { appId, secret } : undefined;
  },
  missingCredentials: 'Send the app credentials in the app-id and secret-key headers',
  strictBodies: false,
  security: [{ seed001AppId: [], seed001SecretKey: [] }],
};

const paramsOf = {
  au_bank_npp_aud: z.object({ bsb: bsbField, account_number: accountNumberField }),
  au_payid_npp_aud: z.object({ payid: payidField }),
};

const detail = z
  .object({
    payment_description: z.string().max(280).optional(),
    currency: z
      .literal('AUD', { error: 'must be AUD: both payout methods pay Australian dollars' })
      .default('AUD'),
    amount: positiveMinor,
    payout_method_name: z.enum(WITHDRAWAL_METHODS, {
      error: `must be one of ${WITHDRAWAL_METHODS.join(', ')}`,
    }),
    payout_method_params: z.record(z.string(), z.unknown(), { error: 'must be an object' }),
  })
  // The params' shape depends on the method: checked here so each issue names its field.
  .transform((d, zctx) => {
    const params = paramsOf[d.payout_method_name].safeParse(d.payout_method_params);
    if (!params.success) {
      for (const issue of params.error.issues) {
        zctx.addIssue({
          code: 'custom',
          message: issue.message,
          path: ['payout_method_params', ...issue.path],
        });
      }
      return z.NEVER;
    }
    const method = { name: d.payout_method_name, params: params.data } as WithdrawalMethod;
    return { ...d, method };
  });

const body = z.object({
  user_id: z
    .string()
    .min(1)
    .max(64)
    .describe("The member: their external_id (the merchant's id) or, all digits, our member id"),
  client_transaction_id: z
    .string()
    .min(1)
    .max(255)
    .describe('Your id for the withdrawal; a repeat with the same body answers the first result'),
  cashback_transaction_detail: detail,
  webhook_notification: z.object({
    endpoint_url: WebhookUrl,
    authorization_headers: z
      .string()
      .min(1)
      .max(1024)
      // Sent as a header value: no line breaks or control characters that could forge another header.
      .regex(/^[\x20-\x7e]+$/, 'must be printable ASCII on one line')
      .describe('Sent as the Authorization header of the callback, e.g. "Bearer your_token"'),
  }),
  program_id: bodyId
    .optional()
    .describe('Our addition: the program, when the member has cashback in several'),
});

const withdrawalSchema = z.object({
  transaction_type: z.literal('money_out'),
  withdrawal_id: z.string(),
  client_transaction_id: z.string(),
  merchant_name: z.string().describe("The app's name"),
  site_name: z.string().describe("The program's name"),
  customer_id: z.string().describe('The user_id sent'),
  amount: z.number().describe('Major units, e.g. 10.00'),
  withdrawal_method: z.enum(WITHDRAWAL_METHODS),
  status: z.literal('processing').describe('Then settled or failed, in the callback to endpoint_url'),
  created_at: z.string().describe('ISO 8601 with milliseconds'),
  updated_at: z.string(),
  payout_method_params: z.record(z.string(), z.string()),
  webhook_notification: z.object({ endpoint_url: z.string(), authorization_header: z.string() }),
});

const responseOf = (w: Withdrawal) => ({
  transaction_type: 'money_out',
  withdrawal_id: w.id,
  client_transaction_id: w.clientTransactionId,
  merchant_name: w.merchantName,
  site_name: w.siteName,
  customer_id: w.customerId,
  amount: decimalNumber(w.amount, w.currency),
  withdrawal_method: w.methodName,
  // A repeat answers the first result, which was always processing.
  status: w.status,
  created_at: new Date(w.createdAt).toISOString(),
  updated_at: new Date(w.updatedAt).toISOString(),
  payout_method_params: w.methodParams,
  webhook_notification: { endpoint_url: w.endpointUrl, authorization_header: w.authorization },
});

export interface WithdrawRouteOptions {
  /** What the configured payout provider can pay to. */
  methods: readonly PayoutMethodKind[];
  /** Called after a withdrawal is accepted: the payout worker starts at once. */
  onSubmitted: () => void;
}

export function seed001Routes(ctx: DomainContext, authenticate: Authenticate, options: WithdrawRouteOptions) {
  return async function routes(app: FastifyInstance) {
    apiPlugin(app, style);
    defineRoute(app, style, authenticate, {
      method: 'POST',
      url: '/withdraw',
      summary: 'Initiate a cashback withdrawal (seed 001)',
      description:
        "Holds the member's available cashback at once and pays it to an Australian bank account (au_bank_npp_aud: bsb, account_number) or PayID (au_payid_npp_aud: payid, an email, Australian mobile, ABN or ACN) through the payout provider. The answer says processing; the outcome (settled or failed) is POSTed to webhook_notification.endpoint_url with authorization_headers as its Authorization header, signed with Tillback-Signature. client_transaction_id makes retries safe.",
      tags: ['Cashback withdrawal (seed 001)'],
      scope: 'cashback_write',
      body,
      response: { 200: withdrawalSchema, ...errors },
      handler: async ({ body: b, app: client }) => {
        const d = b.cashback_transaction_detail;
        const kind = payoutMethodOf(d.method).kind;
        if (!options.methods.includes(kind)) {
          throw new DomainError(
            'method_unavailable',
            `cashback_transaction_detail.payout_method_name: no payout provider here pays ${d.payout_method_name}: set payouts.provider to one that pays ${kind} (sandbox)`,
            { field: 'cashback_transaction_detail.payout_method_name' },
          );
        }
        const w = await withdraw(ctx, {
          appId: client.appId,
          merchantName: client.name,
          userId: b.user_id,
          clientTransactionId: b.client_transaction_id,
          amount: d.amount,
          currency: d.currency,
          paymentDescription: d.payment_description,
          programId: b.program_id,
          method: d.method,
          endpointUrl: b.webhook_notification.endpoint_url,
          authorization: b.webhook_notification.authorization_headers,
        });
        if (!w.replayed) options.onSubmitted();
        return responseOf(w);
      },
    });
  };
}
