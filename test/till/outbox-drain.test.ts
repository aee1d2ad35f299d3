// A long outage, small: 2,000 earns queued while the central engine (engine/cli.ts serve in its own
// process, bench/central-engine.ts) is down, then drained in batches while the engine is killed with
// SIGKILL twice mid-drain and started again on the same database and port: a SQLite file, and a
// database on a PostgreSQL server of its own, as a chain runs it. Afterwards every operation is
// delivered, the engine holds each exactly once (count, purchase and cashback totals against the
// till's, no reference twice), in the order the till confirmed them, and its ledger verifies.
// The same checks as `npm run bench`'s row 9 at 100,000 (bench/outbox-drain.ts).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { centralEngine, type CentralEngine } from '../../bench/central-engine.ts';
import { createPostgresDatabase } from '../../bench/load/database.ts';
import { checkDrain, drainProblems, fillQueue } from '../../bench/outbox-drain.ts';
import { openOutbox, type Outbox } from '../../till/outbox/outbox.ts';
import { startPostgresServer, type PostgresServer } from '../fixtures/postgres-server.ts';

const ITEMS = 2_000;

let dir: string;
let engine: CentralEngine;
let outbox: Outbox;
let server: PostgresServer | undefined;
async function open(store: 'sqlite' | 'postgres'): Promise<void> {
  dir = mkdtempSync(join(tmpdir(), 'tillback-drain-'));
  if (store === 'postgres') server = await startPostgresServer();
  engine = await centralEngine(
    dir,
    server ? await createPostgresDatabase(server, 'tillback_drain') : join(dir, 'engine.sqlite'),
  );
  outbox = await openOutbox({
    path: join(dir, 'till.sqlite'),
    engine: { url: engine.url, ...engine.credentials },
    limits: { maxCount: ITEMS },
    retry: { baseMs: 20, maxMs: 200 },
  });
}
afterEach(async () => {
  await outbox.close();
  await engine.stop('SIGKILL');
  await server?.stop();
  server = undefined;
  rmSync(dir, { recursive: true, force: true });
});

describe.each(['sqlite', 'postgres'] as const)('on %s', (store) => {
  it(
    'drains 2,000 queued earns through two kill -9s of the engine: none lost, none twice, in order',
    { timeout: 240_000 },
    async () => {
      await open(store);
      let delivered = 0;
      outbox.onOperation((e) => {
        if (e.kind === 'delivered') delivered += 1;
      });
      outbox.start();
      await fillQueue(outbox, engine.programId, 0, ITEMS);
      expect((await outbox.state()).waiting).toBe(ITEMS);

      // Killed at random points of the drain: after a few hundred, then after about half more.
      for (const share of [0.1 + Math.random() * 0.2, 0.5 + Math.random() * 0.2]) {
        await engine.start();
        const at = Math.floor(ITEMS * share);
        await vi.waitFor(() => expect(delivered).toBeGreaterThanOrEqual(at), {
          timeout: 120_000,
          interval: 5,
        });
        await engine.stop('SIGKILL');
      }
      expect(delivered).toBeLessThan(ITEMS);
      await engine.start();
      await vi.waitFor(async () => expect((await outbox.state()).waiting).toBe(0), {
        timeout: 120_000,
        interval: 50,
      });
      await engine.stop();

      const check = await checkDrain(outbox, engine, 'drain-');
      expect(drainProblems(check, ITEMS), JSON.stringify(check)).toEqual([]);
      expect(check).toMatchObject({
        states: { delivered: ITEMS },
        outboxRows: 0,
        engineEarns: ITEMS,
        duplicates: 0,
      });

      // In order: the engine applied them in the order the till confirmed them (its rowid order).
      const confirmed = await outbox.store.read((tx) =>
        tx.all<{ reference: string }>('SELECT reference FROM operations ORDER BY rowid'),
      );
      const db = await engine.openStore();
      try {
        const applied = await db.read((tx) =>
          tx.all<{ reference: string }>("SELECT reference FROM transactions WHERE type = 'earn' ORDER BY id"),
        );
        expect(applied.map((t) => t.reference)).toEqual(confirmed.map((o) => o.reference));
      } finally {
        await db.close();
      }
    },
  );
});
