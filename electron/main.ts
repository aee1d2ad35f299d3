// The Electron main process: one instance, the till core in a utility process, the windows on their
// displays, the tray, the settings. Everything with rules of its own is in a module beside this one
// (placement, scheme, security, ipc, supervisor, autostart): this file only wires them to Electron.
import { app, dialog, ipcMain, Menu, protocol, screen, session, utilityProcess } from 'electron';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { autostartPath, setXdgAutostart } from './autostart.ts';
import type { LaunchInfo } from './bridge.ts';
import { registerIpcRoutes, shellIpcRoutes } from './ipc.ts';
import { placeWindows } from './placement.ts';
import { APP_SCHEME, APP_SCHEME_PRIVILEGES, createAppProtocolHandler } from './scheme.ts';
import { denyAllPermissions, lockDownContents } from './security.ts';
import { openShellSettings } from './settings.ts';
import { superviseTill } from './till-supervisor.ts';
import { createTray, type TillState } from './tray.ts';
import { TillWindows } from './windows.ts';

// Before `ready`, or Chromium will not give the scheme an origin.
protocol.registerSchemesAsPrivileged([APP_SCHEME_PRIVILEGES]);

if (!app.requestSingleInstanceLock()) {
  // Another Tillback runs on this till: it owns the devices and the data. It shows itself (below).
  app.quit();
} else {
  void app.whenReady().then(start);
}

/** The renderer build: TILLBACK_RENDERER_DIR, else renderer/dist in the app (Vite's output). */
const rendererDir = () => process.env['TILLBACK_RENDERER_DIR'] ?? join(app.getAppPath(), 'renderer', 'dist');

/**
 * The till process runs the till's TypeScript sources through tsx's loader, as `npm start` does:
 * bundling them would break the files they find beside themselves (migrations, the claim page).
 * Its data goes to the user data directory unless TILLBACK_TILL_DATA_DIR says otherwise, and a
 * `till-config.json` there is its configuration unless TILLBACK_TILL_CONFIG names another.
 */
function forkTill() {
  const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
  const configFile = join(app.getPath('userData'), 'till-config.json');
  return utilityProcess.fork(join(app.getAppPath(), 'electron', 'till-process.ts'), [], {
    serviceName: 'Tillback till',
    execArgv: ['--import', tsx],
    stdio: 'inherit',
    env: {
      ...process.env,
      TILLBACK_TILL_DATA_DIR: process.env['TILLBACK_TILL_DATA_DIR'] ?? join(app.getPath('userData'), 'till'),
      ...(process.env['TILLBACK_TILL_CONFIG'] === undefined && existsSync(configFile)
        ? { TILLBACK_TILL_CONFIG: configFile }
        : {}),
    },
  });
}

async function applyAutoStart(enabled: boolean): Promise<void> {
  if (process.platform !== 'linux') return app.setLoginItemSettings({ openAtLogin: enabled });
  // An AppImage runs from a temporary mount: the file to start again is $APPIMAGE.
  const exec = process.env['APPIMAGE'] ?? process.execPath;
  await setXdgAutostart(
    enabled,
    { name: 'Tillback', comment: 'Tillback till', exec, args: app.isPackaged ? [] : [app.getAppPath()] },
    autostartPath(),
  );
}

function start(): void {
  const settings = openShellSettings();
  const windows = new TillWindows({
    preloadDir: import.meta.dirname,
    kiosk: settings.get().kiosk,
    devTools: !app.isPackaged,
  });
  // The default menu's shortcuts (reload, developer tools) are for development, not for a till.
  if (app.isPackaged) Menu.setApplicationMenu(null);
  let launch: LaunchInfo | undefined;

  denyAllPermissions(session.defaultSession);
  // The windows lock their own contents (windows.ts); this also covers any other contents Electron makes.
  app.on('web-contents-created', (_event, contents) => lockDownContents(contents));
  protocol.handle(
    APP_SCHEME,
    createAppProtocolHandler({ root: rendererDir(), apiUrl: () => launch?.apiUrl ?? 'http://127.0.0.1' }),
  );

  const placement = () => placeWindows(screen.getAllDisplays(), screen.getPrimaryDisplay().id);
  const showTill = () => {
    const p = placement();
    windows.open('cashier', p.cashier);
    windows.open('display', p.customer);
  };
  const relayout = () => {
    const p = placement();
    windows.place('cashier', p.cashier);
    windows.place('display', p.customer);
  };
  screen.on('display-added', relayout);
  screen.on('display-removed', relayout);
  screen.on('display-metrics-changed', relayout);

  const openManager = () => windows.open('manager', placement().cashier);
  const tray = createTray({ showCashier: showTill, openManager, quit: () => app.quit() });
  const setState = (state: TillState) => tray.update(state);

  const till = superviseTill(forkTill, {
    ready: (next, firstManager) => {
      launch = next;
      setState({ kind: 'up' });
      // After a restart the open windows hold the old token: they load again and ask for the new one.
      if (windows.get('cashier')) windows.reloadAll();
      else showTill();
      if (firstManager?.generatedPin)
        void dialog.showMessageBox({
          type: 'info',
          title: 'Tillback: first manager',
          message: `The manager "${firstManager.name}" was created with PIN ${firstManager.generatedPin}.`,
          detail: 'Note it now: it is shown only this once. Change it in the manager window.',
        });
    },
    status: (status) => setState({ kind: 'up', status }),
    down: (reason) => {
      launch = undefined;
      setState({ kind: 'down', reason });
    },
  });

  registerIpcRoutes(
    ipcMain,
    shellIpcRoutes({
      launch: () => {
        if (!launch) throw new Error('the till is not running yet');
        return launch;
      },
      openManager: () => void openManager(),
      settings: () => settings.get(),
      changeSettings: async (change) => {
        const next = settings.set(change);
        if (change.kiosk !== undefined) windows.setKiosk(next.kiosk);
        if (change.autoStart !== undefined) await applyAutoStart(next.autoStart);
        return next;
      },
    }),
    windows.roleOf,
  );
  void applyAutoStart(settings.get().autoStart).catch((error: unknown) =>
    console.warn(`start at login could not be set: ${String(error)}`),
  );

  app.on('second-instance', () => {
    const cashier = windows.get('cashier');
    if (cashier?.isMinimized()) cashier.restore();
    cashier?.focus();
  });
  app.on('window-all-closed', () => app.quit());
  // Quit waits for the till to close its files and drivers: the outbox is durable, but a clean stop
  // also releases the serial ports and the simulator for the next start.
  let stopped = false;
  app.on('before-quit', (event) => {
    if (stopped) return;
    event.preventDefault();
    void till.stop().finally(() => {
      stopped = true;
      tray.destroy();
      app.quit();
    });
  });
}
