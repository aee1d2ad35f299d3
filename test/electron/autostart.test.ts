// The XDG autostart file: its exact content, the Exec quoting of the Desktop Entry spec, and writing
// and removing it in a real (temporary) config directory.
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { autostartPath, setXdgAutostart, xdgAutostartEntry } from '../../electron/autostart.ts';

const dir = mkdtempSync(join(tmpdir(), 'tillback-autostart-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('xdgAutostartEntry', () => {
  it('is a Desktop Entry of type Application that starts the program at login', () => {
    expect(
      xdgAutostartEntry({ name: 'Tillback', comment: 'Tillback till', exec: '/opt/Tillback/tillback' }),
    ).toBe(
      [
        '[Desktop Entry]',
        'Type=Application',
        'Version=1.5',
        'Name=Tillback',
        'Comment=Tillback till',
        'Exec=/opt/Tillback/tillback',
        'Terminal=false',
        'X-GNOME-Autostart-enabled=true',
        '',
      ].join('\n'),
    );
  });

  it('quotes arguments with reserved characters, escapes inside quotes, doubles % and backslashes', () => {
    const exec = (exec: string, ...args: string[]) =>
      xdgAutostartEntry({ name: 'T', exec, args })
        .split('\n')
        .find((l) => l.startsWith('Exec='))!
        .slice('Exec='.length);
    expect(exec('/home/kim/Apps/Tillback 1.0.AppImage')).toBe('"/home/kim/Apps/Tillback 1.0.AppImage"');
    expect(exec('/usr/bin/electron', '/srv/till app')).toBe('/usr/bin/electron "/srv/till app"');
    expect(exec('/a', '50%')).toBe('/a 50%%');
    expect(exec('/a', 'say "hi" $HOME `x`')).toBe('/a "say \\\\"hi\\\\" \\\\$HOME \\\\`x\\\\`"');
    expect(exec('/a', 'C:\\till')).toBe('/a "C:\\\\\\\\till"');
    expect(exec('/a', '')).toBe('/a ""');
  });

  it('refuses a line break, which would end the key and start another', () => {
    expect(() => xdgAutostartEntry({ name: 'T\nExec=/bin/evil', exec: '/a' })).toThrow(/line break/);
    expect(() => xdgAutostartEntry({ name: 'T', exec: '/a', args: ['x\nHidden=true'] })).toThrow(
      /line break/,
    );
  });
});

describe('autostartPath and setXdgAutostart', () => {
  it('uses XDG_CONFIG_HOME when absolute, else ~/.config', () => {
    expect(autostartPath({ XDG_CONFIG_HOME: '/cfg' }, '/home/kim')).toBe('/cfg/autostart/tillback.desktop');
    expect(autostartPath({}, '/home/kim')).toBe('/home/kim/.config/autostart/tillback.desktop');
    expect(autostartPath({ XDG_CONFIG_HOME: 'relative' }, '/home/kim')).toBe(
      '/home/kim/.config/autostart/tillback.desktop',
    );
  });

  it('writes the file (creating the directory), rewrites it, and removes it; removing twice is fine', async () => {
    const path = autostartPath({ XDG_CONFIG_HOME: join(dir, 'config') });
    const entry = { name: 'Tillback', exec: '/opt/Tillback/tillback' };
    await setXdgAutostart(true, entry, path);
    expect(readFileSync(path, 'utf8')).toBe(xdgAutostartEntry(entry));
    expect(statSync(path).mode & 0o777).toBe(0o644 & ~process.umask());
    await setXdgAutostart(true, { ...entry, exec: '/other' }, path);
    expect(readFileSync(path, 'utf8')).toContain('Exec=/other\n');
    await setXdgAutostart(false, entry, path);
    expect(() => statSync(path)).toThrow(/ENOENT/);
    await setXdgAutostart(false, entry, path);
  });
});
