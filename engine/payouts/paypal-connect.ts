// "Log in with PayPal" (formerly Connect with PayPal): how a member links the PayPal account seed 003's
// cashouts pay. The member follows the authorize URL, signs in at PayPal, and PayPal sends the browser
// back to our callback with a one-time `code` and our `state`; we exchange the code for the member's
// access token and read their confirmed email, the receiver of their payouts.
//
// Sources (developer.paypal.com):
// - Build button (log-in/build-button): the authorize URL
//   `https://www.paypal.com/signin/authorize?flowEntry=static&client_id=...&scope=...&redirect_uri=...`
//   (www.sandbox.paypal.com for sandbox apps), scopes space-separated and including `openid`; `email`
//   gives the email address (log-in-with-paypal/integrate/reference: scope attributes). The return URL
//   must match the one set for the app. `response_type=code` and `state` are OAuth2's (RFC 6749 4.1.1):
//   PayPal returns `state` unchanged with the code.
// - Token: POST /v1/oauth2/token, HTTP Basic client_id:secret, `grant_type=authorization_code&code=...`
//   answers `{access_token, token_type: "Bearer", expires_in, refresh_token, ...}`; a code that is
//   wrong, used or expired answers 400 `{error: "invalid_grant", error_description}` (RFC 6749 5.2).
// - User info (api/identity/v1): GET /v1/identity/oauth2/userinfo?schema=paypalv1.1 with the member's
//   bearer token answers `{user_id, name, emails: [{value, primary, confirmed}], verified_account, ...}`.
import { z } from 'zod';
import { exchange, quote } from './http.ts';
import { readOptions } from './options.ts';
import {
  PAYPAL_AUTHORIZE_URLS,
  PayPalOptionsSchema,
  paypalBaseUrl,
  readJson,
  requestPayPalToken,
  type PayPalOptions,
} from './paypal.ts';

export const PAYPAL_CONNECT_SCOPE = 'openid email';

/** PayPal answered, and the answer is no: the code was refused, or the account has no confirmed email. */
export class PayPalLinkRefused extends Error {
  override name = 'PayPalLinkRefused';
}

export interface PayPalConnect {
  /** The URL the member follows to sign in at PayPal; PayPal comes back to `redirectUri`. */
  authorizeUrl(input: { state: string; redirectUri: string }): string;
  /**
   * The confirmed email of the PayPal account that signed in and gave us `code`. Throws
   * `PayPalLinkRefused` for a refusal, `PayoutUnavailable` when PayPal could not be asked or read.
   */
  verifiedEmail(input: { code: string; redirectUri: string }): Promise<string>;
}

const TokenSchema = z.object({
  access_token: z.string().min(1),
  token_type: z.string().regex(/^bearer$/i),
});

const OAuthErrorSchema = z.object({ error: z.string(), error_description: z.string().optional() });

const UserInfoSchema = z.object({
  emails: z
    .array(
      z.object({
        value: z.string(),
        primary: z.boolean().optional(),
        confirmed: z.boolean().optional(),
      }),
    )
    .optional(),
});

/**
 * The email a userinfo answer gives us to pay: the primary address when it is confirmed (that is where
 * PayPal delivers payouts to the account), else another confirmed one. None is `PayPalLinkRefused`.
 */
export function parseUserInfo(text: string): string {
  const confirmed = (readJson(text, UserInfoSchema, 'the user info').emails ?? []).filter(
    (e) => e.confirmed === true && z.email().safeParse(e.value).success,
  );
  const email = (confirmed.find((e) => e.primary === true) ?? confirmed[0])?.value;
  if (email === undefined) {
    throw new PayPalLinkRefused('This PayPal account has no confirmed email address to pay to');
  }
  return email;
}

export function createPayPalConnect(options: PayPalOptions): PayPalConnect {
  const opts = readOptions(PayPalOptionsSchema, options, 'PayPal');
  const base = paypalBaseUrl(opts);
  const authorize = opts.authorizeUrl ?? PAYPAL_AUTHORIZE_URLS[opts.environment];
  const basic = Buffer.from(`${opts.clientId}:${opts.clientSecret}`).toString('base64');

  function authorizeUrl({ state, redirectUri }: { state: string; redirectUri: string }): string {
    const url = new URL(authorize);
    url.search = new URLSearchParams({
      flowEntry: 'static',
      client_id: opts.clientId,
      response_type: 'code',
      scope: PAYPAL_CONNECT_SCOPE,
      redirect_uri: redirectUri,
      state,
    }).toString();
    return url.toString();
  }

  async function memberToken(code: string, redirectUri: string): Promise<string> {
    const answer = await requestPayPalToken(
      { base, basic, timeoutMs: opts.timeoutMs },
      'account link',
      new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: redirectUri }),
    );
    if (answer.status !== 200) {
      let reason = `HTTP ${answer.status}`;
      try {
        const parsed = OAuthErrorSchema.safeParse(JSON.parse(answer.text));
        if (parsed.success) reason = quote(parsed.data.error_description ?? parsed.data.error);
      } catch {
        // Not JSON: the status says enough.
      }
      throw new PayPalLinkRefused(`PayPal refused the sign-in (${reason}); start linking again`);
    }
    return readJson(answer.text, TokenSchema, 'the account link').access_token;
  }

  async function verifiedEmail({ code, redirectUri }: { code: string; redirectUri: string }) {
    const token = await memberToken(code, redirectUri);
    const answer = await exchange(
      'paypal',
      'account link user info',
      `${base}/v1/identity/oauth2/userinfo?schema=paypalv1.1`,
      { method: 'GET', headers: { Authorization: `Bearer ${token}`, Accept: 'application/json' } },
      opts.timeoutMs,
    );
    if (answer.status !== 200) {
      throw new PayPalLinkRefused(`PayPal did not show the account's details (HTTP ${answer.status})`);
    }
    return parseUserInfo(answer.text);
  }

  return { authorizeUrl, verifiedEmail };
}
