// Engine configuration: defaults, then a JSON file (TILLBACK_ENGINE_CONFIG or --config), then
// environment variables, validated by zod with messages that name the setting to fix.
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { dirname } from 'node:path';
import { z } from 'zod';
import { CodeDeliverySchema } from './code-delivery.ts';
import { NoebsOptionsSchema } from './payouts/noebs.ts';
import { PayoneerOptionsSchema } from './payouts/payoneer.ts';
import { PayPalOptionsSchema } from './payouts/paypal.ts';
import { PAYOUT_PROVIDERS, providerRoutes } from './payouts/providers.ts';
import { TipaltiOptionsSchema } from './payouts/tipalti.ts';
import { isAddressRange, WebhookUrl } from './webhooks/address-policy.ts';

const signingSecret = z.string().min(32, 'a webhook signing secret needs at least 32 characters');
/** [current, previous?]: during a rotation both sign, so receivers may switch at their own pace. */
const signingSecrets = z
  .array(signingSecret)
  .min(1, 'give the current secret')
  .max(2, 'at most two secrets: the current one and, while rotating, the previous one');

const webhookSettings = z
  .object({
    /** Signs deliveries to per-event targets (seed 000 providers, seed 001 callers); generated if absent. */
    secrets: signingSecrets.optional(),
    /** Receive every event in the native body, each signed with its own secrets. */
    subscribers: z.array(z.object({ url: WebhookUrl, secrets: signingSecrets }).strict()).default([]),
    /** Loopback, private, link-local and unique-local endpoints are refused unless inside one of these. */
    allowPrivateNetworks: z
      .array(z.string().refine(isAddressRange, 'an address range such as "127.0.0.0/8" or "::1/128"'))
      .default([]),
    /** Per attempt: connect, send, and the receiver's answer. */
    timeoutMs: z.coerce.number().int().min(100).max(120_000).default(10_000),
    /** Deliveries in flight at once. */
    concurrency: z.coerce.number().int().min(1).max(256).default(16),
    /** How often due retries are looked for (new events are sent at once, not on this timer). */
    pollIntervalMs: z.coerce.number().int().min(10).max(60_000).default(1000),
    /** Retry delays double from the base up to the cap, with jitter... */
    retryBaseSeconds: z.coerce.number().int().min(1).default(10),
    retryMaxSeconds: z.coerce.number().int().min(1).default(3600),
    /** ...for this long after the event (or a re-send); then the delivery is marked failed. */
    retryWindowHours: z.coerce.number().int().min(72, 'retries last at least 72 hours').default(72),
  })
  .strict()
  .refine((w) => w.retryMaxSeconds >= w.retryBaseSeconds, {
    error: 'retryMaxSeconds must be at least retryBaseSeconds',
    path: ['retryMaxSeconds'],
  });

/** postgres:// or postgresql://, as libpq and node-postgres take them. */
export const isPostgresUrl = (text: string): boolean => /^postgres(ql)?:\/\/./.test(text);

const decimalRate = z.string().regex(/^\d+(\.\d+)?$/, 'a rate is exact decimal text such as "0.04"');

export const EngineConfigSchema = z
  .object({
    host: z.string().min(1).default('127.0.0.1'),
    port: z.coerce.number().int().min(0).max(65535).default(8080),
    /** Base URL clients use to reach this engine (printed, and used in links). */
    publicUrl: z.url().optional(),
    /**
     * HTTPS: a PEM certificate (chain) and its key, read at start. Card numbers cross a network only
     * over TLS: the claim page offers card entry off this machine only over HTTPS.
     */
    tls: z
      .object({ certFile: z.string().min(1), keyFile: z.string().min(1) })
      .strict()
      .optional(),
    /**
     * Behind a TLS proxy: trust its X-Forwarded-Proto/-For. `true` trusts any hop (only when nothing else
     * can reach the engine); better, the proxy's addresses or CIDRs. Default: trust nothing.
     */
    trustProxy: z.union([z.boolean(), z.array(z.string().min(1)).min(1)]).default(false),
    /**
     * The store: a SQLite file (`path`, the default, embedded in a till), or a PostgreSQL database
     * (`url`) that several engine processes share. Setting `url` chooses PostgreSQL; `replicaUrl` adds
     * a streaming read replica of it that serves the reads that may lag (the chain report).
     */
    db: z
      .object({
        path: z
          .string()
          .min(1)
          .refine((p) => !isPostgresUrl(p), 'a postgres:// URL goes in db.url (TILLBACK_DB_URL), not db.path')
          .default('data/engine.sqlite'),
        synchronous: z.enum(['FULL', 'NORMAL']).default('FULL'),
        url: z
          .string()
          .refine(isPostgresUrl, 'a PostgreSQL connection URL: postgres://user:password@host:5432/database')
          .optional(),
        /** A hot standby of `url` (read-only, never migrated): the chain report reads there. */
        replicaUrl: z
          .string()
          .refine(isPostgresUrl, 'a PostgreSQL connection URL: postgres://user:password@host:5432/database')
          .optional(),
        /** Connections each engine process keeps to PostgreSQL (to the primary, and as many to a replica). */
        poolSize: z.coerce.number().int().min(1).max(1000).default(10),
      })
      .refine((db) => db.replicaUrl === undefined || db.url !== undefined, {
        error: 'a read replica is a copy of a PostgreSQL primary: set db.url (TILLBACK_DB_URL, --db) too',
        path: ['replicaUrl'],
      })
      .prefault({}),
    /** Where generated secrets are kept when not given (created at first start, mode 0600). */
    secretsFile: z.string().min(1).default('data/engine-secrets.json'),
    secrets: z
      .object({
        cardHashKey: z.string().min(32, 'cardHashKey needs at least 32 characters').optional(),
        memberTokenKey: z.string().min(32, 'memberTokenKey needs at least 32 characters').optional(),
        /** Seals card credentials at rest (AES-256-GCM); losing it makes stored cards unreadable. */
        credentialsKey: z.string().min(32, 'credentialsKey needs at least 32 characters').optional(),
        /**
         * Base derivation keys for encrypted PIN blocks from PIN pads: TDES DUKPT (X9.24-1, a
         * double-length key) for ISO 9564 format 0, AES-128 DUKPT (X9.24-3) for format 4. Only ever
         * configured (never generated nor written to the secrets file); without one, blocks of that
         * format are refused.
         */
        pinBdk: z
          .string()
          .regex(/^[0-9a-fA-F]{32}$/, 'pinBdk is a TDES DUKPT BDK: 32 hex digits (a double-length key)')
          .optional(),
        pinAesBdk: z
          .string()
          .regex(/^[0-9a-fA-F]{32}$/, 'pinAesBdk is an AES-128 DUKPT BDK: 32 hex digits')
          .optional(),
      })
      .prefault({}),
    logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    bodyLimitBytes: z.coerce.number().int().min(1024).max(10_485_760).default(65_536),
    /** Requests per minute for unknown clients; each app has its own limit. */
    defaultRateLimitPerMinute: z.coerce.number().int().min(1).default(600),
    memberTokenTtlSeconds: z.coerce.number().int().min(60).default(900),
    otpTtlSeconds: z.coerce.number().int().min(30).default(300),
    pinMaxFailures: z.coerce.number().int().min(1).default(5),
    pinLockSeconds: z.coerce.number().int().min(1).default(900),
    idempotencyRetentionDays: z.coerce.number().int().min(1).default(30),
    textcoinClaimDays: z.coerce.number().int().min(1).default(7),
    /** How often matured/expired cashback and unclaimed textcoins are settled. */
    sweepIntervalSeconds: z.coerce.number().int().min(1).default(60),
    /** How one-time codes reach members (engine/code-delivery.ts). */
    codes: CodeDeliverySchema.prefault({}),
    claims: z
      .object({
        /** How long a cashout claim may be opened and submitted. */
        ttlSeconds: z.coerce
          .number()
          .int()
          .min(60)
          .default(7 * 86_400),
      })
      .prefault({}),
    payouts: z
      .object({
        /** The sandbox provider's answer delay, to see the claim page's live status move. */
        sandboxLatencyMs: z.coerce.number().int().min(0).max(60_000).default(0),
        /** A provider that cannot be reached is retried after this, doubling up to the maximum. */
        retryBaseMs: z.coerce.number().int().min(1).default(1_000),
        retryMaxMs: z.coerce.number().int().min(1).default(3_600_000),
        /** How often a payout the provider is still processing is asked about again. */
        pollIntervalMs: z.coerce.number().int().min(1).default(5_000),
        /**
         * How long a payout one engine took stays invisible to the other engines on a shared
         * PostgreSQL database while it calls the provider; after it, an engine that died holding it
         * no longer holds it up. Must outlast a provider call (checked below).
         */
        leaseSeconds: z.coerce.number().int().positive().default(300),
        /**
         * Who pays: one provider for every method it can pay, or a provider per method kind
         * (`{"paypal": "paypal", "card": "noebs", "au_bank": "sandbox"}`). Claims offer only the
         * methods chosen here.
         */
        provider: z
          .union(
            [
              z.enum(PAYOUT_PROVIDERS),
              z
                .partialRecord(z.enum(['card', 'au_bank', 'payid', 'paypal']), z.enum(PAYOUT_PROVIDERS))
                .refine((r) => Object.keys(r).length > 0, 'name a provider for at least one method'),
            ],
            {
              error: `one of ${PAYOUT_PROVIDERS.join(', ')}, or a provider per method kind (card, au_bank, payid, paypal)`,
            },
          )
          .default('sandbox'),
        paypal: PayPalOptionsSchema.optional(),
        noebs: NoebsOptionsSchema.optional(),
        /** Payoneer payee onboarding for seed 003's /cashout/link (Payoneer pays nothing here). */
        payoneer: PayoneerOptionsSchema.optional(),
        /** Seed 003's /cashout/link creates Tipalti payees at Tipalti when set (it pays nothing). */
        tipalti: TipaltiOptionsSchema.optional(),
      })
      .superRefine((p, issue) => {
        const { problems, uses } = providerRoutes(p.provider);
        for (const problem of problems) {
          issue.addIssue({ code: 'custom', path: ['provider'], message: problem });
        }
        for (const name of ['paypal', 'noebs'] as const) {
          if (uses(name) && p[name] === undefined) {
            issue.addIssue({
              code: 'custom',
              path: [name],
              message: `the ${name} provider is chosen in payouts.provider but has no options here`,
            });
          }
        }
        // A lease that ends while its engine still waits for the provider lets another engine call
        // the provider for the same payout at the same time.
        const calls = [
          ['paypal.timeoutMs', uses('paypal') ? p.paypal?.timeoutMs : undefined],
          ['noebs.timeoutMs', uses('noebs') ? p.noebs?.timeoutMs : undefined],
          ['sandboxLatencyMs', uses('sandbox') ? p.sandboxLatencyMs : undefined],
        ] as const;
        for (const [setting, ms] of calls) {
          if (ms !== undefined && p.leaseSeconds * 1000 < ms) {
            issue.addIssue({
              code: 'custom',
              path: ['leaseSeconds'],
              message: `${p.leaseSeconds} s is shorter than payouts.${setting} (${ms} ms), the provider call the lease must outlast`,
            });
          }
        }
      })
      .prefault({}),
    webhooks: webhookSettings.prefault({}),
    rates: z
      .record(z.string().regex(/^[A-Z]{3,5}:[A-Z]{3,5}$/, 'rate keys look like "USD:GBYTE"'), decimalRate)
      .default({}),
  })
  .strict();

export type EngineConfig = z.infer<typeof EngineConfigSchema>;
export type EngineConfigInput = z.input<typeof EngineConfigSchema>;

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** `trustProxy` from a variable: "true", "false", or the proxy's addresses/CIDRs separated by commas. */
export const trustProxyFromText = (v: string): EngineConfigInput['trustProxy'] =>
  v === 'true' ? true : v === 'false' ? false : v.split(',').map((a) => a.trim());

const env: Record<string, (v: string) => [string[], unknown]> = {
  TILLBACK_ENGINE_HOST: (v) => [['host'], v],
  TILLBACK_ENGINE_PORT: (v) => [['port'], v],
  TILLBACK_ENGINE_URL: (v) => [['publicUrl'], v],
  TILLBACK_TLS_CERT_FILE: (v) => [['tls', 'certFile'], v],
  TILLBACK_TLS_KEY_FILE: (v) => [['tls', 'keyFile'], v],
  TILLBACK_TRUST_PROXY: (v) => [['trustProxy'], trustProxyFromText(v)],
  TILLBACK_DB: (v) => [['db', 'path'], v],
  TILLBACK_DB_SYNCHRONOUS: (v) => [['db', 'synchronous'], v],
  TILLBACK_DB_URL: (v) => [['db', 'url'], v],
  TILLBACK_DB_REPLICA_URL: (v) => [['db', 'replicaUrl'], v],
  TILLBACK_DB_POOL_SIZE: (v) => [['db', 'poolSize'], v],
  TILLBACK_CARD_HASH_KEY: (v) => [['secrets', 'cardHashKey'], v],
  TILLBACK_MEMBER_TOKEN_KEY: (v) => [['secrets', 'memberTokenKey'], v],
  TILLBACK_CREDENTIALS_KEY: (v) => [['secrets', 'credentialsKey'], v],
  TILLBACK_PIN_BDK: (v) => [['secrets', 'pinBdk'], v],
  TILLBACK_PIN_AES_BDK: (v) => [['secrets', 'pinAesBdk'], v],
  TILLBACK_LOG_LEVEL: (v) => [['logLevel'], v],
  TILLBACK_CODES_GATEWAY_URL: (v) => [['codes', 'gatewayUrl'], v],
  TILLBACK_CODES_AUTHORIZATION: (v) => [['codes', 'authorization'], v],
  TILLBACK_PAYOUT_PROVIDER: (v) => [['payouts', 'provider'], v],
  // Provider secrets may stay out of the config file.
  TILLBACK_PAYPAL_CLIENT_SECRET: (v) => [['payouts', 'paypal', 'clientSecret'], v],
  TILLBACK_NOEBS_AUTHORIZATION: (v) => [['payouts', 'noebs', 'authorization'], v],
  TILLBACK_PAYONEER_CLIENT_SECRET: (v) => [['payouts', 'payoneer', 'clientSecret'], v],
  TILLBACK_TIPALTI_MASTER_KEY: (v) => [['payouts', 'tipalti', 'masterKey'], v],
};

/** Sets `value` at `path` inside `target`, creating the objects on the way (env overrides). */
export function setPath(target: Record<string, unknown>, path: string[], value: unknown) {
  const last = path.at(-1) ?? '';
  let node = target;
  for (const key of path.slice(0, -1)) node = (node[key] ??= {}) as Record<string, unknown>;
  node[last] = value;
}

/** Reads the configuration; throws ConfigError with every problem listed. */
export function loadEngineConfig(
  options: { file?: string | undefined; environment?: NodeJS.ProcessEnv; overrides?: EngineConfigInput } = {},
): EngineConfig {
  const environment = options.environment ?? process.env;
  const file = options.file ?? environment['TILLBACK_ENGINE_CONFIG'];
  let raw: Record<string, unknown> = {};
  if (file) {
    if (!existsSync(file)) throw new ConfigError(`Config file ${file} does not exist`);
    try {
      raw = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    } catch (error) {
      throw new ConfigError(`Config file ${file} is not valid JSON: ${(error as Error).message}`);
    }
  }
  for (const [name, apply] of Object.entries(env)) {
    const value = environment[name];
    if (value !== undefined && value !== '') setPath(raw, ...apply(value));
  }
  raw = { ...raw, ...(options.overrides as Record<string, unknown> | undefined) };
  const parsed = EngineConfigSchema.safeParse(raw);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  - ${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new ConfigError(`Invalid engine configuration${file ? ` (${file})` : ''}:\n${lines.join('\n')}`);
  }
  return parsed.data;
}

export interface EngineSecrets {
  cardHashKey: string;
  memberTokenKey: string;
  /** Signs webhooks to per-event targets when `webhooks.secrets` is not configured. */
  webhookSecret: string;
  /** Seals card credentials at rest (AES-256-GCM). */
  credentialsKey: string;
}

/**
 * Writes a secrets file whole, readable by its owner only: a temporary file (mode 0600, fsync'd), then
 * a rename over the old one, so a crash leaves the old file or the new one, never half of either.
 * Keys in the file that the caller does not know about are the caller's to keep (read, merge, write).
 */
export function writeSecretsFile(file: string, content: object): void {
  mkdirSync(dirname(file), { recursive: true });
  const temporary = `${file}.${process.pid}.tmp`;
  rmSync(temporary, { force: true }); // a leftover would keep its own mode: the new file is made 0600
  writeFileSync(temporary, `${JSON.stringify(content, null, 2)}\n`, { mode: 0o600, flush: true });
  renameSync(temporary, file);
}

/**
 * The configured secrets, or ones generated at first start and kept in the secrets file. The file
 * holds only generated secrets: a configured one is never copied to disk.
 */
export function resolveSecrets(config: EngineConfig): EngineSecrets {
  const configured: Partial<EngineSecrets> = {
    cardHashKey: config.secrets.cardHashKey,
    memberTokenKey: config.secrets.memberTokenKey,
    webhookSecret: config.webhooks.secrets?.[0],
    credentialsKey: config.secrets.credentialsKey,
  };
  const names = ['cardHashKey', 'memberTokenKey', 'webhookSecret', 'credentialsKey'] as const;
  const missing = names.filter((name) => configured[name] === undefined);
  if (missing.length === 0) return configured as EngineSecrets;
  const stored: Partial<EngineSecrets> = existsSync(config.secretsFile)
    ? (JSON.parse(readFileSync(config.secretsFile, 'utf8')) as Partial<EngineSecrets>)
    : {};
  const generated = missing.filter((name) => stored[name] === undefined);
  for (const name of generated) stored[name] = randomBytes(32).toString('base64url');
  if (generated.length > 0) writeSecretsFile(config.secretsFile, stored);
  return {
    ...stored,
    ...Object.fromEntries(Object.entries(configured).filter(([, v]) => v)),
  } as EngineSecrets;
}
