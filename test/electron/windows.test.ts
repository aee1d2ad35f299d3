// Every window the shell makes carries the security settings, its own preload and page, and refuses
// navigation and new windows; the session refuses every permission.
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { WINDOW_ROLES, type WindowRole } from '../../electron/bridge.ts';
import { pageUrl } from '../../electron/scheme.ts';
import { denyAllPermissions } from '../../electron/security.ts';
import { preloadPath, TillWindows } from '../../electron/windows.ts';
import { BrowserWindow, fakeSession } from './fake-electron.ts';

vi.mock('electron', () => import('./fake-electron.ts'));

const PLACE = { displayId: 1, bounds: { x: 0, y: 0, width: 1280, height: 800 }, fullscreen: false };
const EXTERNAL = { displayId: 2, bounds: { x: 1280, y: 0, width: 1920, height: 1080 }, fullscreen: true };

const windowOf = (role: WindowRole) => BrowserWindow.created.find((w) => w.loaded[0] === pageUrl(role))!;

describe('TillWindows', () => {
  beforeEach(() => {
    BrowserWindow.created.length = 0;
  });

  it('gives every window the secure preferences, its own preload and its own page from the app scheme', () => {
    const windows = new TillWindows({ preloadDir: '/app/out/electron', kiosk: false, devTools: false });
    for (const role of WINDOW_ROLES) windows.open(role, PLACE);
    expect(BrowserWindow.created).toHaveLength(3);
    for (const role of WINDOW_ROLES) {
      const window = windowOf(role);
      expect(window.options['webPreferences']).toMatchObject({
        contextIsolation: true,
        sandbox: true,
        nodeIntegration: false,
        nodeIntegrationInWorker: false,
        nodeIntegrationInSubFrames: false,
        webSecurity: true,
        allowRunningInsecureContent: false,
        webviewTag: false,
        devTools: false,
        preload: preloadPath('/app/out/electron', role),
      });
      expect(window.options['webPreferences'].preload).toBe(`/app/out/electron/preload-${role}.cjs`);
      expect(window.loaded).toEqual([`tillback://app/${role}/`]);
      expect(windows.roleOf(window.webContents.id)).toBe(role);
    }
    expect(windows.roleOf(9_999)).toBeUndefined();
  });

  it('denies navigation, redirects, webviews and window.open in every window', () => {
    const windows = new TillWindows({ preloadDir: '/p', kiosk: false, devTools: false });
    for (const role of WINDOW_ROLES) windows.open(role, PLACE);
    for (const window of BrowserWindow.created) {
      const contents = window.webContents;
      expect(contents.fire('will-navigate', 'https://evil.example/')).toBe(true);
      expect(contents.fire('will-navigate', 'tillback://app/manager/')).toBe(true);
      expect(contents.fire('will-redirect', 'https://evil.example/')).toBe(true);
      expect(contents.fire('will-attach-webview', {}, {})).toBe(true);
      expect(contents.windowOpenHandler?.({ url: 'https://evil.example/' })).toEqual({ action: 'deny' });
    }
  });

  it('puts only the cashier window in kiosk mode, and switches it live', () => {
    const windows = new TillWindows({ preloadDir: '/p', kiosk: true, devTools: false });
    for (const role of WINDOW_ROLES) windows.open(role, PLACE);
    expect(WINDOW_ROLES.map((r) => windowOf(r).options['kiosk'])).toEqual([true, false, false]);
    windows.setKiosk(false);
    expect(windowOf('cashier').kiosk).toBe(false);
  });

  it('places the customer display full screen, moves it when displays change, and reuses open windows', () => {
    const windows = new TillWindows({ preloadDir: '/p', kiosk: false, devTools: false });
    windows.open('display', EXTERNAL);
    const display = windowOf('display');
    expect(display.options).toMatchObject({ x: 1280, width: 1920, fullscreen: true, frame: false });
    windows.place('display', PLACE);
    expect(display.fullScreen).toBe(false);
    expect(display.bounds).toEqual(PLACE.bounds);
    windows.place('display', EXTERNAL);
    expect(display.fullScreen).toBe(true);
    expect(windows.open('display', EXTERNAL)).toBe(display);
    expect(BrowserWindow.created).toHaveLength(1);
    display.close();
    expect(windows.get('display')).toBeUndefined();
    expect(windows.roleOf(display.webContents.id)).toBeUndefined();
  });

  it('reloads every open window at its own page (a restarted till has a new token)', () => {
    const windows = new TillWindows({ preloadDir: '/p', kiosk: false, devTools: false });
    windows.open('cashier', PLACE);
    windows.open('display', EXTERNAL);
    windows.reloadAll();
    expect(windowOf('cashier').loaded).toEqual([pageUrl('cashier'), pageUrl('cashier')]);
    expect(windowOf('display').loaded).toEqual([pageUrl('display'), pageUrl('display')]);
  });
});

describe('denyAllPermissions', () => {
  it('refuses every permission request and check, and every device', () => {
    const session = fakeSession();
    denyAllPermissions(session as never);
    for (const permission of [
      'media',
      'notifications',
      'geolocation',
      'hid',
      'serial',
      'usb',
      'clipboard-read',
    ]) {
      const answers: boolean[] = [];
      session.permissionRequestHandler!({}, permission, (granted: boolean) => answers.push(granted), {});
      expect(answers).toEqual([false]);
      expect(session.permissionCheckHandler!({}, permission, 'tillback://app', {})).toBe(false);
    }
    expect(session.devicePermissionHandler!({ deviceType: 'hid', origin: 'tillback://app' })).toBe(false);
  });
});
