// electron/main.ts itself, against the recording stand-in for Electron: the scheme registered before
// ready, the till forked as a utility process, the windows opened on its ready and placed on the
// displays as they come and go, IPC answering the cashier window with the launch, the tray following
// the till's state, a dead till restarted with the windows reloaded, and quit waiting for the till.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { CHANNELS } from '../../electron/bridge.ts';
import { APP_SCHEME, APP_SCHEME_PRIVILEGES, pageUrl } from '../../electron/scheme.ts';
import * as electron from './fake-electron.ts';

vi.mock('electron', () => import('./fake-electron.ts'));

const { app, BrowserWindow, FakeUtilityProcess, ipcMain, protocol, screen, session, Tray } = electron;
const dir = mkdtempSync(join(tmpdir(), 'tillback-main-'));
const LAPTOP = {
  id: 1,
  bounds: { x: 0, y: 0, width: 1366, height: 768 },
  workArea: { x: 0, y: 0, width: 1366, height: 728 },
};
const MONITOR = {
  id: 2,
  bounds: { x: 1366, y: 0, width: 1920, height: 1080 },
  workArea: { x: 1366, y: 0, width: 1920, height: 1080 },
};
const saved = { ...process.env };

const until = async (check: () => boolean, what: string) => {
  const deadline = Date.now() + 15_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
};
const windowAt = (role: 'cashier' | 'display' | 'manager') =>
  BrowserWindow.created.find((w) => w.loaded[0] === pageUrl(role));
const child = (n: number) => FakeUtilityProcess.forked[n]!;

beforeAll(async () => {
  process.env['XDG_CONFIG_HOME'] = join(dir, 'config');
  process.env['TILLBACK_RENDERER_DIR'] = join(dir, 'dist');
  delete process.env['TILLBACK_TILL_DATA_DIR'];
  delete process.env['TILLBACK_TILL_CONFIG'];
  mkdirSync(join(dir, 'dist', 'cashier'), { recursive: true });
  writeFileSync(join(dir, 'dist', 'cashier', 'index.html'), '<h1>cashier</h1>');
  app.userData = join(dir, 'user-data');
  screen.displays = [LAPTOP];
  screen.primaryId = 1;
  await import('../../electron/main.ts');
});

afterAll(() => {
  process.env = saved;
  rmSync(dir, { recursive: true, force: true });
});

describe('the main process', () => {
  it('registers the scheme privileged before ready, and nothing else happens before ready', () => {
    expect(protocol.privileged).toEqual([APP_SCHEME_PRIVILEGES]);
    expect(FakeUtilityProcess.forked).toHaveLength(0);
    expect(BrowserWindow.created).toHaveLength(0);
  });

  it('at ready: denies permissions, serves the scheme, forks the till process through tsx, registers the IPC', async () => {
    app.becomeReady();
    await until(() => FakeUtilityProcess.forked.length === 1, 'the fork');
    expect(session.defaultSession.permissionCheckHandler?.({}, 'media', '', {})).toBe(false);
    expect(protocol.handlers.has(APP_SCHEME)).toBe(true);
    const { modulePath, options } = child(0);
    expect(modulePath).toBe('/app/electron/till-process.ts');
    expect(options['execArgv'][0]).toBe('--import');
    expect(options['execArgv'][1]).toMatch(/^file:\/\/.*\/tsx\/dist\/loader\.mjs$/);
    expect(options['env']['TILLBACK_TILL_DATA_DIR']).toBe(join(app.userData, 'till'));
    expect([...ipcMain.handlers.keys()].sort()).toEqual(Object.values(CHANNELS).sort());
    expect(Tray.created[0]!.tooltip).toBe('Tillback: starting');
    expect(BrowserWindow.created).toHaveLength(0);
  });

  it('opens the cashier and customer windows when the till is ready, on the one display there is', async () => {
    child(0).process.emit('message', {
      type: 'ready',
      apiUrl: 'http://127.0.0.1:4100',
      token: 'first-token',
    });
    expect(windowAt('cashier')!.bounds).toEqual(LAPTOP.workArea);
    expect(windowAt('display')!.fullScreen).toBe(false);
    expect(BrowserWindow.created).toHaveLength(2);
    // Not packaged: the developer tools and the default menu stay (a packaged till has neither).
    expect(windowAt('cashier')!.options['webPreferences'].devTools).toBe(true);
    expect(electron.Menu.application).toBe('default');
    const cashier = windowAt('cashier')!;
    const launch = await ipcMain.handlers.get(CHANNELS.getLaunch)!({
      sender: { id: cashier.webContents.id },
      senderFrame: { url: pageUrl('cashier'), parent: null },
    });
    expect(launch).toEqual({ apiUrl: 'http://127.0.0.1:4100', token: 'first-token' });
    const page = await protocol.handlers.get(APP_SCHEME)!(new Request(pageUrl('cashier')));
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toContain(
      'connect-src http://127.0.0.1:4100 ws://127.0.0.1:4100',
    );
  });

  it('moves the customer display full screen to a display plugged in, and back when it is unplugged', () => {
    const display = windowAt('display')!;
    screen.displays = [LAPTOP, MONITOR];
    screen.emit('display-added', {}, MONITOR);
    expect(display.fullScreen).toBe(true);
    expect(display.bounds).toEqual(MONITOR.bounds);
    screen.displays = [LAPTOP];
    screen.emit('display-removed', {}, MONITOR);
    expect(display.fullScreen).toBe(false);
    expect(display.bounds.x + display.bounds.width).toBe(LAPTOP.workArea.width);
    expect(windowAt('cashier')!.bounds).toEqual(LAPTOP.workArea);
  });

  it('shows the till’s state in the tray', () => {
    child(0).process.emit('message', { type: 'status', online: false, waiting: 2, failed: 0 });
    expect(Tray.created[0]!.tooltip).toBe('Tillback: engine offline, 2 queued');
  });

  it('restarts a dead till after a delay and reloads the windows for the new token', async () => {
    child(0).process.emit('exit', 1);
    expect(Tray.created[0]!.tooltip).toMatch(/till stopped/);
    await until(() => FakeUtilityProcess.forked.length === 2, 'the restart');
    child(1).process.emit('message', {
      type: 'ready',
      apiUrl: 'http://127.0.0.1:4200',
      token: 'second-token',
    });
    expect(windowAt('cashier')!.loaded).toEqual([pageUrl('cashier'), pageUrl('cashier')]);
    expect(BrowserWindow.created).toHaveLength(2);
    const launch = await ipcMain.handlers.get(CHANNELS.getLaunch)!({
      sender: { id: windowAt('display')!.webContents.id },
      senderFrame: { url: pageUrl('display'), parent: null },
    });
    expect(launch).toEqual({ apiUrl: 'http://127.0.0.1:4200', token: 'second-token' });
  });

  it('opens the manager window when the cashier window asks, and refuses the display asking', async () => {
    const ask = (role: 'cashier' | 'display') =>
      ipcMain.handlers.get(CHANNELS.openManager)!({
        sender: { id: windowAt(role)!.webContents.id },
        senderFrame: { url: pageUrl(role), parent: null },
      });
    await expect(ask('display')).rejects.toThrow(/may not call/);
    expect(windowAt('manager')).toBeUndefined();
    await ask('cashier');
    expect(windowAt('manager')!.options['webPreferences'].sandbox).toBe(true);
  });

  it('on quit, stops the till first, then quits', async () => {
    const quitsBefore = app.quitCalls;
    app.quit();
    expect(child(1).process.received).toEqual([{ type: 'stop' }]);
    await until(() => app.quitCalls === quitsBefore + 2, 'the second quit');
    expect(Tray.created[0]!.destroyed).toBe(true);
    expect(FakeUtilityProcess.forked).toHaveLength(2);
  });
});
