// The engine as a till's central engine: `engine/cli.ts serve` (what `npm run engine -- serve`
// runs) in a child process on a SQLite file or a PostgreSQL database, prepared with one till app
// and a 5% program, on a fixed loopback port so it can be stopped, killed with SIGKILL and started
// again where tills expect it. The outbox drain (bench/outbox-drain.ts) and its test
// (test/till/outbox-drain.test.ts) use it.
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { OpenedStore } from '../engine/cli/common.ts';
import { ENGINE_NODE_FLAGS } from '../engine/node-flags.ts';
import { openLoadStore, writeEngineConfig } from './load/setup.ts';
import { createBenchTill } from './setup.ts';

const ROOT = fileURLToPath(new URL('../', import.meta.url));

export interface CentralEngine {
  url: string;
  credentials: { appId: string; apiKey: string };
  programId: number;
  /** The engine's database, as `--db` takes it: a SQLite file or a postgres:// URL. */
  db: string;
  /** The engine's database opened as the CLI opens it: read it once the engine is stopped. */
  openStore(): Promise<OpenedStore>;
  running(): boolean;
  /** Starts the engine process (again) and resolves once it answers /health. */
  start(): Promise<void>;
  /** SIGTERM (a clean stop) or SIGKILL; resolves once the process has exited. */
  stop(signal?: 'SIGTERM' | 'SIGKILL'): Promise<void>;
}

/** A free loopback port, for an engine that must come back on the same one. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * Prepares the engine's database (`db`: a postgres:// URL, or by default `<dir>/engine.sqlite`, FULL)
 * with its app and program, and its config in `dir`; does not start the engine.
 */
export async function centralEngine(dir: string, db = join(dir, 'engine.sqlite')): Promise<CentralEngine> {
  const configFile = join(dir, 'engine.json');
  writeEngineConfig(configFile, undefined, dir);
  const store = await openLoadStore(db, configFile);
  const prepared = await createBenchTill(store).finally(() => store.close());
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  let stderr = '';

  async function answers(): Promise<boolean> {
    try {
      return (await fetch(`${url}/health`, { signal: AbortSignal.timeout(2_000) })).ok;
    } catch {
      return false;
    }
  }

  return {
    url,
    credentials: { appId: prepared.appId, apiKey: prepared.secret },
    programId: prepared.programId,
    db,
    openStore: () => openLoadStore(db, configFile),
    running: () => child !== undefined,
    async start() {
      if (child) return;
      stderr = '';
      const started = spawn(
        process.execPath,
        // Flags as well as the file: they win over any TILLBACK_* variable this process was given.
        [
          ...ENGINE_NODE_FLAGS,
          '--import',
          'tsx',
          'engine/cli.ts',
          'serve',
          '--config',
          configFile,
          '--db',
          db,
          '--host',
          '127.0.0.1',
          '--port',
          String(port),
        ],
        { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] },
      );
      child = started;
      started.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
      exited = new Promise((resolve) =>
        started.on('exit', () => {
          if (child === started) child = undefined;
          resolve();
        }),
      );
      // Up to a minute on a loaded machine: the CLI loads Fastify and opens the database first.
      const deadline = Date.now() + 60_000;
      while (!(await answers())) {
        if (!child) throw new Error(`the engine exited at start: ${stderr}`);
        if (Date.now() > deadline) throw new Error(`the engine did not answer in 60 s: ${stderr}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    async stop(signal = 'SIGTERM') {
      child?.kill(signal);
      await exited;
    },
  };
}
