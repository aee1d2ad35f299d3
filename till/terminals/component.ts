// The terminals as a part of the till core: the device manager's list for the screens (the cashier's
// status bar, the manager's terminals), at GET /api/devices and as a `devices` message on every event
// stream whenever a terminal is added or changes state.
import type { DeviceSummary } from '../../contract/till-events.ts';
import type { DeviceInfo } from '../../drivers/devices/events.ts';
import type { DeviceManager } from '../../drivers/devices/manager.ts';
import type { TillComponent } from '../core.ts';

/** What a screen may know of a device: no vendor, product or serial number ids. */
export function deviceSummary(info: DeviceInfo): DeviceSummary {
  const { id, kind, driver, link, path, state, label, product } = info;
  return {
    id,
    kind,
    driver,
    link,
    path,
    state,
    ...(label === undefined ? {} : { label }),
    ...(product === undefined ? {} : { product }),
  };
}

const summaries = (devices: DeviceManager): DeviceSummary[] => devices.list().map(deviceSummary);

export const terminalsComponent: TillComponent = {
  name: 'terminals',
  start({ devices }) {
    return {
      routes: (ctx) => {
        // Frames, cards and PIN events change nothing a screen lists: only additions and states.
        const off = devices.subscribe('*', (event) => {
          if (event.type === 'added' || event.type === 'state') {
            ctx.publish({ type: 'devices', devices: summaries(devices) });
          }
        });
        ctx.app.addHook('onClose', async () => off());
        ctx.app.get('/api/devices', async (req) => {
          await ctx.operator(req, 'cashier');
          return { devices: summaries(devices) };
        });
      },
    };
  },
};
