// Native API (/v1): our own design, built for the till. X-App-Id + X-Api-Key headers; errors
// {"error": {"code", "message", "details"?}}; money in integer minor units, always next to a
// `currency`; ISO-8601 UTC times; snake_case. Every write takes an Idempotency-Key header. A thin
// adapter: parse, call the domain function, shape the response.
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { isValidPan } from '../../contract/card.ts';
import { CARD_HASH_PATTERN, cardHash } from '../../contract/card-hash.ts';
import type { App } from '../domain/apps.ts';
import {
  adjust,
  balance,
  earn,
  history,
  redeem,
  refund,
  type EarnInput,
  type EarnResult,
  type MemberBalance,
  type RefundInput,
  type RefundResult,
} from '../domain/cashback.ts';
import type { DomainContext } from '../domain/context.ts';
import { DomainError } from '../domain/errors.ts';
import type { IdempotencyKey, Replayable } from '../domain/idempotency.ts';
import {
  changePin,
  createMemberOnce,
  createPartnerOnce,
  createProgramOnce,
  linkCardOnce,
  onceWithKey,
} from '../domain/keyed-writes.ts';
import { verifyLedger } from '../domain/ledger.ts';
import { requestOtp, verifyMemberToken, verifyOtp } from '../domain/member-auth.ts';
import { EXTERNAL_ID_RULE, isExternalId, type Member, type MemberSelector } from '../domain/members.ts';
import { PIN_BLOCK_FORMATS, PIN_BLOCK_SHAPES, type PinBlockInput } from '../domain/pin-blocks.ts';
import { claimTextcoin, depositToPartner, listPartners, type Partner } from '../domain/partners.ts';
import { listPrograms, type Program } from '../domain/programs.ts';
import {
  getDelivery,
  listDeliveries,
  resendWebhooks,
  type DeliverySummary,
} from '../domain/webhook-deliveries.ts';
import {
  apiPlugin,
  appKeyHeaders,
  defineRoute,
  type ApiStyle,
  type Authenticate,
  type RouteSpec,
} from '../http/api.ts';
import { bodyId as id, isoTime, originalPurchase, pathId, queryInt } from './shared.ts';

export const style: ApiStyle = {
  renderError: (e) => ({
    error: { code: e.code, message: e.message, ...(e.details === undefined ? {} : { details: e.details }) },
  }),
  ...appKeyHeaders,
  strictBodies: true,
};

// ------------------------------------------------------------------------------------ shared schemas

export const errorSchema = z.object({
  error: z.object({
    code: z.string().describe('Stable machine-readable code, e.g. validation_error, insufficient_balance'),
    message: z.string().describe('What went wrong and how to fix it, for a person'),
    details: z.record(z.string(), z.unknown()).optional(),
  }),
});
export const errors = {
  400: errorSchema,
  401: errorSchema,
  403: errorSchema,
  404: errorSchema,
  409: errorSchema,
  422: errorSchema,
  429: errorSchema,
};

const minor = z
  .number({ error: 'must be an integer number of minor units' })
  .int('must be an integer number of minor units');
export const positiveMinor = minor
  .positive('must be positive')
  .describe('Integer minor units (cents for USD)');
export const currencyCode = z.string().describe('ISO 4217 code (or a configured unit such as GBYTE)');
export const time = z.string().describe('ISO-8601 UTC');
const reference = z
  .string()
  .min(1)
  .max(128)
  .optional()
  .describe("The caller's own reference, kept with the transaction");
const metadata = z
  .record(z.string(), z.unknown())
  .optional()
  .describe('Free-form data kept with the transaction');
const replayed = z
  .boolean()
  .describe('True when this is the stored answer to an earlier request with the same Idempotency-Key');

const pan = z
  .string({ error: 'must be a string of digits' })
  .refine(isValidPan, 'must be 12 to 19 digits with a valid Luhn check digit')
  .describe('The full card number; used only to compute the keyed card hash, never stored or echoed');

const card = z
  .object({
    pan: pan.optional(),
    hash: z
      .string({ error: 'must be a string of 64 lowercase hex digits' })
      .regex(CARD_HASH_PATTERN, 'must be 64 lowercase hex digits')
      .optional()
      .describe(
        "The keyed card hash: lowercase hex HMAC-SHA256 of the PAN digits under the engine's cardHashKey (contract/card-hash.ts), for a till that must not keep the PAN",
      ),
  })
  .strict()
  .refine((c) => (c.pan === undefined) !== (c.hash === undefined), {
    error: 'name the card by exactly one of pan or hash',
  })
  .describe('A linked card, by its number or by its keyed hash');

export const memberRef = z
  .object({
    id: id.optional(),
    external_id: z
      .string()
      .refine(isExternalId, EXTERNAL_ID_RULE)
      .optional()
      .describe("The merchant's own id for the member, as set by POST /members (a scanned member card)"),
    email: z.email().max(254).optional(),
    phone: z.string().min(3).max(32).optional(),
    card: card.optional(),
  })
  .strict()
  .refine(
    (m) => [m.id, m.external_id, m.email, m.phone, m.card].filter((v) => v !== undefined).length === 1,
    {
      error: 'name the member by exactly one of id, external_id, email, phone or card',
    },
  )
  .describe('The member, by exactly one of id, external_id, email, phone or a linked card');
export type MemberRef = z.infer<typeof memberRef>;

const pinSchema = z.string().regex(/^\d{4,12}$/, 'a PIN is 4 to 12 digits');

/** A redeem's PIN block with the card number it is bound to, which the member must be named by. */
function pinBlockOf(body: {
  member?: MemberRef | undefined;
  pin_block?: z.infer<typeof pinBlockSchema> | undefined;
}): PinBlockInput | undefined {
  if (body.pin_block === undefined) return undefined;
  const pan = body.member?.card?.pan;
  if (pan === undefined) {
    throw new DomainError(
      'validation_error',
      'pin_block: a PIN block is bound to the card number: name the member as card: {pan}',
      { field: 'pin_block' },
    );
  }
  return { ...body.pin_block, pan };
}

const { 'iso0-tdes-dukpt': tdesShape, 'iso4-aes-dukpt': aesShape } = PIN_BLOCK_SHAPES;
const hexOf = (a: number, b: number, what: string) =>
  z
    .string({ error: 'must be a string of hex digits' })
    .regex(new RegExp(`^(?:[0-9a-fA-F]{${a}}|[0-9a-fA-F]{${b}})$`), `must be ${a} or ${b} hex digits`)
    .describe(`${what}: ${a} hex digits for iso0-tdes-dukpt, ${b} for iso4-aes-dukpt`);
export const pinBlockSchema = z
  .object({
    format: z
      .enum(PIN_BLOCK_FORMATS)
      .describe(
        'iso0-tdes-dukpt: ISO 9564 format 0 under TDES DUKPT; iso4-aes-dukpt: format 4 under AES DUKPT',
      ),
    ksn: hexOf(tdesShape.ksnHex, aesShape.ksnHex, 'The key serial number the PIN pad gave'),
    block: hexOf(tdesShape.blockHex, aesShape.blockHex, 'The encrypted PIN block'),
  })
  .strict()
  .describe(
    'The PIN as the PIN pad encrypted it, bound to the card number: needs member as card: {pan}. The engine deciphers it with its BDK for the format and checks the PIN as `pin` is checked. Never stored or logged',
  );
const memberToken = z.string().min(10).max(4096).optional().describe('A member token from POST /otp/verify');

const idempotencyHeader = z
  .string()
  .optional()
  .describe('Required on every write: 1 to 200 printable characters, one per operation (retries reuse it)');
/** Headers of a write. Declared required for the document; checked in `keyOf` for a clear message. */
export const writeHeaders = <T extends z.ZodRawShape>(extra: T) =>
  z.object({ 'idempotency-key': idempotencyHeader, ...extra }).meta({ required: ['idempotency-key'] });

export function keyOf(
  headers: { 'idempotency-key'?: string | undefined },
  client: App,
  op: string,
): IdempotencyKey {
  const key = headers['idempotency-key'];
  if (key === undefined || key === '') {
    throw new DomainError('validation_error', 'Idempotency-Key header is required');
  }
  if (!/^[\x20-\x7e]{1,200}$/.test(key)) {
    throw new DomainError('validation_error', 'Idempotency-Key must be 1 to 200 printable ASCII characters');
  }
  return { appId: client.appId, scope: `native:${op}`, key };
}

const balanceSchema = z.object({
  available: z.number().int().describe('Spendable now; negative when a refund clawback exceeded the balance'),
  maturing: z.number().int().describe('Earned but not yet matured'),
  held: z.number().int().describe('Held by pending cashouts'),
  currency: currencyCode,
});
const balanceOut = (b: MemberBalance) => ({
  available: b.available,
  maturing: b.maturing,
  held: b.held,
  currency: b.currency,
});

const memberSchema = z.object({
  member_id: z.number().int(),
  external_id: z.string().nullable(),
  email: z.string().nullable(),
  phone: z.string().nullable(),
  name: z.string().nullable(),
  has_pin: z.boolean(),
  created_at: time,
});
const memberOut = (m: Member) => ({
  member_id: m.id,
  external_id: m.externalId,
  email: m.email,
  phone: m.phone,
  name: m.name,
  has_pin: m.hasPin,
  created_at: isoTime(m.createdAt),
});

const programSchema = z.object({
  program_id: z.number().int(),
  unique_identifier: z.string(),
  name: z.string(),
  description: z.string(),
  currency: currencyCode,
  cashback_bps: z.number().int().describe('Cashback rate in basis points (500 = 5%)'),
  min_purchase: z.number().int().describe('Smallest purchase that earns, in minor units'),
  max_cashback: z.number().int().nullable().describe('Cap per purchase in minor units; null for none'),
  allows_pin_redemption: z.boolean().describe('Whether a PIN alone (without a member token) may redeem'),
  maturation_days: z.number().int().describe('Days earned cashback stays maturing; 0 = available at once'),
  expiry_days: z
    .number()
    .int()
    .nullable()
    .describe('Days after earning that unspent cashback expires; null for never'),
  created_at: time,
});
const programOut = (p: Program) => ({
  program_id: p.id,
  unique_identifier: p.uniqueIdentifier,
  name: p.name,
  description: p.description,
  currency: p.currency,
  cashback_bps: p.cashbackBps,
  min_purchase: p.minPurchase,
  max_cashback: p.maxCashback,
  allows_pin_redemption: p.allowsPinRedemption,
  maturation_days: p.maturationDays,
  expiry_days: p.expiryDays,
  created_at: isoTime(p.createdAt),
});

const partnerSchema = z.object({
  app_id: z.string(),
  name: z.string(),
  unit: z.string().describe('The unit cashback is paid in and the deposit is kept in'),
  base_bps: z.number().int().describe('Cashback paid from the fund, in basis points of the purchase'),
  max_partner_bps: z
    .number()
    .int()
    .describe('Highest partner_cashback_percentage the partner may send, in basis points'),
  deposit: z.number().int().describe('Spendable deposit in minor units of `currency`'),
  currency: currencyCode.describe('Same as unit'),
  created_at: time,
});
const partnerOut = (p: Partner, deposit: number) => ({
  app_id: p.appId,
  name: p.name,
  unit: p.unit,
  base_bps: p.baseBps,
  max_partner_bps: p.maxPartnerBps,
  deposit,
  currency: p.unit,
  created_at: isoTime(p.createdAt),
});

/** The member a native request names; a card is looked up by its keyed hash. */
export function memberSelector(ctx: DomainContext, m: MemberRef): MemberSelector {
  if (m.id !== undefined) return { id: m.id };
  if (m.external_id !== undefined) return { externalId: m.external_id };
  if (m.email !== undefined) return { email: m.email };
  if (m.phone !== undefined) return { phone: m.phone };
  if (m.card?.pan !== undefined) return { cardHash: cardHash(m.card.pan, ctx.settings.cardHashKey) };
  if (m.card?.hash !== undefined) return { cardHash: m.card.hash };
  throw new DomainError(
    'validation_error',
    'member: name the member by exactly one of id, external_id, email, phone or card',
  );
}

// ------------------------------------------------------------------- earn and refund (also batched)

const EARN_DESCRIPTION =
  'Credits cashback for a purchase: the program rate rounded down, nothing below min_purchase, at most max_cashback. With maturation_days the cashback is maturing until matures_at. Naming a new member by email or phone with member_name creates them.';
export const earnBody = z.object({
  program_id: id,
  member: memberRef,
  member_name: z
    .string()
    .min(1)
    .max(200)
    .optional()
    .describe('Creates the member (by email or phone) if none exists'),
  purchase_amount: positiveMinor,
  reference,
  metadata,
});
const earnAnswer = z.object({
  transaction_id: z.number().int(),
  member_id: z.number().int(),
  member_created: z.boolean().describe('True when this earn created the member'),
  program_id: z.number().int(),
  purchase_amount: z.number().int(),
  cashback_bps: z.number().int(),
  cashback_earned: z.number().int(),
  currency: currencyCode,
  status: z
    .enum(['available', 'maturing', 'none'])
    .describe('available: spendable now; maturing: until matures_at; none: nothing earned'),
  matures_at: time.nullable(),
  balance: balanceSchema,
  earned_at: time,
  replayed,
});

export function earnInput(
  ctx: DomainContext,
  body: z.infer<typeof earnBody>,
  client: App,
  idempotency: IdempotencyKey,
): EarnInput {
  return {
    appId: client.appId,
    programId: body.program_id,
    member: memberSelector(ctx, body.member),
    memberName: body.member_name,
    purchaseAmount: { minor: body.purchase_amount },
    reference: body.reference,
    metadata: body.metadata,
    idempotency,
  };
}

export const earnOut = (r: Replayable<EarnResult>) => ({
  transaction_id: r.transactionId,
  member_id: r.memberId,
  member_created: r.memberCreated,
  program_id: r.programId,
  purchase_amount: r.purchaseAmount,
  cashback_bps: r.cashbackBps,
  cashback_earned: r.cashbackEarned,
  currency: r.currency,
  status: r.status,
  matures_at: r.maturesAt === null ? null : isoTime(r.maturesAt),
  balance: balanceOut(r.balance),
  earned_at: isoTime(r.earnedAt),
  replayed: r.replayed,
});

const REFUND_DESCRIPTION =
  'Name the original purchase (original_transaction_id or original_reference) and partial refunds claw back cumulatively: after refunds totalling R of a purchase P that earned E, floor(E*R/P) has been taken back, so a full refund takes back exactly E. Without it, the clawback is the program rate of refund_amount, or cashback_to_deduct when given. Maturing cashback is taken first; the available balance may go negative (balance_warning).';
export const refundBody = z
  .object({
    program_id: id,
    member: memberRef,
    refund_amount: positiveMinor,
    original_transaction_id: id.optional().describe('The earn transaction of the purchase'),
    original_reference: z.string().min(1).max(128).optional().describe('The reference of the purchase earn'),
    cashback_to_deduct: minor
      .min(0, 'must not be negative')
      .optional()
      .describe('An explicit clawback in minor units'),
    reference,
    metadata,
  })
  .refine((b) => b.original_transaction_id === undefined || b.original_reference === undefined, {
    error: 'send original_transaction_id or original_reference, not both',
  });
const refundAnswer = z.object({
  transaction_id: z.number().int(),
  member_id: z.number().int(),
  program_id: z.number().int(),
  refund_amount: z.number().int(),
  cashback_deducted: z.number().int(),
  currency: currencyCode,
  original_transaction_id: z.number().int().nullable(),
  previous_available: z.number().int().describe('Available balance before the clawback'),
  balance: balanceSchema,
  balance_warning: z
    .string()
    .nullable()
    .describe('Set when the clawback took the available balance below zero'),
  refunded_at: time,
  replayed,
});

export function refundInput(
  ctx: DomainContext,
  body: z.infer<typeof refundBody>,
  client: App,
  idempotency: IdempotencyKey,
): RefundInput {
  return {
    appId: client.appId,
    programId: body.program_id,
    member: memberSelector(ctx, body.member),
    refundAmount: { minor: body.refund_amount },
    cashbackToDeduct: body.cashback_to_deduct === undefined ? undefined : { minor: body.cashback_to_deduct },
    original: originalPurchase(body),
    reference: body.reference,
    metadata: body.metadata,
    idempotency,
  };
}

export const refundOut = (r: Replayable<RefundResult>) => ({
  transaction_id: r.transactionId,
  member_id: r.memberId,
  program_id: r.programId,
  refund_amount: r.refundAmount,
  cashback_deducted: r.cashbackDeducted,
  currency: r.currency,
  original_transaction_id: r.originalTransactionId,
  previous_available: r.previousBalance,
  balance: balanceOut(r.balance),
  balance_warning: r.balanceWarning,
  refunded_at: isoTime(r.refundedAt),
  replayed: r.replayed,
});

const deliverySchema = z.object({
  delivery_id: z.string(),
  event_id: z
    .string()
    .describe('Sent as the Tillback-Event-Id header; the same on every attempt and re-send'),
  event_type: z.string(),
  url: z.string(),
  format: z.enum(['native', 'seed000', 'seed001']),
  status: z.enum(['pending', 'delivered', 'failed']).describe('failed: the retry window ended without a 2xx'),
  attempts: z.number().int(),
  next_attempt_at: time.nullable().describe('When pending'),
  last_status_code: z.number().int().nullable(),
  last_error: z.string().nullable(),
  delivered_at: time.nullable(),
  created_at: time,
  header_names: z.array(z.string()).describe('Extra headers sent with it; values are never shown'),
});
const deliveryOut = (d: DeliverySummary) => ({
  delivery_id: d.id,
  event_id: d.eventId,
  event_type: d.eventType,
  url: d.url,
  format: d.format,
  status: d.status,
  attempts: d.attempts,
  next_attempt_at: d.nextAttemptAt === null ? null : isoTime(d.nextAttemptAt),
  last_status_code: d.lastStatusCode,
  last_error: d.lastError,
  delivered_at: d.deliveredAt === null ? null : isoTime(d.deliveredAt),
  created_at: isoTime(d.createdAt),
  header_names: d.headerNames,
});

export function nativeRoutes(ctx: DomainContext, authenticate: Authenticate) {
  const selector = (m: MemberRef): MemberSelector => memberSelector(ctx, m);
  const token = async (value: string | undefined) =>
    value === undefined ? undefined : await verifyMemberToken(ctx, value);

  return async function routes(app: FastifyInstance) {
    apiPlugin(app, style);
    const route = <B = undefined, Q = undefined, P = undefined, H = undefined>(spec: RouteSpec<B, Q, P, H>) =>
      defineRoute(app, style, authenticate, spec);
    const ops = ['Native: operations'];
    const membersTag = ['Native: members'];
    const adminTag = ['Native: programs, partners, ledger'];

    // --------------------------------------------------------------------------------- operations

    route({
      method: 'POST',
      url: '/earn',
      summary: 'Earn cashback on a purchase',
      description: EARN_DESCRIPTION,
      tags: ops,
      scope: 'cashback_write',
      headers: writeHeaders({}),
      body: earnBody,
      response: { 200: earnAnswer, ...errors },
      handler: async ({ body, headers, app: client }) =>
        earnOut(await earn(ctx, earnInput(ctx, body, client, keyOf(headers, client, 'earn')))),
    });

    route({
      method: 'POST',
      url: '/redeem',
      summary: 'Redeem cashback',
      description:
        'Spends available cashback. The member proves it is them with X-Member-Token (from POST /otp/verify), or, where the program allows PIN redemption, with their PIN: `pin` in the clear, or `pin_block` as the PIN pad encrypted it (member named as card: {pan}, the number the block is bound to). Five wrong PINs lock PIN redemption for 15 minutes (423); a PIN from a block counts like any other. A block that is not a valid block for this card under our key is a 400 validation_error and no PIN attempt; a format this engine has no BDK for is 422 pin_block_unsupported. `member` may be omitted when a member token is sent.',
      tags: ops,
      scope: 'cashback_write',
      headers: writeHeaders({ 'x-member-token': memberToken }),
      body: z.object({
        program_id: id,
        member: memberRef.optional(),
        amount: positiveMinor,
        pin: pinSchema.optional(),
        pin_block: pinBlockSchema.optional(),
        reference,
        metadata,
      }),
      response: {
        200: z.object({
          transaction_id: z.number().int(),
          member_id: z.number().int(),
          program_id: z.number().int(),
          amount_redeemed: z.number().int(),
          currency: currencyCode,
          balance: balanceSchema,
          redeemed_at: time,
          replayed,
        }),
        ...errors,
        423: errorSchema,
      },
      handler: async ({ body, headers, app: client }) => {
        const idempotency = keyOf(headers, client, 'redeem');
        const r = await redeem(ctx, {
          appId: client.appId,
          programId: body.program_id,
          member: body.member === undefined ? undefined : selector(body.member),
          tokenMemberId: await token(headers['x-member-token']),
          pin: body.pin,
          pinBlock: pinBlockOf(body),
          amount: { minor: body.amount },
          reference: body.reference,
          metadata: body.metadata,
          idempotency,
        });
        return {
          transaction_id: r.transactionId,
          member_id: r.memberId,
          program_id: r.programId,
          amount_redeemed: r.amountRedeemed,
          currency: r.currency,
          balance: balanceOut(r.balance),
          redeemed_at: isoTime(r.redeemedAt),
          replayed: r.replayed,
        };
      },
    });

    route({
      method: 'POST',
      url: '/refund',
      summary: 'Claw back cashback for a refunded purchase',
      description: REFUND_DESCRIPTION,
      tags: ops,
      scope: 'cashback_write',
      headers: writeHeaders({}),
      body: refundBody,
      response: { 200: refundAnswer, ...errors },
      handler: async ({ body, headers, app: client }) =>
        refundOut(await refund(ctx, refundInput(ctx, body, client, keyOf(headers, client, 'refund')))),
    });

    route({
      method: 'POST',
      url: '/adjustments',
      summary: 'Manager adjustment',
      description:
        "Credits (positive amount) or debits (negative) a member's available cashback, with a mandatory reason.",
      tags: ops,
      scope: 'admin',
      headers: writeHeaders({}),
      body: z.object({
        program_id: id,
        member: memberRef,
        amount: minor
          .refine((n) => n !== 0, 'must not be zero')
          .describe('Signed integer minor units: positive credits the member, negative debits'),
        reason: z.string().min(3, 'an adjustment needs a reason (at least 3 characters)').max(500),
        reference,
        metadata,
      }),
      response: {
        200: z.object({
          transaction_id: z.number().int(),
          member_id: z.number().int(),
          program_id: z.number().int(),
          amount: z.number().int(),
          currency: currencyCode,
          reason: z.string(),
          balance: balanceSchema,
          adjusted_at: time,
          replayed,
        }),
        ...errors,
      },
      handler: async ({ body, headers, app: client }) => {
        const r = await adjust(ctx, {
          appId: client.appId,
          programId: body.program_id,
          member: selector(body.member),
          amount: { minor: body.amount },
          reason: body.reason,
          reference: body.reference,
          metadata: body.metadata,
          idempotency: keyOf(headers, client, 'adjust'),
        });
        return {
          transaction_id: r.transactionId,
          member_id: r.memberId,
          program_id: r.programId,
          amount: r.amount,
          currency: r.currency,
          reason: r.reason,
          balance: balanceOut(r.balance),
          adjusted_at: isoTime(r.adjustedAt),
          replayed: r.replayed,
        };
      },
    });

    // ------------------------------------------------------------------------------------ members

    const memberParams = z.object({ id: pathId });

    const balanceAnswer = z.object({
      member_id: z.number().int(),
      program_id: z.number().int(),
      balance: balanceSchema,
      as_of: time,
    });
    const answerBalance = async (programId: number, member: MemberSelector) => {
      const r = await balance(ctx, programId, member);
      return {
        member_id: r.memberId,
        program_id: r.program.id,
        balance: balanceOut(r.balance),
        as_of: isoTime(ctx.now()),
      };
    };

    route({
      method: 'GET',
      url: '/members/lookup',
      summary: 'Find a member and their balance by what a till knows',
      description:
        'Names the member by exactly one of external_id (a scanned member card), email, phone or card_hash (the keyed card hash, as in member: {card: {hash}}; a card number never goes in a URL), and answers their id and balance as GET /members/{id}/balance does. An unknown member is 404 member_not_found.',
      tags: membersTag,
      scope: 'cashback_read',
      query: z
        .object({
          program_id: pathId,
          external_id: z.string().refine(isExternalId, EXTERNAL_ID_RULE).optional(),
          email: z.email().max(254).optional(),
          phone: z.string().min(3).max(32).optional(),
          card_hash: z.string().regex(CARD_HASH_PATTERN, 'must be 64 lowercase hex digits').optional(),
        })
        .strict()
        .refine(
          (q) => [q.external_id, q.email, q.phone, q.card_hash].filter((v) => v !== undefined).length === 1,
          { error: 'name the member by exactly one of external_id, email, phone or card_hash' },
        ),
      response: { 200: balanceAnswer, ...errors },
      handler: async ({ query }) =>
        answerBalance(
          query.program_id,
          memberSelector(ctx, {
            external_id: query.external_id,
            email: query.email,
            phone: query.phone,
            card: query.card_hash === undefined ? undefined : { hash: query.card_hash },
          }),
        ),
    });

    route({
      method: 'GET',
      url: '/members/:id/balance',
      summary: "A member's balance in a program",
      description:
        'Settles cashback that matured or expired since the last operation first, so the figures are current.',
      tags: membersTag,
      scope: 'cashback_read',
      params: memberParams,
      query: z.object({ program_id: pathId }),
      response: { 200: balanceAnswer, ...errors },
      handler: async ({ params, query }) => answerBalance(query.program_id, { id: params.id }),
    });

    route({
      method: 'GET',
      url: '/members/:id/history',
      summary: "A member's transactions in a program",
      description:
        'Newest first. Page with limit and offset, or with `before` (the next_cursor of the previous page) for pages that stay stable while new transactions arrive.',
      tags: membersTag,
      scope: 'cashback_read',
      params: memberParams,
      query: z
        .object({
          program_id: pathId,
          limit: queryInt(1, 100).default(20),
          offset: queryInt(0, 1_000_000).optional(),
          before: pathId.optional().describe('Cursor: next_cursor of the previous page'),
        })
        .refine((q) => q.offset === undefined || q.before === undefined, {
          error: 'page with offset or before, not both',
        }),
      response: {
        200: z.object({
          member_id: z.number().int(),
          program_id: z.number().int(),
          currency: currencyCode,
          entries: z.array(
            z.object({
              transaction_id: z.number().int(),
              type: z
                .enum(['earn', 'redeem', 'refund', 'expire', 'adjust', 'cashout', 'cashout_return'])
                .describe(
                  'cashout: held or paid by a cashout claim; cashout_return: a claim that did not pay gave it back',
                ),
              amount: z.number().int().describe("Signed effect on the member's cashback, in minor units"),
              currency: currencyCode,
              purchase_amount: z
                .number()
                .int()
                .nullable()
                .describe('For earn and refund: the purchase or refunded amount'),
              reference: z.string().nullable(),
              reason: z.string().nullable().describe('For adjustments'),
              related_transaction_id: z
                .number()
                .int()
                .nullable()
                .describe(
                  'For refunds: the original earn; for expiries: the earn that expired; for cashout returns: the cashout',
                ),
              metadata: z.record(z.string(), z.unknown()),
              created_at: time,
            }),
          ),
          pagination: z.object({
            limit: z.number().int(),
            offset: z.number().int(),
            total: z.number().int(),
            has_more: z.boolean(),
            next_cursor: z
              .number()
              .int()
              .nullable()
              .describe('Pass as `before` for the next page; null on the last'),
          }),
        }),
        ...errors,
      },
      handler: async ({ params, query }) => {
        const page = await history(ctx, {
          programId: query.program_id,
          member: { id: params.id },
          limit: query.limit,
          offset: query.offset,
          before: query.before,
        });
        return {
          member_id: page.memberId,
          program_id: page.programId,
          currency: page.currency,
          entries: page.entries.map((e) => ({
            transaction_id: e.id,
            type: e.type,
            amount: e.amount,
            currency: page.currency,
            purchase_amount: e.purchaseAmount,
            reference: e.reference,
            reason: e.reason,
            related_transaction_id: e.relatedId,
            metadata: e.metadata,
            created_at: isoTime(e.createdAt),
          })),
          pagination: {
            limit: page.limit,
            offset: page.offset,
            total: page.total,
            has_more: page.hasMore,
            next_cursor: page.nextCursor,
          },
        };
      },
    });

    route({
      method: 'POST',
      url: '/members',
      summary: 'Create a member',
      tags: membersTag,
      scope: 'cashback_write',
      status: 201,
      headers: writeHeaders({}),
      body: z.object({
        external_id: z
          .string()
          .optional()
          .describe("The merchant's own id for the member: seed 001's user_id (not all digits)"),
        email: z.email().max(254).optional(),
        phone: z.string().min(3).max(32).optional(),
        name: z.string().min(1).max(200).optional(),
      }),
      response: { 201: memberSchema.extend({ replayed }), ...errors },
      handler: async ({ body: { external_id, ...body }, headers, app: client }) => {
        const m = await createMemberOnce(
          ctx,
          { ...body, externalId: external_id },
          keyOf(headers, client, 'create_member'),
        );
        return { ...memberOut(m), replayed: m.replayed };
      },
    });

    route({
      method: 'POST',
      url: '/members/:id/cards',
      summary: 'Link a card to a member',
      description:
        'The card is kept as a keyed hash plus first 6 and last 4 digits; the PAN is never stored, logged or returned. Linking a card already linked to this member returns that link; one linked to another member is a conflict.',
      tags: membersTag,
      scope: 'cashback_write',
      status: 201,
      headers: writeHeaders({}),
      params: memberParams,
      body: z.object({ pan }).strict(),
      response: {
        201: z.object({
          card_id: z.number().int(),
          member_id: z.number().int(),
          first6: z.string(),
          last4: z.string(),
          replayed,
        }),
        ...errors,
      },
      handler: async ({ body, params, headers, app: client }) => {
        const c = await linkCardOnce(
          ctx,
          { memberId: params.id, pan: body.pan },
          keyOf(headers, client, 'link_card'),
        );
        return {
          card_id: c.id,
          member_id: c.memberId,
          first6: c.first6,
          last4: c.last4,
          replayed: c.replayed,
        };
      },
    });

    route({
      method: 'PUT',
      url: '/members/:id/pin',
      summary: "Set a member's PIN",
      description:
        'Needs X-Member-Token for this member (from POST /otp/verify), or an app with the admin scope. Clears a PIN lock. PUT replaces the PIN, so a repeat leaves the same state; nothing derived from the PIN is kept with the Idempotency-Key (concurrent requests with one key run once).',
      tags: membersTag,
      scope: 'cashback_write',
      headers: writeHeaders({ 'x-member-token': memberToken }),
      params: memberParams,
      body: z.object({ pin: pinSchema }).strict(),
      response: { 200: z.object({ ok: z.literal(true), member_id: z.number().int() }), ...errors },
      handler: async ({ body, params, headers, app: client }) => {
        const key = keyOf(headers, client, 'set_pin');
        const tokenMemberId = await token(headers['x-member-token']);
        const r = await onceWithKey(
          ctx,
          key,
          { memberId: params.id, pin: body.pin, tokenMemberId },
          { persist: false },
          () =>
            changePin(ctx, {
              memberId: params.id,
              pin: body.pin,
              tokenMemberId,
              admin: client.scopes.includes('admin'),
            }),
        );
        return { ok: true as const, member_id: r.memberId };
      },
    });

    route({
      method: 'POST',
      url: '/otp',
      summary: 'Send a one-time code to a member',
      description:
        "Sends a 6-digit code to the member's phone (or email). A repeat with the same Idempotency-Key returns the same challenge without sending another code.",
      tags: membersTag,
      scope: 'cashback_write',
      headers: writeHeaders({}),
      body: z.object({ member: memberRef }),
      response: {
        200: z.object({
          challenge_id: z.number().int(),
          member_id: z.number().int(),
          sent_to: z.string().describe('Masked phone or email the code went to'),
          expires_at: time,
          replayed,
        }),
        ...errors,
      },
      handler: async ({ body, headers, app: client }) => {
        const member = selector(body.member);
        const r = await onceWithKey(ctx, keyOf(headers, client, 'otp'), member, { persist: true }, () =>
          requestOtp(ctx, member),
        );
        return {
          challenge_id: r.challengeId,
          member_id: r.memberId,
          sent_to: r.sentTo,
          expires_at: isoTime(r.expiresAt),
          replayed: r.replayed,
        };
      },
    });

    route({
      method: 'POST',
      url: '/otp/verify',
      summary: 'Exchange a one-time code for a member token',
      description:
        'A code works once. Member tokens are never stored, so a repeat after success is refused like any used code (request a new one); concurrent requests with one Idempotency-Key share one answer.',
      tags: membersTag,
      scope: 'cashback_write',
      headers: writeHeaders({}),
      body: z.object({ challenge_id: id, code: z.string().regex(/^\d{6}$/, 'the code is 6 digits') }),
      response: {
        200: z.object({
          member_token: z.string().describe('Send as X-Member-Token'),
          member_id: z.number().int(),
          expires_at: time,
        }),
        ...errors,
      },
      handler: async ({ body, headers, app: client }) => {
        const r = await onceWithKey(ctx, keyOf(headers, client, 'otp_verify'), body, { persist: false }, () =>
          verifyOtp(ctx, body.challenge_id, body.code),
        );
        return { member_token: r.token, member_id: r.memberId, expires_at: isoTime(r.expiresAt) };
      },
    });

    // ------------------------------------------------------------------------- programs, partners

    route({
      method: 'GET',
      url: '/programs',
      summary: 'List cashback programs',
      tags: adminTag,
      scope: 'card_read',
      response: { 200: z.object({ programs: z.array(programSchema), total: z.number().int() }), ...errors },
      handler: async () => {
        const programs = await ctx.store.read((tx) => listPrograms(tx));
        return { programs: programs.map(programOut), total: programs.length };
      },
    });

    route({
      method: 'POST',
      url: '/programs',
      summary: 'Create a cashback program',
      tags: adminTag,
      scope: 'admin',
      status: 201,
      headers: writeHeaders({}),
      body: z.object({
        unique_identifier: z.string().min(1).max(64),
        name: z.string().min(1).max(200),
        description: z.string().max(2000).optional(),
        currency: z.string().min(3).max(5).describe('ISO 4217 code'),
        cashback_bps: z
          .number()
          .int()
          .min(0)
          .max(10_000)
          .describe('Cashback rate in basis points (500 = 5%)'),
        min_purchase: minor.min(0, 'must not be negative').optional().describe('Minor units; default 0'),
        max_cashback: positiveMinor
          .nullable()
          .optional()
          .describe('Cap per purchase in minor units; default none'),
        allows_pin_redemption: z.boolean().optional(),
        maturation_days: z.number().int().min(0).max(3650).optional(),
        expiry_days: z.number().int().min(1).max(36_500).nullable().optional(),
      }),
      response: { 201: programSchema.extend({ replayed }), ...errors },
      handler: async ({ body, headers, app: client }) => {
        const p = await createProgramOnce(
          ctx,
          {
            uniqueIdentifier: body.unique_identifier,
            name: body.name,
            description: body.description,
            currency: body.currency,
            cashbackBps: body.cashback_bps,
            minPurchase: body.min_purchase,
            maxCashback: body.max_cashback,
            allowsPinRedemption: body.allows_pin_redemption,
            maturationDays: body.maturation_days,
            expiryDays: body.expiry_days,
          },
          keyOf(headers, client, 'create_program'),
        );
        return { ...programOut(p), replayed: p.replayed };
      },
    });

    route({
      method: 'GET',
      url: '/partners',
      summary: 'List cashback partners with their deposits',
      tags: adminTag,
      scope: 'admin',
      response: { 200: z.object({ partners: z.array(partnerSchema), total: z.number().int() }), ...errors },
      handler: async () => {
        const partners = await ctx.store.read((tx) => listPartners(tx));
        return { partners: partners.map((p) => partnerOut(p, p.deposit)), total: partners.length };
      },
    });

    route({
      method: 'POST',
      url: '/partners',
      summary: 'Make an app a cashback partner',
      description: 'The app must exist and have the partner scope. Its deposit starts at zero.',
      tags: adminTag,
      scope: 'admin',
      status: 201,
      headers: writeHeaders({}),
      body: z.object({
        app_id: z.string().min(3).max(64),
        unit: z.string().min(3).max(5).optional().describe('Unit of cashback and deposit; default GBYTE'),
        base_bps: z
          .number()
          .int()
          .min(0)
          .max(10_000)
          .describe('Cashback paid from the fund, in basis points'),
        max_partner_bps: z.number().int().min(0).max(10_000).optional().describe('Default 1000 (10%)'),
      }),
      response: { 201: partnerSchema.extend({ replayed }), ...errors },
      handler: async ({ body, headers, app: client }) => {
        const p = await createPartnerOnce(
          ctx,
          {
            appId: body.app_id,
            unit: body.unit,
            baseBps: body.base_bps,
            maxPartnerBps: body.max_partner_bps,
          },
          keyOf(headers, client, 'create_partner'),
        );
        return { ...partnerOut(p, 0), replayed: p.replayed };
      },
    });

    route({
      method: 'POST',
      url: '/partners/:app_id/deposits',
      summary: "Record money paid into a partner's deposit",
      tags: adminTag,
      scope: 'admin',
      headers: writeHeaders({}),
      params: z.object({ app_id: z.string().min(3).max(64) }),
      body: z.object({
        amount: positiveMinor.describe('Minor units of the partner unit'),
        reference: z.string().min(1).max(128).optional(),
      }),
      response: {
        200: z.object({
          transaction_id: z.number().int(),
          app_id: z.string(),
          amount: z.number().int(),
          deposit: z.number().int().describe('The deposit after this payment'),
          currency: currencyCode,
          replayed,
        }),
        ...errors,
      },
      handler: async ({ body, params, headers, app: client }) => {
        const r = await depositToPartner(ctx, {
          appId: params.app_id,
          amount: { minor: body.amount },
          reference: body.reference,
          idempotency: keyOf(headers, client, 'deposit'),
        });
        return {
          transaction_id: r.transactionId,
          app_id: params.app_id,
          amount: body.amount,
          deposit: r.deposit,
          currency: r.unit,
          replayed: r.replayed,
        };
      },
    });

    route({
      method: 'POST',
      url: '/textcoins/claim',
      summary: 'Claim cashback sent to an email address into a wallet',
      tags: ops,
      scope: 'cashback_write',
      headers: writeHeaders({}),
      body: z.object({
        claim_code: z.string().min(1).max(128).describe('The code the recipient was sent'),
        address: z.string().min(1).max(64).describe('Wallet address: 32 characters A-Z and 2-7'),
      }),
      response: {
        200: z.object({
          transaction_id: z.number().int(),
          amount: z.number().int(),
          currency: currencyCode,
          address: z.string(),
          replayed,
        }),
        ...errors,
      },
      handler: async ({ body, headers, app: client }) => {
        const request = { claimCode: body.claim_code, address: body.address };
        const r = await onceWithKey(ctx, keyOf(headers, client, 'claim'), request, { persist: true }, () =>
          claimTextcoin(ctx, request),
        );
        return {
          transaction_id: r.transactionId,
          amount: r.amount,
          currency: r.unit,
          address: r.address,
          replayed: r.replayed,
        };
      },
    });

    route({
      method: 'GET',
      url: '/ledger/verify',
      summary: 'Recompute every balance from the transfers',
      description:
        'Reports cached balances that differ from their transfers, currencies whose debits and credits differ, and balances below zero with no refund clawback.',
      tags: adminTag,
      scope: 'admin',
      response: {
        200: z.object({
          ok: z.boolean().describe('True when no problem was found'),
          accounts: z.number().int(),
          transfers: z.number().int(),
          currencies: z.record(
            z.string(),
            z
              .object({ debits: z.number().int(), credits: z.number().int() })
              .describe('Posted totals in minor units of the key currency'),
          ),
          problems: z.array(
            z.object({
              kind: z.enum([
                'cached_balance',
                'currency_imbalance',
                'negative_balance',
                'currency_mismatch',
                'unknown_account',
              ]),
              message: z.string(),
            }),
          ),
        }),
        ...errors,
      },
      handler: async () => {
        const report = await ctx.store.read((tx) => verifyLedger(tx));
        return { ok: report.problems.length === 0, ...report };
      },
    });

    // ---------------------------------------------------------------------------------- webhooks

    const webhooksTag = ['Native: webhooks'];
    const deliveryId = z.object({
      id: z.string().regex(/^dlv_[0-9a-f-]{36}$/, 'must be a delivery id (dlv_...)'),
    });

    route({
      method: 'GET',
      url: '/webhooks/deliveries',
      summary: 'List webhook deliveries, newest first',
      description:
        "One delivery per event and endpoint. Header values are never shown (they may be a caller's credentials), only their names.",
      tags: webhooksTag,
      scope: 'webhooks',
      query: z
        .object({
          status: z.enum(['pending', 'delivered', 'failed']).optional(),
          event_id: z.string().min(1).max(100).optional(),
          limit: queryInt(1, 500).optional(),
          offset: queryInt(0, 1_000_000).optional(),
        })
        .strict(),
      response: { 200: z.object({ deliveries: z.array(deliverySchema) }), ...errors },
      handler: async ({ query }) => {
        const list = await ctx.store.read((tx) =>
          listDeliveries(tx, {
            status: query.status,
            eventId: query.event_id,
            limit: query.limit ?? 50,
            offset: query.offset ?? 0,
          }),
        );
        return { deliveries: list.map(deliveryOut) };
      },
    });

    route({
      method: 'GET',
      url: '/webhooks/deliveries/:id',
      summary: 'One webhook delivery with every attempt',
      tags: webhooksTag,
      scope: 'webhooks',
      params: deliveryId,
      response: {
        200: deliverySchema.extend({
          attempt_log: z.array(
            z.object({
              attempt: z.number().int(),
              started_at: time,
              status_code: z.number().int().nullable(),
              error: z.string().nullable().describe('The network error or timeout when no response came'),
              latency_ms: z.number().int(),
              response_excerpt: z
                .string()
                .nullable()
                .describe('The start of the response, secrets blanked out'),
            }),
          ),
        }),
        ...errors,
      },
      handler: async ({ params }) => {
        const d = await ctx.store.read((tx) => getDelivery(tx, params.id));
        return {
          ...deliveryOut(d),
          attempt_log: d.attemptLog.map((a) => ({
            attempt: a.attempt,
            started_at: isoTime(a.startedAt),
            status_code: a.statusCode,
            error: a.error,
            latency_ms: a.latencyMs,
            response_excerpt: a.responseExcerpt,
          })),
        };
      },
    });

    route({
      method: 'POST',
      url: '/webhooks/resend/:id',
      summary: 'Send a webhook again',
      description:
        'Names one delivery (dlv_...) or an event (evt_..., every delivery of it). Each is sent again at once with its first body and event id, and retried for a fresh retry window. Receivers deduplicate by the Tillback-Event-Id header.',
      tags: webhooksTag,
      scope: 'webhooks',
      status: 202,
      headers: writeHeaders({}),
      params: z.object({
        id: z
          .string()
          .regex(/^(dlv|evt)_[0-9a-f-]{36}$/, 'must be a delivery id (dlv_...) or an event id (evt_...)'),
      }),
      body: z.object({}).strict().nullish().describe('Nothing: no body, or an empty object'),
      response: { 202: z.object({ deliveries: z.array(deliverySchema), replayed }), ...errors },
      handler: async ({ params, headers, app: client }) => {
        const r = await onceWithKey(
          ctx,
          keyOf(headers, client, 'webhook_resend'),
          { id: params.id },
          { persist: true },
          async () => ({
            deliveries: (await ctx.store.transact((tx) => resendWebhooks(tx, params.id, ctx.now()))).map(
              deliveryOut,
            ),
          }),
        );
        return { deliveries: r.deliveries, replayed: r.replayed };
      },
    });
  };
}
