// Where the till's windows go, from the displays Electron's `screen` reports: a pure function, so the
// rules are tested without a screen and re-run as displays come and go.

export interface Rectangle {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** The fields of Electron's `Display` the placement reads. */
export interface DisplayInfo {
  id: number;
  /** The whole display, in screen coordinates. */
  bounds: Rectangle;
  /** The display less the taskbars and docks. */
  workArea: Rectangle;
}

export interface WindowPlacement {
  displayId: number;
  bounds: Rectangle;
  fullscreen: boolean;
}

export interface Placement {
  cashier: WindowPlacement;
  customer: WindowPlacement;
}

/**
 * The cashier window fills the primary display's work area. The customer display goes full-screen on
 * the first other display (in the order the system lists them, which it keeps while they stay
 * attached). With no other display it is a quarter-size window in the primary's bottom-right corner,
 * so a till without a second monitor (or a developer's laptop) still shows what the customer would see.
 * A primary id the list no longer holds (a display just removed) falls back to the first display.
 */
export function placeWindows(displays: readonly DisplayInfo[], primaryId: number): Placement {
  const primary = displays.find((d) => d.id === primaryId) ?? displays[0];
  if (!primary) throw new Error('placeWindows: no display');
  const cashier = { displayId: primary.id, bounds: { ...primary.workArea }, fullscreen: false };
  const external = displays.find((d) => d.id !== primary.id);
  if (external)
    return {
      cashier,
      customer: { displayId: external.id, bounds: { ...external.bounds }, fullscreen: true },
    };
  const { x, y, width, height } = primary.workArea;
  const w = Math.max(1, Math.floor(width / 2));
  const h = Math.max(1, Math.floor(height / 2));
  return {
    cashier,
    customer: {
      displayId: primary.id,
      bounds: { x: x + width - w, y: y + height - h, width: w, height: h },
      fullscreen: false,
    },
  };
}
