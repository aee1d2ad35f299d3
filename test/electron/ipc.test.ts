// Main's IPC: a message is handled only from the main frame of the right window showing its own page
// on our scheme, on a channel that window has, with arguments its schema accepts. Each refusal runs
// no handler.
import fc from 'fast-check';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { CHANNELS, type WindowRole } from '../../electron/bridge.ts';
import {
  IpcRefused,
  registerIpcRoutes,
  shellIpcRoutes,
  ShellSettingsChangeSchema,
} from '../../electron/ipc.ts';
import { pageUrl } from '../../electron/scheme.ts';

const LAUNCH = { apiUrl: 'http://127.0.0.1:41234', token: 'launch-token' };
const CONTENTS: Record<WindowRole, number> = { cashier: 11, display: 12, manager: 13 };
const roleOf = (id: number) =>
  (Object.entries(CONTENTS) as [WindowRole, number][]).find(([, c]) => c === id)?.[0];

type Frame = { url: string; parent: unknown } | null;
const frame = (url: string, parent: unknown = null): Frame => ({ url, parent });
const event = (contentsId: number, senderFrame: Frame) => ({ sender: { id: contentsId }, senderFrame });
const from = (role: WindowRole, url = pageUrl(role)) => event(CONTENTS[role], frame(url));

let handlers: Map<string, (event: unknown, ...args: unknown[]) => Promise<unknown>>;
let calls: string[];
let refusals: { channel: string; code: string }[];

beforeEach(() => {
  handlers = new Map();
  calls = [];
  refusals = [];
  const ipcMain = { handle: (channel: string, h: never) => void handlers.set(channel, h) };
  const routes = shellIpcRoutes({
    launch: () => (calls.push('launch'), LAUNCH),
    openManager: () => void calls.push('openManager'),
    settings: () => (calls.push('settings'), { kiosk: false, autoStart: false }),
    changeSettings: async (change) => (
      calls.push(`change ${JSON.stringify(change)}`),
      { kiosk: false, autoStart: false, ...change }
    ),
  });
  registerIpcRoutes(ipcMain as never, routes, roleOf, (channel, error) =>
    refusals.push({ channel, code: error.code }),
  );
});

const invoke = (channel: string, e: unknown, ...args: unknown[]) => handlers.get(channel)!(e, ...args);

describe('IPC routes', () => {
  it('registers exactly the preloads’ channels', () => {
    expect([...handlers.keys()].sort()).toEqual(Object.values(CHANNELS).sort());
  });

  it('answers each window on the channels its preload has', async () => {
    for (const role of ['cashier', 'display', 'manager'] as const)
      expect(await invoke(CHANNELS.getLaunch, from(role))).toEqual(LAUNCH);
    expect(await invoke(CHANNELS.getLaunch, from('cashier', `${pageUrl('cashier')}#/earn?x=1`))).toEqual(
      LAUNCH,
    );
    await invoke(CHANNELS.openManager, from('cashier'));
    expect(await invoke(CHANNELS.setShellSettings, from('manager'), { kiosk: true })).toEqual({
      kiosk: true,
      autoStart: false,
    });
    expect(calls).toEqual(['launch', 'launch', 'launch', 'launch', 'openManager', 'change {"kiosk":true}']);
    expect(refusals).toEqual([]);
  });

  it('refuses a wrong sender frame URL: another origin, another scheme, another window’s page', async () => {
    const wrong = [
      'https://evil.example/cashier/',
      'http://127.0.0.1:41234/cashier',
      'file:///app/renderer/dist/cashier/index.html',
      'tillback://evil/cashier/',
      pageUrl('manager'),
      pageUrl('display'),
      'tillback://app/',
      'about:blank',
      'not a url',
    ];
    for (const url of wrong) {
      await expect(invoke(CHANNELS.getLaunch, from('cashier', url)), url).rejects.toThrow(/^sender_refused/);
    }
    expect(calls).toEqual([]);
    expect(refusals.every((r) => r.code === 'sender_refused')).toBe(true);
  });

  it('refuses a sub-frame, a frame that is gone, and a webContents that is not one of our windows', async () => {
    await expect(invoke(CHANNELS.getLaunch, event(11, frame(pageUrl('cashier'), {})))).rejects.toThrow(
      /main frame/,
    );
    await expect(invoke(CHANNELS.getLaunch, event(11, null))).rejects.toThrow(/gone/);
    await expect(invoke(CHANNELS.getLaunch, event(99, frame(pageUrl('cashier'))))).rejects.toThrow(
      /not one of/,
    );
    expect(calls).toEqual([]);
  });

  it('refuses a channel the sending window does not have', async () => {
    await expect(invoke(CHANNELS.openManager, from('display'))).rejects.toThrow(
      /display window may not call/,
    );
    await expect(invoke(CHANNELS.openManager, from('manager'))).rejects.toThrow(/may not call/);
    await expect(invoke(CHANNELS.setShellSettings, from('cashier'), { kiosk: false })).rejects.toThrow(
      /may not call/,
    );
    await expect(invoke(CHANNELS.getShellSettings, from('display'))).rejects.toThrow(/may not call/);
    expect(calls).toEqual([]);
  });

  it('refuses a wrong payload with invalid_arguments, running nothing', async () => {
    const bad: unknown[][] = [
      [{ kiosk: 'yes' }],
      [{ kiosk: true, nodeIntegration: true }],
      [{ autoStart: 1 }],
      [],
      [{ kiosk: true }, 'extra'],
      ['kiosk'],
      [null],
    ];
    for (const args of bad) {
      const error = await invoke(CHANNELS.setShellSettings, from('manager'), ...args).catch(
        (e: unknown) => e,
      );
      expect(error, JSON.stringify(args)).toBeInstanceOf(IpcRefused);
      expect((error as IpcRefused).code).toBe('invalid_arguments');
    }
    await expect(invoke(CHANNELS.getLaunch, from('display'), 'anything')).rejects.toThrow(
      /^invalid_arguments/,
    );
    expect(calls).toEqual([]);
  });

  it('by property: random arguments run the handler exactly when the schema accepts them', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.anything(), { maxLength: 3 }), async (args) => {
        calls = [];
        const accepted = args.length === 1 && ShellSettingsChangeSchema.safeParse(args[0]).success;
        const result = await invoke(CHANNELS.setShellSettings, from('manager'), ...args).then(
          () => 'ok',
          (e: unknown) => (e instanceof IpcRefused ? e.code : 'other'),
        );
        expect(result).toBe(accepted ? 'ok' : 'invalid_arguments');
        expect(calls.length).toBe(accepted ? 1 : 0);
      }),
    );
  });
});

describe('the preloads', () => {
  beforeEach(() => vi.resetModules());

  const exposed = async (role: WindowRole) => {
    vi.doMock('electron', () => import('./fake-electron.ts'));
    const electron = await import('./fake-electron.ts');
    electron.contextBridge.exposed.clear();
    electron.ipcRenderer.invocations.length = 0;
    await import(`../../electron/preload/${role}.ts`);
    return { api: electron.contextBridge.exposed, invocations: electron.ipcRenderer.invocations };
  };

  it('each exposes only `tillback`, with only what its window needs, each call on its channel', async () => {
    const expected: Record<WindowRole, Record<string, string>> = {
      display: { getLaunch: CHANNELS.getLaunch },
      cashier: { getLaunch: CHANNELS.getLaunch, openManager: CHANNELS.openManager },
      manager: {
        getLaunch: CHANNELS.getLaunch,
        getShellSettings: CHANNELS.getShellSettings,
        setShellSettings: CHANNELS.setShellSettings,
      },
    };
    for (const role of ['display', 'cashier', 'manager'] as const) {
      const { api, invocations } = await exposed(role);
      expect([...api.keys()]).toEqual(['tillback']);
      const bridge = api.get('tillback') as Record<string, (...a: unknown[]) => Promise<unknown>>;
      expect(Object.keys(bridge).sort()).toEqual(Object.keys(expected[role]).sort());
      for (const [method, channel] of Object.entries(expected[role])) {
        await bridge[method]!(...(method === 'setShellSettings' ? [{ kiosk: true }] : []));
        expect(invocations.at(-1)).toEqual({
          channel,
          args: method === 'setShellSettings' ? [{ kiosk: true }] : [],
        });
      }
      vi.resetModules();
    }
  });
});
