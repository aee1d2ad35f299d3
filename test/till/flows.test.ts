// The flows end to end: simulated terminals on real pseudo-terminals (socat) read by the real device
// manager, a real till file and outbox, and a real engine on loopback whose ledger is the judge.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { manifestEnumerator } from '../../drivers/devices/enumerators.ts';
import { DeviceManager } from '../../drivers/devices/manager.ts';
import { TEST_BDK } from '../../drivers/pinpad/simulator.ts';
import { maskedTestPan, SAMPLE_SCANS } from '../../drivers/simulate/cards.ts';
import { startSimulation, type SimulationController } from '../../drivers/simulate/simulation.ts';
import type { FlowEvent } from '../../till/flows/events.ts';
import { createFlows, type FlowStart, type Flows } from '../../till/flows/runner.ts';
import { openOutbox, type Outbox } from '../../till/outbox/outbox.ts';
import { SIM_PINS, TEST_PANS, VISA_PAN } from '../fixtures/secrets.ts';
import { testLog } from '../fixtures/test-log.ts';
import { startEngineLink, type EngineLink } from './engine-link.ts';

const TOKENIZATION_KEY = 'till-flows-test-card-hash-key-0123456789';
const [RIGHT_PIN, WRONG_PIN] = SIM_PINS;
const writeEvent = testLog('till-flows-events');
const VISA_MASKED = maskedTestPan('visa');

let link: EngineLink;
let dir: string;
let sim: SimulationController;
let devices: DeviceManager;
let outbox: Outbox;
let flows: Flows;
let programId: number;
let admin: Record<string, string>;
const seen: FlowEvent[] = [];

beforeAll(async () => {
  link = await startEngineLink({
    secrets: { cardHashKey: TOKENIZATION_KEY, pinBdk: TEST_BDK },
  });
  programId = await link.h.program({ currency: 'TND', cashbackBps: 500, allowsPinRedemption: true });
  admin = (await link.h.app(['admin', 'cashback_read', 'cashback_write'])).headers;
  dir = mkdtempSync(join(tmpdir(), 'tillback-flows-'));
  sim = await startSimulation({
    dir: join(dir, 'devices'),
    devices: ['reader', 'pinpad', 'scanner'],
    pin: RIGHT_PIN,
    out: testLog('till-flows-sim'),
  });
  devices = new DeviceManager({
    enumerators: [manifestEnumerator(sim.dir)],
    pollIntervalMs: 100,
    probe: false,
  });
  await devices.start();
  outbox = await openOutbox({
    path: join(dir, 'till.sqlite'),
    engine: { url: link.url, ...link.credentials },
    retry: { baseMs: 20, maxMs: 200 },
    timeoutMs: 5_000,
  });
  outbox.start();
  flows = createFlows({
    devices,
    outbox,
    config: {
      tokenizationKey: TOKENIZATION_KEY,
      deliveryWaitMs: 5_000,
      claimPoll: { baseMs: 20, maxMs: 200 },
      storeName: 'Corner Store',
    },
  });
  flows.onEvent((e) => {
    seen.push(e);
    writeEvent(e);
  });
}, 60_000);

afterAll(async () => {
  await flows?.close();
  await devices?.close();
  await outbox?.close();
  await sim?.stop();
  await link?.close();
  rmSync(dir, { recursive: true, force: true });
  // What the screens were sent never carries a card number or a PIN.
  expect(seen.length).toBeGreaterThan(0);
  const all = JSON.stringify(seen);
  for (const pan of TEST_PANS) expect(all).not.toContain(pan);
  for (const e of seen) expect(JSON.stringify(e)).not.toMatch(/"(pin|pinBlock|block|memberToken)":/);
}, 30_000);

/** Resolves with the first event of `flowId` (any flow if undefined) that matches, seen or to come. */
function waitFor(match: (e: FlowEvent) => boolean, timeoutMs = 30_000): Promise<FlowEvent> {
  const hit = seen.find(match);
  if (hit) return Promise.resolve(hit);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`no matching flow event; last: ${JSON.stringify(seen.at(-1))}`));
    }, timeoutMs);
    const off = flows.onEvent((e) => {
      if (!match(e)) return;
      clearTimeout(timer);
      off();
      resolve(e);
    });
  });
}
const ended = (flowId: string) => waitFor((e) => e.flowId === flowId && e.outcome !== null);
const atStep = (flowId: string, step: string) => waitFor((e) => e.flowId === flowId && e.step === step);

let memberSeq = 0;
/** A member at the engine, with a linked card, a PIN and an external id when asked. */
async function newMember(opts: { card?: boolean; pin?: string; externalId?: string; domain?: string } = {}) {
  memberSeq += 1;
  const email = `flow${memberSeq}@${opts.domain ?? 'example.com'}`;
  const created = await link.h.request({
    method: 'POST',
    url: '/v1/members',
    headers: { ...admin, 'idempotency-key': `member-${memberSeq}` },
    body: { email, name: `Flow ${memberSeq}`, ...(opts.externalId ? { external_id: opts.externalId } : {}) },
  });
  expect(created.status).toBe(201);
  const id = created.body.member_id as number;
  if (opts.card) {
    const linked = await link.h.request({
      method: 'POST',
      url: `/v1/members/${id}/cards`,
      headers: { ...admin, 'idempotency-key': `card-${memberSeq}` },
      body: { pan: VISA_PAN },
    });
    expect(linked.status).toBe(201);
  }
  if (opts.pin) {
    const set = await link.h.request({
      method: 'PUT',
      url: `/v1/members/${id}/pin`,
      headers: { ...admin, 'idempotency-key': `pin-${memberSeq}` },
      body: { pin: opts.pin },
    });
    expect(set.status).toBe(200);
  }
  return { id, email };
}

// A card links to one member only: every card test uses this one, and looks at balance changes.
let cardHolder: ReturnType<typeof newMember> | undefined;
const cardMember = () => (cardHolder ??= newMember({ card: true, pin: RIGHT_PIN }));

async function available(memberId: number): Promise<number> {
  const r = await link.h.request({
    method: 'GET',
    url: `/v1/members/${memberId}/balance?program_id=${programId}`,
    headers: admin,
  });
  expect(r.status).toBe(200);
  return r.body.balance.available as number;
}

/** Cashback for a member straight at the engine (not through the till), to redeem or cash out. */
async function credit(email: string, purchase: number): Promise<void> {
  const r = await link.h.request({
    method: 'POST',
    url: '/v1/earn',
    headers: { ...admin, 'idempotency-key': `credit-${email}-${purchase}` },
    body: { program_id: programId, member: { email }, purchase_amount: purchase },
  });
  expect(r.status).toBe(200);
}

const sale = (amount: number, extra: Record<string, unknown> = {}) => ({
  cashier: 'carl',
  programId,
  currency: 'TND',
  amount,
  ...extra,
});
const start = (request: FlowStart) => flows.start(request);
const operationsCount = () =>
  outbox.store.read((tx) => tx.row<{ n: number }>('SELECT COUNT(*) AS n FROM operations')).then((r) => r.n);
const historyRow = (id: string) =>
  outbox.store.read((tx) =>
    tx.one<{ type: string; state: string; member: string; amount: number; result: string }>(
      'SELECT type, state, member, amount, result FROM operations WHERE id = ?',
      [id],
    ),
  );

describe('earn', () => {
  it('by swipe: the cashback lands on the member the card is linked to', async () => {
    const m = await cardMember();
    const before = await available(m.id);
    const f = start({ kind: 'earn', input: sale(10_000) });
    expect(f.step).toBe('identify');
    expect(f.prompt).toEqual({ cashier: 'present_card_or_code', customer: 'swipe_card' });
    await sim.swipe('visa');
    const done = await ended(f.flowId);
    expect(done).toMatchObject({
      outcome: 'done',
      member: VISA_MASKED,
      result: { queued: false, cashback: 500 },
    });
    expect(await available(m.id)).toBe(before + 500);
    const row = await historyRow(done.operationId!);
    expect(JSON.parse(row!.member)).toEqual({
      card: { hash: expect.stringMatching(/^[0-9a-f]{64}$/), masked: VISA_MASKED },
    });
  });

  it('by a scanned member code', async () => {
    const m = await newMember({ externalId: SAMPLE_SCANS.member });
    const f = start({ kind: 'earn', input: sale(4_000) });
    await sim.scan('member');
    const done = await ended(f.flowId);
    expect(done).toMatchObject({
      outcome: 'done',
      member: `member ${SAMPLE_SCANS.member}`,
      result: { cashback: 200 },
    });
    expect(await available(m.id)).toBe(200);
  });

  it('by an email the cashier types while the flow waits', async () => {
    const m = await newMember();
    const f = start({ kind: 'earn', input: sale(2_000) });
    const typed = flows.input({ member: { email: m.email } });
    expect(typed.flowId).toBe(f.flowId);
    const done = await ended(f.flowId);
    expect(done).toMatchObject({ outcome: 'done', result: { queued: false, cashback: 100, available: 100 } });
    expect(done.member).toBe(`f***@example.com`);
    expect(await available(m.id)).toBe(100);
  });
  it('refused by the engine (a member it does not know): failed with its message', async () => {
    const f = start({ kind: 'earn', input: sale(1_000, { member: { email: 'nobody@example.com' } }) });
    const failed = await ended(f.flowId);
    expect(failed).toMatchObject({
      outcome: 'failed',
      error: expect.stringMatching(/^The engine refused it: 404 /),
    });
    expect((await historyRow(failed.operationId!))?.state).toBe('failed');
  });
});

describe('redeem', () => {
  it('with the PIN on the PIN pad: the balance goes down, the history has it', async () => {
    const m = await cardMember();
    await credit(m.email, 20_000);
    const before = await available(m.id);
    sim.setPin(RIGHT_PIN);
    const f = start({ kind: 'redeem', input: sale(300) });
    await sim.swipe('visa');
    await atStep(f.flowId, 'pin');
    const done = await ended(f.flowId);
    expect(done).toMatchObject({ outcome: 'done', result: { redeemed: 300, available: before - 300 } });
    expect(await available(m.id)).toBe(before - 300);
    const row = await waitForRow(f.flowId);
    expect(row).toMatchObject({ type: 'redeem', state: 'delivered', amount: 300 });
    expect(JSON.parse(row.member)).toEqual({
      card: { hash: expect.any(String), masked: VISA_MASKED },
    });
  });

  it('with a wrong PIN: the engine says so, the pad asks again, nothing is spent', async () => {
    const m = await cardMember();
    await credit(m.email, 20_000);
    const before = await available(m.id);
    sim.setPin(WRONG_PIN);
    const f = start({ kind: 'redeem', input: sale(300) });
    await sim.swipe('visa');
    const again = await waitFor((e) => e.flowId === f.flowId && e.step === 'pin' && e.error !== null);
    expect(again.error).toMatch(/PIN/i);
    expect(await available(m.id)).toBe(before);
    const failed = await ended(f.flowId);
    expect(failed.outcome).toBe('failed');
    expect(await available(m.id)).toBe(before);
    expect(await waitForRow(f.flowId)).toMatchObject({ type: 'redeem', state: 'failed' });
  });

  it('with a one-time code for a typed email', async () => {
    const m = await newMember();
    await credit(m.email, 20_000);
    const before = await available(m.id);
    const f = start({ kind: 'redeem', input: sale(250, { member: { email: m.email } }) });
    const asked = await atStep(f.flowId, 'otp');
    expect(asked.codeSentTo).not.toBeNull();
    const code = link.h.sent.filter((s) => s.to === m.email).at(-1)!.code;
    flows.input({ code });
    const done = await ended(f.flowId);
    expect(done).toMatchObject({ outcome: 'done', result: { redeemed: 250 } });
    expect(await available(m.id)).toBe(before - 250);
    expect(await waitForRow(f.flowId)).toMatchObject({ type: 'redeem', state: 'delivered', amount: 250 });
  });

  it('whose code the engine could not send: its reason (a 503 it explains), not "cannot be reached"', async () => {
    const m = await newMember({ domain: 'undeliverable.example' });
    await credit(m.email, 20_000);
    const before = await available(m.id);
    const f = start({ kind: 'redeem', input: sale(250, { member: { email: m.email } }) });
    expect(await ended(f.flowId)).toMatchObject({
      outcome: 'failed',
      error: 'The one-time code could not be sent; try again shortly',
    });
    expect(before).toBeGreaterThan(0);
    expect(await available(m.id)).toBe(before);
  });
});

/** The history row of the flow's online operation, once the flow's last event names it. */
async function waitForRow(flowId: string) {
  const e = await waitFor((x) => x.flowId === flowId && x.outcome !== null && x.operationId !== null);
  const row = await historyRow(e.operationId!);
  expect(row).toBeDefined();
  return row!;
}

describe('refund', () => {
  it('partial then full, each with the clawback shown; then nothing is left to refund', async () => {
    const m = await newMember();
    const earn = start({
      kind: 'earn',
      input: sale(10_000, { member: { email: m.email }, reference: 'ORDER-R1' }),
    });
    expect((await ended(earn.flowId)).result).toMatchObject({ cashback: 500 });

    const partial = start({
      kind: 'refund',
      input: { cashier: 'carl', original: { reference: 'ORDER-R1' }, amount: 4_000 },
    });
    const p = await ended(partial.flowId);
    expect(p).toMatchObject({
      outcome: 'done',
      amount: { minor: 4_000 },
      result: { queued: false, clawback: 200 },
    });

    const earnDone = await ended(earn.flowId);
    const full = start({
      kind: 'refund',
      input: { cashier: 'carl', original: { operationId: earnDone.operationId! } },
    });
    const r = await ended(full.flowId);
    expect(r).toMatchObject({ outcome: 'done', amount: { minor: 6_000 }, result: { clawback: 300 } });
    expect(await available(m.id)).toBe(0);

    const rows = await operationsCount();
    const more = start({
      kind: 'refund',
      input: { cashier: 'carl', original: { reference: 'ORDER-R1' }, amount: 1 },
    });
    expect(await ended(more.flowId)).toMatchObject({
      outcome: 'failed',
      error: expect.stringMatching(/refunded in full/),
    });
    expect(await operationsCount()).toBe(rows);
  });

  it('more than what is left is refused with the amounts, and nothing is queued', async () => {
    const m = await newMember();
    const earn = start({
      kind: 'earn',
      input: sale(1_000, { member: { email: m.email }, reference: 'ORDER-R2' }),
    });
    await ended(earn.flowId);
    const rows = await operationsCount();
    const f = start({
      kind: 'refund',
      input: { cashier: 'carl', original: { reference: 'ORDER-R2' }, amount: 1_001 },
    });
    expect(await ended(f.flowId)).toMatchObject({
      outcome: 'failed',
      error: 'A refund of 1001 TND minor units is more than the 1000 TND minor units left of this purchase',
    });
    expect(await operationsCount()).toBe(rows);
  });
});

/** Pays a claim as the customer's phone would: open it, choose PayPal, agree (sandbox provider). */
async function payClaim(claimId: string): Promise<void> {
  const opened = await link.h.request({ method: 'POST', url: `/v1/public/claims/${claimId}/open` });
  expect(opened.status).toBe(200);
  const submitted = await link.h.request({
    method: 'POST',
    url: `/v1/public/claims/${claimId}/submit`,
    body: { method: { kind: 'paypal', email: 'payee@example.com' }, consent: true },
  });
  expect(submitted.status).toBe(202);
}

describe('cashout', () => {
  it('shows the claim URL and expiry, and follows the claim until it is paid', async () => {
    const m = await newMember();
    await credit(m.email, 20_000);
    const before = await available(m.id);
    const f = start({ kind: 'cashout', input: sale(400, { member: { email: m.email } }) });
    const shown = await atStep(f.flowId, 'following');
    expect(shown.prompt.customer).toBe('scan_qr');
    expect(shown.claim).toMatchObject({
      url: expect.stringMatching(/\/c\/[0-9a-f-]{36}$/),
      expiresAt: expect.any(String),
    });
    await payClaim(shown.claim!.id);
    const done = await ended(f.flowId);
    expect(done).toMatchObject({ outcome: 'done', claim: { status: 'paid' } });
    expect(await available(m.id)).toBe(before - 400);
    expect(await waitForRow(f.flowId)).toMatchObject({ type: 'cashout', state: 'delivered', amount: 400 });
  });

  it('cancelled while shown: the claim is cancelled at the engine and the hold given back', async () => {
    const m = await newMember();
    await credit(m.email, 20_000);
    const before = await available(m.id);
    const f = start({ kind: 'cashout', input: sale(400, { member: { email: m.email } }) });
    const shown = await atStep(f.flowId, 'following');
    expect(await available(m.id)).toBe(before - 400); // held
    flows.cancel();
    expect(await ended(f.flowId)).toMatchObject({ outcome: 'cancelled', claim: { status: 'cancelled' } });
    const claim = await link.h.request({
      method: 'GET',
      url: `/v1/claims/${shown.claim!.id}`,
      headers: admin,
    });
    expect(claim.body.status).toBe('cancelled');
    expect(await available(m.id)).toBe(before);
  });
  it('a till stopping mid-cashout cancels the claim it shows', async () => {
    const m = await newMember();
    await credit(m.email, 20_000);
    const before = await available(m.id);
    const stopping = createFlows({
      devices,
      outbox,
      config: { tokenizationKey: TOKENIZATION_KEY, claimPoll: { baseMs: 20, maxMs: 200 } },
    });
    const events: FlowEvent[] = [];
    stopping.onEvent((e) => events.push(e));
    stopping.start({ kind: 'cashout', input: sale(400, { member: { email: m.email } }) });
    await expect.poll(() => events.at(-1)?.step, { timeout: 15_000 }).toBe('following');
    const claimId = events.at(-1)!.claim!.id;
    await stopping.close();
    const status = async () =>
      (await link.h.request({ method: 'GET', url: `/v1/claims/${claimId}`, headers: admin })).body.status;
    await expect.poll(status, { timeout: 15_000 }).toBe('cancelled');
    expect(await available(m.id)).toBe(before);
  });
});

describe('cancel, timeouts and unplugs end the flow with nothing half done', () => {
  it('cancel while waiting for the member: nothing is queued', async () => {
    for (const kind of ['earn', 'redeem', 'cashout'] as const) {
      const rows = await operationsCount();
      const f = start({ kind, input: sale(700) } as FlowStart);
      expect(f.step).toBe('identify');
      const c = flows.cancel();
      expect(c).toMatchObject({ flowId: f.flowId, outcome: 'cancelled', error: null });
      // Too late: the flow is over (waited for, so it cannot reach the next flow).
      const swiped = new Promise((resolve) => devices.once('swipe', resolve));
      await sim.swipe('visa');
      await swiped;
      expect(await operationsCount()).toBe(rows);
    }
  });

  it('cancel of a refund waiting for the member of a purchase the till never saw', async () => {
    const rows = await operationsCount();
    const f = start({
      kind: 'refund',
      input: {
        cashier: 'carl',
        original: { reference: 'ELSEWHERE-1' },
        amount: 500,
        programId,
        currency: 'TND',
      },
    });
    await atStep(f.flowId, 'identify');
    expect(flows.cancel().outcome).toBe('cancelled');
    expect(await operationsCount()).toBe(rows);
  });

  it('cancel at the PIN pad: the PIN entry is stopped, no redeem is sent', async () => {
    const m = await cardMember();
    await credit(m.email, 5_000);
    const before = await available(m.id);
    const pad = sim.device('pinpad-1').pid!;
    process.kill(pad, 'SIGSTOP'); // the customer takes their time: the entry stays open
    try {
      const f = start({ kind: 'redeem', input: sale(100) });
      await sim.swipe('visa');
      await atStep(f.flowId, 'pin');
      expect(flows.cancel()).toMatchObject({ outcome: 'cancelled' });
    } finally {
      process.kill(pad, 'SIGCONT');
    }
    expect(await available(m.id)).toBe(before);
  });

  it('cancel while the one-time code is awaited: no redeem', async () => {
    const m = await newMember();
    await credit(m.email, 5_000);
    const before = await available(m.id);
    const f = start({ kind: 'redeem', input: sale(100, { member: { email: m.email } }) });
    await atStep(f.flowId, 'otp');
    expect(flows.cancel().outcome).toBe('cancelled');
    expect(() => flows.input({ code: '000000' })).toThrow(/No flow is running/);
    expect(await available(m.id)).toBe(before);
  });

  it('no swipe within the identify timeout: cancelled with the reason', async () => {
    const quick = createFlows({
      devices,
      outbox,
      config: { tokenizationKey: TOKENIZATION_KEY, identifyTimeoutMs: 1_000 },
    });
    const events: FlowEvent[] = [];
    quick.onEvent((e) => events.push(e));
    const rows = await operationsCount();
    const f = quick.start({ kind: 'earn', input: sale(900) });
    await expect.poll(() => events.at(-1)?.outcome, { timeout: 15_000 }).toBe('cancelled');
    expect(events.at(-1)).toMatchObject({
      flowId: f.flowId,
      error: 'No card or member code within 1 seconds',
    });
    expect(await operationsCount()).toBe(rows);
    await quick.close();
  });

  it('no PIN within the PIN timeout: cancelled with the reason, nothing spent', async () => {
    const quick = createFlows({
      devices,
      outbox,
      config: { tokenizationKey: TOKENIZATION_KEY, pinTimeoutMs: 1_000 },
    });
    const events: FlowEvent[] = [];
    quick.onEvent((e) => events.push(e));
    const m = await cardMember();
    await credit(m.email, 5_000);
    const before = await available(m.id);
    const pad = sim.device('pinpad-1').pid!;
    process.kill(pad, 'SIGSTOP'); // the customer never types
    try {
      quick.start({ kind: 'redeem', input: sale(100) });
      await sim.swipe('visa');
      await expect.poll(() => events.at(-1)?.outcome, { timeout: 15_000 }).toBe('cancelled');
    } finally {
      process.kill(pad, 'SIGCONT');
    }
    expect(events.map((e) => e.step)).toContain('pin');
    expect(events.at(-1)?.error).toBe('No PIN was entered within 1 seconds: nothing was spent');
    expect(await available(m.id)).toBe(before);
    await quick.close();
  });

  it('the card reader unplugged while waiting for the swipe: a clear message, nothing queued', async () => {
    const rows = await operationsCount();
    const f = start({ kind: 'earn', input: sale(800) });
    await sim.unplug('reader-1');
    expect(await ended(f.flowId)).toMatchObject({
      outcome: 'cancelled',
      error: 'The card reader was unplugged: start again once it is back',
    });
    expect(await operationsCount()).toBe(rows);
    await sim.replug('reader-1');
    const readerState = () => devices.list().find((d) => d.kind === 'card_reader')?.state;
    await expect.poll(readerState, { timeout: 15_000 }).toBe('connected');
  });

  it('the PIN pad unplugged during PIN entry: a clear message and nothing spent', async () => {
    const m = await cardMember();
    await credit(m.email, 5_000);
    const before = await available(m.id);
    const pad = sim.device('pinpad-1').pid!;
    process.kill(pad, 'SIGSTOP'); // hold the entry open (the pad never sees it), then pull the cable
    const f = start({ kind: 'redeem', input: sale(100) });
    await sim.swipe('visa');
    await atStep(f.flowId, 'pin');
    process.kill(pad, 'SIGKILL'); // the cable pulled: nothing the pad held gets through
    await sim.unplug('pinpad-1'); // the simulator's side of it: links and simulator gone
    const e = await ended(f.flowId);
    expect(e).toMatchObject({
      outcome: 'cancelled',
      error: expect.stringMatching(/PIN pad .*nothing was spent/),
    });
    expect(await available(m.id)).toBe(before);
    await sim.replug('pinpad-1');
    const padState = () => devices.list().find((d) => d.kind === 'pinpad')?.state;
    await expect.poll(padState, { timeout: 15_000 }).toBe('connected');
  });
});

describe('one flow at a time', () => {
  it('a second start while one runs is refused with flow_busy', async () => {
    const f = start({ kind: 'earn', input: sale(100) });
    expect(() => start({ kind: 'earn', input: sale(100) })).toThrow(
      expect.objectContaining({ code: 'flow_busy' }),
    );
    flows.cancel();
    await ended(f.flowId);
  });
});

// Last: the engine is stopped and started again (without the harness's notifier and clock handle).
describe('offline', () => {
  it('an earn while the engine is stopped is done as queued, and delivered once it is back', async () => {
    const m = await newMember();
    await link.stop();
    const f = start({ kind: 'earn', input: sale(6_000, { member: { email: m.email } }) });
    const done = await ended(f.flowId);
    expect(done).toMatchObject({ outcome: 'done', result: { queued: true } });
    expect(done.result).not.toHaveProperty('cashback');
    const redeem = start({ kind: 'redeem', input: sale(100, { member: { email: m.email } }) });
    expect(await ended(redeem.flowId)).toMatchObject({
      outcome: 'failed',
      error: expect.stringMatching(/needs the engine/),
    });
    await link.start();
    await expect
      .poll(async () => (await historyRow(done.operationId!))?.state, { timeout: 30_000 })
      .toBe('delivered');
    const applied = await link.applied();
    expect(applied.filter((t) => t.purchaseAmount === 6_000 && t.type === 'earn')).toHaveLength(1);
  });
});
