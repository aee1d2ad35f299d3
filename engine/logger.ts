// pino options for the engine. Card, PIN and key fields are redacted wherever they appear in a
// logged object (top level, or one or two levels down), so a careless log line cannot leak them.
import type { LoggerOptions } from 'pino';
import { isValidPan } from '../contract/card.ts';

const secretFields = [
  'pan',
  'pin',
  'ipin',
  'track1',
  'track2',
  'track',
  'cvv',
  'expDate',
  // The claim page's card method: { kind: 'card', number, expiry }.
  'number',
  'expiry',
  'pin_block',
  'pinBlock',
  // PIN-block base derivation keys (secrets.pinBdk, secrets.pinAesBdk), should a config be logged.
  'pinBdk',
  'pinAesBdk',
  // Seed 001's callback credential, as the caller sends it and as a withdrawal echoes it.
  'authorization_headers',
  'authorization_header',
  'partner_key',
  'secret',
  'secret_key',
  'api_key',
  'apiKey',
  'password',
  'token',
  // Payout provider settings: PayPal's app secret and tokens, noebs' gateway credentials.
  'clientSecret',
  'client_secret',
  'access_token',
  'authorization',
  // Tipalti's master key, and a Tipalti payee's tax details (seed 003's /cashout/link).
  'masterKey',
  'taxDetails',
];
const secretHeaders = [
  'x-api-key',
  'secret-key',
  'authorization',
  'x-member-token',
  'cookie',
  'idempotency-key',
];

export const redactPaths = [
  ...secretFields.flatMap((f) => [f, `*.${f}`, `*.*.${f}`]),
  ...secretHeaders.flatMap((h) => [`req.headers["${h}"]`, `headers["${h}"]`]),
];

/** Query parameters that carry one-time secrets: an OAuth code and state (PayPal's link callback). */
const secretQueryParams = new Set(['code', 'state', 'token', 'pan']);

/**
 * A query value that is a card number, whatever its parameter is called (no route takes one, but a
 * till that sends one by mistake must not put it in the log): a Luhn-valid 12 to 19 digits once
 * spaces and dashes are taken out.
 */
const holdsPan = (value: string) => isValidPan(value.replace(/[\s-]/g, ''));

/** The URL as it may be logged: the values of secret query parameters, and card numbers, replaced. */
export function redactUrl(url: string): string {
  const q = url.indexOf('?');
  if (q < 0) return url;
  const params = new URLSearchParams(url.slice(q + 1));
  const secret = new Set(
    [...params].filter(([k, v]) => secretQueryParams.has(k) || holdsPan(v)).map(([k]) => k),
  );
  if (secret.size === 0) return url;
  for (const k of secret) params.set(k, '[redacted]');
  return `${url.slice(0, q)}?${params.toString()}`;
}

interface LoggedRequest {
  method: string;
  url: string;
  host?: string;
  ip?: string;
  headers?: Record<string, string | string[] | undefined>;
  socket?: { remotePort?: number; remoteAddress?: string };
}

const isRequest = (v: unknown): v is LoggedRequest =>
  typeof v === 'object' &&
  v !== null &&
  typeof (v as LoggedRequest).method === 'string' &&
  typeof (v as LoggedRequest).url === 'string';

/**
 * Fastify's request log line (its default fields: method, url, version, host, remote address and
 * port), with the URL redacted. Anything else logged under `req` (a plain object) passes through to
 * the path-based redaction above.
 */
function requestSerializer(req: unknown): unknown {
  if (!isRequest(req)) return req;
  return {
    method: req.method,
    url: redactUrl(req.url),
    version: req.headers?.['accept-version'],
    host: req.host,
    remoteAddress: req.ip ?? req.socket?.remoteAddress,
    remotePort: req.socket?.remotePort,
  };
}

export function loggerOptions(level: string): LoggerOptions {
  return {
    level,
    redact: { paths: redactPaths, censor: '[redacted]' },
    serializers: { req: requestSerializer },
  };
}
