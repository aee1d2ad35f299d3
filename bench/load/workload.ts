// The load: T tills, each with its own app credentials and several requests in flight, earning,
// redeeming with the member's PIN and cashing out (member-funded claims, half of them then opened and
// submitted through the claim page's public routes so the sandbox pays them) on a small pool of
// members shared by every till, so balances are contended. Every operation has its own reference and
// Idempotency-Key (the same string); every acknowledged one (2xx) is kept with its result, every
// refusal with its code.
import { performance } from 'node:perf_hooks';
import { countInto, newClientStats, tillClient, type ClientStats, type Outcome } from './client.ts';
import { LOAD_MEMBER_PIN, type Credentials, type Member } from './setup.ts';

/** Operations that change the ledger, checked once each in the database. */
export type LedgerKind = 'earn' | 'redeem' | 'claim';
/** Every kind of request timed. */
export type OpKind = LedgerKind | 'claim_open' | 'claim_submit';
export const OP_KINDS: readonly OpKind[] = ['earn', 'redeem', 'claim', 'claim_open', 'claim_submit'];

export interface AckedOp {
  kind: LedgerKind;
  /** The reference and the Idempotency-Key. */
  key: string;
  till: number;
  memberId: number;
  /** Cashback earned, amount redeemed or claimed, in minor units. */
  amount: number;
  /** The engine's transaction id (earn, redeem) or claim id. */
  id: number | string;
  /** Claims: the customer submitted it through the claim page (so it must end paid). */
  submitted?: boolean;
  /** The engine answered a retry with the stored result: applied by an attempt whose answer was lost. */
  replayed: boolean;
}

export interface RefusedOp {
  kind: OpKind;
  key: string;
  status: number;
  code: string;
}

export interface LoadRecord {
  acked: AckedOp[];
  refused: RefusedOp[];
  /** Operations that never got a sure answer (may or may not be applied). */
  gaveUp: { kind: OpKind; key: string }[];
  latencies: Map<OpKind, number[]>;
  seconds: number;
  stats: ClientStats;
}

export interface LoadOptions {
  urls: readonly string[];
  tills: readonly Credentials[];
  programId: number;
  members: readonly Member[];
  /** Requests in flight per till. */
  inFlight: number;
  seconds: number;
  /** Prefix of every reference and key, unique per run. */
  runId: string;
  /** Share of claims completed through the claim page. */
  completeShare?: number;
}

/** A refusal the load provokes on purpose: a redeem or claim larger than the contended balance. */
export const isExpectedRefusal = (r: Pick<RefusedOp, 'status' | 'code'>) =>
  r.status === 422 && r.code === 'insufficient_balance';

const between = (min: number, max: number) => min + Math.floor(Math.random() * (max - min + 1));

export async function runLoad(opts: LoadOptions): Promise<LoadRecord> {
  const record: LoadRecord = {
    acked: [],
    refused: [],
    gaveUp: [],
    latencies: new Map(OP_KINDS.map((k) => [k, []])),
    seconds: 0,
    stats: newClientStats(),
  };
  const completeShare = opts.completeShare ?? 0.5;
  const start = performance.now();
  const deadline = start + opts.seconds * 1000;

  /** Sends one request; records its latency when it is a 2xx, the operation when it was given up. */
  async function timed(kind: OpKind, key: string, send: () => Promise<Outcome>): Promise<Outcome> {
    const t0 = performance.now();
    const outcome = await send();
    if (outcome.kind === 'gave_up') {
      record.gaveUp.push({ kind, key });
      return outcome;
    }
    const { status } = outcome.answer;
    if (status >= 200 && status < 300) record.latencies.get(kind)!.push(performance.now() - t0);
    return outcome;
  }

  function refusal(kind: OpKind, key: string, outcome: Outcome): void {
    if (outcome.kind !== 'answered') return;
    const code = (outcome.answer.body as { error?: { code?: string } })?.error?.code ?? 'unknown';
    record.refused.push({ kind, key, status: outcome.answer.status, code });
  }

  const tills = opts.tills.map((credentials, t) => {
    const client = tillClient({ urls: opts.urls, credentials, firstEngine: t, stats: record.stats });
    let seq = 0;
    return { t, client, nextKey: () => `${opts.runId}-t${t + 1}-${++seq}` };
  });

  type Till = (typeof tills)[number];

  /** An earn or a redeem: sent with its key, kept as acknowledged with the amount its answer names. */
  async function ledgerOperation(
    kind: 'earn' | 'redeem',
    till: Till,
    member: Member,
    body: Record<string, unknown>,
    amountOf: (answer: Record<string, number>) => number,
  ): Promise<void> {
    const key = till.nextKey();
    const o = await timed(kind, key, () =>
      till.client.send('POST', `/v1/${kind}`, {
        body: { program_id: opts.programId, member: { id: member.id }, ...body, reference: key },
        idempotencyKey: key,
      }),
    );
    if (o.kind === 'answered' && o.answer.status === 200) {
      const r = o.answer.body as Record<string, number> & { replayed: boolean };
      record.acked.push({
        kind,
        key,
        till: till.t,
        memberId: member.id,
        amount: amountOf(r),
        id: r['transaction_id']!,
        replayed: r.replayed,
      });
    } else refusal(kind, key, o);
  }

  const earn = (till: Till, member: Member) =>
    ledgerOperation(
      'earn',
      till,
      member,
      { purchase_amount: between(1_000, 10_000) },
      (r) => r['cashback_earned']!,
    );
  const redeem = (till: Till, member: Member) =>
    ledgerOperation(
      'redeem',
      till,
      member,
      { amount: between(100, 800), pin: LOAD_MEMBER_PIN },
      (r) => r['amount_redeemed']!,
    );

  async function claim(till: Till, member: Member): Promise<void> {
    const key = till.nextKey();
    // Below the sandbox's test amounts (9001-9006), so every submitted claim is paid.
    const amount = between(100, 600);
    const body = {
      amount,
      funding: 'member',
      program_id: opts.programId,
      member: { id: member.id },
      store_name: `Till ${till.t + 1}`,
      reference: key,
      methods: ['payid'],
    };
    const o = await timed('claim', key, () =>
      till.client.send('POST', '/v1/claims', { body, idempotencyKey: key }),
    );
    if (o.kind !== 'answered' || o.answer.status !== 201) return refusal('claim', key, o);
    const created = o.answer.body as { claim_id: string; replayed?: boolean };
    const op: AckedOp = {
      kind: 'claim',
      key,
      till: till.t,
      memberId: member.id,
      amount,
      id: created.claim_id,
      replayed: created.replayed === true,
    };
    record.acked.push(op);
    if (Math.random() < completeShare) op.submitted = await completeClaim(till, op, member);
  }

  /** The customer's phone: open, then submit a PayID. A repeat after an unsure submit may get 409 "submitted". */
  async function completeClaim(till: Till, op: AckedOp, member: Member): Promise<boolean> {
    const path = `/v1/public/claims/${String(op.id)}`;
    const opened = await timed('claim_open', op.key, () =>
      till.client.send('POST', `${path}/open`, { credentials: false }),
    );
    if (opened.kind !== 'answered' || opened.answer.status !== 200) {
      refusal('claim_open', op.key, opened);
      return false;
    }
    const submitted = await timed('claim_submit', op.key, () =>
      till.client.send('POST', `${path}/submit`, {
        body: { consent: true, method: { kind: 'payid', payid: member.email } },
        credentials: false,
      }),
    );
    if (submitted.kind !== 'answered') return false;
    const { status, body } = submitted.answer;
    const stateNow = (body as { error?: { details?: { status?: string } } })?.error?.details?.status;
    if (status === 202) return true;
    if (
      status === 409 &&
      submitted.retries > 0 &&
      stateNow !== undefined &&
      stateNow !== 'created' &&
      stateNow !== 'opened'
    ) {
      return true;
    }
    refusal('claim_submit', op.key, submitted);
    return false;
  }

  async function worker(till: Till): Promise<void> {
    while (performance.now() < deadline) {
      const member = opts.members[Math.floor(Math.random() * opts.members.length)]!;
      const roll = Math.random();
      if (roll < 0.5) await earn(till, member);
      else if (roll < 0.75) await redeem(till, member);
      else await claim(till, member);
    }
  }

  await Promise.all(tills.flatMap((till) => Array.from({ length: opts.inFlight }, () => worker(till))));
  record.seconds = (performance.now() - start) / 1000;
  return record;
}

/** Refusals by "status code", and unsure outcomes by their kind, for the report. */
export function errorsByCode(record: LoadRecord): Map<string, number> {
  const out = new Map<string, number>();
  for (const r of record.refused)
    countInto(out, `${r.status} ${r.code}${isExpectedRefusal(r) ? ' (expected)' : ''}`);
  for (const [label, n] of record.stats.unsure) countInto(out, `unsure: ${label} (retried)`, n);
  for (const g of record.gaveUp) countInto(out, `gave up: ${g.kind}`);
  return out;
}
