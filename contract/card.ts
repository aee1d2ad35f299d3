// Card numbers: the Luhn check and the only form in which a PAN may be shown (first 6, last 4).
// Shared by the engine (card linking, claims) and the drivers (card reads).

/** True for 12 to 19 digits whose last digit is the Luhn check digit of the rest. */
export function isValidPan(pan: string): boolean {
  if (!/^\d{12,19}$/.test(pan)) return false;
  let sum = 0;
  for (let i = 0; i < pan.length; i++) {
    let d = pan.charCodeAt(pan.length - 1 - i) - 48;
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return sum % 10 === 0;
}

/** "535029******5177": first 6 and last 4 digits, the rest masked. */
export function maskPan(pan: string): string {
  return pan.length < 10
    ? '*'.repeat(pan.length)
    : `${pan.slice(0, 6)}${'*'.repeat(pan.length - 10)}${pan.slice(-4)}`;
}

/**
 * True when a card expiry in YYMM form names a real month that has not ended at `now` (a card is
 * valid through the last day of its expiry month, UTC here).
 */
export function isExpiryCurrent(yymm: string, now: number): boolean {
  if (!/^\d{4}$/.test(yymm)) return false;
  const year = 2000 + Number(yymm.slice(0, 2));
  const month = Number(yymm.slice(2));
  if (month < 1 || month > 12) return false;
  return now < Date.UTC(year, month, 1);
}
