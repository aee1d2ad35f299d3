// Seed 004 partner cashback over a real SQLite file: partners and deposits, conversion, the fund's
// match, duplicate orders, validation, and textcoins (claimed in the window or returned after it).
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { formatPercent } from '../../contract/money.ts';
import { chart } from '../../engine/domain/accounts.ts';
import { createApp } from '../../engine/domain/apps.ts';
import { DAY_MS, type DomainContext } from '../../engine/domain/context.ts';
import { DomainError } from '../../engine/domain/errors.ts';
import { balanceOf, findAccount, verifyLedger, type Balance } from '../../engine/domain/ledger.ts';
import {
  claimTextcoin,
  createPartner,
  depositToPartner,
  getPartnerByApp,
  listPartners,
  partnerCashback,
  returnUnclaimedTextcoins,
  type Partner,
  type PartnerCashbackInput,
} from '../../engine/domain/partners.ts';
import type { TransactionRow } from '../../engine/domain/transactions.ts';
import { openTestStore } from './fixtures/test-store.ts';
import type { Store } from '../../engine/store/store.ts';

const GBYTE = 1_000_000_000; // bytes per GBYTE
const WALLET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
const WALLET2 = 'QRSTUVWXYZ234567ABCDEFGHIJKLMNOP';
const START = Date.UTC(2025, 0, 1);

interface Env {
  dir: string;
  store: Store;
  ctx: DomainContext;
  sent: { to: string; kind: string; code: string }[];
  clock: { now: number };
  partner: Partner;
  failNotify: boolean;
}

let env: Env;

beforeEach(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tillback-partners-'));
  const store = await openTestStore(dir);
  const clock = { now: START };
  const sent: Env['sent'] = [];
  const partial: Omit<Env, 'partner'> = {
    dir,
    store,
    clock,
    sent,
    failNotify: false,
    ctx: {
      store,
      laggingStore: store,
      now: () => clock.now,
      settings: {
        cardHashKey: 'test-card-key',
        memberTokenKey: 'test-token-key',
        memberTokenTtlSeconds: 600,
        otpTtlSeconds: 300,
        pinMaxFailures: 5,
        pinLockSeconds: 900,
        idempotencyRetentionDays: 30,
        textcoinClaimDays: 7,
        credentialsKey: 'test-credentials-key',
        pinBdks: {},
        claimTtlSeconds: 604_800,
        publicUrl: 'http://127.0.0.1:8080',
        rates: {
          'USD:GBYTE': '0.04',
          'EUR:GBYTE': '0.0433333333333',
          'BTC:GBYTE': '3125.5',
          'GBYTE:USD': '25',
        },
      },
      notifier: {
        send: async (message) => {
          // Sent only after the commit: the textcoin is visible to a fresh read.
          const row = await store.read((tx) =>
            tx.one('SELECT id FROM textcoins WHERE claim_hash = ?', [sha256(message.code)]),
          );
          expect(row).toBeDefined();
          if (env.failNotify) throw new Error('mail server down');
          sent.push(message);
        },
      },
    },
  };
  const partner = await store.transact(async (tx) => {
    await createApp(tx, { name: 'Shop', scopes: ['partner'], appId: 'shop' }, START);
    return createPartner(tx, { appId: 'shop', baseBps: 100 }, START);
  });
  env = { ...partial, partner };
});

afterEach(async () => {
  const report = await env.store.read((tx) => verifyLedger(tx));
  expect(report.problems).toEqual([]);
  await env.store.close();
  rmSync(env.dir, { recursive: true, force: true });
});

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

async function caught(promise: Promise<unknown>): Promise<DomainError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof DomainError) return error;
    throw error;
  }
  throw new Error('expected a DomainError');
}

async function balance(code: string): Promise<Balance & { pendingIn: number }> {
  const a = await env.store.read((tx) => findAccount(tx, code));
  if (!a) return { posted: 0, available: 0, held: 0, pendingIn: 0 };
  return { ...balanceOf(a), pendingIn: a.normal_side === 'credit' ? a.credits_pending : a.debits_pending };
}

const depositCode = (p = env.partner) => chart.partnerDeposit(p.id, p.unit).code;
const fundCode = (unit = 'GBYTE') => chart.fund(unit).code;

/** Everything a failed request must leave untouched. */
async function snapshot() {
  return env.store.read(async (tx) => ({
    accounts: await tx.all('SELECT * FROM accounts ORDER BY id'),
    transfers: await tx.all('SELECT * FROM transfers ORDER BY id'),
    transactions: await tx.all('SELECT * FROM transactions ORDER BY id'),
    orders: await tx.all('SELECT * FROM partner_orders ORDER BY id'),
    textcoins: await tx.all('SELECT * FROM textcoins ORDER BY id'),
  }));
}

async function deposit(amount: string, appId = 'shop') {
  return depositToPartner(env.ctx, { appId, amount: { decimal: amount } });
}

let orderSeq = 0;
function order(over: Partial<PartnerCashbackInput> = {}): PartnerCashbackInput {
  orderSeq += 1;
  return {
    appId: 'shop',
    customer: 'customer-1',
    orderId: `order-${orderSeq}`,
    description: 'Coffee and cake',
    address: WALLET,
    currency: 'USD',
    currencyAmount: '100.00',
    ...over,
  };
}

async function transaction(id: number): Promise<TransactionRow> {
  const row = await env.store.read((tx) =>
    tx.one<TransactionRow>('SELECT * FROM transactions WHERE id = ?', [id]),
  );
  if (!row) throw new Error(`no transaction ${id}`);
  return row;
}

async function transfersOf(id: number) {
  return env.store.read((tx) =>
    tx.all<{ amount: number; phase: string; debit: string; credit: string }>(
      `SELECT t.amount, t.phase, d.code AS debit, c.code AS credit FROM transfers t
         JOIN accounts d ON d.id = t.debit_account_id JOIN accounts c ON c.id = t.credit_account_id
        WHERE t.transaction_id = ? ORDER BY t.id`,
      [id],
    ),
  );
}

// ------------------------------------------------------------------------------------------ partners

describe('partners', () => {
  it('creates a partner with defaults, finds and lists it with its deposit', async () => {
    expect(env.partner).toMatchObject({
      appId: 'shop',
      name: 'Shop',
      unit: 'GBYTE',
      baseBps: 100,
      maxPartnerBps: 1000,
    });
    expect(env.partner.createdAt).toBe(START);
    const found = await env.store.read((tx) => getPartnerByApp(tx, 'shop'));
    expect(found).toEqual(env.partner);
    expect(await env.store.read((tx) => listPartners(tx))).toEqual([{ ...env.partner, deposit: 0 }]);

    await deposit('12.5');
    const usd = await env.store.transact(async (tx) => {
      await createApp(
        tx,
        { name: 'Dollar shop', scopes: ['partner', 'cashback_read'], appId: 'dollars' },
        START,
      );
      return createPartner(tx, { appId: 'dollars', unit: 'USD', baseBps: 50, maxPartnerBps: 500 }, START);
    });
    expect(usd).toMatchObject({ unit: 'USD', baseBps: 50, maxPartnerBps: 500, name: 'Dollar shop' });
    expect(await env.store.read((tx) => listPartners(tx))).toEqual([
      { ...env.partner, deposit: 12_500_000_000 },
      { ...usd, deposit: 0 },
    ]);
  });

  it('rejects unknown apps, apps without the partner scope, a second partner per app and bad terms', async () => {
    await env.store.transact(async (tx) => {
      await createApp(tx, { name: 'Till', scopes: ['cashback_write'], appId: 'till' }, START);
      await createApp(tx, { name: 'Partner two', scopes: ['partner'], appId: 'partner-two' }, START);
    });
    const create = (p: Parameters<typeof createPartner>[1]) =>
      caught(env.store.transact((tx) => createPartner(tx, p, START)));

    const unknown = await create({ appId: 'nope', baseBps: 100 });
    expect(unknown.code).toBe('not_found');
    expect(unknown.message).toContain('No app "nope"');
    const noScope = await create({ appId: 'till', baseBps: 100 });
    expect(noScope.code).toBe('validation_error');
    expect(noScope.message).toContain('lacks the "partner" scope');
    const twice = await create({ appId: 'shop', baseBps: 100 });
    expect(twice.code).toBe('conflict');
    for (const bad of [
      { appId: 'partner-two', baseBps: -1 },
      { appId: 'partner-two', baseBps: 10_001 },
      { appId: 'partner-two', baseBps: 1.5 },
      { appId: 'partner-two', baseBps: 100, maxPartnerBps: 20_000 },
      { appId: 'partner-two', baseBps: 100, unit: 'XYZ' },
    ]) {
      expect((await create(bad)).code).toBe('validation_error');
    }
    expect((await caught(env.store.read((tx) => getPartnerByApp(tx, 'partner-two')))).code).toBe('not_found');
    expect((await env.store.read((tx) => listPartners(tx))).map((p) => p.appId)).toEqual(['shop']);
  });

  it('deposits as a ledger transfer, idempotently', async () => {
    const key = { appId: 'shop', scope: 'partner_deposit', key: 'dep-1' };
    const first = await depositToPartner(env.ctx, {
      appId: 'shop',
      amount: { decimal: '3.000000001' },
      reference: 'wire 42',
      idempotency: key,
    });
    expect(first).toMatchObject({ deposit: 3_000_000_001, unit: 'GBYTE', replayed: false });
    const again = await depositToPartner(env.ctx, {
      appId: 'shop',
      amount: { decimal: '3.000000001' },
      reference: 'wire 42',
      idempotency: key,
    });
    expect(again).toEqual({ ...first, replayed: true });
    const other = await caught(
      depositToPartner(env.ctx, { appId: 'shop', amount: { decimal: '4' }, idempotency: key }),
    );
    expect(other.code).toBe('idempotency_conflict');
    const second = await depositToPartner(env.ctx, { appId: 'shop', amount: { minor: 999_999_999 } });
    expect(second.deposit).toBe(4_000_000_000);

    expect((await balance(depositCode())).posted).toBe(4_000_000_000);
    expect((await balance(chart.partnerFunding(env.partner.id, 'GBYTE').code)).posted).toBe(4_000_000_000);
    const row = await transaction(first.transactionId);
    expect(row).toMatchObject({
      type: 'partner_deposit',
      currency: 'GBYTE',
      amount: 3_000_000_001,
      reference: 'wire 42',
    });
    expect(await transfersOf(first.transactionId)).toEqual([
      {
        amount: 3_000_000_001,
        phase: 'posted',
        debit: chart.partnerFunding(env.partner.id, 'GBYTE').code,
        credit: depositCode(),
      },
    ]);

    const before = await snapshot();
    for (const amount of [{ decimal: '0' }, { decimal: '-1' }, { decimal: '0.0000000001' }, { minor: 1.5 }]) {
      expect((await caught(depositToPartner(env.ctx, { appId: 'shop', amount }))).code).toBe(
        'validation_error',
      );
    }
    expect((await caught(deposit('1', 'nobody'))).code).toBe('not_found');
    expect(await snapshot()).toEqual(before);
  });
});

// ---------------------------------------------------------------------------------- partner cashback

describe('partner cashback to a wallet', () => {
  it('pays base from the fund, the partner part from the deposit and the match from the fund', async () => {
    await deposit('10');
    const input = order({
      customer: 'alice',
      merchant: 'cafe-7',
      description: 'Latte',
      partnerCashbackPercentage: '2',
      purchaseUnit: 'kYbc5KGKB/KnjynYePEF4cpumKmOz22xVKSVWbmtZ0M=',
    });
    const result = await partnerCashback(env.ctx, input);
    // 100.00 USD * 0.04 = 4 GBYTE; 1% base = 0.04, 2% partner = 0.08, match 0.08.
    expect(result).toEqual({
      transactionId: result.transactionId,
      unit: String(result.transactionId),
      cashbackAmount: 200_000_000,
      baseAmount: 40_000_000,
      partnerAmount: 80_000_000,
      matchAmount: 80_000_000,
      recipient: 'wallet',
      claimDeadline: null,
    });
    const wallet = chart.wallet(WALLET, 'GBYTE').code;
    expect((await balance(wallet)).posted).toBe(200_000_000);
    expect((await balance(depositCode())).posted).toBe(10 * GBYTE - 80_000_000);
    expect((await balance(fundCode())).posted).toBe(120_000_000);
    expect(await transfersOf(result.transactionId)).toEqual([
      { amount: 80_000_000, phase: 'posted', debit: depositCode(), credit: wallet },
      { amount: 40_000_000, phase: 'posted', debit: fundCode(), credit: wallet },
      { amount: 80_000_000, phase: 'posted', debit: fundCode(), credit: wallet },
    ]);

    const row = await transaction(result.transactionId);
    expect(row).toMatchObject({
      type: 'partner_cashback',
      currency: 'GBYTE',
      amount: 200_000_000,
      purchase_amount: 4 * GBYTE,
      reference: input.orderId,
      app_id: 'shop',
    });
    expect(JSON.parse(row.metadata)).toMatchObject({
      customer: 'alice',
      description: 'Latte',
      merchant: 'cafe-7',
      purchase_unit: 'kYbc5KGKB/KnjynYePEF4cpumKmOz22xVKSVWbmtZ0M=',
      currency: 'USD',
      currency_amount: '100.00',
    });
    const orders = await env.store.read((tx) => tx.all('SELECT * FROM partner_orders'));
    expect(orders).toEqual([
      expect.objectContaining({
        partner_id: env.partner.id,
        order_id: input.orderId,
        transaction_id: result.transactionId,
        customer: 'alice',
        merchant: 'cafe-7',
        address: WALLET,
        created_at: START,
      }),
    ]);
    expect(env.sent).toEqual([]);
  });

  it('needs no deposit when the partner adds nothing', async () => {
    const result = await partnerCashback(env.ctx, order({ currencyAmount: 25 }));
    expect(result).toMatchObject({
      cashbackAmount: 10_000_000,
      baseAmount: 10_000_000,
      partnerAmount: 0,
      matchAmount: 0,
    });
    expect(await transfersOf(result.transactionId)).toHaveLength(1);
    expect((await balance(depositCode())).posted).toBe(0);
  });

  it('converts exactly, rounding down once, and pays the same currency unconverted', async () => {
    await deposit('1000');
    // 123.45 EUR * 0.0433333333333 = 5.349499999995885 GBYTE -> 5349499999 bytes (floor).
    const eur = await partnerCashback(env.ctx, order({ currency: 'EUR', currencyAmount: '123.45' }));
    const eurBytes = (12345n * 433333333333n * 10n ** 9n) / 10n ** 15n;
    expect(eurBytes).toBe(5_349_499_999n);
    expect((await transaction(eur.transactionId)).purchase_amount).toBe(Number(eurBytes));
    expect(eur.baseAmount).toBe(Number((eurBytes * 100n) / 10_000n));
    // One satoshi at 3125.5 GBYTE per BTC is exactly 31255 bytes.
    const btc = await partnerCashback(env.ctx, order({ currency: 'BTC', currencyAmount: '0.00000001' }));
    expect((await transaction(btc.transactionId)).purchase_amount).toBe(31_255);
    expect(btc.cashbackAmount).toBe(312);
    // GBYTE to a GBYTE partner: no rate needed, no conversion.
    const same = await partnerCashback(
      env.ctx,
      order({ currency: 'GBYTE', currencyAmount: '1.000000001', partnerCashbackPercentage: '0.5' }),
    );
    expect((await transaction(same.transactionId)).purchase_amount).toBe(1_000_000_001);
    expect(same).toMatchObject({ baseAmount: 10_000_000, partnerAmount: 5_000_000, matchAmount: 5_000_000 });
    // A partner paying in USD (2 decimals): 0.123456789 GBYTE * 25 = 3.086419725 USD -> 308 cents.
    const usd = await env.store.transact(async (tx) => {
      await createApp(tx, { name: 'Dollar shop', scopes: ['partner'], appId: 'dollars' }, START);
      return createPartner(tx, { appId: 'dollars', unit: 'USD', baseBps: 1000 }, START);
    });
    const toUsd = await partnerCashback(
      env.ctx,
      order({ appId: 'dollars', currency: 'GBYTE', currencyAmount: '0.123456789' }),
    );
    expect((await transaction(toUsd.transactionId)).purchase_amount).toBe(308);
    expect(toUsd.cashbackAmount).toBe(30);
    expect((await balance(chart.wallet(WALLET, 'USD').code)).posted).toBe(30);
    expect((await balance(chart.fund('USD').code)).posted).toBe(30);
    expect(usd.unit).toBe('USD');
  });

  it('matches the partner part from the fund exactly, for any amount and percentage', async () => {
    await deposit('1000000');
    let expectedDeposit = 1_000_000n * 1_000_000_000n;
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 10_000_000 }),
        fc.integer({ min: 0, max: 1000 }),
        async (cents, bps) => {
          const fundBefore = (await balance(fundCode())).posted;
          const walletBefore = (await balance(chart.wallet(WALLET, 'GBYTE').code)).posted;
          const r = await partnerCashback(
            env.ctx,
            order({
              currencyAmount: `${Math.floor(cents / 100)}.${String(cents % 100).padStart(2, '0')}`,
              partnerCashbackPercentage: formatPercent(bps),
            }),
          );
          const inUnit = (BigInt(cents) * 4n * 10n ** 9n) / 10n ** 4n;
          const partnerPart = Number((inUnit * BigInt(bps)) / 10_000n);
          const base = Number(inUnit / 100n);
          expect(r.partnerAmount).toBe(partnerPart);
          expect(r.matchAmount).toBe(r.partnerAmount);
          expect(r.baseAmount).toBe(base);
          expect(r.cashbackAmount).toBe(base + 2 * partnerPart);
          expectedDeposit -= BigInt(partnerPart);
          expect((await balance(depositCode())).posted).toBe(Number(expectedDeposit));
          expect((await balance(fundCode())).posted - fundBefore).toBe(base + partnerPart);
          expect((await balance(chart.wallet(WALLET, 'GBYTE').code)).posted - walletBefore).toBe(
            r.cashbackAmount,
          );
        },
      ),
      { numRuns: 60 },
    );
  });

  it('allows zero cashback on tiny amounts, with no transfers', async () => {
    const before = await snapshot();
    const r = await partnerCashback(
      env.ctx,
      order({ currency: 'GBYTE', currencyAmount: '0.000000099', partnerCashbackPercentage: '1' }),
    );
    expect(r).toMatchObject({
      cashbackAmount: 0,
      baseAmount: 0,
      partnerAmount: 0,
      matchAmount: 0,
      recipient: 'wallet',
    });
    expect(await transfersOf(r.transactionId)).toEqual([]);
    expect((await transaction(r.transactionId)).amount).toBe(0);
    const after = await snapshot();
    expect(after.accounts).toEqual(before.accounts);
    expect(after.orders).toHaveLength(1);
    // To an email: nothing to claim, so no textcoin and no message.
    const e = await partnerCashback(
      env.ctx,
      order({ currency: 'GBYTE', currencyAmount: '0.000000099', address: 'bob@example.com' }),
    );
    expect(e).toMatchObject({ cashbackAmount: 0, recipient: 'email', claimDeadline: null });
    expect((await snapshot()).textcoins).toEqual([]);
    expect(env.sent).toEqual([]);
  });
});

describe('partner cashback failures change nothing', () => {
  it('refuses a partner part the deposit cannot cover, never going negative', async () => {
    const empty = await snapshot();
    const none = await caught(partnerCashback(env.ctx, order({ partnerCashbackPercentage: '1' })));
    expect(none.code).toBe('insufficient_deposit');
    expect(none.status).toBe(422);
    expect(none.message).toBe('Partner deposit is 0.000000000 GBYTE, this cashback needs 0.040000000 GBYTE');
    expect(await snapshot()).toEqual(empty);

    await deposit('0.05');
    const before = await snapshot();
    const balances = await Promise.all([depositCode(), fundCode()].map(balance));
    const short = await caught(partnerCashback(env.ctx, order({ partnerCashbackPercentage: '2' })));
    expect(short.code).toBe('insufficient_deposit');
    expect(short.message).toBe('Partner deposit is 0.050000000 GBYTE, this cashback needs 0.080000000 GBYTE');
    expect(await snapshot()).toEqual(before);
    expect(await Promise.all([depositCode(), fundCode()].map(balance))).toEqual(balances);
    // Exactly the deposit is enough.
    const exact = await partnerCashback(
      env.ctx,
      order({ currencyAmount: '125.00', partnerCashbackPercentage: '1' }),
    );
    expect(exact.partnerAmount).toBe(50_000_000);
    expect((await balance(depositCode())).posted).toBe(0);
  });

  it('refuses a repeated order id for the same partner, and only for it', async () => {
    await deposit('10');
    const first = order({ partnerCashbackPercentage: '1' });
    await partnerCashback(env.ctx, first);
    const before = await snapshot();
    for (const repeat of [first, { ...first, currencyAmount: '5.00', address: 'x@example.com' }]) {
      const e = await caught(partnerCashback(env.ctx, repeat));
      expect(e.code).toBe('duplicate_order');
      expect(e.status).toBe(409);
      expect(e.message).toBe(`Cashback for order "${first.orderId}" was already requested`);
    }
    expect(await snapshot()).toEqual(before);

    await env.store.transact(async (tx) => {
      await createApp(tx, { name: 'Other', scopes: ['partner'], appId: 'other' }, START);
      await createPartner(tx, { appId: 'other', baseBps: 100 }, START);
    });
    const other = await partnerCashback(env.ctx, {
      ...first,
      appId: 'other',
      partnerCashbackPercentage: '0',
    });
    expect(other.cashbackAmount).toBe(40_000_000);
  });

  it('rejects every kind of bad input with a validation error naming the field', async () => {
    await deposit('10');
    await partnerCashback(env.ctx, order({ partnerCashbackPercentage: '1' }));
    const before = await snapshot();
    const cases: [Partial<PartnerCashbackInput>, RegExp][] = [
      [{ currency: 'JPY' }, /^currency: must be one of USD, EUR, RUR, GBYTE, BTC$/],
      [{ currency: 'usd' }, /^currency: must be one of USD, EUR, RUR, GBYTE, BTC$/],
      [{ currency: 'RUR', currencyAmount: '100' }, /^No exchange rate from RUR to GBYTE is configured$/],
      [{ currencyAmount: '0' }, /^currency_amount: /],
      [{ currencyAmount: '-5.00' }, /^currency_amount: /],
      [{ currencyAmount: '1.001' }, /^currency_amount: USD has 2 decimal places/],
      [{ currencyAmount: 'ten' }, /^currency_amount: /],
      [{ currencyAmount: '1e3' }, /^currency_amount: /],
      [{ currencyAmount: 0.1 }, /^currency_amount: .*exact decimal text/],
      [{ currencyAmount: '10000000000000000' }, /^currency_amount: /],
      [{ currency: 'BTC', currencyAmount: '10000000' }, /^currency_amount: .* gives more than/],
      [{ address: 'nul\u0000@example.com' }, /^address: /],
      [{ address: 'x@example.com\n' }, /^address: /],
      [
        { partnerCashbackPercentage: '10.01' },
        /^partner_cashback_percentage: must be at most 10% for this partner, got 10.01%$/,
      ],
      [{ partnerCashbackPercentage: 'abc' }, /^partner_cashback_percentage: /],
      [{ partnerCashbackPercentage: '1.005' }, /^partner_cashback_percentage: /],
      [{ partnerCashbackPercentage: '-1' }, /^partner_cashback_percentage: /],
      [{ partnerCashbackPercentage: 2.5 }, /^partner_cashback_percentage: /],
      [{ address: WALLET.toLowerCase() }, /^address: /],
      [{ address: WALLET.slice(1) }, /^address: /],
      [{ address: `${WALLET.slice(1)}1` }, /^address: /],
      [{ address: 'not-an-email' }, /^address: /],
      [{ address: 'a@b' }, /^address: /],
      [{ address: 'two@@example.com' }, /^address: /],
      [{ address: ' alice@example.com' }, /^address: /],
      [{ address: '' }, /^address: /],
      [{ customer: '' }, /^customer: must not be empty/],
      [{ orderId: '' }, /^order_id: must not be empty/],
      [{ orderId: 'x'.repeat(257) }, /^order_id: must be at most 256 characters/],
      [{ description: 5 as unknown as string }, /^description: must be a string/],
      [{ merchant: 7 as unknown as string }, /^merchant: must be a string/],
    ];
    for (const [over, message] of cases) {
      const e = await caught(partnerCashback(env.ctx, order(over)));
      expect(e.code, JSON.stringify(over)).toBe('validation_error');
      expect(e.status).toBe(400);
      expect(e.message).toMatch(message);
    }
    env.ctx.settings.rates['EUR:GBYTE'] = '0,04';
    await expect(partnerCashback(env.ctx, order({ currency: 'EUR' }))).rejects.toThrow(
      /^The exchange rate EUR:GBYTE is misconfigured/,
    );
    const unknown = await caught(partnerCashback(env.ctx, order({ appId: 'stranger' })));
    expect(unknown.code).toBe('not_found');
    expect(await snapshot()).toEqual(before);
    expect(env.sent).toEqual([]);
  });
});

// --------------------------------------------------------------------------------------- textcoins

describe('cashback to an email address (textcoins)', () => {
  beforeEach(async () => {
    await deposit('10');
  });

  async function emailCashback(over: Partial<PartnerCashbackInput> = {}) {
    const r = await partnerCashback(
      env.ctx,
      order({ address: 'Alice@Example.COM', partnerCashbackPercentage: '2', ...over }),
    );
    const message = env.sent.at(-1);
    if (!message) throw new Error('no claim code was sent');
    return { r, code: message.code };
  }

  it('holds the cashback for the recipient and mails a claim code after the commit', async () => {
    const { r, code } = await emailCashback();
    expect(r).toMatchObject({
      cashbackAmount: 200_000_000,
      partnerAmount: 80_000_000,
      matchAmount: 80_000_000,
      recipient: 'email',
      claimDeadline: START + 7 * DAY_MS,
    });
    expect(env.sent).toEqual([{ to: 'alice@example.com', kind: 'textcoin', code }]);
    expect(code).toMatch(/^[A-Za-z0-9_-]{22,}$/);
    expect(Buffer.from(code, 'base64url').length).toBeGreaterThanOrEqual(16);

    const coins = await env.store.read((tx) => tx.all<Record<string, unknown>>('SELECT * FROM textcoins'));
    expect(coins).toEqual([
      expect.objectContaining({
        transaction_id: r.transactionId,
        email: 'alice@example.com',
        claim_hash: sha256(code),
        state: 'waiting',
        claim_deadline: START + 7 * DAY_MS,
      }),
    ]);
    expect(JSON.stringify(await snapshot())).not.toContain(code);

    const textcoin = chart.textcoin('alice@example.com', 'GBYTE').code;
    expect(await transfersOf(r.transactionId)).toEqual([
      { amount: 80_000_000, phase: 'pending', debit: depositCode(), credit: textcoin },
      { amount: 40_000_000, phase: 'pending', debit: fundCode(), credit: textcoin },
      { amount: 80_000_000, phase: 'pending', debit: fundCode(), credit: textcoin },
    ]);
    // Held, not yet paid: the deposit cannot be spent twice, the recipient has nothing posted yet.
    expect(await balance(depositCode())).toEqual({
      posted: 10 * GBYTE,
      available: 10 * GBYTE - 80_000_000,
      held: 80_000_000,
      pendingIn: 0,
    });
    expect(await balance(textcoin)).toMatchObject({ posted: 0, pendingIn: 200_000_000 });
    expect((await env.store.read((tx) => listPartners(tx)))[0]?.deposit).toBe(10 * GBYTE - 80_000_000);
  });

  it('pays the textcoin into a wallet when claimed within the window, once', async () => {
    const { r, code } = await emailCashback();
    env.clock.now = START + 7 * DAY_MS; // the last moment of the window
    const claimed = await claimTextcoin(env.ctx, { claimCode: code, address: WALLET2 });
    expect(claimed).toEqual({
      transactionId: claimed.transactionId,
      amount: 200_000_000,
      unit: 'GBYTE',
      address: WALLET2,
    });
    expect(await transaction(claimed.transactionId)).toMatchObject({
      type: 'textcoin_claim',
      amount: 200_000_000,
      related_id: r.transactionId,
    });
    const textcoin = chart.textcoin('alice@example.com', 'GBYTE').code;
    const wallet = chart.wallet(WALLET2, 'GBYTE').code;
    expect(await transfersOf(claimed.transactionId)).toEqual([
      { amount: 80_000_000, phase: 'post_pending', debit: depositCode(), credit: textcoin },
      { amount: 40_000_000, phase: 'post_pending', debit: fundCode(), credit: textcoin },
      { amount: 80_000_000, phase: 'post_pending', debit: fundCode(), credit: textcoin },
      { amount: 200_000_000, phase: 'posted', debit: textcoin, credit: wallet },
    ]);
    expect((await balance(wallet)).posted).toBe(200_000_000);
    expect(await balance(textcoin)).toEqual({ posted: 0, available: 0, held: 0, pendingIn: 0 });
    expect(await balance(depositCode())).toMatchObject({ posted: 10 * GBYTE - 80_000_000, held: 0 });
    expect((await balance(fundCode())).posted).toBe(120_000_000);

    const before = await snapshot();
    const again = await caught(claimTextcoin(env.ctx, { claimCode: code, address: WALLET2 }));
    expect(again.code).toBe('not_found');
    env.clock.now += 30 * DAY_MS;
    expect(await env.store.transact((tx) => returnUnclaimedTextcoins(tx, env.clock.now))).toBe(0);
    expect(await snapshot()).toEqual(before);
  });

  it('refuses wrong codes, expired codes and bad wallet addresses', async () => {
    const { code } = await emailCashback();
    const before = await snapshot();
    for (const claimCode of ['', 'not-the-code', code.slice(0, -1), `${code}x`, 'x'.repeat(500)]) {
      const e = await caught(claimTextcoin(env.ctx, { claimCode, address: WALLET2 }));
      expect(e.code).toBe('not_found');
      expect(e.message).toBe('This claim code is unknown, already used or expired');
    }
    for (const address of ['alice@example.com', WALLET2.toLowerCase(), '']) {
      expect((await caught(claimTextcoin(env.ctx, { claimCode: code, address }))).code).toBe(
        'validation_error',
      );
    }
    env.clock.now = START + 7 * DAY_MS + 1; // past the deadline, before any sweep
    expect((await caught(claimTextcoin(env.ctx, { claimCode: code, address: WALLET2 }))).code).toBe(
      'not_found',
    );
    expect(await snapshot()).toEqual(before);
  });

  it('returns an unclaimed textcoin after 7 days, restoring deposit and fund exactly', async () => {
    const other = await partnerCashback(env.ctx, order({ partnerCashbackPercentage: '3' })); // to a wallet
    const depositBefore = await balance(depositCode());
    const fundBefore = await balance(fundCode());
    const { r, code } = await emailCashback({ currencyAmount: '33.33', partnerCashbackPercentage: '7.77' });
    expect(r.partnerAmount).toBe(Number((3_333n * 400_000n * 777n) / 10_000n));
    expect((await balance(depositCode())).available).toBe(depositBefore.available - r.partnerAmount);

    // Not a moment early: at the deadline it is still claimable, so it stays.
    env.clock.now = START + 7 * DAY_MS;
    expect(await env.store.transact((tx) => returnUnclaimedTextcoins(tx, env.clock.now))).toBe(0);
    env.clock.now += 1;
    expect(await env.store.transact((tx) => returnUnclaimedTextcoins(tx, env.clock.now))).toBe(1);

    expect(await balance(depositCode())).toEqual(depositBefore);
    expect(await balance(fundCode())).toEqual(fundBefore);
    const textcoin = chart.textcoin('alice@example.com', 'GBYTE').code;
    expect(await balance(textcoin)).toEqual({ posted: 0, available: 0, held: 0, pendingIn: 0 });
    const coin = await env.store.read((tx) =>
      tx.one<{ state: string; resolved_at: number }>('SELECT state, resolved_at FROM textcoins'),
    );
    expect(coin).toEqual({ state: 'returned', resolved_at: START + 7 * DAY_MS + 1 });
    const ret = await env.store.read((tx) =>
      tx.one<TransactionRow>(`SELECT * FROM transactions WHERE type = 'textcoin_return'`),
    );
    expect(ret).toMatchObject({ currency: 'GBYTE', amount: -r.cashbackAmount, related_id: r.transactionId });
    const voided = await transfersOf(ret?.id ?? -1);
    expect(voided.map((t) => t.phase)).toEqual(['void_pending', 'void_pending', 'void_pending']);
    expect(voided.reduce((s, t) => s + t.amount, 0)).toBe(r.cashbackAmount);
    // The wallet cashback paid before is untouched; the code no longer works; a second sweep does nothing.
    expect((await balance(chart.wallet(WALLET, 'GBYTE').code)).posted).toBe(other.cashbackAmount);
    expect((await caught(claimTextcoin(env.ctx, { claimCode: code, address: WALLET2 }))).code).toBe(
      'not_found',
    );
    expect(await env.store.transact((tx) => returnUnclaimedTextcoins(tx, env.clock.now + DAY_MS))).toBe(0);
  });

  it('returns several textcoins in one sweep and leaves those still in their window', async () => {
    await partnerCashback(env.ctx, order({ address: 'a@example.com', partnerCashbackPercentage: '1' }));
    await partnerCashback(env.ctx, order({ address: 'b@example.com', partnerCashbackPercentage: '1' }));
    env.clock.now = START + 3 * DAY_MS;
    await partnerCashback(env.ctx, order({ address: 'a@example.com', partnerCashbackPercentage: '1' }));
    const young = env.sent.at(-1)?.code ?? '';
    env.clock.now = START + 8 * DAY_MS;
    expect(await env.store.transact((tx) => returnUnclaimedTextcoins(tx, env.clock.now))).toBe(2);
    expect((await balance(depositCode())).posted).toBe(10 * GBYTE);
    expect((await balance(depositCode())).held).toBe(40_000_000);
    const claimed = await claimTextcoin(env.ctx, { claimCode: young, address: WALLET });
    expect(claimed.amount).toBe(120_000_000);
    expect((await balance(depositCode())).posted).toBe(10 * GBYTE - 40_000_000);
  });

  it('keeps the cashback when the claim code cannot be delivered, and says so', async () => {
    env.failNotify = true;
    const r = await partnerCashback(env.ctx, order({ address: 'carol@example.com' }));
    expect(r).toMatchObject({
      cashbackAmount: 40_000_000,
      recipient: 'email',
      notifyError: 'mail server down',
    });
    expect((await snapshot()).textcoins).toHaveLength(1);
    env.clock.now = START + 8 * DAY_MS;
    expect(await env.store.transact((tx) => returnUnclaimedTextcoins(tx, env.clock.now))).toBe(1);
    expect((await balance(fundCode())).posted).toBe(0);
  });
});
