// The till's three windows: each with the secure preferences, its own preload and its own page from
// the app scheme, and the lock-down of its webContents. `TillWindows` keeps which window has which
// role, so IPC can tell a cashier's message from a display's.
import { BrowserWindow } from 'electron';
import { join } from 'node:path';
import type { WindowRole } from './bridge.ts';
import type { WindowPlacement } from './placement.ts';
import { pageUrl } from './scheme.ts';
import { lockDownContents, secureWebPreferences } from './security.ts';

const TITLES: Readonly<Record<WindowRole, string>> = {
  cashier: 'Tillback',
  display: 'Tillback: customer display',
  manager: 'Tillback: manager',
};

/** The bundled preload of a role, as `electron/build.ts` writes it. */
export const preloadPath = (dir: string, role: WindowRole): string => join(dir, `preload-${role}.cjs`);

export interface TillWindowsOptions {
  /** Where the bundled preloads are. */
  preloadDir: string;
  /** The cashier window in kiosk mode: full screen, no way out but the shell's own. */
  kiosk: boolean;
  /** The developer tools (development only). */
  devTools: boolean;
}

export class TillWindows {
  private readonly windows = new Map<WindowRole, BrowserWindow>();

  constructor(private readonly options: TillWindowsOptions) {}

  /** The role of the window that owns this webContents: undefined for anything not made here. */
  roleOf = (webContentsId: number): WindowRole | undefined => {
    for (const [role, window] of this.windows)
      if (!window.isDestroyed() && window.webContents.id === webContentsId) return role;
    return undefined;
  };

  get(role: WindowRole): BrowserWindow | undefined {
    const window = this.windows.get(role);
    return window && !window.isDestroyed() ? window : undefined;
  }

  /** Opens the role's window where `placement` says, or moves and focuses the one already open. */
  open(role: WindowRole, placement: WindowPlacement): BrowserWindow {
    const existing = this.get(role);
    if (existing) {
      place(existing, placement);
      existing.focus();
      return existing;
    }
    const window = new BrowserWindow({
      ...placement.bounds,
      title: TITLES[role],
      show: false,
      fullscreen: placement.fullscreen,
      kiosk: role === 'cashier' && this.options.kiosk,
      autoHideMenuBar: true,
      // The customer display is a screen, not an app the cashier switches to.
      skipTaskbar: role === 'display',
      frame: role !== 'display',
      backgroundColor: '#ffffff',
      webPreferences: secureWebPreferences(preloadPath(this.options.preloadDir, role), {
        devTools: this.options.devTools,
      }),
    });
    lockDownContents(window.webContents);
    window.once('ready-to-show', () => window.show());
    window.on('closed', () => this.windows.delete(role));
    this.windows.set(role, window);
    void window.loadURL(pageUrl(role));
    return window;
  }

  /** Moves an open window to its new place (a display came or went). */
  place(role: WindowRole, placement: WindowPlacement): void {
    const window = this.get(role);
    if (window) place(window, placement);
  }

  /** Reloads every window: after a till restart their launch token is stale. */
  reloadAll(): void {
    for (const role of this.windows.keys()) void this.get(role)?.loadURL(pageUrl(role));
  }

  setKiosk(kiosk: boolean): void {
    this.options.kiosk = kiosk;
    this.get('cashier')?.setKiosk(kiosk);
  }
}

function place(window: BrowserWindow, placement: WindowPlacement): void {
  // Leave full screen first: a full-screen window ignores new bounds on most window managers.
  if (window.isFullScreen() && !placement.fullscreen) window.setFullScreen(false);
  window.setBounds(placement.bounds);
  if (placement.fullscreen) window.setFullScreen(true);
}
