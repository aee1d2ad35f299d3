// A small stand-in for the `electron` module (its binary cannot run on the build machines): it records
// what the shell asks of Electron (window options, event handlers, IPC handlers, exposed bridges,
// permission handlers) so the tests can read them back and call them as Electron would.
// Used as `vi.mock('electron', () => import('./fake-electron.ts'))`.
import { EventEmitter } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

type Listener = (...args: any[]) => unknown;

let nextContentsId = 1;

export class FakeWebContents extends EventEmitter {
  readonly id = nextContentsId++;
  windowOpenHandler: ((details: unknown) => { action: string }) | undefined;
  setWindowOpenHandler(handler: (details: unknown) => { action: string }): void {
    this.windowOpenHandler = handler;
  }
  /** Emits `event` as Electron would, with a preventable event object; says whether it was prevented. */
  fire(event: string, ...args: unknown[]): boolean {
    let prevented = false;
    this.emit(event, { preventDefault: () => (prevented = true) }, ...args);
    return prevented;
  }
}

export class BrowserWindow extends EventEmitter {
  static readonly created: BrowserWindow[] = [];
  readonly webContents = new FakeWebContents();
  readonly loaded: string[] = [];
  bounds: { x: number; y: number; width: number; height: number };
  fullScreen: boolean;
  kiosk: boolean;
  destroyed = false;
  focused = 0;
  constructor(readonly options: Record<string, any>) {
    super();
    this.bounds = { x: options['x'], y: options['y'], width: options['width'], height: options['height'] };
    this.fullScreen = Boolean(options['fullscreen']);
    this.kiosk = Boolean(options['kiosk']);
    BrowserWindow.created.push(this);
  }
  loadURL(url: string): Promise<void> {
    this.loaded.push(url);
    return Promise.resolve();
  }
  isDestroyed(): boolean {
    return this.destroyed;
  }
  isFullScreen(): boolean {
    return this.fullScreen;
  }
  setFullScreen(value: boolean): void {
    this.fullScreen = value;
  }
  setBounds(bounds: BrowserWindow['bounds']): void {
    this.bounds = { ...bounds };
  }
  setKiosk(value: boolean): void {
    this.kiosk = value;
  }
  focus(): void {
    this.focused += 1;
  }
  show(): void {}
  close(): void {
    this.destroyed = true;
    this.emit('closed');
  }
}

export const ipcMain = {
  handlers: new Map<string, Listener>(),
  listeners: new Map<string, Listener[]>(),
  handle(channel: string, listener: Listener) {
    if (this.handlers.has(channel)) throw new Error(`a second handler for ${channel}`);
    this.handlers.set(channel, listener);
  },
  on(channel: string, listener: Listener) {
    this.listeners.set(channel, [...(this.listeners.get(channel) ?? []), listener]);
    return this;
  },
  removeAllListeners(channel: string) {
    this.listeners.delete(channel);
    return this;
  },
};

export const ipcRenderer = {
  invocations: [] as { channel: string; args: unknown[] }[],
  invoke(channel: string, ...args: unknown[]) {
    this.invocations.push({ channel, args });
    return Promise.resolve({ channel });
  },
};

export const contextBridge = {
  exposed: new Map<string, unknown>(),
  exposeInMainWorld(key: string, api: unknown) {
    if (this.exposed.has(key)) throw new Error(`${key} exposed twice`);
    this.exposed.set(key, api);
  },
};

export function fakeSession() {
  return {
    permissionRequestHandler: undefined as Listener | undefined,
    permissionCheckHandler: undefined as Listener | undefined,
    devicePermissionHandler: undefined as Listener | undefined,
    setPermissionRequestHandler(h: Listener) {
      this.permissionRequestHandler = h;
    },
    setPermissionCheckHandler(h: Listener) {
      this.permissionCheckHandler = h;
    },
    setDevicePermissionHandler(h: Listener) {
      this.devicePermissionHandler = h;
    },
  };
}

export const session = { defaultSession: fakeSession() };

class FakeApp extends EventEmitter {
  userData = join(tmpdir(), 'tillback-fake-electron');
  appPath = '/app';
  isPackaged = false;
  singleInstance = true;
  isReadyNow = false;
  quitCalls = 0;
  loginItems: unknown[] = [];
  private markReady: () => void = () => undefined;
  readonly ready = new Promise<void>((resolve) => (this.markReady = resolve));
  getPath(name: string) {
    if (name !== 'userData') throw new Error(`fake app.getPath(${name})`);
    return this.userData;
  }
  getAppPath = () => this.appPath;
  getVersion = () => '0.0.0-test';
  getName = () => 'tillback-test';
  requestSingleInstanceLock = () => this.singleInstance;
  whenReadyCalls = 0;
  whenReady = () => {
    this.whenReadyCalls += 1;
    return this.ready;
  };
  /** What Electron does once it is initialised. */
  becomeReady() {
    this.isReadyNow = true;
    this.markReady();
  }
  quit() {
    this.quitCalls += 1;
    // Electron emits before-quit, whose listeners may prevent it.
    let prevented = false;
    this.emit('before-quit', { preventDefault: () => (prevented = true) });
    if (!prevented) this.emit('quit');
  }
  setLoginItemSettings(settings: unknown) {
    this.loginItems.push(settings);
  }
}
export const app = new FakeApp();

export const protocol = {
  privileged: [] as unknown[],
  handlers: new Map<string, (request: Request) => Promise<Response>>(),
  registerSchemesAsPrivileged(schemes: unknown[]) {
    if (app.isReadyNow) throw new Error('schemes must be registered privileged before ready');
    this.privileged.push(...schemes);
  },
  handle(scheme: string, handler: (request: Request) => Promise<Response>) {
    this.handlers.set(scheme, handler);
  },
};

interface FakeDisplay {
  id: number;
  bounds: { x: number; y: number; width: number; height: number };
  workArea: { x: number; y: number; width: number; height: number };
}
class FakeScreen extends EventEmitter {
  displays: FakeDisplay[] = [];
  primaryId = 1;
  getAllDisplays = () => this.displays;
  getPrimaryDisplay = () => this.displays.find((d) => d.id === this.primaryId)!;
}
export const screen = new FakeScreen();

export class FakeUtilityProcess extends EventEmitter {
  static readonly forked: {
    process: FakeUtilityProcess;
    modulePath: string;
    options: Record<string, any>;
  }[] = [];
  readonly received: unknown[] = [];
  killed = false;
  postMessage(message: unknown) {
    this.received.push(message);
    if ((message as { type?: string }).type === 'stop') setImmediate(() => this.emit('exit', 0));
  }
  kill() {
    this.killed = true;
    setImmediate(() => this.emit('exit', 137));
    return true;
  }
}
export const utilityProcess = {
  fork(modulePath: string, _args: string[], options: Record<string, any>) {
    const process = new FakeUtilityProcess();
    FakeUtilityProcess.forked.push({ process, modulePath, options });
    return process;
  },
};

export class Tray {
  static readonly created: Tray[] = [];
  tooltip = '';
  menu: { label?: string; click?: () => void }[] = [];
  destroyed = false;
  constructor(readonly image: unknown) {
    Tray.created.push(this);
  }
  setToolTip(text: string) {
    this.tooltip = text;
  }
  setContextMenu(menu: { items: Tray['menu'] }) {
    this.menu = menu.items;
  }
  destroy() {
    this.destroyed = true;
  }
}
export const Menu = {
  application: 'default' as unknown,
  buildFromTemplate: (items: Tray['menu']) => ({ items }),
  setApplicationMenu(menu: unknown) {
    this.application = menu;
  },
};
export const nativeImage = { createFromDataURL: (url: string) => ({ url }) };
export const dialog = {
  shown: [] as Record<string, unknown>[],
  showMessageBox(options: Record<string, unknown>) {
    this.shown.push(options);
    return Promise.resolve({ response: 0 });
  },
};

export const shell = {};

export default { app, ipcMain, ipcRenderer, contextBridge, session, shell, BrowserWindow };
