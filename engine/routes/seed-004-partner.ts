// Seed 004: the Obyte partner cashback API, POST /new_purchase, in the document's shape: partner
// and partner_key in the body, {"result": "ok", "cashback_amount", "unit"} or
// {"result": "error", "error": "..."}. Partners are apps with the `partner` scope.
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { DomainContext } from '../domain/context.ts';
import { partnerCashback } from '../domain/partners.ts';
import { apiPlugin, defineRoute, type ApiStyle, type Authenticate } from '../http/api.ts';
import { decimalAmount } from './shared.ts';

const style: ApiStyle = {
  renderError: (e) => ({ result: 'error', error: e.message }),
  credentials: (req) => {
    const body = req.body as { partner?: unknown; partner_key?: unknown } | undefined;
    return typeof body?.partner === 'string' && typeof body.partner_key === 'string'
      ? { appId: body.partner, secret: body.partner_key }
      : undefined;
  },
  security: [],
  missingCredentials: 'partner and partner_key are required strings in the JSON body',
  strictBodies: false,
};

const errorSchema = z.object({ result: z.literal('error'), error: z.string() });

export function seed004Routes(ctx: DomainContext, authenticate: Authenticate) {
  return async function routes(app: FastifyInstance) {
    apiPlugin(app, style);
    // The document says "pass the following parameters" without a body type: POS integrations post
    // them as a form as often as JSON, so this route takes both (form values are strings).
    app.addContentTypeParser(
      'application/x-www-form-urlencoded',
      { parseAs: 'string' },
      (_req, body, done) => {
        done(null, Object.fromEntries(new URLSearchParams(body as string)));
      },
    );
    defineRoute(app, style, authenticate, {
      method: 'POST',
      url: '/new_purchase',
      summary: 'Request cashback for a purchase (Obyte partner API)',
      description:
        'Base cashback from the fund, plus partner_cashback_percentage paid from the partner deposit and matched by the fund. cashback_amount is in minor units of the partner unit (bytes for GBYTE). To an email address the cashback waits as a textcoin and goes back if not claimed in time.',
      tags: ['Partner cashback API (seed 004)'],
      scope: 'partner',
      body: z.object({
        partner: z.string().min(1),
        partner_key: z.string().min(1),
        customer: z.string().min(1).max(200),
        order_id: z.string().min(1).max(200),
        description: z.string().max(1000).default(''),
        merchant: z.string().max(200).optional(),
        address: z.string().min(1).max(320),
        currency: z.string().min(1),
        currency_amount: decimalAmount,
        partner_cashback_percentage: decimalAmount.optional(),
        purchase_unit: z.string().max(100).optional(),
      }),
      response: {
        200: z.object({ result: z.literal('ok'), cashback_amount: z.number().int(), unit: z.string() }),
        400: errorSchema,
        401: errorSchema,
        403: errorSchema,
        409: errorSchema,
        422: errorSchema,
      },
      handler: async ({ body, app: client }) => {
        const r = await partnerCashback(ctx, {
          appId: client.appId,
          customer: body.customer,
          orderId: body.order_id,
          description: body.description,
          merchant: body.merchant,
          address: body.address,
          currency: body.currency,
          currencyAmount: body.currency_amount,
          partnerCashbackPercentage: body.partner_cashback_percentage,
          purchaseUnit: body.purchase_unit,
        });
        return { result: 'ok', cashback_amount: r.cashbackAmount, unit: r.unit };
      },
    });
  };
}
