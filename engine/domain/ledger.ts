// Double-entry ledger. Every balance change is one immutable transfer from a debit account to a
// credit account in one currency, so debits equal credits per currency by construction. Balances are
// cached on the account row in the same transaction and recomputed from transfers by `verifyLedger`.
// Two-phase: a pending transfer holds funds; exactly one post or void transfer resolves it.
import type { Tx } from '../store/store.ts';
import { DomainError } from './errors.ts';

export interface AccountSpec {
  code: string;
  kind: string;
  currency: string;
  /** 'credit' for what the engine owes (member balances, deposits); 'debit' for what funds them. */
  normal: 'debit' | 'credit';
  /** Funding accounts may; member balances and deposits may not (except by an allowed clawback). */
  mayGoNegative: boolean;
  /**
   * Changed by the operations of every member (a program's funding, the seed-004 fund): on PostgreSQL
   * its changes go to shard rows at commit (see `transfer`). No transfer may need its balance checked.
   */
  shared?: boolean;
}

export interface AccountRow {
  id: number;
  code: string;
  kind: string;
  currency: string;
  normal_side: 'debit' | 'credit';
  may_go_negative: number;
  debits_posted: number;
  credits_posted: number;
  debits_pending: number;
  credits_pending: number;
}

export interface Balance {
  /** Posted balance on the account's normal side. */
  posted: number;
  /** Posted minus pending outflows: what may be spent now. */
  available: number;
  /** Pending outflows (holds). */
  held: number;
}

export function balanceOf(a: AccountRow): Balance {
  if (a.normal_side === 'credit') {
    return {
      posted: a.credits_posted - a.debits_posted,
      available: a.credits_posted - a.debits_posted - a.debits_pending,
      held: a.debits_pending,
    };
  }
  return {
    posted: a.debits_posted - a.credits_posted,
    available: a.debits_posted - a.credits_posted - a.credits_pending,
    held: a.credits_pending,
  };
}

const accountColumns =
  'id, code, kind, currency, normal_side, may_go_negative, debits_posted, credits_posted, debits_pending, credits_pending';

/** Accounts a transaction created, which stay out of `tx.knownAccounts` since it may yet roll back. */
const createdIn = new WeakMap<Tx, Set<string>>();

/** Returns the account's id, creating it on first use. */
export async function ensureAccount(tx: Tx, spec: AccountSpec, now: number): Promise<number> {
  const found =
    tx.knownAccounts?.get(spec.code) ??
    (await tx.one<{ id: number; currency: string }>('SELECT id, currency FROM accounts WHERE code = ?', [
      spec.code,
    ]));
  if (found) {
    if (found.currency !== spec.currency) {
      throw new Error(`account ${spec.code} is in ${found.currency}, not ${spec.currency}`);
    }
    // Read committed: a row found that this transaction did not create is another's, committed.
    if (!createdIn.get(tx)?.has(spec.code)) tx.knownAccounts?.set(spec.code, found);
    return found.id;
  }
  const row = await tx.row<{ id: number }>(
    'INSERT INTO accounts (code, kind, currency, normal_side, may_go_negative, created_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING id',
    [spec.code, spec.kind, spec.currency, spec.normal, spec.mayGoNegative ? 1 : 0, now],
  );
  createdIn.set(tx, (createdIn.get(tx) ?? new Set()).add(spec.code));
  return row.id;
}

/** Accounts with their balances: each row's own plus its shards' (see `transfer`), by `a.`. */
const withShards = `SELECT a.id, a.code, a.kind, a.currency, a.normal_side, a.may_go_negative,
  ${['debits_posted', 'credits_posted', 'debits_pending', 'credits_pending'].map((c) => `a.${c} + COALESCE(SUM(s.${c}), 0) AS ${c}`).join(', ')}
  FROM accounts a LEFT JOIN account_shards s ON s.account_id = a.id`;

export async function findAccount(tx: Tx, code: string): Promise<AccountRow | undefined> {
  return tx.one<AccountRow>(`${withShards} WHERE a.code = ? GROUP BY a.id`, [code]);
}

export interface TransferInput {
  /** The transaction's id, or the promise of it while its insert is in flight (sent with this one's updates). */
  transactionId: number | Promise<number>;
  /** The accounts, by their chart entry (accounts.ts): found by code, created on first use. */
  debit: AccountSpec;
  credit: AccountSpec;
  amount: number;
  currency: string;
  now: number;
  /** Hold the amount instead of posting it; resolve later with postPending or voidPending. */
  pending?: boolean;
  /** A refund clawback may take a member balance below zero; nothing else may. */
  allowNegative?: boolean;
  /** The error to throw when the debited account lacks the funds (defaults to insufficient_balance). */
  insufficient?: (account: AccountRow, available: number) => DomainError;
}

export interface TransferDone {
  /** Both accounts as they stand after the transfer; undefined for a shared one applied at commit. */
  debit: AccountRow | undefined;
  credit: AccountRow | undefined;
}

/** A pending transfer, with the id to post or void it by later. */
export interface HoldDone extends TransferDone {
  id: number;
}

/** The row of a transfer's side that is never shared (a member's account), as the transfer left it. */
export function rowAfter(done: TransferDone, side: 'debit' | 'credit'): AccountRow {
  const row = done[side];
  if (!row) throw new Error(`the ${side} account of this transfer is shared: its row is read at commit`);
  return row;
}

// The four balance updates a transfer makes, by account code: the code's unique index finds the
// row, so a transfer needs no lookup of account ids first.
const addTo = Object.fromEntries(
  (['debits_posted', 'credits_posted', 'debits_pending', 'credits_pending'] as const).map((column) => [
    column,
    `UPDATE accounts SET ${column} = ${column} + ? WHERE code = ? RETURNING ${accountColumns}`,
  ]),
) as Record<`${'debits' | 'credits'}_${'posted' | 'pending'}`, string>;

/** Adds `amount` to one balance column of the account, creating the account on its first transfer. */
async function addToAccount(
  tx: Tx,
  spec: AccountSpec,
  column: keyof typeof addTo,
  amount: number,
  now: number,
): Promise<AccountRow> {
  const updated = await tx.one<AccountRow>(addTo[column], [amount, spec.code]);
  if (updated) return updated;
  await ensureAccount(tx, spec, now);
  return tx.row<AccountRow>(addTo[column], [amount, spec.code]);
}

// Shared accounts on PostgreSQL. Every earn debits its program's funding account. Updated where the
// transfer happens, that row stayed locked through the rest of the earn (lot, balance read, stored
// response: a network round trip each) and its commit, so a program's earns ran one at a time however
// many engines served them (bench/README.md, row 12). Moving the update to just before COMMIT was not
// enough: the lock was still held through each commit's WAL flush, so earns of one program still
// committed one at a time (measured: engine/README.md, PostgreSQL). So a transaction sums its changes
// per shared account and, through `tx.beforeCommit`, adds them as its last statements to one of
// SHARDS rows of `account_shards` chosen at random, not to the account's row: concurrent transactions
// mostly take different shard rows and commit together. Additions commute, and an account's balance is
// its row plus its shards (`withShards`). No check reads a shared account (`transfer` refuses one that
// would need it), so none needs its row locked before then. The shard rows are locked in account id
// order and last, after every other lock of the transaction: waits on them cannot form a cycle.
// (`resolvePending` still updates its rows where it runs: a pending transfer on a shared account, the
// seed-004 fund's textcoins, is rare.) SQLite has no `beforeCommit` (one writer, no row locks to
// shorten): its transfers update the accounts' rows at once, as before, and its shard table stays empty.
const SHARDS = 32;
const addToShard = `INSERT INTO account_shards (account_id, shard, debits_posted, credits_posted, debits_pending, credits_pending)
  VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (account_id, shard) DO UPDATE SET
  debits_posted = account_shards.debits_posted + excluded.debits_posted,
  credits_posted = account_shards.credits_posted + excluded.credits_posted,
  debits_pending = account_shards.debits_pending + excluded.debits_pending,
  credits_pending = account_shards.credits_pending + excluded.credits_pending`;
const columnIndex = { debits_posted: 0, credits_posted: 1, debits_pending: 2, credits_pending: 3 } as const;
const atCommit = new WeakMap<Tx, Map<number, [number, number, number, number]>>();

function addAtCommit(
  tx: Tx,
  commit: NonNullable<Tx['beforeCommit']>,
  id: number,
  column: keyof typeof addTo,
  amount: number,
): void {
  let sums = atCommit.get(tx);
  if (!sums) {
    const registered = new Map<number, [number, number, number, number]>();
    sums = registered;
    atCommit.set(tx, registered);
    commit(() => {
      const shard = Math.floor(Math.random() * SHARDS);
      for (const [account, changes] of [...registered].sort(([a], [b]) => a - b)) {
        tx.defer(addToShard, [account, shard, ...changes]);
      }
    });
  }
  const sum = sums.get(id) ?? [0, 0, 0, 0];
  sum[columnIndex[column]] += amount;
  sums.set(id, sum);
}

/**
 * For a savepoint (domain/in-order.ts): the shared accounts' sums this transaction will add at commit
 * as they stand now, and a function that puts them back, to call after `ROLLBACK TO` so the changes
 * of the rolled-back transfers are not applied at commit. Nothing to do where there are none (SQLite).
 */
export function markSharedSums(tx: Tx): () => void {
  const sums = atCommit.get(tx);
  const saved = new Map([...(sums ?? [])].map(([id, sum]) => [id, [...sum] as typeof sum]));
  return () => {
    if (!sums) return;
    sums.clear();
    for (const [id, sum] of saved) sums.set(id, sum);
  };
}

/** Whether this side of a transfer takes money out of the account, which must then stay covered. */
const needsCheck = (
  normal: 'debit' | 'credit',
  mayGoNegative: boolean,
  side: 'debit' | 'credit',
  t: TransferInput,
) => side !== normal && !mayGoNegative && !t.allowNegative;

/**
 * One side of a transfer: the account's row as the update left it, or, for a shared account on
 * PostgreSQL, its id alone (the change is applied at commit). Not async: the row's own update is
 * returned as is, so the common path costs no extra promise.
 */
function applySide(tx: Tx, t: TransferInput, side: 'debit' | 'credit'): Promise<AccountRow | number> {
  const spec = t[side];
  const column = `${side}s_${t.pending ? 'pending' : 'posted'}` as const;
  if (!spec.shared) return addToAccount(tx, spec, column, t.amount, t.now);
  if (needsCheck(spec.normal, spec.mayGoNegative, side, t))
    throw new Error(`account ${spec.code} is shared: no transfer may need its balance checked`);
  const commit = tx.beforeCommit;
  if (!commit) return addToAccount(tx, spec, column, t.amount, t.now);
  if (spec.currency !== t.currency)
    throw new Error(`account ${spec.code} is in ${spec.currency}, transfer in ${t.currency}`);
  return ensureAccount(tx, spec, t.now).then((id) => {
    addAtCommit(tx, commit, id, column, t.amount);
    return id;
  });
}

const rowOf = (side: AccountRow | number) => (typeof side === 'number' ? undefined : side);
const idOf = (side: AccountRow | number) => (typeof side === 'number' ? side : side.id);

/**
 * Moves `amount` from the debit account to the credit account. The balance check reads the rows
 * the UPDATEs return (which also locks them on PostgreSQL); when it fails the error is thrown after
 * the updates, so the caller's transaction must roll back, as every store transaction does on a throw.
 * A posted transfer's row is written with the transaction's next statement (`tx.defer`): nothing
 * reads it back, and on PostgreSQL that saves a round trip. A pending one (`hold`) is inserted at
 * once, for its id.
 */
export function transfer(tx: Tx, t: TransferInput & { pending: true }): Promise<HoldDone>;
export function transfer(tx: Tx, t: TransferInput): Promise<TransferDone>;
export async function transfer(tx: Tx, t: TransferInput): Promise<TransferDone | HoldDone> {
  const transactionSent = Promise.resolve(t.transactionId);
  transactionSent.catch(() => undefined);
  if (!Number.isSafeInteger(t.amount) || t.amount <= 0)
    throw new Error(`transfer amount must be a positive integer`);
  // Both sides' updates are sent before any answer is awaited (one round trip on PostgreSQL, with the
  // transaction's insert when its id is still a promise), then awaited in the order they were sent:
  // after a failure PostgreSQL refuses the rest of the transaction, so the first failure is the cause
  // (a deadlock to retry, say) and the later ones only say "transaction aborted". A side refused at
  // once (a shared account that would need a check) becomes a rejection like the others.
  const side = (s: 'debit' | 'credit') => {
    try {
      return applySide(tx, t, s);
    } catch (error) {
      return Promise.reject(error as Error);
    }
  };
  const sent = [transactionSent, side('debit'), side('credit')] as const;
  for (const answer of sent) answer.catch(() => undefined);
  const transactionId = await sent[0];
  const debit = await sent[1];
  const credit = await sent[2];
  const rows = { debit: rowOf(debit), credit: rowOf(credit) };
  for (const row of [rows.debit, rows.credit]) {
    if (row && row.currency !== t.currency)
      throw new Error(`account ${row.code} is in ${row.currency}, transfer in ${t.currency}`);
  }
  // Whichever side this transfer takes money out of, that account must still be covered.
  for (const side of ['debit', 'credit'] as const) {
    const row = rows[side];
    if (!row || !needsCheck(row.normal_side, Boolean(row.may_go_negative), side, t)) continue;
    const available = balanceOf(row).available;
    if (available < 0) {
      const before = available + t.amount;
      throw t.insufficient
        ? t.insufficient(row, before)
        : new DomainError('insufficient_balance', 'Insufficient balance', { available: before });
    }
  }
  const insert = `INSERT INTO transfers (transaction_id, debit_account_id, credit_account_id, amount, currency, phase, created_at)
     VALUES (?, ?, ?, ?, ?, ?, ?)`;
  const values = [
    transactionId,
    idOf(debit),
    idOf(credit),
    t.amount,
    t.currency,
    t.pending ? 'pending' : 'posted',
    t.now,
  ];
  if (!t.pending) {
    tx.defer(insert, values);
    return rows;
  }
  const row = await tx.row<{ id: number }>(`${insert} RETURNING id`, values);
  return { id: row.id, ...rows };
}

interface TransferRow {
  id: number;
  debit_account_id: number;
  credit_account_id: number;
  amount: number;
  currency: string;
  phase: string;
}

async function resolvePending(
  tx: Tx,
  pendingId: number,
  outcome: 'post_pending' | 'void_pending',
  transactionId: number,
  now: number,
): Promise<number> {
  const pending = await tx.one<TransferRow>(
    `SELECT id, debit_account_id, credit_account_id, amount, currency, phase FROM transfers WHERE id = ?`,
    [pendingId],
  );
  if (!pending || pending.phase !== 'pending')
    throw new Error(`transfer ${pendingId} is not a pending transfer`);
  const resolved = await tx.one<{ id: number }>('SELECT id FROM transfers WHERE pending_id = ?', [pendingId]);
  if (resolved) throw new DomainError('conflict', `Pending transfer ${pendingId} is already resolved`);
  const row = await tx.row<{ id: number }>(
    `INSERT INTO transfers (transaction_id, debit_account_id, credit_account_id, amount, currency, phase, pending_id, created_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
    [
      transactionId,
      pending.debit_account_id,
      pending.credit_account_id,
      pending.amount,
      pending.currency,
      outcome,
      pendingId,
      now,
    ],
  );
  const posted = outcome === 'post_pending' ? pending.amount : 0;
  await tx.run(
    'UPDATE accounts SET debits_pending = debits_pending - ?, debits_posted = debits_posted + ? WHERE id = ?',
    [pending.amount, posted, pending.debit_account_id],
  );
  await tx.run(
    'UPDATE accounts SET credits_pending = credits_pending - ?, credits_posted = credits_posted + ? WHERE id = ?',
    [pending.amount, posted, pending.credit_account_id],
  );
  return row.id;
}

export const postPending = (tx: Tx, pendingId: number, transactionId: number, now: number) =>
  resolvePending(tx, pendingId, 'post_pending', transactionId, now);

export const voidPending = (tx: Tx, pendingId: number, transactionId: number, now: number) =>
  resolvePending(tx, pendingId, 'void_pending', transactionId, now);

export interface LedgerProblem {
  kind:
    'cached_balance' | 'currency_imbalance' | 'negative_balance' | 'currency_mismatch' | 'unknown_account';
  message: string;
}

export interface LedgerReport {
  accounts: number;
  transfers: number;
  currencies: Record<string, { debits: number; credits: number }>;
  problems: LedgerProblem[];
}

/** Recomputes every balance from the transfers and compares it with the cached one. */
export async function verifyLedger(tx: Tx): Promise<LedgerReport> {
  const accounts = await tx.all<AccountRow>(`${withShards} GROUP BY a.id ORDER BY a.id`);
  const sums = await tx.all<{ account: number; side: 'd' | 'c'; state: 'posted' | 'pending'; total: number }>(
    `SELECT debit_account_id AS account, 'd' AS side, 'posted' AS state, SUM(amount) AS total
       FROM transfers WHERE phase IN ('posted', 'post_pending') GROUP BY debit_account_id
     UNION ALL
     SELECT credit_account_id, 'c', 'posted', SUM(amount)
       FROM transfers WHERE phase IN ('posted', 'post_pending') GROUP BY credit_account_id
     UNION ALL
     SELECT t.debit_account_id, 'd', 'pending', SUM(t.amount) FROM transfers t
       WHERE t.phase = 'pending' AND NOT EXISTS (SELECT 1 FROM transfers r WHERE r.pending_id = t.id)
       GROUP BY t.debit_account_id
     UNION ALL
     SELECT t.credit_account_id, 'c', 'pending', SUM(t.amount) FROM transfers t
       WHERE t.phase = 'pending' AND NOT EXISTS (SELECT 1 FROM transfers r WHERE r.pending_id = t.id)
       GROUP BY t.credit_account_id`,
  );
  const recomputed = new Map<number, { dp: number; cp: number; dh: number; ch: number }>();
  for (const s of sums) {
    const r = recomputed.get(s.account) ?? { dp: 0, cp: 0, dh: 0, ch: 0 };
    const total = Number(s.total);
    if (s.state === 'posted') r[s.side === 'd' ? 'dp' : 'cp'] += total;
    else r[s.side === 'd' ? 'dh' : 'ch'] += total;
    recomputed.set(s.account, r);
  }
  const problems: LedgerProblem[] = [];
  const currencies: LedgerReport['currencies'] = {};
  // Accounts a refund clawback moved money on, read once and only if some account is below zero.
  let clawed: Set<number> | undefined;
  const clawedAccounts = async () =>
    (clawed ??= new Set(
      (
        await tx.all<{ account: number }>(
          `SELECT f.debit_account_id AS account FROM transactions t JOIN transfers f ON f.transaction_id = t.id
            WHERE t.type = 'refund'
           UNION
           SELECT f.credit_account_id FROM transactions t JOIN transfers f ON f.transaction_id = t.id
            WHERE t.type = 'refund'`,
        )
      ).map((r) => r.account),
    ));
  for (const a of accounts) {
    const r = recomputed.get(a.id) ?? { dp: 0, cp: 0, dh: 0, ch: 0 };
    const cached = [a.debits_posted, a.credits_posted, a.debits_pending, a.credits_pending];
    const actual = [r.dp, r.cp, r.dh, r.ch];
    if (cached.some((v, i) => v !== actual[i])) {
      problems.push({
        kind: 'cached_balance',
        message: `${a.code}: cached debits/credits posted ${cached[0]}/${cached[1]} pending ${cached[2]}/${cached[3]}, transfers say ${actual[0]}/${actual[1]} pending ${actual[2]}/${actual[3]}`,
      });
    }
    const c = (currencies[a.currency] ??= { debits: 0, credits: 0 });
    c.debits += r.dp;
    c.credits += r.cp;
    if (!a.may_go_negative && balanceOf(a).posted < 0) {
      if (!(await clawedAccounts()).has(a.id)) {
        problems.push({
          kind: 'negative_balance',
          message: `${a.code} is below zero with no refund clawback`,
        });
      }
    }
  }
  // PostgreSQL has no foreign key from a transfer to its accounts (migration 012): check it here.
  const known = new Set(accounts.map((a) => a.id));
  for (const id of recomputed.keys()) {
    if (!known.has(id)) {
      problems.push({
        kind: 'unknown_account',
        message: `transfers name account ${id}, which does not exist`,
      });
    }
  }
  for (const [code, c] of Object.entries(currencies)) {
    if (c.debits !== c.credits) {
      problems.push({
        kind: 'currency_imbalance',
        message: `${code}: debits ${c.debits} != credits ${c.credits}`,
      });
    }
  }
  const mismatched = await tx.all<{ id: number }>(
    `SELECT t.id FROM transfers t JOIN accounts d ON d.id = t.debit_account_id JOIN accounts c ON c.id = t.credit_account_id
      WHERE d.currency <> t.currency OR c.currency <> t.currency`,
  );
  for (const m of mismatched) {
    problems.push({
      kind: 'currency_mismatch',
      message: `transfer ${m.id} joins accounts of another currency`,
    });
  }
  const count = await tx.one<{ n: number }>('SELECT COUNT(*) AS n FROM transfers');
  return { accounts: accounts.length, transfers: Number(count?.n ?? 0), currencies, problems };
}
