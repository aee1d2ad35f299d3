// Native API for cashout claims (/v1): the till creates, reads and cancels claims with its app
// credentials; the claim page calls /v1/public/claims/:id/... with no credentials, the claim id (a
// random UUID, 122 bits) being the capability. Same error shape and minor units as the rest of /v1.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { isValidPan } from '../../contract/card.ts';
import { bsbDigits, payIdType } from '../../contract/au-payments.ts';
import {
  cancelClaim,
  createClaim,
  getClaim,
  openClaim,
  submitClaim,
  type Claim,
  type ClaimFunding,
} from '../domain/claims.ts';
import { CLAIM_STATES } from '../domain/claim-states.ts';
import type { DomainContext } from '../domain/context.ts';
import { DomainError } from '../domain/errors.ts';
import { PAYOUT_METHOD_KINDS } from '../domain/payout-methods.ts';
import {
  apiPlugin,
  definePublicRoute,
  defineRoute,
  type Authenticate,
  type PublicRouteSpec,
  type RouteSpec,
} from '../http/api.ts';
import type { PayoutMethod, PayoutMethodKind } from '../payouts/provider.ts';
import {
  currencyCode,
  errors,
  keyOf,
  memberRef,
  memberSelector,
  positiveMinor,
  style,
  time,
  writeHeaders,
} from './native.ts';
import { accountNumberField, bodyId, bsbField, isoTime, payidField } from './shared.ts';

const methodKind = z.enum(PAYOUT_METHOD_KINDS as [PayoutMethodKind, ...PayoutMethodKind[]]);
const status = z
  .enum(CLAIM_STATES)
  .describe('created, opened, submitted, processing, paid, failed, expired or cancelled');
const failure = z
  .object({ code: z.string(), message: z.string() })
  .nullable()
  .describe('Why the payout failed, when it did');
const claimId = z.object({ id: z.string().max(64).describe('The claim id (a UUID)') });

const claimSchema = z.object({
  claim_id: z.string(),
  status,
  amount: z.number().int().describe('Minor units; fixed when the claim was created'),
  currency: currencyCode,
  funding: z.enum(['store', 'member', 'provider']),
  store_name: z.string(),
  reference: z.string().nullable(),
  member_id: z.number().int().nullable(),
  program_id: z.number().int().nullable(),
  transaction_id: z.number().int().nullable().describe("Member-funded: the cashout in the member's history"),
  methods: z.array(methodKind),
  method: z
    .object({ kind: methodKind, label: z.string().describe('Masked: never a full card or account number') })
    .nullable(),
  failure,
  url: z.string().describe('The claim page: show it as a QR code to the customer'),
  expires_at: time,
  created_at: time,
  updated_at: time,
  replayed: z.boolean().optional(),
});
const claimOut = (c: Claim & { replayed?: boolean }) => ({
  claim_id: c.id,
  status: c.state,
  amount: c.amount,
  currency: c.currency,
  funding: c.funding,
  store_name: c.storeName,
  reference: c.reference,
  member_id: c.memberId,
  program_id: c.programId,
  transaction_id: c.transactionId,
  methods: c.methods,
  method: c.method,
  failure: c.failure,
  url: c.url,
  expires_at: isoTime(c.expiresAt),
  created_at: isoTime(c.createdAt),
  updated_at: isoTime(c.updatedAt),
  ...(c.replayed === undefined ? {} : { replayed: c.replayed }),
});

// ----------------------------------------------------------------------------- the claim page's API

/** Why a claim page reached over plain HTTP from elsewhere offers no card entry. */
export const CARD_ENTRY_HTTPS_ONLY =
  'Card numbers are only taken over HTTPS; choose another method or use the HTTPS address';

/**
 * Card numbers cross the network only encrypted: over HTTPS, or on this machine. A claim page
 * reached over plain HTTP from elsewhere offers no card entry (DESIGN.md, Secrets).
 */
function cardEntryAllowed(req: FastifyRequest): boolean {
  return req.protocol === 'https' || ['127.0.0.1', '::1', '::ffff:127.0.0.1'].includes(req.ip);
}

const publicSchema = z.object({
  claim_id: z.string(),
  status,
  store_name: z.string(),
  amount: z.number().int(),
  currency: currencyCode,
  expires_at: time,
  methods: z.array(methodKind).describe('The payout methods the customer may choose here'),
  card_entry: z.object({
    allowed: z.boolean(),
    reason: z.string().nullable().describe('Why card entry is not offered on this connection'),
  }),
  method: z.object({ kind: methodKind, label: z.string() }).nullable(),
  failure,
  updated_at: time,
});
function publicOut(c: Claim, req: FastifyRequest) {
  const cardOk = cardEntryAllowed(req);
  return {
    claim_id: c.id,
    status: c.state,
    store_name: c.storeName,
    amount: c.amount,
    currency: c.currency,
    expires_at: isoTime(c.expiresAt),
    methods: c.methods.filter((m) => m !== 'card' || cardOk),
    card_entry: {
      allowed: cardOk && c.methods.includes('card'),
      reason: cardOk ? null : CARD_ENTRY_HTTPS_ONLY,
    },
    method: c.method,
    failure: c.failure,
    updated_at: isoTime(c.updatedAt),
  };
}

const strict = <T extends z.ZodRawShape>(shape: T) => z.object(shape).strict();
const methodSchema = z.discriminatedUnion('kind', [
  strict({
    kind: z.literal('card'),
    number: z
      .string()
      .transform((v) => v.replace(/[\s-]/g, ''))
      .refine(isValidPan, 'must be a card number with a valid check digit'),
    expiry: z.string().regex(/^(0[1-9]|1[0-2])\/\d{2}$/, 'must be MM/YY as printed on the card'),
  }),
  strict({
    kind: z.literal('au_bank'),
    bsb: bsbField,
    account: accountNumberField,
    account_name: z.string().min(1).max(100).optional(),
  }),
  strict({
    kind: z.literal('payid'),
    payid: payidField,
  }),
  strict({ kind: z.literal('paypal'), email: z.email().max(254) }),
]);

function toPayoutMethod(m: z.infer<typeof methodSchema>): PayoutMethod {
  switch (m.kind) {
    case 'card':
      return { kind: 'card', pan: m.number, expiry: `${m.expiry.slice(3)}${m.expiry.slice(0, 2)}` };
    case 'au_bank':
      return {
        kind: 'au_bank',
        bsb: bsbDigits(m.bsb),
        account: m.account,
        ...(m.account_name ? { accountName: m.account_name } : {}),
      };
    case 'payid': {
      const payid = m.payid.trim();
      return { kind: 'payid', payid, payidType: payIdType(payid) ?? 'email' };
    }
    case 'paypal':
      return { kind: 'paypal', email: m.email };
  }
}

export interface ClaimRouteOptions {
  /** What the configured payout provider can pay to. */
  methods: readonly PayoutMethodKind[];
  /** Called after a claim is submitted: the payout worker starts at once instead of at its next tick. */
  onSubmitted: () => void;
}

export function nativeClaimRoutes(
  ctx: DomainContext,
  authenticate: Authenticate,
  options: ClaimRouteOptions,
) {
  return async function routes(app: FastifyInstance) {
    apiPlugin(app, style, { notFound: false }); // nativeRoutes answers unknown /v1 paths
    const route = <B = undefined, Q = undefined, P = undefined, H = undefined>(spec: RouteSpec<B, Q, P, H>) =>
      defineRoute(app, style, authenticate, spec);
    const publicRoute = <B = undefined, Q = undefined, P = undefined, H = undefined>(
      spec: PublicRouteSpec<B, Q, P, H>,
    ) => definePublicRoute(app, style, spec);
    const tags = ['Native: cashout claims'];
    const pageTags = ['Native: claim page (public)'];
    const viewer = (client: { appId: string; scopes: string[] }) => ({
      appId: client.appId,
      admin: client.scopes.includes('admin'),
    });

    route({
      method: 'POST',
      url: '/claims',
      summary: 'Create a cashout claim',
      description:
        "A claim for a fixed amount that the customer completes on their phone at `url`. Store-funded: the store pays (give `currency`). Member-funded: the member's available cashback in `program_id` is held at once, posted when paid and given back when the claim fails, expires or is cancelled.",
      tags,
      scope: 'cashback_write',
      status: 201,
      headers: writeHeaders({}),
      body: z
        .object({
          amount: positiveMinor,
          funding: z.enum(['store', 'member']).default('store'),
          currency: z.string().optional().describe('Store-funded claims: ISO 4217 code'),
          program_id: bodyId.optional().describe('Member-funded claims: the program whose cashback pays'),
          member: memberRef.optional().describe('Member-funded claims: whose cashback pays'),
          store_name: z.string().trim().min(1).max(100).describe('Shown to the customer'),
          reference: z
            .string()
            .min(1)
            .max(128)
            .optional()
            .describe('Your own reference, sent back in webhooks'),
          methods: z
            .array(methodKind)
            .min(1)
            .optional()
            .describe('Payout methods to offer (default: all the payout provider supports)'),
          expires_in_seconds: z
            .number()
            .int()
            .min(60)
            .max(30 * 86_400)
            .optional()
            .describe('Default: the configured claim lifetime (7 days)'),
        })
        .superRefine((b, issue) => {
          const need = (ok: boolean, path: string, message: string) => {
            if (!ok) issue.addIssue({ code: 'custom', path: [path], message });
          };
          if (b.funding === 'store') {
            need(b.currency !== undefined, 'currency', 'is required for a store-funded claim');
            need(
              b.member === undefined && b.program_id === undefined,
              'member',
              'only member-funded claims name a member',
            );
          } else {
            need(b.program_id !== undefined, 'program_id', 'is required for a member-funded claim');
            need(b.member !== undefined, 'member', 'is required for a member-funded claim');
            need(b.currency === undefined, 'currency', "a member-funded claim is in its program's currency");
          }
        }),
      response: { 201: claimSchema, ...errors },
      handler: async ({ body, headers, app: client }) => {
        const methods = body.methods ?? options.methods;
        const unsupported = methods.filter((m) => !options.methods.includes(m));
        if (unsupported.length > 0) {
          throw new DomainError(
            'validation_error',
            `methods: the payout provider cannot pay by ${unsupported.join(', ')} (it pays by ${options.methods.join(', ')})`,
          );
        }
        const funding: ClaimFunding =
          body.funding === 'member' && body.member && body.program_id !== undefined
            ? { kind: 'member', programId: body.program_id, member: memberSelector(ctx, body.member) }
            : { kind: 'store', currency: body.currency ?? '' };
        const claim = await createClaim(
          ctx,
          {
            appId: client.appId,
            funding,
            amount: body.amount,
            storeName: body.store_name,
            reference: body.reference,
            methods: [...new Set(methods)],
            ttlSeconds: body.expires_in_seconds,
          },
          keyOf(headers, client, 'create_claim'),
        );
        return claimOut(claim);
      },
    });

    route({
      method: 'GET',
      url: '/claims/:id',
      summary: 'A claim, as its creator sees it',
      tags,
      scope: 'cashback_read',
      params: claimId,
      response: { 200: claimSchema, ...errors },
      handler: async ({ params, app: client }) => claimOut(await getClaim(ctx, params.id, viewer(client))),
    });

    route({
      method: 'POST',
      url: '/claims/:id/cancel',
      summary: 'Cancel a claim the customer has not submitted',
      description: 'A member-funded claim gives its hold back. A submitted claim is being paid: 409.',
      tags,
      scope: 'cashback_write',
      params: claimId,
      headers: writeHeaders({}),
      response: { 200: claimSchema, ...errors },
      handler: async ({ params, headers, app: client }) =>
        claimOut(await cancelClaim(ctx, params.id, viewer(client), keyOf(headers, client, 'cancel_claim'))),
    });

    publicRoute({
      method: 'GET',
      url: '/public/claims/:id',
      summary: 'The claim page: what the customer sees',
      description:
        'No credentials: the claim id is the capability. Card entry is offered only over HTTPS (or on this machine).',
      tags: pageTags,
      params: claimId,
      response: { 200: publicSchema, ...errors },
      handler: async ({ params, req }) => publicOut(await getClaim(ctx, params.id), req),
    });

    publicRoute({
      method: 'POST',
      url: '/public/claims/:id/open',
      summary: 'The claim page: the customer opened the claim',
      description: 'Moves a created claim to opened (any other state is left as it is) and answers its view.',
      tags: pageTags,
      params: claimId,
      response: { 200: publicSchema, ...errors },
      handler: async ({ params, req }) => publicOut(await openClaim(ctx, params.id), req),
    });

    publicRoute({
      method: 'POST',
      url: '/public/claims/:id/submit',
      summary: 'The claim page: where the money goes',
      description:
        'Once per claim: the first submission is paid, any later one is a 409. Card: number (Luhn-checked) and expiry MM/YY; au_bank: BSB and account; payid: email, Australian mobile, ABN or ACN; paypal: email. `consent` must be true. Answers 202: follow the status.',
      tags: pageTags,
      params: claimId,
      status: 202,
      body: z.object({
        method: methodSchema,
        consent: z.literal(true, { error: 'must be true: the customer agrees to the payout terms' }),
      }),
      response: { 202: publicSchema, ...errors },
      handler: async ({ params, body, req }) => {
        if (body.method.kind === 'card' && !cardEntryAllowed(req)) {
          throw new DomainError('forbidden', 'Card numbers are only taken over HTTPS');
        }
        const claim = await submitClaim(ctx, params.id, {
          method: toPayoutMethod(body.method),
          consent: body.consent,
        });
        options.onSubmitted();
        return publicOut(claim, req);
      },
    });

    publicRoute({
      method: 'GET',
      url: '/public/claims/:id/status',
      summary: 'The claim page: live status',
      description: 'Poll until paid, failed, expired or cancelled.',
      tags: pageTags,
      params: claimId,
      response: {
        200: z.object({ claim_id: z.string(), status, failure, updated_at: time }),
        ...errors,
      },
      handler: async ({ params }) => {
        const c = await getClaim(ctx, params.id);
        return { claim_id: c.id, status: c.state, failure: c.failure, updated_at: isoTime(c.updatedAt) };
      },
    });
  };
}
