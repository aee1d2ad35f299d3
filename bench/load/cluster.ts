// E engine processes on one database: each the real `engine serve` command (what a chain runs), in
// its own child process on its own loopback port, so one can be SIGKILLed and started again on the
// same port while the others keep serving. An engine that exits by itself is counted and started
// again, as a supervisor (systemd's Restart=always) would. Their logs go to one file each.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ENGINE_NODE_FLAGS } from '../../engine/node-flags.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const ENGINE_CLI = join(ROOT, 'engine', 'cli.ts');

/** How long an engine may take to answer /health after its start (tsx compiles it; the machine is shared). */
const START_TIMEOUT_MS = 90_000;
/** How long a SIGTERM may take before the engine is SIGKILLed. */
const STOP_TIMEOUT_MS = 15_000;

/** A free TCP port on 127.0.0.1 (the OS picks it; a restart reuses it). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port from the OS');
  return address.port;
}

export interface ClusterOptions {
  /** The database every engine opens: a SQLite file path, or a postgres:// URL. */
  db: string;
  /** The engine's JSON configuration file (secrets, webhooks, rate limits). */
  configFile: string;
  engines: number;
  /** Where each engine's log goes (`engine-<n>.log`). */
  logDir: string;
  /** Node options before the engine's own, e.g. ['--cpu-prof'] for `npm run bench -- --profile`. */
  nodeArgs?: readonly string[];
  /** Each engine's `db.poolSize` (TILLBACK_DB_POOL_SIZE), where not its configuration's. */
  poolSize?: number;
}

interface Slot {
  port: number;
  url: string;
  child: ChildProcess | undefined;
  exited: Promise<void>;
  /** Set before we signal the child, so its exit is not counted as a crash. */
  signalled: boolean;
}

export interface Cluster {
  /** Base URLs, one per engine, in a fixed order (a restarted engine keeps its URL). */
  readonly urls: readonly string[];
  /** SIGKILLs engine `n` (no shutdown, no flush: what a crash or an OOM kill does). */
  kill(n: number): Promise<void>;
  /** Starts engine `n` again on its port and waits until it answers /health. */
  start(n: number): Promise<void>;
  isRunning(n: number): boolean;
  /** The process id of engine `n` while it runs (the benchmark reads its CPU time). */
  pid(n: number): number | undefined;
  /** Engine processes that exited by themselves (not killed or stopped by the cluster) so far. */
  exits(): number;
  /** A supervised restart that failed, if any. */
  readonly restartError: string | undefined;
  /** SIGTERM to every engine (SIGKILL after a while); resolves once all have exited. */
  stop(): Promise<void>;
}

/** Starts `engines` engine processes on the one database and waits until each answers /health. */
export async function startCluster(opts: ClusterOptions): Promise<Cluster> {
  const slots: Slot[] = [];
  let crashes = 0;
  let stopping = false;
  let restartError: string | undefined;
  for (let n = 0; n < opts.engines; n++) {
    const port = await freePort();
    slots.push({
      port,
      url: `http://127.0.0.1:${port}`,
      child: undefined,
      exited: Promise.resolve(),
      signalled: false,
    });
  }

  async function start(n: number): Promise<void> {
    const slot = slots[n];
    if (!slot) throw new Error(`no engine ${n}`);
    if (slot.child) throw new Error(`engine ${n} is running`);
    const log = openSync(join(opts.logDir, `engine-${n}.log`), 'a');
    const child = spawn(
      process.execPath,
      [
        ...ENGINE_NODE_FLAGS,
        ...(opts.nodeArgs ?? []),
        '--import',
        'tsx',
        ENGINE_CLI,
        'serve',
        '--db',
        opts.db,
        '--config',
        opts.configFile,
        '--port',
        String(slot.port),
      ],
      {
        cwd: ROOT,
        stdio: ['ignore', log, log],
        env: opts.poolSize ? { ...process.env, TILLBACK_DB_POOL_SIZE: String(opts.poolSize) } : process.env,
      },
    );
    closeSync(log);
    slot.child = child;
    slot.signalled = false;
    // Restarted only once it has served: an engine that cannot start at all is not started forever.
    let served = false;
    slot.exited = new Promise((resolve) =>
      child.once('exit', () => {
        if (slot.child === child) slot.child = undefined;
        resolve();
        if (slot.signalled || stopping || !served) return;
        crashes++;
        start(n).catch((error: unknown) => {
          restartError = error instanceof Error ? error.message : String(error);
        });
      }),
    );
    await waitHealthy(slot, n, child);
    served = true;
  }

  async function waitHealthy(slot: Slot, n: number, child: ChildProcess): Promise<void> {
    const deadline = Date.now() + START_TIMEOUT_MS;
    while (Date.now() < deadline) {
      if (slot.child !== child) {
        throw new Error(`engine ${n} exited during its start: see ${join(opts.logDir, `engine-${n}.log`)}`);
      }
      try {
        const res = await fetch(`${slot.url}/health`, { signal: AbortSignal.timeout(2_000) });
        if (res.ok) return;
      } catch {
        // Not listening yet.
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(`engine ${n} did not answer /health within ${START_TIMEOUT_MS / 1000} s`);
  }

  async function kill(n: number): Promise<void> {
    const slot = slots[n];
    if (!slot?.child) return;
    slot.signalled = true;
    slot.child.kill('SIGKILL');
    await slot.exited;
  }

  async function stopOne(slot: Slot): Promise<void> {
    const child = slot.child;
    if (!child) return;
    slot.signalled = true;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
    await slot.exited;
    clearTimeout(timer);
  }

  const cluster: Cluster = {
    urls: slots.map((s) => s.url),
    kill,
    start,
    isRunning: (n) => slots[n]?.child !== undefined,
    pid: (n) => slots[n]?.child?.pid,
    exits: () => crashes,
    get restartError() {
      return restartError;
    },
    stop: async () => {
      stopping = true;
      await Promise.all(slots.map(stopOne));
    },
  };
  try {
    // One after another: N processes compiling at once on two cores only start slower.
    for (let n = 0; n < slots.length; n++) await start(n);
  } catch (error) {
    await cluster.stop();
    throw error;
  }
  return cluster;
}
