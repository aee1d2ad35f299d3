// The screens' settings (the store's name, the locale, the program's currency), from the till core at
// /screens/settings.json. A till that cannot answer leaves the screens in English with a neutral name
// rather than blank (and the till's default currency: such a till takes no sale anyway).
import { ScreenSettingsSchema, type ScreenSettings } from '../../../contract/till-events.ts';

export const FALLBACK_SETTINGS: ScreenSettings = { storeName: 'Tillback', locale: 'en', currency: 'AUD' };

export async function loadSettings(): Promise<ScreenSettings> {
  try {
    const response = await fetch('/screens/settings.json', { cache: 'no-store' });
    if (!response.ok) return FALLBACK_SETTINGS;
    const parsed = ScreenSettingsSchema.safeParse(await response.json());
    return parsed.success ? parsed.data : FALLBACK_SETTINGS;
  } catch {
    return FALLBACK_SETTINGS;
  }
}
