// What the preloads expose to the pages (`window.tillback`) and the IPC channels behind it. Types and
// names only: the preloads bundle this file, and a sandboxed preload should stay small. The argument
// schemas that main checks every message against are in ipc.ts.

export const WINDOW_ROLES = ['cashier', 'display', 'manager'] as const;
export type WindowRole = (typeof WINDOW_ROLES)[number];

export const CHANNELS = {
  getLaunch: 'tillback:get-launch',
  openManager: 'tillback:open-manager',
  getShellSettings: 'tillback:get-shell-settings',
  setShellSettings: 'tillback:set-shell-settings',
} as const;

/** Where the local API is and its launch token: what a browser gets from the URL, a window gets here. */
export interface LaunchInfo {
  apiUrl: string;
  token: string;
}

/** The shell's own settings a manager may change (electron-store; the till's are the local API's). */
export interface ShellSettingsView {
  kiosk: boolean;
  autoStart: boolean;
}

export interface DisplayBridge {
  getLaunch(): Promise<LaunchInfo>;
}

export interface CashierBridge extends DisplayBridge {
  /** Opens (or focuses) the manager window: in kiosk mode there is no other way to reach it. */
  openManager(): Promise<void>;
}

export interface ManagerBridge extends DisplayBridge {
  getShellSettings(): Promise<ShellSettingsView>;
  setShellSettings(change: Partial<ShellSettingsView>): Promise<ShellSettingsView>;
}

export interface Bridges {
  cashier: CashierBridge;
  display: DisplayBridge;
  manager: ManagerBridge;
}
