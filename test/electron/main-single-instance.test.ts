// A second Tillback on the same till: main.ts finds the single-instance lock taken and quits before
// starting anything (the first instance owns the devices and the data, and shows itself).
import { describe, expect, it, vi } from 'vitest';
import { app, BrowserWindow, FakeUtilityProcess } from './fake-electron.ts';

vi.mock('electron', () => import('./fake-electron.ts'));

describe('the single-instance lock', () => {
  it('quits a second instance without forking a till or opening a window', async () => {
    app.singleInstance = false;
    await import('../../electron/main.ts');
    expect(app.quitCalls).toBe(1);
    // Nothing waits for ready: the start is never scheduled.
    expect(app.whenReadyCalls).toBe(0);
    expect(FakeUtilityProcess.forked).toHaveLength(0);
    expect(BrowserWindow.created).toHaveLength(0);
  });
});
