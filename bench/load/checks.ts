// The checks after a load run, each a verdict with its figures: every balance read and none below
// zero, the ledger's invariants (GET /v1/ledger/verify), every acknowledged operation in the database
// exactly once (transactions and claims by reference), no refusal applied, balances equal to what the
// acknowledged operations add up to, every submitted claim paid once, and every webhook event received.
import type { Store } from '../../engine/store/store.ts';
import type { TillClient } from './client.ts';
import type { Receiver } from './receiver.ts';
import { tillName, type Member } from './setup.ts';
import { isExpectedRefusal, type AckedOp, type LedgerKind, type LoadRecord } from './workload.ts';

export interface Verdict {
  check: string;
  ok: boolean;
  /** The figures behind it (and, when it fails, what failed). */
  detail: string;
}

/** The transaction type each acknowledged kind writes once. */
const TRANSACTION_TYPE: Record<LedgerKind, string> = { earn: 'earn', redeem: 'redeem', claim: 'cashout' };

const few = (items: readonly string[]) =>
  items.length === 0 ? '' : `: ${items.slice(0, 5).join(', ')}${items.length > 5 ? ', ...' : ''}`;

/** Polls `done` every 500 ms until it answers true or `timeoutMs` passes; answers the last result. */
export async function waitFor(timeoutMs: number, done: () => Promise<boolean>): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await done()) return true;
    if (Date.now() >= deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

interface ClaimRow {
  id: string;
  reference: string;
  state: string;
  member_id: number;
  amount: number;
  payouts: number | string;
  sandbox: number | string;
  /** When its payout may next be attempted (epoch ms); later than now while an engine holds its lease. */
  payout_due: number | string | null;
}

/**
 * A processing claim whose payout an engine has leased (PostgreSQL: `payouts.leaseSeconds`, 5 minutes by default): if
 * that engine was killed mid-call, another takes the payout, under the same id, once the lease ends.
 */
const leased = (row: ClaimRow, now: number) =>
  row.state === 'processing' && row.payout_due !== null && Number(row.payout_due) > now;

async function claimRows(store: Store, runId: string): Promise<ClaimRow[]> {
  return store.read((tx) =>
    tx.all<ClaimRow>(
      `SELECT c.id, c.reference, c.state, c.member_id, c.amount, COUNT(p.id) AS payouts, COUNT(s.payout_id) AS sandbox,
              MAX(p.next_attempt_at) AS payout_due
         FROM claims c LEFT JOIN payouts p ON p.claim_id = c.id LEFT JOIN sandbox_payouts s ON s.payout_id = p.id
        WHERE c.reference LIKE ? GROUP BY c.id, c.reference, c.state, c.member_id, c.amount`,
      [`${runId}-%`],
    ),
  );
}

/**
 * Waits (bounded) until every submitted claim has left the payout worker's hands, or, when engines
 * died during the run, waits for the lease of a dead engine (longer than any wait here).
 */
export function waitForPayouts(
  store: Store,
  record: LoadRecord,
  runId: string,
  timeoutMs: number,
  enginesDied: boolean,
) {
  const submitted = new Set(record.acked.filter((a) => a.submitted).map((a) => String(a.id)));
  return waitFor(timeoutMs, async () => {
    const rows = await claimRows(store, runId);
    const now = Date.now();
    return rows.every(
      (r) =>
        !submitted.has(r.id) || r.state === 'paid' || r.state === 'failed' || (enginesDied && leased(r, now)),
    );
  });
}

/** Waits (bounded) until the receiver holds every event the database recorded. */
export function waitForWebhooks(store: Store, receiver: Receiver, timeoutMs: number) {
  return waitFor(timeoutMs, async () => {
    const events = await store.read((tx) => tx.all<{ id: string }>('SELECT id FROM events'));
    return events.every((e) => receiver.received.has(e.id));
  });
}

export interface CheckInput {
  store: Store;
  admin: TillClient;
  members: readonly Member[];
  programId: number;
  record: LoadRecord;
  runId: string;
  receiver: Receiver;
  /** Engine processes killed or crashed during the run: a payout may then wait for a lease to end. */
  enginesDied: boolean;
}

export async function runChecks(c: CheckInput): Promise<Verdict[]> {
  const { record, runId } = c;
  const verdicts: Verdict[] = [];

  // Every operation got a sure answer: otherwise "lost" cannot be told from "never acknowledged".
  verdicts.push({
    check: 'every operation answered',
    ok: record.gaveUp.length === 0,
    detail: `${record.gaveUp.length} given up after retrying${few(record.gaveUp.map((g) => `${g.kind} ${g.key}`))}`,
  });

  const unexpected = record.refused.filter((r) => !isExpectedRefusal(r));
  verdicts.push({
    check: 'only expected refusals',
    ok: unexpected.length === 0,
    detail: `${record.refused.length - unexpected.length} insufficient balance, ${unexpected.length} other${few(unexpected.map((r) => `${r.kind} ${r.status} ${r.code}`))}`,
  });

  // Every balance, read through the API as a till would.
  const balances = new Map<number, { available: number; held: number; maturing: number }>();
  const unread: string[] = [];
  for (const m of c.members) {
    const o = await c.admin.send('GET', `/v1/members/${m.id}/balance?program_id=${c.programId}`);
    const b =
      o.kind === 'answered' && o.answer.status === 200 ? (o.answer.body as { balance?: unknown }) : undefined;
    const balance = (b?.balance ?? b) as { available: number; held: number; maturing: number } | undefined;
    if (balance && Number.isInteger(balance.available)) balances.set(m.id, balance);
    else unread.push(`member ${m.id}`);
  }
  const negative = [...balances].filter(([, b]) => b.available < 0 || b.held < 0 || b.maturing < 0);
  verdicts.push({
    check: 'no balance below zero',
    ok: negative.length === 0 && unread.length === 0,
    detail: `${balances.size} balances read, ${negative.length} negative${few(negative.map(([id, b]) => `member ${id}: ${b.available}`))}${unread.length ? `; unreadable${few(unread)}` : ''}`,
  });

  const verify = await c.admin.send('GET', '/v1/ledger/verify');
  const report =
    verify.kind === 'answered' && verify.answer.status === 200
      ? (verify.answer.body as {
          ok: boolean;
          transfers: number;
          accounts: number;
          problems: { message: string }[];
        })
      : undefined;
  verdicts.push({
    check: 'ledger invariants (GET /v1/ledger/verify)',
    ok: report?.ok === true,
    detail: report
      ? `${report.transfers} transfers, ${report.accounts} accounts, ${report.problems.length} problems${few(report.problems.map((p) => p.message))}`
      : `no report: ${verify.kind === 'answered' ? verify.answer.status : verify.lastError}`,
  });

  verdicts.push(await exactlyOnce(c));
  const claims = await claimRows(c.store, runId);
  verdicts.push(balancesMatch(record, balances, claims));
  verdicts.push(claimsPaid(record, claims, c.enginesDied));
  verdicts.push(await chainReport(c));

  const events = await c.store.read((tx) => tx.all<{ id: string }>('SELECT id FROM events'));
  const missing = events.filter((e) => !c.receiver.received.has(e.id));
  verdicts.push({
    check: 'every webhook event received (deduplicated by id)',
    ok: missing.length === 0 && c.receiver.refused === 0 && events.length > 0,
    detail: `${events.length} events, ${c.receiver.received.size} received, ${missing.length} missing, ${c.receiver.redeliveries} redeliveries, ${c.receiver.refused} refused signatures`,
  });
  return verdicts;
}

/** Acknowledged once each; nothing twice; no refusal applied (transactions and claims by reference). */
async function exactlyOnce(c: CheckInput): Promise<Verdict> {
  const pattern = `${c.runId}-%`;
  const [transactions, claims] = await c.store.read(async (tx) => [
    await tx.all<{ reference: string; type: string; n: number | string; first: number | string }>(
      'SELECT reference, type, COUNT(*) AS n, MIN(id) AS first FROM transactions WHERE reference LIKE ? GROUP BY reference, type',
      [pattern],
    ),
    await tx.all<{ reference: string; n: number | string; first: string }>(
      'SELECT reference, COUNT(*) AS n, MIN(id) AS first FROM claims WHERE reference LIKE ? GROUP BY reference',
      [pattern],
    ),
  ]);
  // A released hold writes a cashout_return with the claim's reference: that is not a second cashout.
  const rows = new Map<string, { n: number; first: string }>();
  for (const t of transactions)
    rows.set(`${t.type} ${t.reference}`, { n: Number(t.n), first: String(t.first) });
  for (const cl of claims) rows.set(`claim ${cl.reference}`, { n: Number(cl.n), first: String(cl.first) });

  const missing: string[] = [];
  const wrongId: string[] = [];
  const expectedKeys = new Set<string>();
  const expect = (op: AckedOp, rowKey: string, id: string) => {
    expectedKeys.add(rowKey);
    const row = rows.get(rowKey);
    if (!row) missing.push(`${op.kind} ${op.key}`);
    else if (row.first !== id) wrongId.push(`${op.kind} ${op.key}`);
  };
  for (const op of c.record.acked) {
    const type = TRANSACTION_TYPE[op.kind];
    if (op.kind === 'claim') {
      expect(op, `claim ${op.key}`, String(op.id));
      expectedKeys.add(`${type} ${op.key}`);
      if (!rows.has(`${type} ${op.key}`)) missing.push(`cashout of claim ${op.key}`);
    } else expect(op, `${type} ${op.key}`, String(op.id));
  }
  const twice = [...rows].filter(([, r]) => r.n > 1).map(([k]) => k);
  const refusedKeys = new Set(
    c.record.refused.filter((r) => r.kind !== 'claim_open' && r.kind !== 'claim_submit').map((r) => r.key),
  );
  const refusedApplied = [...rows.keys()].filter(
    (k) => refusedKeys.has(k.slice(k.indexOf(' ') + 1)) && !k.startsWith('cashout_return '),
  );
  const unacknowledged = [...rows.keys()].filter(
    (k) =>
      !expectedKeys.has(k) &&
      !k.startsWith('cashout_return ') &&
      !refusedKeys.has(k.slice(k.indexOf(' ') + 1)),
  );
  return {
    check: 'every acknowledged operation present exactly once',
    ok: missing.length + wrongId.length + twice.length + refusedApplied.length === 0,
    detail:
      `${c.record.acked.length} acknowledged, ${missing.length} missing, ${twice.length} twice, ${wrongId.length} with another id, ` +
      `${refusedApplied.length} refused yet applied, ${unacknowledged.length} applied but never acknowledged (given up)` +
      few([...missing, ...twice, ...wrongId, ...refusedApplied]),
  };
}

/**
 * From the acknowledged operations alone: available = earned - redeemed - claimed (a hold lowers it at
 * once; paying posts the hold and leaves it), held = the claims not paid. Only when every operation
 * was answered: one given up may or may not have been applied.
 */
function balancesMatch(
  record: LoadRecord,
  balances: ReadonlyMap<number, { available: number; held: number }>,
  claims: readonly ClaimRow[],
): Verdict {
  const check = 'balances equal the acknowledged operations';
  if (record.gaveUp.length > 0)
    return { check, ok: false, detail: 'not computable: operations were given up' };
  const expected = new Map<number, { available: number; held: number }>();
  const of = (id: number) => expected.get(id) ?? expected.set(id, { available: 0, held: 0 }).get(id)!;
  for (const op of record.acked) of(op.memberId).available += op.kind === 'earn' ? op.amount : -op.amount;
  for (const cl of claims) if (cl.state !== 'paid') of(cl.member_id).held += cl.amount;
  const wrong: string[] = [];
  for (const [id, b] of balances) {
    const e = expected.get(id) ?? { available: 0, held: 0 };
    if (e.available !== b.available || e.held !== b.held) {
      wrong.push(`member ${id}: ${b.available}/${b.held}, expected ${e.available}/${e.held}`);
    }
  }
  return {
    check,
    ok: wrong.length === 0,
    detail: `${balances.size} members, ${wrong.length} differ${few(wrong)}`,
  };
}

function claimsPaid(record: LoadRecord, claims: readonly ClaimRow[], enginesDied: boolean): Verdict {
  const byId = new Map(claims.map((cl) => [cl.id, cl]));
  const submitted = record.acked.filter((a) => a.submitted);
  const now = Date.now();
  const paidOnce = (row: ClaimRow | undefined) =>
    row?.state === 'paid' && Number(row.payouts) === 1 && Number(row.sandbox) === 1;
  // Not paid yet but rightly so: one payout, leased by an engine that died (paid once the lease ends).
  const waiting = (row: ClaimRow | undefined) =>
    enginesDied &&
    row !== undefined &&
    leased(row, now) &&
    Number(row.payouts) === 1 &&
    Number(row.sandbox) <= 1;
  const notPaid = submitted.filter((a) => !paidOnce(byId.get(String(a.id))));
  const leasedOnes = notPaid.filter((a) => waiting(byId.get(String(a.id))));
  const wrong = notPaid.filter((a) => !waiting(byId.get(String(a.id))));
  return {
    check: 'every submitted claim paid once',
    ok: wrong.length === 0,
    detail:
      `${submitted.length} submitted, ${submitted.length - notPaid.length} paid with one payout, ` +
      `${leasedOnes.length} waiting for a dead engine's payout lease to end, ${wrong.length} wrong` +
      few(wrong.map((a) => `${a.key} ${byId.get(String(a.id))?.state ?? 'absent'}`)),
  };
}

/**
 * The chain's report (GET /v1/reports/tills) against the acknowledged operations: per store, till and
 * transaction type, as many transactions and the same signed amount. Only when every operation was
 * answered, as for balances.
 */
async function chainReport(c: CheckInput): Promise<Verdict> {
  const check = 'the chain report per till equals the acknowledged operations';
  if (c.record.gaveUp.length > 0)
    return { check, ok: false, detail: 'not computable: operations were given up' };
  const expected = new Map<string, { count: number; amount: number }>();
  for (const op of c.record.acked) {
    const { store, till } = tillName(op.till);
    const key = `${store}/${till} ${TRANSACTION_TYPE[op.kind]}`;
    const e = expected.get(key) ?? expected.set(key, { count: 0, amount: 0 }).get(key)!;
    e.count++;
    e.amount += op.kind === 'earn' ? op.amount : -op.amount;
  }
  // The whole run, whatever the clock: this database holds nothing else.
  const hour = 3_600_000;
  const from = new Date(Date.now() - 24 * hour).toISOString();
  const to = new Date(Date.now() + hour).toISOString();
  const o = await c.admin.send('GET', `/v1/reports/tills?from=${from}&to=${to}`);
  if (o.kind !== 'answered' || o.answer.status !== 200) {
    return {
      check,
      ok: false,
      detail: `no report: ${o.kind === 'answered' ? o.answer.status : o.lastError}`,
    };
  }
  const rows = (
    o.answer.body as {
      rows: { store: string | null; till: string | null; type: string; count: number; amount: number }[];
    }
  ).rows;
  const reported = new Map(
    rows
      .filter((r) => r.store !== null && Object.values(TRANSACTION_TYPE).includes(r.type))
      .map((r) => [`${r.store}/${r.till} ${r.type}`, { count: r.count, amount: r.amount }]),
  );
  const differ = [...new Set([...expected.keys(), ...reported.keys()])].filter((k) => {
    const e = expected.get(k);
    const r = reported.get(k);
    return e?.count !== r?.count || e?.amount !== r?.amount;
  });
  return {
    check,
    ok: differ.length === 0,
    detail:
      `${expected.size} till and type rows, ${differ.length} differ` +
      few(
        differ.map(
          (k) =>
            `${k}: ${JSON.stringify(reported.get(k) ?? null)}, expected ${JSON.stringify(expected.get(k) ?? null)}`,
        ),
      ),
  };
}
