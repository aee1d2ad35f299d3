// The payout methods a customer may choose on a claim, as the providers take them: checks that need
// the clock (card expiry) and the masked label a merchant and the customer see. Field formats (Luhn,
// BSB, PayID kinds) are checked by the route schemas with the same contract functions.
import { isExpiryCurrent, maskPan } from '../../contract/card.ts';
import type { PayoutMethod, PayoutMethodKind } from '../payouts/provider.ts';
import { DomainError } from './errors.ts';

export const PAYOUT_METHOD_KINDS: readonly PayoutMethodKind[] = ['card', 'au_bank', 'payid', 'paypal'];

/** Refuses a method the claim does not offer, or a card that has expired. */
export function checkPayoutMethod(method: PayoutMethod, offered: readonly string[], now: number): void {
  if (!offered.includes(method.kind)) {
    throw new DomainError(
      'validation_error',
      `method.kind: this claim pays by ${offered.join(', ')}, not ${method.kind}`,
      { field: 'method.kind' },
    );
  }
  if (method.kind === 'card' && !isExpiryCurrent(method.expiry, now)) {
    throw new DomainError('validation_error', 'method.expiry: the card has expired', {
      field: 'method.expiry',
    });
  }
}

/** What may be shown of a method: never a full card or account number. */
export function payoutMethodLabel(method: PayoutMethod): string {
  switch (method.kind) {
    case 'card':
      return `card ${maskPan(method.pan)}`;
    case 'au_bank':
      return `BSB ${method.bsb} account ${'*'.repeat(Math.max(0, method.account.length - 3))}${method.account.slice(-3)}`;
    case 'payid':
      return `PayID (${method.payidType}) ${method.payid}`;
    case 'paypal':
      return `PayPal ${method.email}`;
  }
}
