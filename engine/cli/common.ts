// What every CLI command shares: the --db/--config/--json options, loading the configuration with
// the flags on top, opening the store, exit codes, and plain-text tables.
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import { MoneyError } from '../../contract/money.ts';
import {
  ConfigError,
  EngineConfigSchema,
  isPostgresUrl,
  loadEngineConfig,
  type EngineConfig,
  type EngineConfigInput,
} from '../config.ts';
import pg from 'pg';
import { DomainError } from '../domain/errors.ts';
import { openPostgresStore } from '../store/postgres.ts';
import { openReplicaStore } from '../store/replica.ts';
import { openSqliteStore } from '../store/sqlite.ts';
import type { Store } from '../store/store.ts';

/** Exit codes: 0 done, 1 refused or failed (domain error, ledger problems), 2 bad configuration or usage. */
export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

/** An error the CLI reports as its message alone, with the given exit code. */
export class CliError extends Error {
  override name = 'CliError';
  constructor(
    message: string,
    readonly exitCode: number = EXIT.failed,
  ) {
    super(message);
  }
}

export interface StoreFlags {
  db?: string;
  config?: string;
}

export interface JsonFlag {
  json?: boolean;
}

/** Adds --db and --config, which every command accepts. */
export function storeOptions(cmd: Command): Command {
  return cmd
    .option(
      '--db <path|url>',
      'SQLite database file, or a postgres:// URL (default: the db.url or db.path setting, data/engine.sqlite)',
    )
    .option('--config <file>', 'JSON config file (default: $TILLBACK_ENGINE_CONFIG)');
}

/** Adds --json: machine-readable output instead of the text table. */
export function jsonOption(cmd: Command): Command {
  return cmd.option('--json', 'print JSON instead of text');
}

const defaults = EngineConfigSchema.parse({});

/** The configuration: defaults, then the file, then the environment, then the command-line flags. */
export function loadCliConfig(
  flags: StoreFlags & { port?: string; host?: string; replicaDb?: string },
): EngineConfig {
  const base = loadEngineConfig({ file: flags.config });
  const overrides: EngineConfigInput = {};
  if (flags.db !== undefined && isPostgresUrl(flags.db)) {
    overrides.db = { ...base.db, url: flags.db };
  } else if (flags.db !== undefined) {
    overrides.db = { ...base.db, path: flags.db, url: undefined };
    // The card hash key belongs with the database it protects: with --db and no configured secrets
    // file, keep the generated secrets beside that database rather than in ./data.
    if (base.secretsFile === defaults.secretsFile && flags.db !== ':memory:') {
      overrides.secretsFile = join(dirname(flags.db), 'engine-secrets.json');
    }
  }
  // Validated with the rest: a replica needs a PostgreSQL primary, whichever way each was given.
  if (flags.replicaDb !== undefined)
    overrides.db = { ...(overrides.db ?? base.db), replicaUrl: flags.replicaDb };
  if (flags.port !== undefined) overrides.port = flags.port;
  if (flags.host !== undefined) overrides.host = flags.host;
  if (Object.keys(overrides).length === 0) return base;
  return loadEngineConfig({ file: flags.config, overrides });
}

export type OpenedStore = Store;

/** A connection URL for people to read: its password hidden. */
function withoutPassword(text: string): string {
  const url = new URL(text);
  if (url.password) url.password = '***';
  return url.href;
}

/** The configured database for people to read: the file, or the URL without its password. */
export function describeDatabase(db: EngineConfig['db']): string {
  if (db.url === undefined) return `${db.path} (synchronous=${db.synchronous})`;
  return `${withoutPassword(db.url)} (PostgreSQL, ${db.poolSize} connections)`;
}

/** The configured read replica for people to read, or undefined without one. */
export function describeReplica(db: EngineConfig['db']): string | undefined {
  return db.replicaUrl === undefined
    ? undefined
    : `${withoutPassword(db.replicaUrl)} (read replica, reports)`;
}

/**
 * Opens the configured store: PostgreSQL when `db.url` is set (the database must exist; migrations
 * are applied), else the SQLite file. For SQLite, commands that create things create the database
 * (and its folder); commands that only read refuse a missing one, so a mistyped path does not leave
 * an empty database behind.
 */
export async function openStore(config: EngineConfig, mode: 'create' | 'existing'): Promise<OpenedStore> {
  if (config.db.url !== undefined) {
    try {
      return await openPostgresStore({ url: config.db.url, poolSize: config.db.poolSize });
    } catch (error) {
      // No server, no such database, refused credentials: said plainly, with the URL's password hidden.
      throw new CliError(`cannot open ${describeDatabase(config.db)}: ${(error as Error).message}`);
    }
  }
  const path = config.db.path;
  if (path !== ':memory:' && !existsSync(path)) {
    if (mode === 'existing') {
      throw new ConfigError(
        `No database at ${path}: start the engine once (npm run engine -- serve), create something first, or pass --db`,
      );
    }
    mkdirSync(dirname(path), { recursive: true });
  }
  return openSqliteStore({ path, synchronous: config.db.synchronous });
}

/**
 * The configured read replica (`db.replicaUrl`), or undefined. Nothing is connected yet: an engine whose
 * replica is down starts, and its reports answer 503 until the replica is back (store/replica.ts).
 */
export async function openReplica(config: EngineConfig): Promise<OpenedStore | undefined> {
  if (config.db.replicaUrl === undefined) return undefined;
  return openReplicaStore({ url: config.db.replicaUrl, poolSize: config.db.poolSize });
}

/** Loads the configuration, opens the store, runs the work and closes the store, whatever happens. */
export async function withStore<T>(
  flags: StoreFlags,
  mode: 'create' | 'existing',
  work: (store: OpenedStore, config: EngineConfig) => Promise<T>,
): Promise<T> {
  const config = loadCliConfig(flags);
  const { url, path } = config.db;
  const fresh = mode === 'create' && url === undefined && path !== ':memory:' && !existsSync(path);
  const store = await openStore(config, mode);
  // Said, because a chain's admin who forgot TILLBACK_DB_URL in a new terminal would otherwise get a
  // working-looking "Created app" in a file no engine of theirs reads.
  if (fresh) {
    process.stderr.write(
      `Created a new SQLite database at ${path} (for PostgreSQL, set TILLBACK_DB_URL or pass --db postgres://...)\n`,
    );
  }
  try {
    return await work(store, config);
  } finally {
    await store.close();
  }
}

// ------------------------------------------------------------------------------------ errors

/** Prints an error the way the CLI reports it and returns the exit code. */
export function reportError(
  error: unknown,
  write: (text: string) => void = (t) => process.stderr.write(t),
): number {
  if (error instanceof ConfigError) {
    write(`${error.message}\n`);
    return EXIT.usage;
  }
  if (error instanceof CliError) {
    write(`error: ${error.message}\n`);
    return error.exitCode;
  }
  if (error instanceof DomainError || error instanceof MoneyError) {
    write(`error: ${error.message}\n`);
    return EXIT.failed;
  }
  if ((error instanceof Error && error.name === 'SqliteError') || error instanceof pg.DatabaseError) {
    write(`error: database: ${error.message}\n`);
    return EXIT.failed;
  }
  // Anything else is a bug: keep the stack.
  write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  return EXIT.failed;
}

// ---------------------------------------------------------------------------------- parsing

/** A commander option parser for whole numbers of at least `min`. */
export function wholeNumber(min: number) {
  return (value: string): number => {
    if (!/^\d+$/.test(value) || !Number.isSafeInteger(Number(value)) || Number(value) < min) {
      throw new InvalidArgumentError(`Expected a whole number of at least ${min}.`);
    }
    return Number(value);
  };
}

/** Parses one option's value; a money or percentage error names the option. */
export function parseOption<T>(flag: string, parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    if (error instanceof MoneyError) throw new CliError(`${flag}: ${error.message}`);
    throw error;
  }
}

/** "a,b c" -> ["a", "b", "c"]. */
export const splitList = (value: string): string[] =>
  value
    .split(/[\s,]+/)
    .map((s) => s.trim())
    .filter(Boolean);

// ----------------------------------------------------------------------------------- output

export const print = (text = ''): void => {
  process.stdout.write(`${text}\n`);
};

export const printJson = (value: unknown): void => print(JSON.stringify(value, null, 2));

/** "2026-01-15 10:30" in UTC: short, sortable, unambiguous. */
export const shortTime = (ms: number): string => new Date(ms).toISOString().slice(0, 16).replace('T', ' ');

export const isoTime = (ms: number | null): string | null =>
  ms === null ? null : new Date(ms).toISOString();

export interface Column {
  header: string;
  align?: 'left' | 'right';
}

/** An aligned plain-text table: a header row, then one line per row, columns two spaces apart. */
export function table(columns: (Column | string)[], rows: string[][]): string {
  const cols = columns.map((c) => (typeof c === 'string' ? { header: c } : c));
  const widths = cols.map((c, i) => Math.max(c.header.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cols
      .map((c, i) => {
        const cell = cells[i] ?? '';
        const width = widths[i] ?? 0;
        return c.align === 'right' ? cell.padStart(width) : cell.padEnd(width);
      })
      .join('  ')
      .trimEnd();
  return [line(cols.map((c) => c.header)), ...rows.map(line)].join('\n');
}

/** Labelled lines ("Label:  value") with the values aligned. */
export function fields(pairs: [string, string][], indent = '  '): string {
  const width = Math.max(...pairs.map(([label]) => label.length)) + 1;
  return pairs.map(([label, value]) => `${indent}${`${label}:`.padEnd(width)}  ${value}`).join('\n');
}
