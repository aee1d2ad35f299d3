// Seed 004 (Obyte partner cashback): partners, their prepaid deposits, partner cashback with the fund's
// match, and textcoins (cashback sent to an email address, claimed into a wallet or returned after the
// claim window). Every balance change is a ledger transfer; an empty deposit is an error, never a
// negative balance. The seed route is a thin adapter over these functions.
import { hash, randomBytes } from 'node:crypto';
import {
  MoneyError,
  cashbackFor,
  convertAmount,
  currency as currencyOf,
  formatPercent,
  parsePercent,
} from '../../contract/money.ts';
import type { Tx } from '../store/store.ts';
import { accountId, chart } from './accounts.ts';
import { amountOf, describeAmount, type AmountInput } from './amounts.ts';
import { DAY_MS, type DomainContext } from './context.ts';
import { DomainError } from './errors.ts';
import { idempotent, type IdempotencyKey, type Replayable } from './idempotency.ts';
import { balanceOf, findAccount, postPending, transfer, voidPending } from './ledger.ts';
import { recordTransaction } from './transactions.ts';

/** The purchase currencies seed 004 accepts. */
export const PARTNER_CURRENCIES = ['USD', 'EUR', 'RUR', 'GBYTE', 'BTC'] as const;

const MAX_BPS = 10_000;
const DEFAULT_MAX_PARTNER_BPS = 1_000;

export interface Partner {
  id: number;
  appId: string;
  /** The name of the partner's app. */
  name: string;
  /** The unit cashback is paid in and the deposit is kept in. */
  unit: string;
  /** Regular cashback paid from the fund, in basis points of the purchase. */
  baseBps: number;
  /** Highest partner_cashback_percentage the partner may request, in basis points. */
  maxPartnerBps: number;
  createdAt: number;
}

interface PartnerRow {
  id: number;
  app_id: string;
  name: string;
  unit: string;
  base_bps: number;
  max_partner_bps: number;
  created_at: number;
}

const fromRow = (r: PartnerRow): Partner => ({
  id: r.id,
  appId: r.app_id,
  name: r.name,
  unit: r.unit,
  baseBps: r.base_bps,
  maxPartnerBps: r.max_partner_bps,
  createdAt: r.created_at,
});

const partnerSelect = `SELECT p.id, p.app_id, a.name, p.unit, p.base_bps, p.max_partner_bps, p.created_at
  FROM partners p JOIN apps a ON a.app_id = p.app_id`;

const invalid = (field: string, message: string, reason = 'invalid') =>
  new DomainError('validation_error', `${field}: ${message}`, { field, reason });

function checkBps(value: number, field: string): void {
  if (!Number.isSafeInteger(value) || value < 0 || value > MAX_BPS) {
    throw invalid(field, `must be a whole number of basis points from 0 to ${MAX_BPS}, got ${String(value)}`);
  }
}

// ------------------------------------------------------------------------------------------ partners

export async function createPartner(
  tx: Tx,
  p: { appId: string; unit?: string; baseBps: number; maxPartnerBps?: number },
  now: number,
): Promise<Partner> {
  const unit = p.unit ?? 'GBYTE';
  try {
    currencyOf(unit);
  } catch (error) {
    if (error instanceof MoneyError) throw invalid('unit', error.message, error.code);
    throw error;
  }
  const maxPartnerBps = p.maxPartnerBps ?? DEFAULT_MAX_PARTNER_BPS;
  checkBps(p.baseBps, 'base_bps');
  checkBps(maxPartnerBps, 'max_partner_bps');
  const app = await tx.one<{ scopes: string; revoked_at: number | null }>(
    'SELECT scopes, revoked_at FROM apps WHERE app_id = ?',
    [p.appId],
  );
  if (!app)
    throw new DomainError('not_found', `No app "${p.appId}": create the app first, with the "partner" scope`);
  if (app.revoked_at !== null) throw new DomainError('validation_error', `App "${p.appId}" has been revoked`);
  if (!app.scopes.split(' ').includes('partner')) {
    throw new DomainError(
      'validation_error',
      `App "${p.appId}" lacks the "partner" scope; only an app with that scope can be a partner`,
    );
  }
  if (await tx.one('SELECT id FROM partners WHERE app_id = ?', [p.appId])) {
    throw new DomainError('conflict', `App "${p.appId}" is already a partner`);
  }
  const row = await tx.one<{ id: number }>(
    `INSERT INTO partners (app_id, unit, base_bps, max_partner_bps, created_at) VALUES (?, ?, ?, ?, ?) RETURNING id`,
    [p.appId, unit, p.baseBps, maxPartnerBps, now],
  );
  if (!row) throw new Error('partners insert returned no row');
  // The deposit account exists from the start, so listings show a deposit of zero.
  await accountId(tx, now, 'partnerDeposit', row.id, unit);
  return getPartnerByApp(tx, p.appId);
}

export async function getPartnerByApp(tx: Tx, appId: string): Promise<Partner> {
  const row = await tx.one<PartnerRow>(`${partnerSelect} WHERE p.app_id = ?`, [appId]);
  if (!row) throw new DomainError('not_found', `App "${appId}" is not a cashback partner`);
  return fromRow(row);
}

/** The partner's spendable deposit: posted minus what pending textcoins hold. */
async function depositOf(tx: Tx, partner: Partner): Promise<number> {
  const account = await findAccount(tx, chart.partnerDeposit(partner.id, partner.unit).code);
  return account ? balanceOf(account).available : 0;
}

export async function listPartners(tx: Tx): Promise<(Partner & { deposit: number })[]> {
  const partners = (await tx.all<PartnerRow>(`${partnerSelect} ORDER BY p.id`)).map(fromRow);
  const result: (Partner & { deposit: number })[] = [];
  for (const partner of partners) result.push({ ...partner, deposit: await depositOf(tx, partner) });
  return result;
}

export async function depositToPartner(
  ctx: DomainContext,
  input: { appId: string; amount: AmountInput; reference?: string; idempotency?: IdempotencyKey },
): Promise<Replayable<{ transactionId: number; deposit: number; unit: string }>> {
  return ctx.store.transact(async (tx) => {
    const now = ctx.now();
    return idempotent(tx, input.idempotency, { ...input, idempotency: undefined }, now, async () => {
      const partner = await getPartnerByApp(tx, input.appId);
      const amount = amountOf(input.amount, partner.unit, 'amount');
      const txId = await recordTransaction(
        tx,
        {
          type: 'partner_deposit',
          currency: partner.unit,
          amount,
          reference: input.reference ?? null,
          metadata: { partner_id: partner.id },
          appId: partner.appId,
        },
        now,
      );
      const from = chart.partnerFunding(partner.id, partner.unit);
      const to = chart.partnerDeposit(partner.id, partner.unit);
      await transfer(tx, {
        transactionId: txId,
        debit: from,
        credit: to,
        amount,
        currency: partner.unit,
        now,
      });
      return { transactionId: txId, deposit: await depositOf(tx, partner), unit: partner.unit };
    });
  });
}

// ---------------------------------------------------------------------------------- partner cashback

export interface PartnerCashbackInput {
  appId: string;
  customer: string;
  orderId: string;
  description: string;
  merchant?: string;
  /** A wallet address (32 characters of base32) or an email address (a textcoin is sent). */
  address: string;
  currency: string;
  /** Exact decimal text or a safe integer, in major units of `currency`. */
  currencyAmount: string | number;
  /** Default 0; exact decimal text or a safe integer. */
  partnerCashbackPercentage?: string | number;
  purchaseUnit?: string;
}

export interface PartnerCashbackResult {
  transactionId: number;
  /** What seed 004 calls the unit: the id of the transaction that paid the cashback. */
  unit: string;
  /** Minor units of the partner's unit: baseAmount + partnerAmount + matchAmount. */
  cashbackAmount: number;
  baseAmount: number;
  partnerAmount: number;
  matchAmount: number;
  recipient: 'wallet' | 'email';
  /** When an email recipient's textcoin goes back if unclaimed; null for wallets and zero cashback. */
  claimDeadline: number | null;
  /** Set when the claim code could not be delivered (the cashback stands and is returned if unclaimed). */
  notifyError?: string;
}

const WALLET = /^[A-Z2-7]{32}$/;
const EMAIL =
  /^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$/;

function recipientOf(address: unknown): { kind: 'wallet' | 'email'; address: string } {
  if (typeof address === 'string') {
    if (WALLET.test(address)) return { kind: 'wallet', address };
    const [local = ''] = address.split('@');
    if (address.length <= 254 && local.length <= 64 && EMAIL.test(address)) {
      return { kind: 'email', address: address.toLowerCase() };
    }
  }
  throw invalid(
    'address',
    'must be a wallet address (32 characters A-Z and 2-7) or an email address',
    'invalid_address',
  );
}

function checkText(value: unknown, field: string, max: number, allowEmpty: boolean): string {
  if (value === undefined || value === null) throw invalid(field, 'is required', 'required');
  if (typeof value !== 'string')
    throw invalid(field, `must be a string, got ${typeof value}`, 'invalid_type');
  if (value === '' && !allowEmpty) throw invalid(field, 'must not be empty', 'required');
  if (value.length > max) throw invalid(field, `must be at most ${max} characters`, 'too_long');
  return value;
}

const optionalText = (value: unknown, field: string, max: number): string | null =>
  value === undefined || value === null ? null : checkText(value, field, max, true);

function partnerBpsOf(input: string | number | undefined): number {
  if (input === undefined) return 0;
  try {
    return parsePercent(input);
  } catch (error) {
    if (error instanceof MoneyError) throw invalid('partner_cashback_percentage', error.message, error.code);
    throw error;
  }
}

/** The purchase amount in minor units of `unit`, converted exactly (rounded down) at the configured rate. */
function amountInUnit(ctx: DomainContext, amount: number, from: string, unit: string): number {
  if (from === unit) return amount;
  const key = `${from}:${unit}`;
  const rate = Object.hasOwn(ctx.settings.rates, key) ? ctx.settings.rates[key] : undefined;
  if (rate === undefined) {
    throw new DomainError('validation_error', `No exchange rate from ${from} to ${unit} is configured`, {
      field: 'currency',
      reason: 'no_rate',
    });
  }
  try {
    return convertAmount(amount, from, unit, rate);
  } catch (error) {
    if (error instanceof MoneyError && error.code === 'amount_too_large') {
      throw invalid('currency_amount', error.message, error.code);
    }
    // Anything else is a bad rate in the configuration: a server fault, not the caller's.
    throw new Error(`The exchange rate ${key} is misconfigured: ${(error as Error).message}`, {
      cause: error,
    });
  }
}

const hashCode = (code: string) => hash('sha256', code);

export async function partnerCashback(
  ctx: DomainContext,
  input: PartnerCashbackInput,
): Promise<PartnerCashbackResult> {
  // Stateless checks first: bad input changes nothing and costs no write transaction.
  const customer = checkText(input.customer, 'customer', 256, false);
  const orderId = checkText(input.orderId, 'order_id', 256, false);
  const description = checkText(input.description, 'description', 2000, true);
  const merchant = optionalText(input.merchant, 'merchant', 256);
  const purchaseUnit = optionalText(input.purchaseUnit, 'purchase_unit', 256);
  const recipient = recipientOf(input.address);
  const currency = input.currency;
  if (typeof currency !== 'string' || !(PARTNER_CURRENCIES as readonly string[]).includes(currency)) {
    throw invalid('currency', `must be one of ${PARTNER_CURRENCIES.join(', ')}`, 'unsupported_currency');
  }
  const purchase = amountOf({ decimal: input.currencyAmount }, currency, 'currency_amount');
  const partnerBps = partnerBpsOf(input.partnerCashbackPercentage);
  const claimCode = recipient.kind === 'email' ? randomBytes(32).toString('base64url') : null;

  const result = await ctx.store.transact(async (tx) => {
    const now = ctx.now();
    const partner = await getPartnerByApp(tx, input.appId);
    const unit = partner.unit;
    if (partnerBps > partner.maxPartnerBps) {
      throw invalid(
        'partner_cashback_percentage',
        `must be at most ${formatPercent(partner.maxPartnerBps)}% for this partner, got ${formatPercent(partnerBps)}%`,
        'percentage_too_high',
      );
    }
    const inUnit = amountInUnit(ctx, purchase, currency, unit);
    const duplicate = () =>
      new DomainError('duplicate_order', `Cashback for order "${orderId}" was already requested`, {
        order_id: orderId,
      });
    if (
      await tx.one('SELECT id FROM partner_orders WHERE partner_id = ? AND order_id = ?', [
        partner.id,
        orderId,
      ])
    ) {
      throw duplicate();
    }

    const baseAmount = cashbackFor(inUnit, partner.baseBps);
    const partnerAmount = cashbackFor(inUnit, partnerBps);
    const matchAmount = partnerAmount;
    const total = baseAmount + partnerAmount + matchAmount;

    const txId = await recordTransaction(
      tx,
      {
        type: 'partner_cashback',
        currency: unit,
        amount: total,
        purchaseAmount: inUnit,
        reference: orderId,
        appId: partner.appId,
        metadata: {
          partner_id: partner.id,
          customer,
          description,
          merchant,
          purchase_unit: purchaseUnit,
          currency,
          currency_amount: String(input.currencyAmount),
          recipient: recipient.kind,
          base_bps: partner.baseBps,
          partner_bps: partnerBps,
          base_amount: baseAmount,
          partner_amount: partnerAmount,
          match_amount: matchAmount,
        },
      },
      now,
    );
    // The UNIQUE (partner_id, order_id) index is the backstop for a concurrent repeat on PostgreSQL.
    const order = await tx.one<{ id: number }>(
      `INSERT INTO partner_orders (partner_id, order_id, transaction_id, customer, merchant, address, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (partner_id, order_id) DO NOTHING RETURNING id`,
      [partner.id, orderId, txId, customer, merchant, recipient.address, now],
    );
    if (!order) throw duplicate();

    const pending = claimCode !== null;
    let claimDeadline: number | null = null;
    if (total > 0) {
      const to =
        recipient.kind === 'wallet'
          ? chart.wallet(recipient.address, unit)
          : chart.textcoin(recipient.address, unit);
      const fund = chart.fund(unit);
      if (partnerAmount > 0) {
        const deposit = chart.partnerDeposit(partner.id, unit);
        await transfer(tx, {
          transactionId: txId,
          debit: deposit,
          credit: to,
          amount: partnerAmount,
          currency: unit,
          now,
          pending,
          insufficient: (_account, available) =>
            new DomainError(
              'insufficient_deposit',
              `Partner deposit is ${describeAmount(Math.max(0, available), unit)}, this cashback needs ${describeAmount(partnerAmount, unit)}`,
              { deposit: available, needed: partnerAmount },
            ),
        });
      }
      for (const amount of [baseAmount, matchAmount]) {
        if (amount > 0) {
          await transfer(tx, {
            transactionId: txId,
            debit: fund,
            credit: to,
            amount,
            currency: unit,
            now,
            pending,
          });
        }
      }
      if (claimCode !== null) {
        claimDeadline = now + ctx.settings.textcoinClaimDays * DAY_MS;
        await tx.run(
          `INSERT INTO textcoins (transaction_id, email, claim_hash, state, claim_deadline, created_at)
           VALUES (?, ?, ?, 'waiting', ?, ?)`,
          [txId, recipient.address, hashCode(claimCode), claimDeadline, now],
        );
      }
    }
    return {
      transactionId: txId,
      unit: String(txId),
      cashbackAmount: total,
      baseAmount,
      partnerAmount,
      matchAmount,
      recipient: recipient.kind,
      claimDeadline,
    } satisfies PartnerCashbackResult;
  });

  // Only after the commit: a code for money that was never recorded must not reach anyone.
  if (result.claimDeadline !== null && claimCode !== null) {
    try {
      await ctx.notifier.send({ to: recipient.address, kind: 'textcoin', code: claimCode });
    } catch (error) {
      // The cashback stands; unclaimed, it goes back after the deadline. The message never holds the code.
      return { ...result, notifyError: error instanceof Error ? error.message : String(error) };
    }
  }
  return result;
}

// --------------------------------------------------------------------------------------- textcoins

interface TextcoinRow {
  id: number;
  transaction_id: number;
  email: string;
  currency: string;
}

async function pendingTransfersOf(tx: Tx, transactionId: number): Promise<{ id: number; amount: number }[]> {
  return tx.all<{ id: number; amount: number }>(
    `SELECT t.id, t.amount FROM transfers t
      WHERE t.transaction_id = ? AND t.phase = 'pending'
        AND NOT EXISTS (SELECT 1 FROM transfers r WHERE r.pending_id = t.id)
      ORDER BY t.id`,
    [transactionId],
  );
}

const noClaim = () => new DomainError('not_found', 'This claim code is unknown, already used or expired');

export async function claimTextcoin(
  ctx: DomainContext,
  input: { claimCode: string; address: string },
): Promise<{ transactionId: number; amount: number; unit: string; address: string }> {
  if (typeof input.claimCode !== 'string' || input.claimCode.length === 0 || input.claimCode.length > 128) {
    throw noClaim();
  }
  if (typeof input.address !== 'string' || !WALLET.test(input.address)) {
    throw invalid('address', 'must be a wallet address (32 characters A-Z and 2-7)', 'invalid_address');
  }
  const address = input.address;
  const claimHash = hashCode(input.claimCode);
  return ctx.store.transact(async (tx) => {
    const now = ctx.now();
    const coin = await tx.one<TextcoinRow>(
      `SELECT c.id, c.transaction_id, c.email, t.currency FROM textcoins c JOIN transactions t ON t.id = c.transaction_id
        WHERE c.claim_hash = ? AND c.state = 'waiting' AND c.claim_deadline >= ?`,
      [claimHash, now],
    );
    if (!coin) throw noClaim();
    const taken = await tx.run(
      `UPDATE textcoins SET state = 'claimed', resolved_at = ? WHERE id = ? AND state = 'waiting'`,
      [now, coin.id],
    );
    if (taken.changes !== 1) throw noClaim();
    const held = await pendingTransfersOf(tx, coin.transaction_id);
    const amount = held.reduce((sum, t) => sum + t.amount, 0);
    const unit = coin.currency;
    const txId = await recordTransaction(
      tx,
      {
        type: 'textcoin_claim',
        currency: unit,
        amount,
        relatedId: coin.transaction_id,
        metadata: { textcoin_id: coin.id, address },
      },
      now,
    );
    for (const t of held) await postPending(tx, t.id, txId, now);
    const from = chart.textcoin(coin.email, unit);
    const to = chart.wallet(address, unit);
    if (amount > 0)
      await transfer(tx, { transactionId: txId, debit: from, credit: to, amount, currency: unit, now });
    return { transactionId: txId, amount, unit, address };
  });
}

/**
 * Voids the holds of every textcoin past its claim deadline: the money goes back to the partner
 * deposit and the fund it came from. Returns how many textcoins were returned.
 */
export async function returnUnclaimedTextcoins(tx: Tx, now: number): Promise<number> {
  const due = await tx.all<TextcoinRow>(
    `SELECT c.id, c.transaction_id, c.email, t.currency FROM textcoins c JOIN transactions t ON t.id = c.transaction_id
      WHERE c.state = 'waiting' AND c.claim_deadline < ? ORDER BY c.id`,
    [now],
  );
  let returned = 0;
  for (const coin of due) {
    const taken = await tx.run(
      `UPDATE textcoins SET state = 'returned', resolved_at = ? WHERE id = ? AND state = 'waiting'`,
      [now, coin.id],
    );
    if (taken.changes !== 1) continue;
    const held = await pendingTransfersOf(tx, coin.transaction_id);
    const amount = held.reduce((sum, t) => sum + t.amount, 0);
    const txId = await recordTransaction(
      tx,
      {
        type: 'textcoin_return',
        currency: coin.currency,
        amount: -amount,
        relatedId: coin.transaction_id,
        metadata: { textcoin_id: coin.id },
      },
      now,
    );
    for (const t of held) await voidPending(tx, t.id, txId, now);
    returned += 1;
  }
  return returned;
}
