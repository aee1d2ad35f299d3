// The settings every window and session of the shell runs with. The pages are ours, but they show
// data from the network (member names, engine messages): if one were ever made to run a script, it
// must find no Node, no other origin, no new window, no navigation and no device permission.
import type { Session, WebContents, WebPreferences } from 'electron';

/**
 * A window's webPreferences: its preload is the only bridge to main. `devTools` only in development:
 * on a till, the developer tools would be a way around everything below.
 */
export function secureWebPreferences(preload: string, options: { devTools: boolean }): WebPreferences {
  return {
    preload,
    devTools: options.devTools,
    contextIsolation: true,
    sandbox: true,
    nodeIntegration: false,
    nodeIntegrationInWorker: false,
    nodeIntegrationInSubFrames: false,
    webSecurity: true,
    allowRunningInsecureContent: false,
    webviewTag: false,
    experimentalFeatures: false,
    navigateOnDragDrop: false,
    safeDialogs: true,
  };
}

/**
 * No navigation away from the page main loaded (a link, a form, `location =`), no pop-up, no
 * <webview>. Main's own `loadURL` does not emit `will-navigate`, so reloading a window still works.
 */
export function lockDownContents(contents: WebContents): void {
  contents.on('will-navigate', (event) => event.preventDefault());
  contents.on('will-redirect', (event) => event.preventDefault());
  contents.on('will-attach-webview', (event) => event.preventDefault());
  contents.setWindowOpenHandler(() => ({ action: 'deny' }));
}

/** Camera, microphone, notifications, HID, serial, USB...: none of them for a page; main owns the devices. */
export function denyAllPermissions(session: Session): void {
  session.setPermissionRequestHandler((_contents, _permission, callback) => callback(false));
  session.setPermissionCheckHandler(() => false);
  session.setDevicePermissionHandler(() => false);
}
