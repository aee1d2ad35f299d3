// The amount of a payout as decimal text, checked before any provider is asked: a payout moves a
// positive whole number of minor units. Both real clients use it; a MoneyError becomes a 'failed' outcome.
import { formatAmount, MoneyError } from '../../contract/money.ts';
import type { PayoutOutcome, PayoutRequest } from './provider.ts';

/** "12.34" for 1234 USD; throws MoneyError for zero, negative, fractional or unknown-currency input. */
export function payoutAmount(request: Pick<PayoutRequest, 'amount' | 'currency'>): string {
  const text = formatAmount(request.amount, request.currency);
  if (request.amount <= 0) {
    throw new MoneyError('amount_not_positive', `a payout amount must be positive, got ${request.amount}`);
  }
  return text;
}

/** The outcome for a request refused before sending, or undefined when the amount is fine. */
export function refusedAmount(request: PayoutRequest): PayoutOutcome | undefined {
  try {
    payoutAmount(request);
    return undefined;
  } catch (error) {
    if (!(error instanceof MoneyError)) throw error;
    return { status: 'failed', failure: { code: error.code, message: error.message } };
  }
}
