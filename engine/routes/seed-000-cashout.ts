// Seed 000: the noebs cashout API in its document's shape. A merchant backend registers a named
// cashout provider (its card, sealed at rest, and the endpoint that hears every outcome), then
// generates claims by name: {"amount", "id"} -> {"result": uuid, "uuid": uuid} plus the claim URL.
// Errors are {"message", "code"}. Unlike noebs, every route needs the app's credentials (X-App-Id,
// X-Api-Key), and a provider's profile can be changed only by the app that registered it.
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { isValidPan } from '../../contract/card.ts';
import {
  generateClaim,
  getProvider,
  registerProvider,
  updateProvider,
  type CashoutProvider,
} from '../domain/cashout-providers.ts';
import type { DomainContext } from '../domain/context.ts';
import { DomainError } from '../domain/errors.ts';
import type { PayoutMethodKind } from '../payouts/provider.ts';
import { WebhookUrl } from '../webhooks/address-policy.ts';
import { apiPlugin, appKeyHeaders, defineRoute, type ApiStyle, type Authenticate } from '../http/api.ts';
import { isoTime } from './shared.ts';

const style: ApiStyle = {
  renderError: (e) => ({ message: e.message, code: e.code }),
  ...appKeyHeaders,
  strictBodies: false,
};

const errorSchema = z.object({
  message: z.string().describe('Descriptive text of the error'),
  code: z.string().describe('error_code, e.g. validation_error, conflict, not_found'),
});
const errors = {
  400: errorSchema,
  401: errorSchema,
  403: errorSchema,
  404: errorSchema,
  409: errorSchema,
  422: errorSchema,
};

const name = z
  .string()
  .regex(/^[A-Za-z0-9_.-]{1,64}$/, 'must be 1 to 64 letters, digits, dots, dashes or underscores');
const pan = z
  .string({ error: 'must be a string of digits' })
  .refine(
    (v) => /^(\d{16}|\d{19})$/.test(v) && isValidPan(v),
    'must be 16 or 19 digits with a valid Luhn check digit',
  );
const expDate = z.string().regex(/^\d{2}(0[1-9]|1[0-2])$/, 'must be YYmm, e.g. 2812');
const ipin = z.string().regex(/^\d{4}$/, 'must be 4 digits, as noebs takes it');
const endpoint = WebhookUrl.max(2048).describe('Where every outcome of this provider’s claims is sent');

const profileSchema = z.object({
  result: z.literal('ok'),
  name: z.string(),
  card: z.string().describe('First 6 and last 4 digits only'),
  endpoint: z.string(),
  currency: z.string(),
  created_at: z.string(),
  updated_at: z.string(),
});
const profileOut = (p: CashoutProvider) => ({
  result: 'ok' as const,
  name: p.name,
  card: `${p.cardFirst6}******${p.cardLast4}`,
  endpoint: p.endpoint,
  currency: p.currency,
  created_at: isoTime(p.createdAt),
  updated_at: isoTime(p.updatedAt),
});

/** `methods`: what the configured payout providers pay; a noebs claim needs cards among them. */
export function seed000Routes(
  ctx: DomainContext,
  authenticate: Authenticate,
  methods: readonly PayoutMethodKind[],
) {
  return async function routes(app: FastifyInstance) {
    apiPlugin(app, style);
    const tags = ['Noebs cashout API (seed 000)'];

    defineRoute(app, style, authenticate, {
      method: 'POST',
      url: '/register',
      summary: 'Register a cashout provider (noebs)',
      description:
        'The card (pan, expDate YYmm, ipin) funds the cashouts; it is encrypted at rest and never returned. `consent` must be true. `currency` (not in the noebs document; default SDG) is the currency of the amounts.',
      tags,
      scope: 'cashback_write',
      body: z.object({
        name,
        pan,
        expDate,
        ipin,
        consent: z.boolean({ error: 'must be a boolean' }),
        endpoint,
        currency: z.string().default('SDG'),
      }),
      response: { 200: profileSchema, ...errors },
      handler: async ({ body, app: client }) =>
        profileOut(
          await registerProvider(ctx, {
            appId: client.appId,
            name: body.name,
            card: { pan: body.pan, expDate: body.expDate, ipin: body.ipin },
            consent: body.consent,
            endpoint: body.endpoint,
            currency: body.currency,
          }),
        ),
    });

    defineRoute(app, style, authenticate, {
      method: 'GET',
      url: '/register/:name',
      summary: 'A cashout provider’s profile (the app that registered it only)',
      tags,
      scope: 'cashback_read',
      params: z.object({ name }),
      response: { 200: profileSchema, ...errors },
      handler: async ({ params, app: client }) =>
        profileOut(await getProvider(ctx, client.appId, params.name)),
    });

    defineRoute(app, style, authenticate, {
      method: 'PUT',
      url: '/register/:name',
      summary: 'Update a cashout provider’s card or endpoint (the app that registered it only)',
      description: 'A new card needs pan, expDate and ipin together, and consent true again.',
      tags,
      scope: 'cashback_write',
      params: z.object({ name }),
      body: z
        .object({
          pan: pan.optional(),
          expDate: expDate.optional(),
          ipin: ipin.optional(),
          consent: z.boolean({ error: 'must be a boolean' }).optional(),
          endpoint: endpoint.optional(),
        })
        .refine(
          (b) =>
            [b.pan, b.expDate, b.ipin].every((v) => v === undefined) ||
            [b.pan, b.expDate, b.ipin].every((v) => v !== undefined),
          { error: 'a new card needs pan, expDate and ipin together', path: ['pan'] },
        ),
      response: { 200: profileSchema, ...errors },
      handler: async ({ params, body, app: client }) =>
        profileOut(
          await updateProvider(ctx, {
            appId: client.appId,
            name: params.name,
            ...(body.pan && body.expDate && body.ipin
              ? { card: { pan: body.pan, expDate: body.expDate, ipin: body.ipin } }
              : {}),
            consent: body.consent,
            endpoint: body.endpoint,
          }),
        ),
    });

    defineRoute(app, style, authenticate, {
      method: 'POST',
      url: '/generate/:name',
      summary: 'Generate a cashout claim (noebs)',
      description:
        '`amount` is an integer in minor units of the provider’s currency; `id` is your own transaction id: the same id again returns the same claim. `result` and `uuid` are the claim id; `url` is the claim page to give the customer.',
      tags,
      scope: 'cashback_write',
      params: z.object({ name }),
      body: z.object({
        amount: z
          .number({ error: 'must be an integer' })
          .int('must be an integer')
          .positive('must be positive'),
        id: z.string({ error: 'must be a string' }).min(1).max(128),
      }),
      response: {
        200: z.object({
          result: z.string().describe('The uuid, used to build the claim URL'),
          uuid: z.string(),
          url: z.string().describe('The claim page for the customer'),
          expires_at: z.string(),
        }),
        ...errors,
      },
      handler: async ({ params, body, app: client }) => {
        if (!methods.includes('card')) {
          throw new DomainError(
            'method_unavailable',
            'No payout provider here pays to cards: set payouts.provider to one that does (noebs, sandbox)',
          );
        }
        const claim = await generateClaim(ctx, {
          appId: client.appId,
          name: params.name,
          amount: body.amount,
          id: body.id,
        });
        return { result: claim.id, uuid: claim.id, url: claim.url, expires_at: isoTime(claim.expiresAt) };
      },
    });
  };
}
