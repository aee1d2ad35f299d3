// Payoneer payee onboarding (Mass Payouts API v4), for seed 003's Payoneer link: we ask Payoneer for a
// registration link for a payee id we choose, the member registers (or signs in) at Payoneer, Payoneer
// sends them back to our `redirect_url`, and we ask Payoneer for the payee's status. No money moves here:
// this engine has no Payoneer payout client.
//
// Sources: the v4 paths are those of the payoneer-rb gem's Payee module (rubydoc.info/gems/payoneer-rb:
// POST /programs/{program_id}/payees/registration-link, GET /programs/{program_id}/payees/{payee_id}/status)
// under api.payoneer.com/v4 (api.sandbox.payoneer.com for sandbox); the request fields payee_id,
// client_session_id, redirect_url, redirect_time from the payoneer_api_client gem (Registration.create_url)
// and asabix.com's Payoneer API write-up (payee_id is ours; one link both registers and signs in). The
// answers `{"result": {"registration_link", "token"}}` and `{"result": {"status": {"type", "description"}}}`
// and the application token (OAuth2 client credentials, `scope=read write`, at
// login[.sandbox].payoneer.com/api/v2/oauth2/token) follow Payoneer's v4 reference as we know it; that
// reference is behind Payoneer's login and no stored copy confirmed these shapes, so `baseUrl` and
// `tokenUrl` are settings and anything unreadable is `PayoutUnavailable`, never taken for a link.
import { z } from 'zod';
import { exchange, quote } from './http.ts';
import { readOptions } from './options.ts';
import { PayoutUnavailable } from './provider.ts';

const PAYONEER_URLS = {
  sandbox: {
    api: 'https://api.sandbox.payoneer.com',
    token: 'https://login.sandbox.payoneer.com/api/v2/oauth2/token',
  },
  live: { api: 'https://api.payoneer.com', token: 'https://login.payoneer.com/api/v2/oauth2/token' },
} as const;

export const PayoneerOptionsSchema = z
  .object({
    environment: z.enum(['sandbox', 'live']).default('sandbox'),
    /** Overrides the environment's API host (a proxy, or a local server in tests). */
    baseUrl: z.url().optional(),
    /** Overrides the environment's application token URL. */
    tokenUrl: z.url().optional(),
    clientId: z.string().min(1, 'clientId is required'),
    clientSecret: z.string().min(1, 'clientSecret is required'),
    programId: z.string().regex(/^\d{1,20}$/, 'programId is the digits Payoneer shows for the program'),
    timeoutMs: z.number().int().min(100).max(120_000).default(20_000),
  })
  .strict();

export type PayoneerOptions = z.input<typeof PayoneerOptionsSchema>;

export interface PayoneerPayees {
  /** Payoneer's registration (or sign-in) link for our payee id; Payoneer returns the member to `redirectUrl`. */
  registrationLink(input: { payeeId: string; redirectUrl: string }): Promise<string>;
  /** Whether the payee finished registering and Payoneer approved it (`ACTIVE`). */
  isActive(payeeId: string): Promise<boolean>;
}

const TokenSchema = z.object({ access_token: z.string().min(1), token_type: z.string().regex(/^bearer$/i) });
// The customer's phone is sent there: https only (http only on this machine, for a local stand-in),
// never another scheme (javascript:, data:, or "A:", which z.url() alone accepts).
const isLinkUrl = (link: string) => {
  if (!URL.canParse(link)) return false; // zod runs this refinement even after z.url() refused
  const u = new URL(link);
  return (
    u.protocol === 'https:' ||
    (u.protocol === 'http:' && ['127.0.0.1', 'localhost', '[::1]'].includes(u.hostname))
  );
};
const LinkSchema = z.object({
  result: z.object({ registration_link: z.url().refine(isLinkUrl, 'must be an https URL') }),
});
const StatusSchema = z.object({ result: z.object({ status: z.object({ description: z.string() }) }) });
const ErrorSchema = z.object({ error: z.string().optional(), error_description: z.string().optional() });

function read<T>(text: string, schema: z.ZodType<T>, what: string): T {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new PayoutUnavailable('payoneer', `Payoneer answered ${what} with a body that is not JSON`);
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    throw new PayoutUnavailable('payoneer', `Payoneer answered ${what} without the fields we need`);
  }
  return parsed.data;
}

/** The registration link in Payoneer's answer; unreadable is `PayoutUnavailable`. */
export const parseRegistrationLink = (text: string): string =>
  read(text, LinkSchema, 'the registration link').result.registration_link;

/** Whether a payee status answer says ACTIVE; unreadable is `PayoutUnavailable`. */
export const parsePayeeActive = (text: string): boolean =>
  read(text, StatusSchema, 'the payee status').result.status.description.toUpperCase() === 'ACTIVE';

/** Payoneer's own words for a refusal, when it gave any. */
function reason(text: string, status: number): string {
  try {
    const e = ErrorSchema.safeParse(JSON.parse(text));
    const words = e.success ? (e.data.error_description ?? e.data.error) : undefined;
    if (words !== undefined) return quote(words);
  } catch {
    // Not JSON: the status says enough.
  }
  return `HTTP ${status}`;
}

export function createPayoneerPayees(options: PayoneerOptions): PayoneerPayees {
  const opts = readOptions(PayoneerOptionsSchema, options, 'Payoneer');
  const urls = PAYONEER_URLS[opts.environment];
  const program = `${(opts.baseUrl ?? urls.api).replace(/\/+$/, '')}/v4/programs/${opts.programId}`;
  const basic = Buffer.from(`${opts.clientId}:${opts.clientSecret}`).toString('base64');

  // A new application token per call: links are asked for rarely, so a cache would buy nothing.
  async function token(): Promise<string> {
    const answer = await exchange(
      'payoneer',
      'token request',
      opts.tokenUrl ?? urls.token,
      {
        method: 'POST',
        headers: {
          Authorization: `Basic ${basic}`,
          Accept: 'application/json',
          'Content-Type': 'application/x-www-form-urlencoded',
        },
        body: 'grant_type=client_credentials&scope=read%20write',
      },
      opts.timeoutMs,
    );
    if (answer.status !== 200) {
      throw new PayoutUnavailable(
        'payoneer',
        `Payoneer refused our client credentials (HTTP ${answer.status})`,
      );
    }
    return read(answer.text, TokenSchema, 'the token request').access_token;
  }

  async function call(what: string, method: 'GET' | 'POST', path: string, body?: object) {
    return exchange(
      'payoneer',
      what,
      `${program}${path}`,
      {
        method,
        headers: {
          Authorization: `Bearer ${await token()}`,
          Accept: 'application/json',
          ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      },
      opts.timeoutMs,
    );
  }

  async function registrationLink({ payeeId, redirectUrl }: { payeeId: string; redirectUrl: string }) {
    const answer = await call('registration link', 'POST', '/payees/registration-link', {
      payee_id: payeeId,
      redirect_url: redirectUrl,
    });
    if (answer.status !== 200 && answer.status !== 201) {
      throw new PayoutUnavailable(
        'payoneer',
        `registration link: Payoneer refused (${reason(answer.text, answer.status)})`,
      );
    }
    return parseRegistrationLink(answer.text);
  }

  async function isActive(payeeId: string): Promise<boolean> {
    const answer = await call('payee status', 'GET', `/payees/${encodeURIComponent(payeeId)}/status`);
    // Not found: the member has not registered yet.
    if (answer.status === 404) return false;
    if (answer.status !== 200) {
      throw new PayoutUnavailable(
        'payoneer',
        `payee status: Payoneer refused (${reason(answer.text, answer.status)})`,
      );
    }
    return parsePayeeActive(answer.text);
  }

  return { registrationLink, isActive };
}
