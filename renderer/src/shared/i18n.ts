// One catalogue per language (messages/<lang>.ts), chosen by the till's configured locale; amounts and
// dates are formatted with Intl in that locale (contract/intl-format.ts, shared with the claim page).
import { formatMoney, formatTime, interpolate, isLocale } from '../../../contract/intl-format.ts';
import { ar } from '../messages/ar.ts';
import { en, type Catalogue } from '../messages/en.ts';

const CATALOGUES: Record<string, Catalogue> = { en, ar };

export interface Texts {
  /** The locale amounts and dates are formatted in, e.g. en-AU. */
  locale: string;
  /** The catalogue's language, e.g. en. */
  lang: string;
  dir: 'ltr' | 'rtl';
  messages: Catalogue;
  fill(template: string, vars?: Record<string, string>): string;
  money(minor: number, currency: string): string;
  time(iso: string): string;
}

export function textsFor(locale: string): Texts {
  const primary = locale.split('-')[0]?.toLowerCase() ?? 'en';
  const lang = primary in CATALOGUES ? primary : 'en';
  const messages = CATALOGUES[lang] ?? en;
  // A malformed tag falls back to the catalogue's language.
  const formatting = isLocale(locale) ? locale : lang;
  return {
    locale: formatting,
    lang,
    dir: messages.meta.dir === 'rtl' ? 'rtl' : 'ltr',
    messages,
    fill: interpolate,
    money: (minor, currency) => formatMoney(minor, currency, formatting),
    time: (iso) => formatTime(iso, formatting),
  };
}

/** Sets the page's language and direction (screen readers and the RTL layout read them). */
export function applyLanguage(texts: Texts, title: string): void {
  document.documentElement.lang = texts.lang;
  document.documentElement.dir = texts.dir;
  document.title = title;
}
