// pino options for the engine. Card, PIN and key fields are redacted wherever they appear in a
// logged object (top level, or one or two levels down), so a careless log line cannot leak them.
import type { LoggerOptions } from 'pino';

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

export function loggerOptions(level: string): LoggerOptions {
  return { level, redact: { paths: redactPaths, censor: '[redacted]' } };
}
