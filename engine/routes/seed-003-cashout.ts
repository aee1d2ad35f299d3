// Seed 003: POST /cashout/process in its document's shape: {"type", "amount" (cents), "provider"}
// -> {"status":"success","data":{"message","cashout_id","amount","type","status":"pending"}}, errors
// {"status":"error","message"} with the documented messages. "Connected" is the app's credentials
// plus the member's token (X-Member-Token from the OTP exchange). The balance is held at once as a
// member-funded claim; `data.url` (our addition) is where the member says where the money goes.
// Only PayPal is paid here: no payout provider pays to Payoneer or Tipalti (nor are /cashout/link
// and /cashout/unlink built), so those are refused as an invalid provider, saying why.
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { DomainContext } from '../domain/context.ts';
import { DomainError } from '../domain/errors.ts';
import { verifyMemberToken } from '../domain/member-auth.ts';
import { memberCashout } from '../domain/member-cashouts.ts';
import {
  apiPlugin,
  appKeyHeaders,
  defineRoute,
  header,
  type ApiStyle,
  type Authenticate,
} from '../http/api.ts';

/** The document's messages for the errors it lists; any other error keeps its own message. */
const documented: Record<string, string> = {
  unauthorized: 'User not authenticated',
  member_token_required: 'User not authenticated',
  member_token_invalid: 'User not authenticated',
  insufficient_balance: 'Insufficient balance',
  internal_error: 'Failed to deduct balance',
};

const style: ApiStyle = {
  renderError: (e) => ({ status: 'error', message: documented[e.code] ?? e.message }),
  ...appKeyHeaders,
  strictBodies: false,
};

const errorSchema = z.object({ status: z.literal('error'), message: z.string() });
const PROVIDERS = ['paypal', 'payoneer', 'tipalti'] as const;
const missing = () => new DomainError('validation_error', 'Missing required parameters: type and amount');

export function seed003Routes(ctx: DomainContext, authenticate: Authenticate) {
  return async function routes(app: FastifyInstance) {
    apiPlugin(app, style, { notFound: false }); // seed 000's plugin answers unknown /cashout paths
    defineRoute(app, style, authenticate, {
      method: 'POST',
      url: '/process',
      summary: 'Process a cashout (seed 003)',
      description:
        "Checks the signed-in member's balance and holds the amount as a member-funded claim (status pending). Send the member token as X-Member-Token. program_id (our addition) names the program when the member has cashback in more than one. An Idempotency-Key header makes retries safe. Only provider paypal is paid; payoneer and tipalti are refused.",
      tags: ['Cashout API (seed 003)'],
      scope: 'cashback_write',
      // The document's own messages are given by the handler, so the fields are read loosely here.
      body: z.object({
        type: z.unknown().optional().describe('The cashout method type, e.g. "paypal"'),
        amount: z.unknown().optional().describe('Amount in cents (integer)'),
        provider: z.unknown().optional().describe('"paypal", "payoneer" or "tipalti"'),
        program_id: z.unknown().optional().describe('Our addition: the program to cash out from'),
      }),
      response: {
        200: z.object({
          status: z.literal('success'),
          data: z.object({
            message: z.string(),
            cashout_id: z.number().int().describe("The cashout in the member's history"),
            amount: z.number().int(),
            type: z.string(),
            status: z.literal('pending'),
            url: z.string().describe('Where the member says where the money goes'),
          }),
        }),
        400: errorSchema,
        401: errorSchema,
        403: errorSchema,
        404: errorSchema,
        409: errorSchema,
        422: errorSchema,
      },
      handler: async ({ body, req, app: client }) => {
        const token = header(req, 'x-member-token');
        if (!token) throw new DomainError('member_token_required', 'User not authenticated');
        const memberId = await verifyMemberToken(ctx, token);
        if (body.type === undefined || body.type === '' || body.amount === undefined) throw missing();
        if (typeof body.amount !== 'number' || !Number.isSafeInteger(body.amount) || body.amount <= 0) {
          throw new DomainError('validation_error', 'Invalid amount');
        }
        const provider = body.provider ?? body.type;
        if (
          typeof provider !== 'string' ||
          !(PROVIDERS as readonly string[]).includes(provider) ||
          provider !== body.type
        ) {
          throw new DomainError('validation_error', 'Invalid provider');
        }
        if (provider !== 'paypal') {
          throw new DomainError(
            'validation_error',
            `Invalid provider: no payout provider here pays to ${provider}`,
          );
        }
        if (
          body.program_id !== undefined &&
          (typeof body.program_id !== 'number' || !Number.isSafeInteger(body.program_id))
        ) {
          throw new DomainError('validation_error', 'program_id: must be an integer id');
        }
        const key = header(req, 'idempotency-key');
        const claim = await memberCashout(
          ctx,
          {
            appId: client.appId,
            storeName: client.name,
            memberId,
            programId: body.program_id as number | undefined,
            amount: body.amount,
            method: 'paypal',
          },
          key ? { appId: client.appId, scope: 'seed003:process', key } : undefined,
        );
        return {
          status: 'success',
          data: {
            message: 'Cashout processed successfully',
            // A member-funded claim always has its cashout transaction.
            cashout_id: claim.transactionId ?? 0,
            amount: claim.amount,
            type: provider,
            status: 'pending',
            url: claim.url,
          },
        };
      },
    });
  };
}
