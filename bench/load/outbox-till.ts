// A till's real outbox (till/outbox: its own SQLite file, the sender with its retries) pointed at one
// engine, for `pg-restart`: earns are queued before, during and after the database's restart, and
// the queue must drain by itself afterwards, each earn applied once. Delivered earns join the run's
// acknowledged operations, so every check counts them too.
import { join } from 'node:path';
import { openOutbox, type Outbox } from '../../till/outbox/outbox.ts';
import { LOAD_CURRENCY, type Credentials, type Member } from './setup.ts';
import type { AckedOp } from './workload.ts';

export interface OutboxTill {
  /** Queues one earn (durable once this resolves); the sender delivers it when it can. */
  earn(member: Member): Promise<void>;
  /** Resolves true once nothing waits or failed, false when `timeoutMs` passes first. */
  drained(timeoutMs: number): Promise<boolean>;
  /** What became of every queued earn; `outage` is when the database was down (epoch ms). */
  outcome(outage: { from: number; to: number }): Promise<OutboxOutcome>;
  close(): Promise<void>;
}

export interface OutboxOutcome {
  queued: number;
  delivered: AckedOp[];
  /** Earns queued while the database was down. */
  duringOutage: number;
  /** Delivery attempts that failed (the engine could not reach its database) and were made again. */
  failedAttempts: number;
  /** Earns not delivered (still queued, or refused), with their state. */
  undelivered: string[];
}

export async function startOutboxTill(opts: {
  runDir: string;
  url: string;
  credentials: Credentials;
  programId: number;
  runId: string;
  /** The till number in references and the report. */
  till: number;
}): Promise<OutboxTill> {
  const outbox: Outbox = await openOutbox({
    path: join(opts.runDir, 'till-outbox.sqlite'),
    engine: { url: opts.url, appId: opts.credentials.appId, apiKey: opts.credentials.secret },
    timeoutMs: 5_000,
    retry: { baseMs: 200, maxMs: 2_000 },
  });
  const queued: { id: string; key: string; memberId: number; at: number }[] = [];
  let failedAttempts = 0;
  outbox.onOperation((event) => {
    if (event.kind === 'attempt_failed') failedAttempts++;
  });
  outbox.start();
  let seq = 0;

  return {
    async earn(member) {
      const key = `${opts.runId}-outbox-${++seq}`;
      const at = Date.now();
      const id = await outbox.enqueue({
        type: 'earn',
        cashier: 'load',
        programId: opts.programId,
        currency: LOAD_CURRENCY,
        member: { id: member.id },
        purchaseAmount: 1_000 + Math.floor(Math.random() * 9_001),
        reference: key,
      });
      queued.push({ id, key, memberId: member.id, at });
    },
    async drained(timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const state = await outbox.state();
        if (state.waiting === 0 && state.failed === 0) return true;
        if (Date.now() >= deadline) return false;
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
    },
    async outcome(outage) {
      const delivered: AckedOp[] = [];
      const undelivered: string[] = [];
      for (const q of queued) {
        const row = await outbox.operation(q.id);
        if (row?.state !== 'delivered' || row.result === null) {
          undelivered.push(`${q.key} ${row?.state ?? 'absent'}`);
          continue;
        }
        const r = JSON.parse(row.result) as {
          transaction_id: number;
          cashback_earned: number;
          replayed: boolean;
        };
        delivered.push({
          kind: 'earn',
          key: q.key,
          till: opts.till,
          memberId: q.memberId,
          amount: r.cashback_earned,
          id: r.transaction_id,
          replayed: r.replayed,
        });
      }
      const duringOutage = queued.filter((q) => q.at >= outage.from && q.at <= outage.to).length;
      return { queued: queued.length, delivered, duringOutage, failedAttempts, undelivered };
    },
    close: () => outbox.close(),
  };
}
