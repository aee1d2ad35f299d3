// Australian payment identifiers: BSB and account numbers (NPP bank transfers) and PayIDs (email,
// mobile, ABN, ACN), with the ABN and ACN checksums the registers publish. Shared by the claim page's
// API and any API that pays to an Australian account.

/** "062-000" or "062000". */
export const isValidBsb = (bsb: string) => /^\d{3}-?\d{3}$/.test(bsb);

/** A valid BSB as the six digits providers take: "062-000" -> "062000". */
export const bsbDigits = (bsb: string) => bsb.replace('-', '');

/** An account number: 5 to 9 digits. */
export const isValidAccountNumber = (account: string) => /^\d{5,9}$/.test(account);

const digitsOf = (s: string) => s.replace(/\s/g, '');

/** ABN: 11 digits; subtract 1 from the first, weight 10,1,3,...,19, the sum divides by 89. */
export function isValidAbn(abn: string): boolean {
  const d = digitsOf(abn);
  if (!/^\d{11}$/.test(d)) return false;
  const weights = [10, 1, 3, 5, 7, 9, 11, 13, 15, 17, 19];
  const sum = weights.reduce((acc, w, i) => acc + w * (Number(d[i]) - (i === 0 ? 1 : 0)), 0);
  return sum % 89 === 0;
}

/** ACN: 9 digits; weights 8..1 over the first eight, the ninth is (10 - sum mod 10) mod 10. */
export function isValidAcn(acn: string): boolean {
  const d = digitsOf(acn);
  if (!/^\d{9}$/.test(d)) return false;
  const sum = [8, 7, 6, 5, 4, 3, 2, 1].reduce((acc, w, i) => acc + w * Number(d[i]), 0);
  return (10 - (sum % 10)) % 10 === Number(d[8]);
}

/** An Australian mobile: 04xx xxx xxx or +61 4xx xxx xxx. */
export const isAuMobile = (phone: string) => /^(?:\+?614|04)\d{8}$/.test(phone.replace(/[\s-]/g, ''));

const isEmail = (s: string) => /^[^\s@]{1,64}@[^\s@]+\.[^\s@]{2,}$/.test(s) && s.length <= 254;

export type PayIdType = 'email' | 'phone' | 'abn' | 'acn';

/** What kind of PayID `payid` is, or undefined when it is none (ABN and ACN must pass their checksum). */
export function payIdType(payid: string): PayIdType | undefined {
  const v = payid.trim();
  if (isEmail(v)) return 'email';
  if (isAuMobile(v)) return 'phone';
  if (isValidAbn(v)) return 'abn';
  if (isValidAcn(v)) return 'acn';
  return undefined;
}
