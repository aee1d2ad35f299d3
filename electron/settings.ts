// The shell's own settings (kiosk, start at login), kept by electron-store in the user data
// directory (`shell-settings.json`). The till's settings are not here: they are the till's config
// file and its local API. What the file holds is checked with zod at every open; a file edited into
// something else is reset to the defaults, with a warning, rather than half-trusted.
import { ipcMain } from 'electron';
import Store from 'electron-store';
import { z } from 'zod';
import type { ShellSettingsView } from './bridge.ts';

export const ShellSettingsSchema = z
  .object({ kiosk: z.boolean().default(false), autoStart: z.boolean().default(false) })
  .strict();
export type ShellSettings = z.infer<typeof ShellSettingsSchema>;

/** electron-store's channel that answers any renderer with the user data path: our pages need none. */
const STORE_RENDERER_CHANNEL = 'electron-store-get-data';

export interface ShellSettingsStore {
  get(): ShellSettings;
  set(change: Partial<ShellSettingsView>): ShellSettings;
  readonly path: string;
}

export function openShellSettings(
  options: { cwd?: string } = {},
  warn: (message: string) => void = console.warn,
): ShellSettingsStore {
  const store = new Store<ShellSettings>({
    name: 'shell-settings',
    defaults: ShellSettingsSchema.parse({}),
    ...(options.cwd ? { cwd: options.cwd } : {}),
  });
  ipcMain.removeAllListeners(STORE_RENDERER_CHANNEL);
  const current = ShellSettingsSchema.safeParse(store.store);
  if (!current.success) {
    warn(`${store.path} held invalid settings, reset to the defaults: ${z.prettifyError(current.error)}`);
    store.store = ShellSettingsSchema.parse({});
  }
  return {
    path: store.path,
    get: () => ShellSettingsSchema.parse(store.store),
    set: (change) => {
      const next = ShellSettingsSchema.parse({ ...store.store, ...change });
      store.store = next;
      return next;
    },
  };
}
