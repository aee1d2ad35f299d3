// The chart of accounts: one place that names every account and its rules.
import type { Tx } from '../store/store.ts';
import { ensureAccount } from './ledger.ts';

const credit = (code: string, kind: string, currency: string) =>
  ({ code, kind, currency, normal: 'credit', mayGoNegative: false }) as const;
const debit = (code: string, kind: string, currency: string) =>
  ({ code, kind, currency, normal: 'debit', mayGoNegative: true }) as const;
/** An account every member's operations change: see `shared` in ledger.ts. */
const shared = <T extends object>(spec: T) => ({ ...spec, shared: true }) as const;

export const chart = {
  /** Cashback earned but not yet matured. */
  memberMaturing: (memberId: number, programId: number, currency: string) =>
    credit(`member:${memberId}:program:${programId}:maturing`, 'member_maturing', currency),
  /** Cashback the member may spend. */
  memberAvailable: (memberId: number, programId: number, currency: string) =>
    credit(`member:${memberId}:program:${programId}:available`, 'member_available', currency),
  /** The merchant's cashback expense: the source of every earn and the sink of every clawback. */
  programFunding: (programId: number, currency: string) =>
    shared(debit(`program:${programId}:funding`, 'program_funding', currency)),
  /** Where redeemed cashback goes: the discounts the merchant has given. */
  programRedeemed: (programId: number, currency: string) =>
    shared(credit(`program:${programId}:redeemed`, 'program_redeemed', currency)),
  /** Cashback members cashed out through claims: held here (pending) until paid, then posted. */
  programCashouts: (programId: number, currency: string) =>
    credit(`program:${programId}:cashouts`, 'program_cashouts', currency),
  /** Expired cashback (breakage). */
  programExpired: (programId: number, currency: string) =>
    shared(credit(`program:${programId}:expired`, 'program_expired', currency)),
  /** A partner's prepaid deposit; never below zero. */
  partnerDeposit: (partnerId: number, unit: string) =>
    credit(`partner:${partnerId}:deposit`, 'partner_deposit', unit),
  /** Money a partner paid in from outside (the other side of deposits). */
  partnerFunding: (partnerId: number, unit: string) =>
    debit(`partner:${partnerId}:funding`, 'partner_funding', unit),
  /** The distribution fund paying base cashback and matching partner cashback. */
  fund: (unit: string) => shared(debit(`fund:${unit}`, 'fund', unit)),
  /** A customer's wallet address. */
  wallet: (address: string, unit: string) => credit(`wallet:${unit}:${address}`, 'wallet', unit),
  /** Cashback waiting for an email recipient to claim it. */
  textcoin: (email: string, unit: string) => credit(`textcoin:${unit}:${email}`, 'textcoin', unit),
};

export type AccountName = keyof typeof chart;

export async function accountId<K extends AccountName>(
  tx: Tx,
  now: number,
  name: K,
  ...args: Parameters<(typeof chart)[K]>
): Promise<number> {
  const spec = (chart[name] as (...a: unknown[]) => Parameters<typeof ensureAccount>[1])(...args);
  return ensureAccount(tx, spec, now);
}
