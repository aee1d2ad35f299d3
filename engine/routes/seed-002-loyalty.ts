// Seed 002: the loyalty cashback API at /api/v1/cashback, exactly as its document shows: X-App-Id and
// X-Api-Key headers, X-Member-Token for redemption, {success, data} responses, {success: false,
// error: {code, message}} errors, decimal amounts. A thin adapter over the domain functions.
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { balance, earn, history, redeem, refund } from '../domain/cashback.ts';
import type { DomainContext } from '../domain/context.ts';
import type { IdempotencyKey } from '../domain/idempotency.ts';
import { verifyMemberToken } from '../domain/member-auth.ts';
import { listPrograms } from '../domain/programs.ts';
import {
  apiPlugin,
  appKeyHeaders,
  defineRoute,
  header,
  type ApiStyle,
  type Authenticate,
} from '../http/api.ts';
import { decimalNumber, percentNumber } from '../http/json.ts';
import {
  bodyId,
  decimalAmount,
  isoTime,
  memberFromFields,
  originalPurchase,
  pathId,
  queryInt,
} from './shared.ts';
import type { FastifyRequest } from 'fastify';

const style: ApiStyle = {
  renderError: (e) => ({ success: false, error: { code: e.code, message: e.message } }),
  ...appKeyHeaders,
  strictBodies: false,
};

const ok = <T>(data: T) => ({ success: true as const, data });
const okSchema = <T extends z.ZodType>(data: T) => z.object({ success: z.literal(true), data });
const errorSchema = z.object({
  success: z.literal(false),
  error: z.object({ code: z.string(), message: z.string() }),
});
const errors = {
  400: errorSchema,
  401: errorSchema,
  403: errorSchema,
  404: errorSchema,
  409: errorSchema,
  422: errorSchema,
};
const money = z.number();
const tags = ['Loyalty cashback API (seed 002)'];

const memberFields = {
  member_id: bodyId.optional(),
  email: z.email().optional(),
  phone: z.string().min(3).max(32).optional(),
};

const metadata = z.record(z.string(), z.unknown()).optional();
const reference = z.string().min(1).max(128).optional();

/** Idempotency-Key header, else the document's own `reference` field. */
function idempotencyKey(
  req: FastifyRequest,
  appId: string,
  scope: string,
  ref: string | undefined,
): IdempotencyKey | undefined {
  const key = header(req, 'idempotency-key') ?? ref;
  return key ? { appId, scope: `seed002:${scope}`, key } : undefined;
}

export function seed002Routes(ctx: DomainContext, authenticate: Authenticate) {
  return async function routes(app: FastifyInstance) {
    apiPlugin(app, style);

    defineRoute(app, style, authenticate, {
      method: 'POST',
      url: '/cashback/earn',
      summary: 'Earn cashback',
      description:
        'Calculate and credit cashback to a member based on purchase amount. A repeated `reference` returns the first result.',
      tags,
      scope: 'cashback_write',
      body: z.object({
        card_id: bodyId,
        ...memberFields,
        member_name: z.string().min(1).max(200).optional(),
        purchase_amount: decimalAmount,
        reference,
        metadata,
      }),
      response: {
        200: okSchema(
          z.object({
            transaction_id: z.number().int(),
            purchase_amount: money,
            cashback_percentage: z.number(),
            cashback_earned: money,
            new_balance: money,
            member_id: z.number().int(),
            card_id: z.number().int(),
            earned_at: z.string(),
            currency: z.string(),
          }),
        ),
        ...errors,
      },
      handler: async ({ body, app: client, req }) => {
        const r = await earn(ctx, {
          appId: client.appId,
          programId: body.card_id,
          member: memberFromFields(body),
          memberName: body.member_name,
          purchaseAmount: { decimal: body.purchase_amount },
          reference: body.reference,
          metadata: body.metadata,
          idempotency: idempotencyKey(req, client.appId, 'earn', body.reference),
        });
        return ok({
          transaction_id: r.transactionId,
          purchase_amount: decimalNumber(r.purchaseAmount, r.currency),
          cashback_percentage: percentNumber(r.cashbackBps),
          cashback_earned: decimalNumber(r.cashbackEarned, r.currency),
          new_balance: decimalNumber(r.balance.available, r.currency),
          member_id: r.memberId,
          card_id: r.programId,
          earned_at: isoTime(r.earnedAt),
          currency: r.currency,
        });
      },
    });

    defineRoute(app, style, authenticate, {
      method: 'POST',
      url: '/cashback/redeem',
      summary: 'Redeem cashback',
      description:
        'Redeem cashback from member balance. Requires X-Member-Token from the OTP exchange; where the card allows PIN redemption, a PIN with member_id, email or phone may stand in for the token.',
      tags,
      scope: 'cashback_write',
      headers: z.object({ 'x-member-token': z.string().min(10).optional() }),
      body: z.object({
        card_id: bodyId,
        amount: decimalAmount,
        pin: z
          .string()
          .regex(/^\d{4,12}$/, 'a PIN is 4 to 12 digits')
          .optional(),
        reference,
        metadata,
        ...memberFields,
      }),
      response: {
        200: okSchema(
          z.object({
            transaction_id: z.number().int(),
            amount_redeemed: money,
            new_balance: money,
            member_id: z.number().int(),
            card_id: z.number().int(),
            redeemed_at: z.string(),
            currency: z.string(),
          }),
        ),
        ...errors,
        423: errorSchema,
      },
      handler: async ({ body, headers, app: client, req }) => {
        const token = headers['x-member-token'];
        const tokenMemberId = token === undefined ? undefined : await verifyMemberToken(ctx, token);
        const named = body.member_id ?? body.email ?? body.phone;
        const r = await redeem(ctx, {
          appId: client.appId,
          programId: body.card_id,
          member: named === undefined ? undefined : memberFromFields(body),
          tokenMemberId,
          pin: body.pin,
          amount: { decimal: body.amount },
          reference: body.reference,
          metadata: body.metadata,
          idempotency: idempotencyKey(req, client.appId, 'redeem', body.reference),
        });
        return ok({
          transaction_id: r.transactionId,
          amount_redeemed: decimalNumber(r.amountRedeemed, r.currency),
          new_balance: decimalNumber(r.balance.available, r.currency),
          member_id: r.memberId,
          card_id: r.programId,
          redeemed_at: isoTime(r.redeemedAt),
          currency: r.currency,
        });
      },
    });

    defineRoute(app, style, authenticate, {
      method: 'GET',
      url: '/cashback/balance',
      summary: 'Get cashback balance',
      tags,
      scope: 'cashback_read',
      query: z.object({ card_id: pathId, member_id: pathId }),
      response: {
        200: okSchema(
          z.object({
            card_id: z.number().int(),
            member_id: z.number().int(),
            cashback_balance: money,
            pending_balance: money,
            cashback_percentage: z.number(),
            reward_system: z.literal('cashback'),
            currency: z.string(),
            queried_at: z.string(),
          }),
        ),
        ...errors,
      },
      handler: async ({ query }) => {
        const r = await balance(ctx, query.card_id, { id: query.member_id });
        return ok({
          card_id: r.program.id,
          member_id: r.memberId,
          cashback_balance: decimalNumber(r.balance.available, r.program.currency),
          pending_balance: decimalNumber(r.balance.maturing, r.program.currency),
          cashback_percentage: percentNumber(r.program.cashbackBps),
          reward_system: 'cashback' as const,
          currency: r.program.currency,
          queried_at: isoTime(ctx.now()),
        });
      },
    });

    const event: Record<string, [string, string]> = {
      earn: ['earning', 'cashback_earned'],
      redeem: ['redemption', 'cashback_redeemed'],
      refund: ['refund', 'cashback_refunded'],
      expire: ['expiry', 'cashback_expired'],
      adjust: ['adjustment', 'cashback_adjusted'],
    };

    defineRoute(app, style, authenticate, {
      method: 'GET',
      url: '/cashback/history',
      summary: 'Transaction history',
      description:
        'Newest first. Page with limit and offset as documented, or pass `before` (the `next_cursor` of the previous page) for pages that stay stable while new transactions arrive.',
      tags,
      scope: 'cashback_read',
      query: z.object({
        card_id: pathId,
        member_id: pathId,
        limit: queryInt(1, 100).default(20),
        offset: queryInt(0, 1_000_000).default(0),
        before: pathId.optional(),
      }),
      response: {
        200: okSchema(
          z.object({
            card_id: z.number().int(),
            member_id: z.number().int(),
            transactions: z.array(
              z.object({
                id: z.number().int(),
                type: z.string(),
                amount: money,
                points: z.number().int(),
                event: z.string(),
                reference: z.string().nullable(),
                created_at: z.string(),
              }),
            ),
            pagination: z.object({
              limit: z.number().int(),
              offset: z.number().int(),
              total: z.number().int(),
              has_more: z.boolean(),
              next_cursor: z.number().int().nullable(),
            }),
          }),
        ),
        ...errors,
      },
      handler: async ({ query }) => {
        const page = await history(ctx, {
          programId: query.card_id,
          member: { id: query.member_id },
          limit: query.limit,
          offset: query.offset,
          before: query.before,
        });
        return ok({
          card_id: page.programId,
          member_id: page.memberId,
          transactions: page.entries.map((e) => ({
            id: e.id,
            type: event[e.type]?.[0] ?? e.type,
            amount: decimalNumber(e.amount, page.currency),
            points: 0,
            event: event[e.type]?.[1] ?? e.type,
            reference: e.reference,
            created_at: isoTime(e.createdAt),
          })),
          pagination: {
            limit: page.limit,
            offset: page.offset,
            total: page.total,
            has_more: page.hasMore,
            next_cursor: page.nextCursor,
          },
        });
      },
    });

    defineRoute(app, style, authenticate, {
      method: 'POST',
      url: '/cashback/refund',
      summary: 'Refund cashback',
      description:
        'Claw back cashback when an order is refunded. Name the original purchase (original_reference or original_transaction_id) and partial refunds claw back cumulatively: after refunds totalling R of a purchase P that earned E, floor(E*R/P) has been taken back, so a full refund takes back exactly E. Without it, the clawback is the card percentage of the refund amount, or cashback_to_deduct when given. Maturing cashback is taken before available cashback; the balance may go negative (balance_warning).',
      tags,
      scope: 'cashback_write',
      body: z.object({
        card_id: bodyId,
        ...memberFields,
        refund_amount: decimalAmount,
        cashback_to_deduct: decimalAmount.optional(),
        reference,
        original_reference: z.string().min(1).max(128).optional(),
        original_transaction_id: bodyId.optional(),
        metadata,
      }),
      response: {
        200: okSchema(
          z.object({
            transaction_id: z.number().int(),
            cashback_deducted: money,
            refund_amount: money,
            previous_balance: money,
            new_balance: money,
            currency: z.string(),
            member_id: z.number().int(),
            card_id: z.number().int(),
            reference: z.string().nullable(),
            balance_warning: z.string().nullable(),
            refunded_at: z.string(),
          }),
        ),
        ...errors,
      },
      handler: async ({ body, app: client, req }) => {
        const r = await refund(ctx, {
          appId: client.appId,
          programId: body.card_id,
          member: memberFromFields(body),
          refundAmount: { decimal: body.refund_amount },
          cashbackToDeduct:
            body.cashback_to_deduct === undefined ? undefined : { decimal: body.cashback_to_deduct },
          original: originalPurchase(body),
          reference: body.reference,
          metadata: body.metadata,
          idempotency: idempotencyKey(req, client.appId, 'refund', body.reference),
        });
        return ok({
          transaction_id: r.transactionId,
          cashback_deducted: decimalNumber(r.cashbackDeducted, r.currency),
          refund_amount: decimalNumber(r.refundAmount, r.currency),
          previous_balance: decimalNumber(r.previousBalance, r.currency),
          new_balance: decimalNumber(r.balance.available, r.currency),
          currency: r.currency,
          member_id: r.memberId,
          card_id: r.programId,
          reference: body.reference ?? null,
          balance_warning: r.balanceWarning,
          refunded_at: isoTime(r.refundedAt),
        });
      },
    });

    defineRoute(app, style, authenticate, {
      method: 'GET',
      url: '/cards',
      summary: 'List cashback cards',
      tags,
      scope: 'card_read',
      response: {
        200: okSchema(
          z.object({
            cards: z.array(
              z.object({
                id: z.number().int(),
                unique_identifier: z.string(),
                name: z.string(),
                description: z.string(),
                reward_system: z.literal('cashback'),
                currency: z.string(),
                cashback_config: z.object({
                  cashback_percentage: z.number(),
                  cashback_min_amount: z.number(),
                  cashback_max_amount: z.number().nullable(),
                  allows_pin_redemption: z.boolean(),
                  maturation_days: z.number().int(),
                  expiry_days: z.number().int().nullable(),
                }),
              }),
            ),
            total: z.number().int(),
          }),
        ),
        ...errors,
      },
      handler: async () => {
        const programs = await ctx.store.read((tx) => listPrograms(tx));
        return ok({
          cards: programs.map((p) => ({
            id: p.id,
            unique_identifier: p.uniqueIdentifier,
            name: p.name,
            description: p.description,
            reward_system: 'cashback' as const,
            currency: p.currency,
            cashback_config: {
              cashback_percentage: percentNumber(p.cashbackBps),
              cashback_min_amount: decimalNumber(p.minPurchase, p.currency),
              cashback_max_amount: p.maxCashback === null ? null : decimalNumber(p.maxCashback, p.currency),
              allows_pin_redemption: p.allowsPinRedemption,
              maturation_days: p.maturationDays,
              expiry_days: p.expiryDays,
            },
          })),
          total: programs.length,
        });
      },
    });
  };
}
