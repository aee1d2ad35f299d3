// Amounts and times in the customer's language. An amount is integer minor units: the contract turns
// it into exact decimal text, which Intl.NumberFormat formats without passing through a float.
import { currency, formatAmount } from '../../../contract/money.ts';

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
