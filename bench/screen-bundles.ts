// Row 11: what each screen costs to load (issue 6): the page and every script and stylesheet it
// names, gzipped as a server would send them, from the Vite build the till serves. Judged against a
// budget for a page a till, a counter tablet or a manager's phone loads over the shop's LAN, and
// against the claim page a customer's phone loads (8.3 KB gzipped at its first visit, engine/claim-page).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { buildScreens, DIST } from '../renderer/build.ts';
import type { Row } from './table.ts';

/** A screen should load in well under a second on a slow shop LAN or a tablet's Wi-Fi. */
export const SCREEN_BUNDLE_BUDGET_KB = 100;
const SCREENS = ['cashier', 'display', 'manager'] as const;

/** The page and the build files it references (`/assets/...`), gzipped at level 9, in bytes. */
function gzippedBytes(screen: string): { bytes: number; files: number } {
  const html = readFileSync(join(DIST, screen, 'index.html'));
  const assets = [...html.toString('utf8').matchAll(/(?:src|href)="\/assets\/([^"]+)"/g)].map((m) => m[1]!);
  const files = [html, ...assets.map((a) => readFileSync(join(DIST, 'assets', a)))];
  return {
    bytes: files.reduce((sum, f) => sum + gzipSync(f, { level: 9 }).length, 0),
    files: files.length,
  };
}

export async function benchScreenBundles(): Promise<Row[]> {
  await buildScreens();
  return SCREENS.map((screen) => {
    const { bytes, files } = gzippedBytes(screen);
    const kb = bytes / 1024;
    return {
      id: `bundle-${screen}`,
      group: 11,
      name: `${screen} screen, first load`,
      setting: `page and ${files - 1} build files, gzip -9`,
      figure: Math.round(kb * 10) / 10,
      unit: 'KB gzip',
      verdict: kb <= SCREEN_BUNDLE_BUDGET_KB ? 'PASS' : 'MISS',
      against: `budget ${SCREEN_BUNDLE_BUDGET_KB} KB for a screen on a shop LAN; the claim page is 8.3 KB`,
    };
  });
}
