// Bundles what Electron itself loads into out/electron/: the main process (ESM, its npm packages left
// as imports) and one preload per window (CommonJS, self-contained: a sandboxed preload can require
// nothing but `electron`). The till process is not bundled: it runs the till's sources through tsx
// (see main.ts). `npm run electron` and packaging run this first.
import { build } from 'esbuild';
import { join, resolve } from 'node:path';
import { WINDOW_ROLES } from './bridge.ts';

export const ELECTRON_OUT_DIR = 'out/electron';

export async function buildShell(
  root: string = resolve(import.meta.dirname, '..'),
  outdir: string = join(root, ELECTRON_OUT_DIR),
): Promise<string> {
  const common = { bundle: true, platform: 'node', target: 'node22', logLevel: 'warning', outdir } as const;
  await build({
    ...common,
    entryPoints: { main: join(root, 'electron/main.ts') },
    format: 'esm',
    packages: 'external',
  });
  await build({
    ...common,
    entryPoints: Object.fromEntries(
      WINDOW_ROLES.map((role) => [`preload-${role}`, join(root, `electron/preload/${role}.ts`)]),
    ),
    format: 'cjs',
    external: ['electron'],
    outExtension: { '.js': '.cjs' },
  });
  return outdir;
}

if (process.argv[1] && resolve(process.argv[1]) === import.meta.filename) await buildShell();
