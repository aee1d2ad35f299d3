// A real engine on loopback that a test can stop and start again on the same port and SQLite file,
// as a till sees a central engine go away and come back; with an app and a TND program for the till.
import { join } from 'node:path';
import { loadEngineConfig, type EngineConfigInput } from '../../engine/config.ts';
import { createEngine, type Engine } from '../../engine/server.ts';
import { testLogFile } from '../fixtures/test-log.ts';
import { startHarness, type Harness } from '../engine/harness.ts';
import { rmSync } from 'node:fs';

export interface EngineLink {
  url: string;
  h: Harness;
  credentials: { appId: string; apiKey: string };
  programId: number;
  running(): boolean;
  stop(): Promise<void>;
  start(): Promise<void>;
  /** The engine's earn and refund transactions, in the order it applied them. */
  applied(): Promise<{ id: number; type: string; reference: string | null; purchaseAmount: number | null }[]>;
  close(): Promise<void>;
}

/** `config` (secrets, claim settings...) holds across stops and starts. */
export async function startEngineLink(config: EngineConfigInput = {}): Promise<EngineLink> {
  const h = await startHarness({ port: 0, ...config });
  const { appId, secret } = await h.app(['cashback_read', 'cashback_write'], { rateLimitPerMinute: 100_000 });
  const programId = await h.program({ currency: 'TND', cashbackBps: 500 });
  const url = await h.engine.listen();
  const port = Number(new URL(url).port);
  let engine: Engine | undefined = h.engine;
  return {
    url,
    h,
    credentials: { appId, apiKey: secret },
    programId,
    running: () => engine !== undefined,
    async stop() {
      await engine?.close();
      engine = undefined;
    },
    async start() {
      if (engine) return;
      const next = await createEngine({
        store: h.store,
        config: loadEngineConfig({
          environment: {},
          overrides: { ...config, secretsFile: join(h.dir, 'secrets.json'), port, logLevel: 'warn' },
        }),
        logFile: testLogFile('engine'),
        now: () => h.clock.now,
      });
      await next.listen();
      engine = next;
    },
    applied: () =>
      h.store.read((tx) =>
        tx.all(
          `SELECT id, type, reference, purchase_amount AS purchaseAmount FROM transactions
            WHERE type IN ('earn', 'refund') ORDER BY id`,
        ),
      ),
    async close() {
      await engine?.close();
      await h.store.close();
      rmSync(h.dir, { recursive: true, force: true });
    },
  };
}
