// The shell's bundle, built for real into a temporary directory: an ESM main that leaves Electron and
// the npm packages as imports, and sandbox-ready preloads (CommonJS, requiring nothing but electron).
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildShell } from '../../electron/build.ts';
import { WINDOW_ROLES } from '../../electron/bridge.ts';

const out = mkdtempSync(join(tmpdir(), 'tillback-electron-build-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

describe('buildShell', () => {
  it('writes main.js and one self-contained CommonJS preload per window', async () => {
    await buildShell(undefined, out);
    expect(readdirSync(out).sort()).toEqual(
      ['main.js', ...WINDOW_ROLES.map((r) => `preload-${r}.cjs`)].sort(),
    );
    const main = readFileSync(join(out, 'main.js'), 'utf8');
    expect(main).toMatch(/from "electron"/);
    expect(main).toMatch(/from "electron-store"/);
    // The till's code is not in the main bundle: it runs in the utility process from its sources.
    expect(main).not.toContain('startTill');
    for (const role of WINDOW_ROLES) {
      const preload = readFileSync(join(out, `preload-${role}.cjs`), 'utf8');
      const required = [...preload.matchAll(/require\("([^"]+)"\)/g)].map((m) => m[1]);
      expect(required, role).toEqual(['electron']);
      expect(preload).toContain('exposeInMainWorld("tillback"');
      expect(preload).not.toMatch(/^import /m);
    }
  });
});
