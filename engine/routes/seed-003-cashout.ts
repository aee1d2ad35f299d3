// Seed 003 in its document's shape, errors {"status":"error","message"} with the documented messages.
// "Connected" is the app's credentials plus the member's token (X-Member-Token from the OTP exchange).
// - POST /cashout/process {"type", "amount" (cents), "provider"} holds the balance at once as a
//   member-funded claim, submitted to the member's linked PayPal account (a payout provider that pays
//   PayPal then pays it); `data.url` (our addition) is the claim's page, for its live status. Only
//   methods a configured payout provider pays are accepted: PayPal (through PayPal or the sandbox);
//   no provider here pays to Payoneer or Tipalti, so those are refused as an invalid provider.
// - POST /cashout/link: PayPal answers the "Log in with PayPal" URL and
//   GET /cashout/link/paypal/callback finishes the link (needs payouts.paypal); Payoneer answers
//   Payoneer's registration link, and GET /cashout/link/:token, where Payoneer returns the member, asks
//   Payoneer whether they are registered (needs payouts.payoneer); Tipalti creates a payee from the
//   documented fields (at Tipalti too when `payouts.tipalti` is configured), kept here, and answers
//   `alreadyExists` on a repeat. POST /cashout/unlink: Payoneer only.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { DomainContext } from '../domain/context.ts';
import { DomainError } from '../domain/errors.ts';
import {
  completePayPalLink,
  createTipaltiPayee,
  linkPayoneer,
  payoneerReturn,
  startPayPalLink,
  unlinkAccount,
} from '../domain/linked-accounts.ts';
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
import type { PayoneerPayees } from '../payouts/payoneer.ts';
import type { PayPalConnect } from '../payouts/paypal-connect.ts';
import type { PayoutMethodKind } from '../payouts/provider.ts';
import type { TipaltiPayees } from '../payouts/tipalti.ts';

const NOT_AUTHENTICATED = 'User not authenticated';
const UNLINK_FAILED = 'Failed to unlink cashout method. The method may not be linked or an error occurred.';

/** The document's messages for the errors it lists; `internal` is what a route says of an internal error. */
const styleWith = (internal: string): ApiStyle => {
  const documented: Record<string, string> = {
    unauthorized: NOT_AUTHENTICATED,
    member_token_required: NOT_AUTHENTICATED,
    member_token_invalid: NOT_AUTHENTICATED,
    member_not_found: NOT_AUTHENTICATED,
    insufficient_balance: 'Insufficient balance',
    internal_error: internal,
  };
  return {
    renderError: (e) => ({ status: 'error', message: documented[e.code] ?? e.message }),
    ...appKeyHeaders,
    strictBodies: false,
  };
};

const errorSchema = z.object({ status: z.literal('error'), message: z.string() });
const errorResponses = {
  400: errorSchema,
  401: errorSchema,
  403: errorSchema,
  404: errorSchema,
  409: errorSchema,
  422: errorSchema,
};
const PROVIDERS = ['paypal', 'payoneer', 'tipalti'] as const;
const missing = () => new DomainError('validation_error', 'Missing required parameters: type and amount');
const tags = ['Cashout API (seed 003)'];

/** "Connected": the app's credentials (checked by defineRoute) and the member's token. */
async function connectedMember(ctx: DomainContext, req: FastifyRequest): Promise<number> {
  const token = header(req, 'x-member-token');
  if (!token) throw new DomainError('member_token_required', NOT_AUTHENTICATED);
  return verifyMemberToken(ctx, token);
}

// One line of text: a name or an address part carries no control characters (nor can Tipalti's XML).
const text = (max: number) =>
  z
    .string()
    .trim()
    .min(1)
    .max(max)
    .regex(/^\P{Cc}*$/u, 'must not contain control characters');

/** Tipalti's payee fields as seed 003 lists them; the address as Tipalti's payee API names its parts. */
const tipaltiPayee = z
  .object({
    payeeType: z.enum(['Individual', 'Company']).default('Individual'),
    firstName: text(100).optional(),
    lastName: text(100).optional(),
    companyName: text(200).optional(),
    email: z.email('must be an email address'),
    address: z.object({
      street1: text(200),
      street2: text(200).optional(),
      city: text(100),
      state: text(100).optional(),
      zip: text(20).optional(),
      country: z.string().regex(/^[A-Z]{2}$/, 'must be an ISO 3166-1 alpha-2 code such as "AU"'),
    }),
    phone: z
      .string()
      .regex(/^\+?[0-9][0-9 ()-]{5,19}$/, 'must be a phone number')
      .optional(),
    taxDetails: z.record(z.string(), z.unknown()).optional(),
    paymentMethod: z.record(z.string(), z.unknown()).optional(),
  })
  .superRefine((p, issue) => {
    const need = (field: 'firstName' | 'lastName' | 'companyName') => {
      if (p[field] === undefined) {
        issue.addIssue({ code: 'custom', path: [field], message: `is required for a ${p.payeeType} payee` });
      }
    };
    if (p.payeeType === 'Individual') {
      need('firstName');
      need('lastName');
    } else need('companyName');
  });

/** The first problem with a payee, said in the document's words where it has some. */
function payeeProblem(error: z.ZodError): string {
  const absent = error.issues
    .filter((i) => i.code === 'invalid_type' && i.input === undefined)
    .map((i) => i.path.join('.'));
  const requiredBy = error.issues
    .filter((i) => i.code === 'custom' && i.message.startsWith('is required'))
    .map((i) => i.path.join('.'));
  const missingFields = [...absent, ...requiredBy];
  if (missingFields.length > 0) return `Missing required parameters: ${missingFields.join(', ')}`;
  const first = error.issues[0];
  return `Invalid ${first?.path.join('.') || 'body'}: ${first?.message ?? 'not a payee'}`;
}

export interface Seed003Options {
  /** What the configured payout providers pay; /process offers only those. */
  methods: readonly PayoutMethodKind[];
  /** "Log in with PayPal", when payouts.paypal is configured. */
  paypalConnect: PayPalConnect | undefined;
  /** Payoneer's payee onboarding, when payouts.payoneer is configured. */
  payoneer: PayoneerPayees | undefined;
  /** Tipalti's payee creation, when payouts.tipalti is configured (/link then creates payees there). */
  tipalti: TipaltiPayees | undefined;
  /** A cashout was submitted: the payout worker need not wait for its next look. */
  onSubmitted: () => void;
}

export function seed003Routes(ctx: DomainContext, authenticate: Authenticate, options: Seed003Options) {
  return async function routes(app: FastifyInstance) {
    await app.register(processRoute(ctx, authenticate, options));
    await app.register(linkRoutes(ctx, authenticate, options));
    await app.register(unlinkRoute(ctx, authenticate));
  };
}

function processRoute(
  ctx: DomainContext,
  authenticate: Authenticate,
  { methods, onSubmitted }: Seed003Options,
) {
  const style = styleWith('Failed to deduct balance');
  return async function routes(app: FastifyInstance) {
    apiPlugin(app, style, { notFound: false }); // seed 000's plugin answers unknown /cashout paths
    defineRoute(app, style, authenticate, {
      method: 'POST',
      url: '/process',
      summary: 'Process a cashout (seed 003)',
      description:
        "Checks the signed-in member's balance and holds the amount as a member-funded claim (status pending). Send the member token as X-Member-Token. program_id (our addition) names the program when the member has cashback in more than one. An Idempotency-Key header makes retries safe. Only provider paypal is paid (when a configured payout provider pays PayPal), to the PayPal account the member linked with /cashout/link (422 without one); payoneer and tipalti are refused.",
      tags,
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
            url: z.string().describe("The claim's page: the cashout's live status"),
          }),
        }),
        ...errorResponses,
      },
      handler: async ({ body, req, app: client }) => {
        const memberId = await connectedMember(ctx, req);
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
        // Seed 003's providers are payout method kinds only where a configured provider pays them.
        if (provider !== 'paypal' || !methods.includes(provider)) {
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
          },
          key ? { appId: client.appId, scope: 'seed003:process', key } : undefined,
        );
        if (!claim.replayed) onSubmitted();
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

function linkRoutes(
  ctx: DomainContext,
  authenticate: Authenticate,
  { paypalConnect: paypal, payoneer, tipalti }: Seed003Options,
) {
  const style = styleWith('Internal error; it has been logged');
  return async function routes(app: FastifyInstance) {
    apiPlugin(app, style, { notFound: false });
    defineRoute(app, style, authenticate, {
      method: 'POST',
      url: '/link',
      summary: 'Link a cashout method (seed 003)',
      description:
        'PayPal: answers the "Log in with PayPal" URL to follow (422 when payouts.paypal is not configured); once the member signs in, PayPal returns to GET /cashout/link/paypal/callback and the account is linked with its confirmed email. Payoneer: answers the registration link Payoneer makes for the member (422 when payouts.payoneer is not configured); Payoneer returns the member to this engine, which asks Payoneer for the payee status and links the account once it is active. Tipalti: creates a payee from payeeType (Individual: firstName, lastName; Company: companyName), email, address {street1, street2?, city, state?, zip?, country}, phone?, taxDetails?, paymentMethod?; kept here, sealed; when Tipalti is configured the payee is created at Tipalti first (the payee id is its idap; a refusal stores nothing: 400 for the payee fields, 502 for our setup, 503 when Tipalti cannot be reached), else under a payee id made here; a repeat answers the first payee id with alreadyExists true, without asking Tipalti again. Send the member token as X-Member-Token.',
      tags,
      scope: 'cashback_write',
      body: z
        .object({
          provider: z.unknown().optional().describe('"paypal", "payoneer" or "tipalti"'),
        })
        .catchall(z.unknown()),
      response: {
        200: z.object({
          status: z.literal('success'),
          data: z.union([
            z.object({
              message: z.string(),
              link: z.string(),
              provider: z.enum(['paypal', 'payoneer']),
              method: z.literal('link'),
            }),
            z.object({
              message: z.string(),
              provider: z.literal('tipalti'),
              payeeId: z.string(),
              alreadyExists: z.boolean(),
            }),
          ]),
        }),
        ...errorResponses,
        502: errorSchema, // Tipalti refused for a reason of our setup
        503: errorSchema, // Tipalti could not be reached
      },
      handler: async ({ body, req, app: client }) => {
        const memberId = await connectedMember(ctx, req);
        const { provider, ...fields } = body;
        if (provider === undefined || provider === '') {
          throw new DomainError('validation_error', 'Missing required parameter: provider');
        }
        if (provider === 'paypal' || provider === 'payoneer') {
          const member = { appId: client.appId, memberId };
          const { link } =
            provider === 'paypal'
              ? await startPayPalLink(ctx, paypal, member)
              : await linkPayoneer(ctx, payoneer, member);
          return {
            status: 'success',
            data: { message: 'Cashout link created successfully', link, provider, method: 'link' },
          };
        }
        if (provider !== 'tipalti') throw new DomainError('validation_error', 'Invalid provider');
        const payee = tipaltiPayee.safeParse(fields);
        if (!payee.success) throw new DomainError('validation_error', payeeProblem(payee.error));
        const created = await createTipaltiPayee(
          ctx,
          { appId: client.appId, memberId, payee: payee.data },
          tipalti,
        );
        return {
          status: 'success',
          data: { message: 'Tipalti payee account created successfully', provider, ...created },
        };
      },
    });

    // PayPal sends the member's browser here after they sign in. Plain text, like the page below.
    app.get('/link/paypal/callback', { schema: { hide: true } }, async (req, reply) => {
      plainPage(reply);
      const { code, state } = req.query as Record<string, unknown>;
      if (typeof state !== 'string' || state === '' || typeof code !== 'string' || code === '') {
        // No code: the member cancelled at PayPal (or this is not PayPal's redirect). Nothing changes.
        return reply.code(400).send('Your PayPal account was not linked: PayPal sent no sign-in.\n');
      }
      try {
        await completePayPalLink(ctx, paypal, { state, code });
      } catch (error) {
        if (!(error instanceof DomainError)) throw error;
        return reply.code(error.status).send(`${error.message}\n`);
      }
      return 'Your PayPal account is linked: cashouts to PayPal are paid to it. You can close this page.\n';
    });

    // Where Payoneer returns the member after registering: plain text saying where the link stands.
    app.get('/link/:token', { schema: { hide: true } }, async (req, reply) => {
      plainPage(reply);
      let link: Awaited<ReturnType<typeof payoneerReturn>>;
      try {
        link = await payoneerReturn(ctx, payoneer, (req.params as { token: string }).token);
      } catch (error) {
        if (!(error instanceof DomainError)) throw error;
        return reply.code(error.status).send(`${error.message}\n`);
      }
      if (!link) return reply.code(404).send('No such link\n');
      return link.state === 'linked'
        ? 'Your Payoneer account is linked. You can close this page.\n'
        : 'Payoneer has not approved your account yet. Open this page again once it has.\n';
    });
  };
}

function plainPage(reply: FastifyReply): void {
  void reply
    .header('content-type', 'text/plain; charset=utf-8')
    .header('content-security-policy', "default-src 'none'")
    .header('cache-control', 'no-store');
}

function unlinkRoute(ctx: DomainContext, authenticate: Authenticate) {
  const style = styleWith(UNLINK_FAILED);
  return async function routes(app: FastifyInstance) {
    apiPlugin(app, style, { notFound: false });
    defineRoute(app, style, authenticate, {
      method: 'POST',
      url: '/unlink',
      summary: 'Unlink a cashout method (seed 003; Payoneer only)',
      description: 'Removes the member’s linked Payoneer account. Send the member token as X-Member-Token.',
      tags,
      scope: 'cashback_write',
      body: z.object({ provider: z.unknown().optional().describe('Only "payoneer"') }),
      response: {
        200: z.object({
          status: z.literal('success'),
          data: z.object({ message: z.string(), provider: z.literal('payoneer') }),
        }),
        ...errorResponses,
      },
      handler: async ({ body, req }) => {
        const memberId = await connectedMember(ctx, req);
        if (body.provider === undefined || body.provider === '') {
          throw new DomainError('validation_error', 'Missing required parameter: provider');
        }
        if (body.provider !== 'payoneer') throw new DomainError('validation_error', 'Invalid provider');
        try {
          await unlinkAccount(ctx, { memberId });
        } catch (error) {
          if (error instanceof DomainError) throw new DomainError(error.code, UNLINK_FAILED);
          throw error;
        }
        return {
          status: 'success',
          data: { message: 'Payoneer cashout method unlinked successfully', provider: 'payoneer' },
        };
      },
    });
  };
}
