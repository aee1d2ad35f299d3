// What the browser tests share: Debian's Chromium driven by playwright-core, its quiet flags, the
// console and CSP watcher, and axe-core run on a page as it is.
import { mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';

export { CHROMIUM, launchChromium } from '../fixtures/chromium.ts';

/**
 * Where the screenshots go: every run writes them to `test-results/screenshots/` (git-ignored, kept
 * after the run for whoever wants to look); `SCREENSHOTS=1` writes them to `docs/screenshots/`
 * instead, the committed copies the READMEs link.
 */
export const SCREENSHOT_DIR = join(
  import.meta.dirname,
  '../..',
  process.env.SCREENSHOTS ? 'docs/screenshots' : 'test-results/screenshots',
);

/** Saves a screenshot of the page (the viewport) as `<name>.png` in `SCREENSHOT_DIR`. */
export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOT_DIR, `${name}.png`) });
}

const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/** Reports every CSP violation of the context's pages as a console error (see `watchProblems`). */
export async function reportCspViolations(context: BrowserContext): Promise<void> {
  await context.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => {
      console.error(`CSP violation: ${e.violatedDirective} ${e.blockedURI}`);
    });
  });
}

/** Console errors and warnings and uncaught page errors, as they come: a test expects none. */
export function watchProblems(page: Page): string[] {
  const problems: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') problems.push(`${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  return problems;
}

/**
 * axe-core's WCAG 2.1 A and AA rules (and its best practices) on the page as it is now: each
 * violation as "rule: the elements". axe is evaluated through the DevTools protocol, as a browser
 * extension would be, so the page's CSP stays as it is.
 */
export async function accessibilityViolations(page: Page): Promise<string[]> {
  if (!(await page.evaluate(() => 'axe' in window))) await page.evaluate(AXE);
  return page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run(ctx: Document, opts: object): Promise<AxeResults> } }).axe;
    interface AxeResults {
      violations: { id: string; nodes: { target: string[] }[] }[];
    }
    const results = await axe.run(document, {
      runOnly: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'],
    });
    return results.violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
  });
}
