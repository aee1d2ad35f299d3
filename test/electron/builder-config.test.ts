// The packaging configuration, loaded and validated by electron-builder's own code (its schema), and
// the settings the shell relies on: the targets, the native modules unpacked from asar with every
// prebuilt binary found in node_modules here, the renderer build and the bundled main included.
// Packaging itself downloads Electron, which these machines cannot: this is what can be checked here.
import { DebugLogger } from 'builder-util';
import { getConfig, validateConfiguration } from 'app-builder-lib/out/util/config/config.js';
import { minimatch } from 'minimatch';
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ELECTRON_OUT_DIR } from '../../electron/build.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const NATIVE_MODULES = ['better-sqlite3', '@serialport/bindings-cpp', 'node-hid'];
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as Record<string, any>;

const load = () => getConfig(ROOT, null, null);
const targetsOf = (target: unknown) =>
  (Array.isArray(target) ? target : [target]).map((t) =>
    typeof t === 'string' ? t : (t as { target: string }).target,
  );

describe('electron-builder.yml', () => {
  it('passes electron-builder’s own schema; a wrong key would not', async () => {
    const config = await load();
    await expect(validateConfiguration(config, new DebugLogger(false))).resolves.toBeUndefined();
    await expect(
      validateConfiguration({ ...config, asarUnpak: [] } as never, new DebugLogger(false)),
    ).rejects.toThrow(/asarUnpak/);
  });

  it('targets Linux AppImage and deb, and Windows nsis', async () => {
    const config = await load();
    expect(targetsOf(config.linux?.target)).toEqual(expect.arrayContaining(['AppImage', 'deb']));
    expect(targetsOf(config.win?.target)).toEqual(['nsis']);
    expect(config.deb?.depends).toContain('libusb-1.0-0');
  });

  it('unpacks the three native modules and every prebuilt binary they ship here from asar', async () => {
    const config = await load();
    expect(config.asar).toBe(true);
    const patterns = [config.asarUnpack ?? []].flat() as string[];
    const unpacked = (path: string) => patterns.some((p) => minimatch(path, p, { dot: true }));
    for (const name of NATIVE_MODULES) {
      const binaries = readdirSync(join(ROOT, 'node_modules', name), { recursive: true, encoding: 'utf8' })
        .filter((f) => f.endsWith('.node'))
        .map((f) => `node_modules/${name}/${f}`);
      expect(binaries.length, name).toBeGreaterThan(0);
      for (const binary of binaries) expect(unpacked(binary), binary).toBe(true);
      expect(unpacked(`node_modules/${name}/package.json`), name).toBe(true);
    }
    expect(unpacked('node_modules/fastify/fastify.js')).toBe(false);
    expect(Object.keys(pkg['dependencies'])).toEqual(
      expect.arrayContaining(['better-sqlite3', 'serialport', 'node-hid']),
    );
  });

  it('ships the bundled main (package.json main), the till’s sources, tsx and the renderer build, not the tests', async () => {
    const config = await load();
    // getConfig normalises `files` into file sets: [{ filter: [...] }].
    const files = [config.files ?? []]
      .flat()
      .flatMap((f) => (typeof f === 'string' ? [f] : [f?.filter ?? []].flat())) as string[];
    const included = (path: string) =>
      files.filter((p) => !p.startsWith('!')).some((p) => minimatch(path, p)) &&
      !files.filter((p) => p.startsWith('!')).some((p) => minimatch(path, p.slice(1)));
    expect(pkg['main']).toBe(`${ELECTRON_OUT_DIR}/main.js`);
    for (const path of [
      pkg['main'],
      `${ELECTRON_OUT_DIR}/preload-cashier.cjs`,
      'electron/till-process.ts',
      'till/core.ts',
      'till/migrations/001_outbox.sql',
      'engine/server.ts',
      'drivers/cli.ts',
      'contract/money.ts',
      'renderer/dist/cashier/index.html',
      'package.json',
    ])
      expect(included(path), path).toBe(true);
    for (const path of [
      'test/electron/ipc.test.ts',
      'bench/run.ts',
      'data/till/till.sqlite',
      'till/core.test.ts',
    ])
      expect(included(path), path).toBe(false);
    // The till process runs its TypeScript through tsx at run time: a production dependency.
    expect(pkg['dependencies']['tsx']).toBeDefined();
    expect(pkg['devDependencies']['electron']).toMatch(/^\d+\.\d+\.\d+$/);
  });
});
