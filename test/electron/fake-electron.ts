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

export const app = {
  userData: join(tmpdir(), 'tillback-fake-electron'),
  getPath(name: string) {
    if (name !== 'userData') throw new Error(`fake app.getPath(${name})`);
    return this.userData;
  },
  getVersion: () => '0.0.0-test',
  getName: () => 'tillback-test',
};

export const shell = {};

export default { app, ipcMain, ipcRenderer, contextBridge, session, shell, BrowserWindow };
