// Amounts, times and texts in a reader's language, for every page a person reads (the claim page on a
// phone, the till's screens). An amount is integer minor units: money.ts turns it into exact decimal
// text, which Intl.NumberFormat formats without passing through a float.
import { currency, formatAmount } from './money.ts';

/**
 * The locale to format in: the browser's own preference when it is a variant of the page's language
 * (an Australian reads "en" as en-AU: "$25.00", "22 Jan 2026"), else the page's language itself.
 */
export function formattingLocale(pageLang: string, preferred: readonly string[]): string {
  const primary = (tag: string) => tag.split('-')[0]?.toLowerCase();
  return preferred.find((tag) => primary(tag) === primary(pageLang)) ?? pageLang;
}

export function formatMoney(minor: number, code: string, lang: string): string {
  const decimal = formatAmount(minor, code) as Intl.StringNumericLiteral;
  const digits = currency(code).exponent;
  try {
    return new Intl.NumberFormat(lang, {
      style: 'currency',
      currency: code,
      minimumFractionDigits: digits,
      maximumFractionDigits: digits,
    }).format(decimal);
  } catch {
    // A unit Intl does not know as a currency (GBYTE): the number in the customer's digits, then the code.
    const n = new Intl.NumberFormat(lang, { minimumFractionDigits: digits, maximumFractionDigits: digits });
    return `${n.format(decimal)} ${code}`;
  }
}

export function formatTime(iso: string, lang: string): string {
  return new Intl.DateTimeFormat(lang, { dateStyle: 'medium', timeStyle: 'short' }).format(new Date(iso));
}

// U+2068 FIRST STRONG ISOLATE ... U+2069 POP DIRECTIONAL ISOLATE: a value keeps its own direction
// inside the sentence, so "PayPal amna@example.com" or an Arabic store name cannot reorder an
// Arabic or English sentence around it.
const isolate = (value: string) => `\u2068${value}\u2069`;

/** `template` with each `{name}` replaced by `vars[name]`, direction-isolated; unknown names stay. */
export function interpolate(template: string, vars: Record<string, string> = {}): string {
  return template.replace(/\{(\w+)\}/g, (whole, name: string) => {
    const value = vars[name];
    return value === undefined ? whole : isolate(value);
  });
}

/** Whether `tag` is a well-formed BCP 47 locale (Intl falls back by itself from one it lacks). */
export function isLocale(tag: string): boolean {
  try {
    return Intl.getCanonicalLocales(tag).length === 1;
  } catch {
    return false;
  }
}
