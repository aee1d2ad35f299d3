// The shell's settings in a real electron-store file (a temporary directory), checked by zod: the
// defaults, a change kept across opens, a file edited into nonsense reset; and the tray's status line.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { openShellSettings } from '../../electron/settings.ts';
import { trayStatusText } from '../../electron/tray.ts';
import { ipcMain } from './fake-electron.ts';

vi.mock('electron', () => import('./fake-electron.ts'));

const dir = mkdtempSync(join(tmpdir(), 'tillback-settings-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('openShellSettings', () => {
  it('starts from the defaults, keeps a change in its file, and reads it back at the next open', () => {
    const cwd = join(dir, 'a');
    const settings = openShellSettings({ cwd });
    expect(settings.get()).toEqual({ kiosk: false, autoStart: false });
    expect(settings.set({ kiosk: true })).toEqual({ kiosk: true, autoStart: false });
    expect(JSON.parse(readFileSync(settings.path, 'utf8'))).toEqual({ kiosk: true, autoStart: false });
    expect(openShellSettings({ cwd }).get()).toEqual({ kiosk: true, autoStart: false });
  });

  it('resets a file holding invalid settings to the defaults, saying so', () => {
    const cwd = join(dir, 'b');
    const first = openShellSettings({ cwd });
    writeFileSync(first.path, JSON.stringify({ kiosk: 'yes', nodeIntegration: true }));
    const warnings: string[] = [];
    const settings = openShellSettings({ cwd }, (m) => warnings.push(m));
    expect(settings.get()).toEqual({ kiosk: false, autoStart: false });
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/reset to the defaults/);
    expect(() => settings.set({ kiosk: 'no' as never })).toThrow();
    expect(settings.get()).toEqual({ kiosk: false, autoStart: false });
  });

  it('leaves no electron-store channel for pages to ask main on', () => {
    openShellSettings({ cwd: join(dir, 'c') });
    expect(ipcMain.listeners.has('electron-store-get-data')).toBe(false);
  });
});

describe('trayStatusText', () => {
  it('says whether the till runs, the engine answers, and what is queued or failed', () => {
    expect(trayStatusText({ kind: 'starting' })).toBe('Tillback: starting');
    expect(trayStatusText({ kind: 'down', reason: 'exit code 1' })).toBe(
      'Tillback: till stopped (exit code 1), restarting',
    );
    expect(trayStatusText({ kind: 'up' })).toBe('Tillback: running');
    expect(trayStatusText({ kind: 'up', status: { online: null, waiting: 0, failed: 0 } })).toBe(
      'Tillback: engine not checked yet, 0 queued',
    );
    expect(trayStatusText({ kind: 'up', status: { online: true, waiting: 0, failed: 0 } })).toBe(
      'Tillback: engine online, 0 queued',
    );
    expect(trayStatusText({ kind: 'up', status: { online: false, waiting: 12, failed: 2 } })).toBe(
      'Tillback: engine offline, 12 queued, 2 failed (manager)',
    );
  });
});
