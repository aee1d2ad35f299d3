// The till core's configuration: one zod schema, read from a JSON file (`--config` or
// TILLBACK_TILL_CONFIG), then environment variables (TILLBACK_TILL_*), then the caller's overrides (the
// command line). Every problem is reported with the setting's path, and the variable it came from.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isLocale } from '../contract/intl-format.ts';
import { isTimeZone } from './history/days.ts';
import { z } from 'zod';
import { EngineConfigSchema, setPath, trustProxyFromText } from '../engine/config.ts';
import { LocalApiConfigSchema } from './api/config.ts';
import { OfflineLimitsSchema, OutboxConfigSchema } from './outbox/config.ts';

export const SIMULATE_MODES = ['auto', 'always', 'never'] as const;
export type SimulateMode = (typeof SIMULATE_MODES)[number];

const port = z.number().int().min(0).max(65_535);
/** Addresses meaning "every interface". */
const WILDCARD_HOSTS = ['0.0.0.0', '::'];

export const TillConfigSchema = z
  .object({
    /** The till's files: its outbox, the embedded engine's database, till-secrets.json, logs, devices. */
    dataDir: z.string().min(1).default('data/till'),
    /**
     * Without `url`: the embedded engine (SQLite in dataDir, on `listen`: loopback and any free port by
     * default). With `url`: a central engine, which needs this till's app credentials and the chain's
     * tokenization key.
     */
    engine: z
      .object({
        /** Where the embedded engine listens: a LAN address or 0.0.0.0 lets customers' phones reach it. */
        listen: z
          .object({ host: z.string().min(1).default('127.0.0.1'), port: port.default(0) })
          .strict()
          .prefault({}),
        /**
         * The embedded engine's URL as phones reach it (claim URLs and their QR codes start with it),
         * e.g. https://till-3.shop.example or http://192.168.1.20:8080. Default: where it listens.
         */
        publicUrl: z.url({ protocol: /^https?$/ }).optional(),
        /** The embedded engine's HTTPS certificate and key (engine/config.ts `tls`). */
        tls: EngineConfigSchema.shape.tls,
        /** Behind a TLS proxy: whom to trust for X-Forwarded-Proto/-For (engine/config.ts `trustProxy`). */
        trustProxy: EngineConfigSchema.shape.trustProxy.unwrap().optional(),
        /**
         * The TDES DUKPT BDK the till's PIN pads were injected under (32 hex): the embedded engine
         * verifies their PIN blocks with it. Unset with simulated terminals allowed: the simulator's
         * public test key. Never logged.
         */
        pinBdk: z
          .string()
          .regex(/^[0-9a-fA-F]{32}$/, 'must be 32 hex digits (a double-length TDES key)')
          .optional(),
        url: z.url({ protocol: /^https?$/ }).optional(),
        appId: z.string().min(1).optional(),
        apiKey: z.string().min(1).optional(),
        /** The key of the keyed card hash (the engine's cardHashKey): shared by every till of a chain. */
        tokenizationKey: z.string().min(32, 'needs at least 32 characters').optional(),
      })
      .strict()
      .prefault({}),
    /**
     * The program earns go to. Embedded: created at the first start (currency, rate) unless `id` is
     * given; its id is kept in till-secrets.json. Central: `id` and the program's `currency` are needed.
     */
    program: z
      .object({
        id: z.number().int().positive().optional(),
        currency: z
          .string()
          .regex(/^[A-Z][A-Z0-9]{2,7}$/, 'must be an ISO 4217 code')
          .default('AUD'),
        /** The created program's cashback, in basis points (500 = 5%). */
        cashbackBps: z.number().int().min(1).max(10_000).default(500),
      })
      .strict()
      .prefault({}),
    /** The store as the screens and the claim page show it: its name, and the locale of texts and amounts. */
    store: z
      .object({
        name: z.string().trim().min(1).max(100).default('Tillback'),
        /** A BCP 47 tag: the screens' language (en, ar) and Intl's amounts and dates (en-AU: "$2.50"). */
        locale: z
          .string()
          .refine(isLocale, 'must be a BCP 47 locale such as en-AU or ar-SD')
          .default('en-AU'),
      })
      .strict()
      .prefault({}),
    /** The local API for the windows (till/api/config.ts): loopback and any free port by default. */
    api: LocalApiConfigSchema.prefault({}),
    outbox: z
      .object({
        limits: OfflineLimitsSchema.prefault({}),
        retry: OutboxConfigSchema.shape.retry,
        timeoutMs: OutboxConfigSchema.shape.timeoutMs,
        batchSize: OutboxConfigSchema.shape.batchSize,
      })
      .strict()
      .prefault({}),
    devices: z
      .object({
        /** Where the device manager reads manifests (and the simulator writes them); default dataDir/devices. */
        manifestDir: z.string().min(1).optional(),
        pollIntervalMs: z.number().int().min(50).max(60_000).default(1000),
        /**
         * Simulated terminals: `auto` when the first enumeration finds no terminal, `always`, `never`.
         * Unset, the launcher decides (browser mode: auto; startTill otherwise: never).
         */
        simulate: z.enum(SIMULATE_MODES).optional(),
      })
      .strict()
      .prefault({}),
    /** The IANA time zone of the store's days (history filters, day totals); the machine's by default. */
    timeZone: z.string().refine(isTimeZone, 'must be an IANA time zone such as Australia/Sydney').optional(),
    /** Where the engine's and the till's log files go; default dataDir/logs. */
    logDir: z.string().min(1).optional(),
    logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  })
  .strict()
  .superRefine((c, issue) => {
    const { url, appId, apiKey, tokenizationKey, listen, publicUrl, tls, trustProxy, pinBdk } = c.engine;
    if (url === undefined) {
      for (const [name, value] of Object.entries({ appId, apiKey, tokenizationKey })) {
        if (value !== undefined)
          issue.addIssue({
            code: 'custom',
            path: ['engine', name],
            message: 'only with engine.url (the embedded engine makes its own)',
          });
      }
      // On every address the engine cannot tell which one phones use: claim URLs need it said.
      if (WILDCARD_HOSTS.includes(listen.host) && publicUrl === undefined)
        issue.addIssue({
          code: 'custom',
          path: ['engine', 'publicUrl'],
          message: `needed when engine.listen.host is ${listen.host}: the URL customers' phones open claim pages at`,
        });
      return;
    }
    for (const [name, value] of Object.entries({ publicUrl, tls, trustProxy, pinBdk })) {
      if (value !== undefined)
        issue.addIssue({
          code: 'custom',
          path: ['engine', name],
          message: 'only for the embedded engine (a central engine has its own configuration)',
        });
    }
    const needed = { appId, apiKey, tokenizationKey };
    for (const [name, value] of Object.entries(needed)) {
      if (value === undefined)
        issue.addIssue({ code: 'custom', path: ['engine', name], message: 'needed with engine.url' });
    }
    if (c.program.id === undefined)
      issue.addIssue({
        code: 'custom',
        path: ['program', 'id'],
        message: "needed with engine.url: the central engine's program for this till",
      });
  });

export type TillConfig = z.infer<typeof TillConfigSchema>;
export type TillConfigInput = z.input<typeof TillConfigSchema>;

export class TillConfigError extends Error {
  override name = 'TillConfigError';
}

/** A whole number when the text is one; otherwise the text, which the schema then refuses by name. */
const number = (v: string): unknown => (/^\d+$/.test(v) ? Number(v) : v);

/** Each variable and where it goes; numbers are converted before the schema sees them. */
const ENVIRONMENT: Record<string, [string[], (v: string) => unknown]> = {
  TILLBACK_TILL_DATA_DIR: [['dataDir'], String],
  TILLBACK_TILL_ENGINE_URL: [['engine', 'url'], String],
  TILLBACK_TILL_ENGINE_HOST: [['engine', 'listen', 'host'], String],
  TILLBACK_TILL_PIN_BDK: [['engine', 'pinBdk'], String],
  TILLBACK_TILL_ENGINE_PORT: [['engine', 'listen', 'port'], number],
  TILLBACK_TILL_PUBLIC_URL: [['engine', 'publicUrl'], String],
  TILLBACK_TILL_TLS_CERT_FILE: [['engine', 'tls', 'certFile'], String],
  TILLBACK_TILL_TLS_KEY_FILE: [['engine', 'tls', 'keyFile'], String],
  TILLBACK_TILL_TRUST_PROXY: [['engine', 'trustProxy'], trustProxyFromText],
  TILLBACK_TILL_APP_ID: [['engine', 'appId'], String],
  TILLBACK_TILL_API_KEY: [['engine', 'apiKey'], String],
  TILLBACK_TILL_TOKENIZATION_KEY: [['engine', 'tokenizationKey'], String],
  TILLBACK_TILL_PROGRAM_ID: [['program', 'id'], number],
  TILLBACK_TILL_CURRENCY: [['program', 'currency'], String],
  TILLBACK_TILL_HOST: [['api', 'host'], String],
  TILLBACK_TILL_PORT: [['api', 'port'], number],
  TILLBACK_TILL_LAN_ADDRESS: [['api', 'lanAddress'], String],
  TILLBACK_TILL_MANAGER_NAME: [['api', 'firstManager', 'name'], String],
  TILLBACK_TILL_MANAGER_PIN: [['api', 'firstManager', 'pin'], String],
  TILLBACK_TILL_SIMULATE: [['devices', 'simulate'], String],
  TILLBACK_TILL_TIME_ZONE: [['timeZone'], String],
  TILLBACK_TILL_STORE_NAME: [['store', 'name'], String],
  TILLBACK_TILL_LOCALE: [['store', 'locale'], String],
  TILLBACK_TILL_LOG_DIR: [['logDir'], String],
  TILLBACK_TILL_LOG_LEVEL: [['logLevel'], String],
};
export const TILL_ENVIRONMENT_VARIABLES = Object.keys(ENVIRONMENT);

/** Deep merge of plain objects: `over` wins where it has a value; arrays and values replace. */
function merge(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out = { ...base };
  for (const [key, value] of Object.entries(over)) {
    if (value === undefined) continue; // an option not given changes nothing
    const current = out[key];
    const bothObjects = [current, value].every(
      (v) => typeof v === 'object' && v !== null && !Array.isArray(v),
    );
    out[key] = bothObjects
      ? merge(current as Record<string, unknown>, value as Record<string, unknown>)
      : value;
  }
  return out;
}

/** Reads the configuration: the file, then the environment, then `overrides` (see parseTillConfig). */
export function loadTillConfig(
  options: {
    file?: string | undefined;
    environment?: NodeJS.ProcessEnv;
    overrides?: TillConfigInput;
  } = {},
): TillConfig {
  const environment = options.environment ?? process.env;
  const file = options.file ?? environment['TILLBACK_TILL_CONFIG'];
  let raw: Record<string, unknown> = {};
  if (file) {
    if (!existsSync(file)) throw new TillConfigError(`Config file ${file} does not exist`);
    try {
      raw = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    } catch (error) {
      throw new TillConfigError(`Config file ${file} is not valid JSON: ${(error as Error).message}`);
    }
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
      throw new TillConfigError(`Config file ${file} must hold a JSON object`);
  }
  const fromVariable = new Map<string, string>();
  for (const [name, [path, convert]] of Object.entries(ENVIRONMENT)) {
    const value = environment[name];
    if (value === undefined || value === '') continue;
    setPath(raw, path, convert(value));
    fromVariable.set(path.join('.'), name);
  }
  raw = merge(raw, (options.overrides ?? {}) as Record<string, unknown>);
  return parseTillConfig(raw, { file, fromVariable });
}

/**
 * Validates a configuration (startTill's input, or what loadTillConfig gathered). Throws TillConfigError
 * listing every bad setting by its path, with the file and the variable it came from when known.
 */
export function parseTillConfig(
  raw: unknown,
  source: { file?: string | undefined; fromVariable?: ReadonlyMap<string, string> } = {},
): TillConfig {
  const parsed = TillConfigSchema.safeParse(raw);
  if (parsed.success) return parsed.data;
  const lines = parsed.error.issues.map((i) => {
    const path = i.path.join('.') || '(root)';
    const variable = source.fromVariable?.get(path);
    return `  - ${path}${variable ? ` (from ${variable})` : ''}: ${i.message}`;
  });
  const where = source.file ? ` (${source.file})` : '';
  throw new TillConfigError(`Invalid till configuration${where}:\n${lines.join('\n')}`);
}

/** The files the till keeps in its data directory. */
export function tillPaths(config: TillConfig) {
  const { dataDir } = config;
  return {
    outbox: join(dataDir, 'till.sqlite'),
    engineDb: join(dataDir, 'engine.sqlite'),
    secrets: join(dataDir, 'till-secrets.json'),
    devices: config.devices.manifestDir ?? join(dataDir, 'devices'),
    logs: config.logDir ?? join(dataDir, 'logs'),
  };
}
