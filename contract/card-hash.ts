// The keyed hash a card is known by, everywhere a PAN must not be kept: the engine's member cards and
// card-named requests, and the till's offline queue. One implementation, so a hash the till computes
// under the chain's key finds the card the engine linked under the same key. Kept apart from
// card.ts because that file is also bundled into the claim page for browsers, which have no node:crypto.
import { createHmac } from 'node:crypto';

/** A card hash as requests carry it: 64 lowercase hex digits. */
export const CARD_HASH_PATTERN = /^[0-9a-f]{64}$/;

/** HMAC-SHA256 of the PAN digits under `key` (the engine's `secrets.cardHashKey`), lowercase hex. */
export function cardHash(pan: string, key: string): string {
  return createHmac('sha256', key).update(pan).digest('hex');
}
