// The windows' placement over 1, 2 and 3 displays, as displays come and go, and by property over
// random layouts: every window inside a display, the customer display never on the primary while
// another display exists.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { placeWindows, type DisplayInfo, type Rectangle } from '../../electron/placement.ts';

const display = (id: number, x: number, width = 1920, height = 1080, taskbar = 40): DisplayInfo => ({
  id,
  bounds: { x, y: 0, width, height },
  workArea: { x, y: 0, width, height: height - taskbar },
});

const LAPTOP = display(1, 0, 1366, 768);
const MONITOR = display(2, 1366, 1920, 1080, 0);
const THIRD = display(3, 3286, 1024, 768, 0);

const inside = (r: Rectangle, d: Rectangle) =>
  r.width > 0 &&
  r.height > 0 &&
  r.x >= d.x &&
  r.y >= d.y &&
  r.x + r.width <= d.x + d.width &&
  r.y + r.height <= d.y + d.height;

describe('placeWindows', () => {
  it('one display: the cashier fills its work area, the customer display is a quarter window in its corner', () => {
    const p = placeWindows([LAPTOP], 1);
    expect(p.cashier).toEqual({ displayId: 1, bounds: LAPTOP.workArea, fullscreen: false });
    expect(p.customer).toEqual({
      displayId: 1,
      bounds: { x: 683, y: 364, width: 683, height: 364 },
      fullscreen: false,
    });
  });

  it('two displays: the customer display full screen on the external one, whichever side it is on', () => {
    const p = placeWindows([LAPTOP, MONITOR], 1);
    expect(p.cashier).toEqual({ displayId: 1, bounds: LAPTOP.workArea, fullscreen: false });
    expect(p.customer).toEqual({ displayId: 2, bounds: MONITOR.bounds, fullscreen: true });
    // The external monitor made primary: the cashier follows it, the display goes to the laptop.
    const swapped = placeWindows([LAPTOP, MONITOR], 2);
    expect(swapped.cashier).toEqual({ displayId: 2, bounds: MONITOR.workArea, fullscreen: false });
    expect(swapped.customer).toEqual({ displayId: 1, bounds: LAPTOP.bounds, fullscreen: true });
  });

  it('three displays: the first non-primary display in the system order', () => {
    expect(placeWindows([LAPTOP, MONITOR, THIRD], 1).customer.displayId).toBe(2);
    expect(placeWindows([THIRD, LAPTOP, MONITOR], 1).customer.displayId).toBe(3);
    expect(placeWindows([LAPTOP, MONITOR, THIRD], 2).customer.displayId).toBe(1);
  });

  it('follows a display added, then removed, then a primary id that is gone', () => {
    let displays = [LAPTOP];
    expect(placeWindows(displays, 1).customer.fullscreen).toBe(false);
    displays = [...displays, MONITOR];
    expect(placeWindows(displays, 1).customer).toMatchObject({ displayId: 2, fullscreen: true });
    displays = [...displays, THIRD];
    expect(placeWindows(displays, 1).customer).toMatchObject({ displayId: 2, fullscreen: true });
    displays = displays.filter((d) => d.id !== 2);
    expect(placeWindows(displays, 1).customer).toMatchObject({ displayId: 3, fullscreen: true });
    displays = displays.filter((d) => d.id !== 3);
    expect(placeWindows(displays, 1).customer).toMatchObject({ displayId: 1, fullscreen: false });
    // Reported before the primary change arrives: the first display stands in.
    expect(placeWindows([MONITOR], 1).cashier.displayId).toBe(2);
    expect(() => placeWindows([], 1)).toThrow(/no display/);
  });

  it('by property: every window inside its display, never the customer display on the primary when another exists', () => {
    const layout = fc
      .tuple(
        fc.integer({ min: -8000, max: 0 }),
        fc.array(
          fc.record({
            width: fc.integer({ min: 1, max: 7680 }),
            height: fc.integer({ min: 1, max: 4320 }),
            y: fc.integer({ min: -4320, max: 4320 }),
            taskbar: fc.integer({ min: 0, max: 200 }),
          }),
          { minLength: 1, maxLength: 6 },
        ),
      )
      .map(([origin, specs]) => {
        let x = origin;
        return specs.map((s, i): DisplayInfo => {
          const d = {
            id: 100 + i,
            bounds: { x, y: s.y, width: s.width, height: s.height },
            workArea: { x, y: s.y, width: s.width, height: Math.max(1, s.height - s.taskbar) },
          };
          x += s.width;
          return d;
        });
      });
    fc.assert(
      fc.property(layout, fc.nat(), (displays, pick) => {
        const primary = displays[pick % displays.length]!;
        const p = placeWindows(displays, primary.id);
        const byId = (id: number) => displays.find((d) => d.id === id)!;
        expect(p.cashier.displayId).toBe(primary.id);
        expect(inside(p.cashier.bounds, primary.workArea)).toBe(true);
        expect(inside(p.customer.bounds, byId(p.customer.displayId).bounds)).toBe(true);
        if (displays.length > 1) {
          expect(p.customer.displayId).not.toBe(primary.id);
          expect(p.customer.fullscreen).toBe(true);
        } else {
          expect(p.customer.fullscreen).toBe(false);
        }
      }),
      { numRuns: 500 },
    );
  });
});
