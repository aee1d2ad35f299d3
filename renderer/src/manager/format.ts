// Times and durations in the till's locale and time zone (the history's days are the till's days, so
// its times are shown in its zone too, whatever the manager's laptop is set to).
import type { Texts } from '../shared/i18n.ts';
import { tillZone } from './state.ts';

export interface Formats {
  /** A moment (epoch ms or ISO text) as a date and time. */
  at(moment: number | string): string;
  /** A calendar day YYYY-MM-DD, short ("3 Nov"). */
  day(date: string): string;
  /** A calendar day YYYY-MM-DD, with its year. */
  date(date: string): string;
  /** A duration in words ("5 minutes", "2 hours"). */
  duration(ms: number): string;
  /** A count in the locale's digits. */
  count(n: number): string;
}

/** Formats in the till's locale and `timeZone` (by default the till's, once known). */
export function formats(texts: Texts, timeZone: string | undefined = tillZone.value): Formats {
  const zone = timeZone ? { timeZone } : {};
  const moment = new Intl.DateTimeFormat(texts.locale, { dateStyle: 'medium', timeStyle: 'medium', ...zone });
  const short = new Intl.DateTimeFormat(texts.locale, { day: 'numeric', month: 'short', timeZone: 'UTC' });
  const long = new Intl.DateTimeFormat(texts.locale, { dateStyle: 'medium', timeZone: 'UTC' });
  const unit = (n: number, u: 'second' | 'minute' | 'hour' | 'day') =>
    new Intl.NumberFormat(texts.locale, { style: 'unit', unit: u, unitDisplay: 'long' }).format(n);
  const integer = new Intl.NumberFormat(texts.locale, { maximumFractionDigits: 0 });
  const utcDay = (date: string) => new Date(`${date}T00:00:00Z`);
  return {
    at: (m) => moment.format(new Date(m)),
    day: (d) => short.format(utcDay(d)),
    date: (d) => long.format(utcDay(d)),
    duration: (ms) => {
      const s = Math.round(ms / 1000);
      if (s < 120) return unit(s, 'second');
      if (s < 7_200) return unit(Math.round(s / 60), 'minute');
      if (s < 172_800) return unit(Math.round(s / 3_600), 'hour');
      return unit(Math.round(s / 86_400), 'day');
    },
    count: (n) => integer.format(n),
  };
}
