// Which catalogue the customer reads: the one they chose on the page (?lang=), else the best match of
// their browser's Accept-Language (negotiator: "ar-SD" finds "ar"), else English.
import Negotiator from 'negotiator';

export function pickLanguage(
  available: readonly string[],
  chosen: string | undefined,
  acceptLanguage: string | undefined,
): string {
  if (chosen !== undefined && available.includes(chosen)) return chosen;
  const negotiator = new Negotiator({ headers: { 'accept-language': acceptLanguage ?? '' } });
  return negotiator.language([...available]) ?? 'en';
}
