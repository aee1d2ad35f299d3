// The till's screens as one Vite multi-page app: cashier, display and manager, each an HTML entry that
// the till core serves at /cashier, /display and /manager from dist/. Built for a strict CSP: no inline
// script or style anywhere in the output (no inlined assets, no module-preload polyfill).
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));

export const SCREEN_PAGES = ['cashier', 'display', 'manager'] as const;

export default defineConfig({
  root: here('.'),
  base: '/',
  // Preact's automatic JSX runtime, without a plugin (no dev-time hook inspection needed).
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  logLevel: 'warn',
  build: {
    outDir: here('dist'),
    emptyOutDir: true,
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    target: 'es2022',
    rolldownOptions: {
      input: Object.fromEntries(SCREEN_PAGES.map((p) => [p, here(`${p}/index.html`)])),
    },
  },
});
