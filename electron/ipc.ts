// Main's side of the preloads' IPC. A message is answered only when (1) it comes from the main frame
// of one of our windows, (2) that frame shows our scheme and that window's own page, (3) the channel
// is one that window's preload has, and (4) its arguments pass the channel's zod schema. A page that
// was navigated elsewhere, an iframe, or another window's page is refused before any handler runs.
import type { IpcMain, IpcMainInvokeEvent } from 'electron';
import { z } from 'zod';
import { CHANNELS, type LaunchInfo, type ShellSettingsView, type WindowRole } from './bridge.ts';
import { APP_HOST, APP_SCHEME, pagePath } from './scheme.ts';

export class IpcRefused extends Error {
  constructor(
    readonly code: 'sender_refused' | 'invalid_arguments',
    message: string,
  ) {
    super(`${code}: ${message}`);
    this.name = 'IpcRefused';
  }
}

export interface IpcRoute<A extends unknown[] = unknown[]> {
  channel: string;
  /** The windows whose preload has this channel. */
  windows: readonly WindowRole[];
  args: z.ZodType<A>;
  handle(args: A, role: WindowRole): unknown;
}

const route = <A extends unknown[]>(r: IpcRoute<A>): IpcRoute => r as unknown as IpcRoute;

export const ShellSettingsChangeSchema = z
  .object({ kiosk: z.boolean().optional(), autoStart: z.boolean().optional() })
  .strict();

export interface ShellIpcHandlers {
  launch(): LaunchInfo;
  openManager(): void;
  settings(): ShellSettingsView;
  changeSettings(change: z.infer<typeof ShellSettingsChangeSchema>): Promise<ShellSettingsView>;
}

/** Every channel of the three preloads, with who may call it and its arguments. */
export function shellIpcRoutes(h: ShellIpcHandlers): IpcRoute[] {
  return [
    route({
      channel: CHANNELS.getLaunch,
      windows: ['cashier', 'display', 'manager'],
      args: z.tuple([]),
      handle: () => h.launch(),
    }),
    route({
      channel: CHANNELS.openManager,
      windows: ['cashier'],
      args: z.tuple([]),
      handle: () => h.openManager(),
    }),
    route({
      channel: CHANNELS.getShellSettings,
      windows: ['manager'],
      args: z.tuple([]),
      handle: () => h.settings(),
    }),
    route({
      channel: CHANNELS.setShellSettings,
      windows: ['manager'],
      args: z.tuple([ShellSettingsChangeSchema]),
      handle: ([change]) => h.changeSettings(change),
    }),
  ];
}

/**
 * The role of the window that sent `event`, or an IpcRefused. `roleOf` maps a webContents id to the
 * role of the window we created with it (undefined: not one of ours).
 */
export function senderRole(
  event: Pick<IpcMainInvokeEvent, 'sender' | 'senderFrame'>,
  roleOf: (webContentsId: number) => WindowRole | undefined,
): WindowRole {
  const frame = event.senderFrame;
  if (!frame) throw new IpcRefused('sender_refused', 'the sending frame is gone');
  if (frame.parent !== null) throw new IpcRefused('sender_refused', 'only a main frame may call');
  const role = roleOf(event.sender.id);
  if (!role) throw new IpcRefused('sender_refused', 'not one of the till windows');
  let url: URL;
  try {
    url = new URL(frame.url);
  } catch {
    throw new IpcRefused('sender_refused', 'the frame has no URL');
  }
  if (url.protocol !== `${APP_SCHEME}:` || url.host !== APP_HOST || !url.pathname.startsWith(pagePath(role)))
    throw new IpcRefused('sender_refused', `the ${role} window does not show its own page`);
  return role;
}

/**
 * Registers every route on `ipcMain.handle`. A refusal rejects the page's promise with the refusal's
 * code and reason (never the arguments, which could hold anything), and is passed to `onRefused`.
 */
export function registerIpcRoutes(
  ipcMain: Pick<IpcMain, 'handle'>,
  routes: readonly IpcRoute[],
  roleOf: (webContentsId: number) => WindowRole | undefined,
  onRefused: (channel: string, error: IpcRefused) => void = (channel, error) =>
    console.warn(`IPC ${channel} refused: ${error.message}`),
): void {
  for (const r of routes) {
    ipcMain.handle(r.channel, async (event, ...raw: unknown[]) => {
      try {
        const role = senderRole(event, roleOf);
        if (!r.windows.includes(role))
          throw new IpcRefused('sender_refused', `the ${role} window may not call ${r.channel}`);
        const args = r.args.safeParse(raw);
        if (!args.success) throw new IpcRefused('invalid_arguments', z.prettifyError(args.error));
        return await r.handle(args.data, role);
      } catch (error) {
        if (error instanceof IpcRefused) onRefused(r.channel, error);
        throw error;
      }
    });
  }
}
