// A till for the history tests: a real till file and outbox (not started unless the test gives it an
// engine), the local API on 127.0.0.1 with the history routes, a manager's and a cashier's session,
// and rows written straight into `operations` (and `outbox` for queued and failed ones) so a test
// can place operations at any time in any state.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import type { SqlValue } from '../../engine/store/store.ts';
import { createLocalApi, SESSION_HEADER, type LocalApi } from '../../till/api/server.ts';
import { historyRoutes } from '../../till/history/routes.ts';
import { openOutbox, type Outbox } from '../../till/outbox/outbox.ts';
import type { OperationState, OperationType } from '../../till/outbox/queue.ts';
import { OPERATOR_PINS } from '../fixtures/secrets.ts';
import { testLog } from '../fixtures/test-log.ts';

export const MANAGER = { name: 'maria', pin: OPERATOR_PINS[0] };
export const CASHIER = { name: 'carl', pin: OPERATOR_PINS[1] };

export interface HistoryTill {
  dir: string;
  outbox: Outbox;
  api: LocalApi;
  manager: string;
  cashier: string;
  /** GET/POST with the launch token and `session` (the manager's by default; null for none). */
  call(
    method: string,
    path: string,
    opts?: { session?: string | null; token?: string | null; body?: unknown },
  ): Promise<Response>;
  close(): Promise<void>;
}

export async function startHistoryTill(
  opts: {
    timeZone?: string;
    engine?: { url: string; credentials: { appId: string; apiKey: string } };
  } = {},
): Promise<HistoryTill> {
  const dir = mkdtempSync(join(tmpdir(), 'tillback-history-'));
  const outbox = await openOutbox({
    path: join(dir, 'till.sqlite'),
    // Without an engine the outbox is never started: nothing is sent to this address.
    engine: opts.engine
      ? { url: opts.engine.url, ...opts.engine.credentials }
      : { url: 'http://127.0.0.1:9', appId: 'app_unused', apiKey: 'unused' },
    retry: { baseMs: 10, maxMs: 100 },
    timeoutMs: 5_000,
  });
  const log = testLog('till-history-api');
  const logStream = new PassThrough();
  logStream.on('data', (chunk: Buffer) => log(chunk.toString('utf8').trimEnd()));
  const api = await createLocalApi({
    outbox,
    config: { firstManager: MANAGER },
    logStream,
    routes: [historyRoutes({ outbox, timeZone: opts.timeZone })],
  });
  const call: HistoryTill['call'] = (method, path, o = {}) => {
    const token = o.token === undefined ? api.token : o.token;
    const session = o.session === undefined ? till.manager : o.session;
    return fetch(new URL(path, api.url), {
      method,
      headers: {
        ...(token === null ? {} : { authorization: `Bearer ${token}` }),
        ...(session === null ? {} : { [SESSION_HEADER]: session }),
        ...(o.body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: o.body === undefined ? undefined : JSON.stringify(o.body),
    });
  };
  const signIn = async (who: { name: string; pin: string }) => {
    const r = await call('POST', '/api/operators/sign-in', { session: null, body: who });
    if (r.status !== 200) throw new Error(`sign-in ${who.name}: ${r.status}`);
    return ((await r.json()) as { session: string }).session;
  };
  const till: HistoryTill = {
    dir,
    outbox,
    api,
    manager: '',
    cashier: '',
    call,
    async close() {
      await api.close();
      await outbox.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  till.manager = await signIn(MANAGER);
  const made = await call('POST', '/api/operators', { body: { ...CASHIER, role: 'cashier' } });
  if (made.status !== 201) throw new Error(`create cashier: ${made.status}`);
  till.cashier = await signIn(CASHIER);
  return till;
}

/** An operation row as a test places it. */
export interface SeedOperation {
  id: string;
  type: OperationType;
  state: OperationState;
  amount: number;
  currency: string;
  memberRef: string;
  cashier: string;
  reference: string | null;
  /** The engine's answer (delivered) or refusal (failed, voided); null otherwise. */
  result: string | null;
  voidReason: string | null;
  createdAt: number;
  /** For queued and failed ones (their outbox row): attempts so far and the last error. */
  attempts: number;
  lastError: string | null;
}

const INSERT_OPERATION = `INSERT INTO operations (id, type, amount, currency, member_ref, member, program_id,
  reference, cashier, state, result, void_reason, created_at, updated_at) VALUES (?, ?, ?, ?, ?, '{}', 1, ?, ?, ?, ?, ?, ?, ?)`;
const INSERT_OUTBOX = `INSERT INTO outbox (operation_id, path, payload, attempts, next_attempt_at, last_error)
  VALUES (?, '/v1/earn', '{}', ?, ?, ?)`;

/** Empties the history, then writes `ops` in one transaction. */
export async function seed(outbox: Outbox, ops: readonly SeedOperation[]): Promise<void> {
  await outbox.store.transact(async (tx) => {
    await tx.run('DELETE FROM outbox');
    await tx.run('DELETE FROM operations');
    for (const o of ops) {
      const row: SqlValue[] = [
        o.id,
        o.type,
        o.amount,
        o.currency,
        o.memberRef,
        o.reference,
        o.cashier,
        o.state,
        o.result,
        o.voidReason,
        o.createdAt,
        o.createdAt,
      ];
      await tx.run(INSERT_OPERATION, row);
      if (o.state === 'queued' || o.state === 'failed')
        await tx.run(INSERT_OUTBOX, [o.id, o.attempts, o.createdAt, o.lastError]);
    }
  });
}
