// Starting the till at login. Linux has no `app.setLoginItemSettings`: desktops start what the XDG
// Autostart spec's directory holds, so the shell writes (or removes) a .desktop file there. Windows
// and macOS use Electron's own login items. The file's content is a pure function, tested as text.
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';

export const AUTOSTART_FILE_NAME = 'tillback.desktop';

export interface AutostartEntry {
  name: string;
  /** The program to start: the AppImage file itself for an AppImage (`$APPIMAGE`), else the executable. */
  exec: string;
  args?: readonly string[];
  comment?: string;
}

/** `$XDG_CONFIG_HOME/autostart/tillback.desktop`, `~/.config` when the variable is unset or relative. */
export function autostartPath(env: NodeJS.ProcessEnv = process.env, home: string = homedir()): string {
  const configured = env['XDG_CONFIG_HOME'];
  const base = configured && configured.startsWith('/') ? configured : join(home, '.config');
  return join(base, 'autostart', AUTOSTART_FILE_NAME);
}

/** The .desktop file (Desktop Entry Specification 1.5) that starts the till at login. */
export function xdgAutostartEntry(entry: AutostartEntry): string {
  const exec = [entry.exec, ...(entry.args ?? [])].map(execArgument).join(' ');
  const lines = [
    '[Desktop Entry]',
    'Type=Application',
    'Version=1.5',
    `Name=${stringValue(entry.name)}`,
    ...(entry.comment ? [`Comment=${stringValue(entry.comment)}`] : []),
    `Exec=${exec}`,
    'Terminal=false',
    'X-GNOME-Autostart-enabled=true',
  ];
  return `${lines.join('\n')}\n`;
}

/** Writes or removes the autostart file. */
export async function setXdgAutostart(enabled: boolean, entry: AutostartEntry, path: string): Promise<void> {
  if (!enabled) return rm(path, { force: true });
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, xdgAutostartEntry(entry), { mode: 0o644 });
}

/** A string value: no line breaks (they would end the key), backslash escapes per the spec. */
function stringValue(value: string): string {
  if (/[\r\n]/.test(value)) throw new Error('a desktop entry value cannot hold a line break');
  return value.replace(/\\/g, '\\\\');
}

/**
 * One argument of Exec: quoted when it holds a reserved character, with `"`, `` ` ``, `$` and `\`
 * backslash-escaped inside the quotes, and `%` doubled (a field code otherwise). The spec applies the
 * string escape after the quoting, so each backslash is then doubled once more.
 */
function execArgument(arg: string): string {
  if (arg === '') return '""';
  const percent = arg.replace(/%/g, '%%');
  const quoted = /[\s"'\\><~|&;$*?#()`]/.test(percent)
    ? `"${percent.replace(/["`$\\]/g, (c) => `\\${c}`)}"`
    : percent;
  return stringValue(quoted);
}
