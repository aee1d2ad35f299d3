// Engine configuration: defaults, then a JSON file (TILLBACK_ENGINE_CONFIG or --config), then
// environment variables, validated by zod with messages that name the setting to fix.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { dirname } from 'node:path';
import { z } from 'zod';

const decimalRate = z.string().regex(/^\d+(\.\d+)?$/, 'a rate is exact decimal text such as "0.04"');

export const EngineConfigSchema = z
  .object({
    host: z.string().min(1).default('127.0.0.1'),
    port: z.coerce.number().int().min(0).max(65535).default(8080),
    /** Base URL clients use to reach this engine (printed, and used in links). */
    publicUrl: z.url().optional(),
    db: z
      .object({
        path: z.string().min(1).default('data/engine.sqlite'),
        synchronous: z.enum(['FULL', 'NORMAL']).default('FULL'),
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
      })
      .prefault({}),
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

const env: Record<string, (v: string) => [string[], unknown]> = {
  TILLBACK_ENGINE_HOST: (v) => [['host'], v],
  TILLBACK_ENGINE_PORT: (v) => [['port'], v],
  TILLBACK_ENGINE_URL: (v) => [['publicUrl'], v],
  TILLBACK_DB: (v) => [['db', 'path'], v],
  TILLBACK_DB_SYNCHRONOUS: (v) => [['db', 'synchronous'], v],
  TILLBACK_CARD_HASH_KEY: (v) => [['secrets', 'cardHashKey'], v],
  TILLBACK_MEMBER_TOKEN_KEY: (v) => [['secrets', 'memberTokenKey'], v],
  TILLBACK_CREDENTIALS_KEY: (v) => [['secrets', 'credentialsKey'], v],
  TILLBACK_LOG_LEVEL: (v) => [['logLevel'], v],
};

function setPath(target: Record<string, unknown>, path: string[], value: unknown) {
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
  credentialsKey: string;
}

const SECRET_NAMES = ['cardHashKey', 'memberTokenKey', 'credentialsKey'] as const;

/** The configured secrets, or ones generated at first start and kept in the secrets file. */
export function resolveSecrets(config: EngineConfig): EngineSecrets {
  const configured = config.secrets;
  if (SECRET_NAMES.every((name) => configured[name])) return configured as EngineSecrets;
  let stored: Partial<EngineSecrets> = {};
  if (existsSync(config.secretsFile))
    stored = JSON.parse(readFileSync(config.secretsFile, 'utf8')) as EngineSecrets;
  const secrets = Object.fromEntries(
    SECRET_NAMES.map((name) => [
      name,
      configured[name] ?? stored[name] ?? randomBytes(32).toString('base64url'),
    ]),
  ) as unknown as EngineSecrets;
  if (SECRET_NAMES.some((name) => stored[name] !== secrets[name])) {
    mkdirSync(dirname(config.secretsFile), { recursive: true });
    writeFileSync(config.secretsFile, JSON.stringify(secrets, null, 2), { mode: 0o600 });
  }
  return secrets;
}
