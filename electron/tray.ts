// The tray icon: whether the engine answers and how much waits in the offline queue, at a glance,
// plus the few actions a till needs outside its windows.
import { Menu, Tray, nativeImage } from 'electron';
import type { TillStatus } from './till-messages.ts';

export type TillState =
  { kind: 'starting' } | { kind: 'down'; reason: string } | { kind: 'up'; status?: TillStatus };

/** The tray's tooltip and status line for the till's state. */
export function trayStatusText(state: TillState): string {
  if (state.kind === 'starting') return 'Tillback: starting';
  if (state.kind === 'down') return `Tillback: till stopped (${state.reason}), restarting`;
  const status = state.status;
  if (!status) return 'Tillback: running';
  const engine =
    status.online === null ? 'engine not checked yet' : status.online ? 'engine online' : 'engine offline';
  const failed = status.failed > 0 ? `, ${status.failed} failed (manager)` : '';
  return `Tillback: ${engine}, ${status.waiting} queued${failed}`;
}

export interface TrayActions {
  showCashier(): void;
  openManager(): void;
  quit(): void;
}

/** A 16x16 PNG: a green square with a white border (resources/ will hold the product's icon). */
const ICON =
  'data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAABAAAAAQCAYAAAAf8/9hAAAAHklEQVR42mP4TyFgABHy/f5k4VEDRg0YNYDaBlACAAYFdB8r1D6rAAAAAElFTkSuQmCC';

export function createTray(actions: TrayActions): { update(state: TillState): void; destroy(): void } {
  const tray = new Tray(nativeImage.createFromDataURL(ICON));
  const update = (state: TillState) => {
    const text = trayStatusText(state);
    tray.setToolTip(text);
    tray.setContextMenu(
      Menu.buildFromTemplate([
        { label: text, enabled: false },
        { type: 'separator' },
        { label: 'Show the till', click: actions.showCashier },
        { label: 'Manager', click: actions.openManager },
        { type: 'separator' },
        { label: 'Quit Tillback', click: actions.quit },
      ]),
    );
  };
  update({ kind: 'starting' });
  return { update, destroy: () => tray.destroy() };
}
