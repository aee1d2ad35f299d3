// `npm run electron` where there is no Electron binary (these machines): a clear message and exit 1,
// run as a child process; and how the binary is found where there is one, over real directories.
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { findElectronBinary } from '../../electron/launch.ts';
import { cleanEnv } from '../fixtures/clean-env.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const dir = mkdtempSync(join(tmpdir(), 'tillback-electron-pkg-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('findElectronBinary', () => {
  it('finds dist/<path.txt> only when the file is there, or under ELECTRON_OVERRIDE_DIST_PATH', () => {
    const pkg = join(dir, 'electron');
    mkdirSync(pkg);
    expect(findElectronBinary(pkg, {})).toBeUndefined();
    writeFileSync(join(pkg, 'path.txt'), 'electron');
    expect(findElectronBinary(pkg, {})).toBeUndefined();
    mkdirSync(join(pkg, 'dist'));
    writeFileSync(join(pkg, 'dist', 'electron'), '');
    expect(findElectronBinary(pkg, {})).toBe(join(pkg, 'dist', 'electron'));
    const override = join(dir, 'override');
    mkdirSync(override);
    expect(findElectronBinary(pkg, { ELECTRON_OVERRIDE_DIST_PATH: override })).toBeUndefined();
    writeFileSync(join(override, 'electron'), '');
    expect(findElectronBinary(pkg, { ELECTRON_OVERRIDE_DIST_PATH: override })).toBe(
      join(override, 'electron'),
    );
  });
});

const installed = findElectronBinary(
  dirname(createRequire(import.meta.url).resolve('electron/package.json')),
  cleanEnv(),
);

describe('npm run electron without the binary', () => {
  it.skipIf(installed !== undefined)(
    'says the binary is missing and that npm start is the browser mode, and exits 1',
    async () => {
      const result = await new Promise<{ code: number | null; stderr: string }>((done) => {
        const child = execFile(
          process.execPath,
          ['--import', 'tsx', 'electron/launch.ts'],
          { cwd: ROOT, env: cleanEnv() },
          (error, _out, stderr) => done({ code: error ? (error.code as number) : 0, stderr }),
        );
        child.stdin?.end();
      });
      expect(result.code).toBe(1);
      expect(result.stderr).toContain('The Electron binary is not installed');
      expect(result.stderr).toContain('npm start');
      expect(result.stderr).not.toContain('Downloading Electron');
    },
  );
});
