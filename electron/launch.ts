// `npm run electron`: builds the shell and starts it where an Electron binary is installed. The
// electron package's own index would try to download the binary on first use, which these build
// machines cannot: so the binary is looked for (never required), and its absence is said plainly.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { buildShell } from './build.ts';

/**
 * The Electron executable the electron package points at (its path.txt, under dist/ or
 * ELECTRON_OVERRIDE_DIST_PATH, as the package's index resolves it), or undefined when it is not there.
 */
export function findElectronBinary(
  packageDir: string,
  env: NodeJS.ProcessEnv = process.env,
): string | undefined {
  const pathFile = join(packageDir, 'path.txt');
  const name = existsSync(pathFile) ? readFileSync(pathFile, 'utf8').trim() : undefined;
  const override = env['ELECTRON_OVERRIDE_DIST_PATH'];
  const binary = override
    ? join(override, name || 'electron')
    : name
      ? join(packageDir, 'dist', name)
      : undefined;
  return binary && existsSync(binary) ? binary : undefined;
}

export const MISSING_BINARY_MESSAGE = `The Electron binary is not installed on this machine (node_modules/electron has no dist/).
Install it where downloads are possible (npx install-electron), or set ELECTRON_OVERRIDE_DIST_PATH
to a directory holding one. Without Electron, the same screens run in a browser: npm start.`;

async function main(): Promise<void> {
  const root = resolve(import.meta.dirname, '..');
  const packageDir = dirname(createRequire(import.meta.url).resolve('electron/package.json'));
  const binary = findElectronBinary(packageDir);
  if (!binary) {
    console.error(MISSING_BINARY_MESSAGE);
    process.exit(1);
  }
  await buildShell(root);
  const child = spawn(binary, [root, ...process.argv.slice(2)], { stdio: 'inherit' });
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => child.kill(signal));
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
}

if (process.argv[1] && resolve(process.argv[1]) === import.meta.filename) await main();
