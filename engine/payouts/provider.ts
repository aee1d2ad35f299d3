// The one interface every payout provider implements: the sandbox (default), PayPal Payouts and the
// noebs card transfer. The engine's payout worker is the only caller. Amounts are integer minor units.
//
// Contract every implementation keeps:
// - `submit` is idempotent on `payoutId`: calling it again after a crash or a timeout must never pay
//   twice (PayPal: payoutId is the sender_batch_id; sandbox: remembered by id; noebs: the payoutId is
//   the request's UUID). A second call answers with the first call's outcome or the current status.
// - A network error, a timeout or a 5xx is thrown as `PayoutUnavailable` (the worker retries later);
//   a definite refusal is returned as `{ status: 'failed', failure }`.
// - Card data in `method` is never logged, stored or echoed back by a provider.

export type PayoutMethod =
  | { kind: 'card'; pan: string; expiry: string /* YYMM */; ipin?: string }
  | { kind: 'au_bank'; bsb: string; account: string; accountName?: string }
  | { kind: 'payid'; payid: string; payidType: 'email' | 'phone' | 'abn' | 'acn' }
  | { kind: 'paypal'; email: string };

export type PayoutMethodKind = PayoutMethod['kind'];

export interface PayoutRequest {
  /** Our payout id, unique per payout attempt chain; the provider's idempotency key. */
  payoutId: string;
  amount: number;
  currency: string;
  method: PayoutMethod;
  /** Shown to the recipient where the provider supports it. */
  note?: string;
  /**
   * The card that funds the payout, when the claim's funder registered one (a seed 000 cashout
   * provider): unsealed in memory for this call only, never stored, logged or echoed. Card-transfer
   * providers (noebs) pay from it; others ignore it.
   */
  source?: FundingCard;
}

export interface FundingCard {
  pan: string;
  /** YYMM */
  expDate: string;
  ipin: string;
}

/** `unclaimed` and `returned` are PayPal's: the money did not reach the recipient (yet). */
export type PayoutStatus = 'processing' | 'paid' | 'failed' | 'unclaimed' | 'returned';

export interface PayoutOutcome {
  status: PayoutStatus;
  /** The provider's own id for the payout, for status queries and support. */
  providerReference?: string;
  /** Why it failed, in words a store manager can act on; never carries card data. */
  failure?: { code: string; message: string };
}

export interface PayoutProvider {
  readonly name: string;
  readonly methods: readonly PayoutMethodKind[];
  submit(request: PayoutRequest): Promise<PayoutOutcome>;
  /** Current status of a payout submitted before (by our id and, when known, the provider's). */
  status(payoutId: string, providerReference?: string): Promise<PayoutOutcome>;
}

/** The provider could not be reached or answered 5xx/timeout: try again later, nothing is decided. */
export class PayoutUnavailable extends Error {
  constructor(
    readonly provider: string,
    message: string,
  ) {
    super(message);
    this.name = 'PayoutUnavailable';
  }
}
