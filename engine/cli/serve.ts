// `serve`: runs the engine over its store (SQLite, or PostgreSQL given a postgres:// --db, with a read
// replica for the chain report given --replica-db) until SIGINT or SIGTERM, then closes the engine
// (finishing requests in flight) and the stores. `--demo` adds a demo app and program; `--print-codes`
// prints one-time codes instead of sending them.
import type { Command } from 'commander';
import { describeCodeDelivery } from '../code-delivery.ts';
import { EngineConfigSchema, type EngineConfig } from '../config.ts';
import { demoConfig, demoNotifier, describeDemo, ensureDemoData, type DemoState } from '../demo.ts';
import type { Engine } from '../server.ts';
import {
  CliError,
  EXIT,
  loadCliConfig,
  describeDatabase,
  describeReplica,
  openReplica,
  openStore,
  print,
  storeOptions,
  type OpenedStore,
  type StoreFlags,
} from './common.ts';

interface ServeFlags extends StoreFlags {
  replicaDb?: string;
  port?: string;
  host?: string;
  demo?: boolean;
  printCodes?: boolean;
}

/** How long shutdown may take before the process gives up waiting. */
const SHUTDOWN_TIMEOUT_MS = 10_000;

/** How to run the CLI the way this process was started, for the hints we print. */
function cliCommand(config: EngineConfig): string {
  const viaNpm = process.env['npm_lifecycle_event'] !== undefined;
  // A PostgreSQL URL may hold a password: the hint names the variable instead.
  const db =
    config.db.url !== undefined
      ? ' --db "$TILLBACK_DB_URL"'
      : config.db.path === EngineConfigSchema.parse({}).db.path
        ? ''
        : ` --db ${config.db.path}`;
  return `${viaNpm ? 'npm run engine --' : 'npx tsx engine/cli.ts'}${db}`;
}

function banner(config: EngineConfig, url: string, printCodes: boolean): string {
  const row = (label: string, value: string) => `  ${label.padEnd(11)}${value}`;
  const replica = describeReplica(config.db);
  return [
    'Tillback cashback engine is running',
    row('API:', `${url}/v1`),
    row('Docs:', `${url}/docs`),
    row('Seed APIs:', `${url}/api/v1/cashback (loyalty cashback, seed 002)`),
    row('', `${url}/new_purchase (partner cashback, seed 004)`),
    row('', `${url}/api/v2/cashbacks/withdraw (cashback withdrawal, seed 001)`),
    row('', `${url}/cashout/... (noebs cashout, seed 000; cashout, seed 003)`),
    row('Claims:', `${url}/c/<claim id> (the claim page customers open)`),
    row('Health:', `${url}/health`),
    row('Database:', describeDatabase(config.db)),
    ...(replica === undefined ? [] : [row('Replica:', replica)]),
    row('Codes:', describeCodeDelivery(config.codes, printCodes)),
  ].join('\n');
}

async function closeAll(
  engine: Engine | undefined,
  store: OpenedStore,
  replica: OpenedStore | undefined,
): Promise<void> {
  try {
    await engine?.close();
  } finally {
    await Promise.all([store.close(), replica?.close()]);
  }
}

export function registerServe(program: Command): void {
  storeOptions(
    program
      .command('serve')
      .description('run the engine: HTTP API, docs and the seed APIs')
      .option('--port <n>', 'port to listen on; 0 picks a free one (default 8080)')
      .option('--host <host>', 'address to listen on (default 127.0.0.1)')
      .option(
        '--replica-db <url>',
        'postgres:// URL of a read replica of --db that serves the chain report (default: db.replicaUrl)',
      )
      .option(
        '--demo',
        'on an empty database create a demo app and program, and print codes instead of sending them',
      )
      .option(
        '--print-codes',
        'print one-time codes here instead of sending them through the code gateway (for trials)',
      ),
  ).action(async (opts: ServeFlags) => {
    const config = loadCliConfig(opts);
    const printCodes = opts.demo === true || opts.printCodes === true;
    const store = await openStore(config, 'create');
    const replica = await openReplica(config);
    let engine: Engine | undefined;
    let demo: DemoState | undefined;
    let url: string;
    try {
      // Loaded here: Fastify and its plugins are most of the CLI's start-up time.
      const { createEngine } = await import('../server.ts');
      engine = await createEngine({
        store,
        laggingStore: replica,
        config: opts.demo ? demoConfig(config) : config,
        ...(printCodes ? { notifier: demoNotifier() } : {}),
      });
      if (opts.demo) demo = await ensureDemoData(store, Date.now());
      url = await engine.listen();
    } catch (error) {
      await closeAll(engine, store, replica);
      const code = (error as { code?: unknown }).code;
      if (code === 'EADDRINUSE' || code === 'EACCES' || code === 'EADDRNOTAVAIL') {
        throw new CliError(
          `Cannot listen on ${config.host}:${config.port} (${String(code)}): pass another --port or --host, or stop what holds it`,
        );
      }
      throw error;
    }
    const running = engine;

    // Handlers first, then the banner: whoever reads the banner may signal at once.
    let stopping = false;
    const stop = (signal: NodeJS.Signals) => {
      if (stopping) {
        process.stderr.write(`${signal} again: exiting without waiting\n`);
        process.exit(EXIT.failed);
      }
      stopping = true;
      print(`${signal}: stopping the engine...`);
      const timer = setTimeout(() => {
        process.stderr.write(`Shutdown took over ${SHUTDOWN_TIMEOUT_MS / 1000} s: exiting\n`);
        process.exit(EXIT.failed);
      }, SHUTDOWN_TIMEOUT_MS);
      timer.unref();
      closeAll(running, store, replica).then(
        () => {
          print('Stopped.');
          process.exitCode = EXIT.ok;
        },
        (error: unknown) => {
          process.stderr.write(
            `Shutdown failed: ${error instanceof Error ? error.message : String(error)}\n`,
          );
          process.exitCode = EXIT.failed;
        },
      );
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);

    print(banner(config, url, printCodes));
    if (demo) {
      print();
      for (const line of describeDemo(demo, url, cliCommand(config))) print(line);
    }
    print();
    print('Stop with Ctrl+C.');
  });
}
