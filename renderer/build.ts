// Builds the screens (vite build into renderer/dist) when the build is missing or older than any of its
// sources: `npm start` runs this first (package.json `prestart`), and the test run once (vitest
// globalSetup), so neither serves stale screens and neither pays for a build that is up to date.
//   tsx renderer/build.ts          build if stale
//   tsx renderer/build.ts --force  build anyway
import { readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'vite';

const ROOT = fileURLToPath(new URL('.', import.meta.url));
export const DIST = join(ROOT, 'dist');
/** Written after a build succeeds: its time is the build's time. */
const STAMP = join(DIST, '.built');
/** What the bundle is made of: the renderer itself and the contract it imports. */
const SOURCES = [ROOT, fileURLToPath(new URL('../contract', import.meta.url))];
const SKIP = new Set(['dist', 'node_modules', 'README.md']);

function newestTime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (SKIP.has(entry.name)) continue;
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestTime(path) : statSync(path).mtimeMs);
  }
  return newest;
}

function builtTime(): number | undefined {
  try {
    return statSync(STAMP).mtimeMs;
  } catch {
    return undefined;
  }
}

export function isStale(): boolean {
  const built = builtTime();
  return built === undefined || SOURCES.some((dir) => newestTime(dir) > built);
}

/** Builds the screens unless the build is up to date; says whether it built. */
export async function buildScreens(options: { force?: boolean } = {}): Promise<boolean> {
  if (!options.force && !isStale()) return false;
  await build({ configFile: join(ROOT, 'vite.config.ts') });
  writeFileSync(STAMP, `${new Date().toISOString()}\n`);
  return true;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const force = process.argv.includes('--force');
  const started = Date.now();
  if (await buildScreens({ force }))
    console.log(`Built the screens into ${DIST} (${Date.now() - started} ms)`);
}
