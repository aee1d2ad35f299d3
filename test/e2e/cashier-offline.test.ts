// The cashier screen while the engine is down, in Arabic: a till core pointed at a standalone engine on
// loopback (test/till/engine-link.ts) that the test stops and starts again. An earn by a typed member
// while the engine is stopped ends "queued offline" on the cashier page, with the status bar saying
// the engine is offline and one operation queued; once the engine is back the queue drains by itself,
// the status bar says so, and the engine has the earn once. The page reads right to left, amounts in
// the till's locale (ar-TN: dinars with 3 decimals); axe-core and no console error or CSP violation.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { formatMoney } from '../../contract/intl-format.ts';
import { ar } from '../../renderer/src/messages/ar.ts';
import { startTill, type Till } from '../../till/core.ts';
import { testLogDir } from '../fixtures/test-log.ts';
import { startEngineLink, type EngineLink } from '../till/engine-link.ts';
import {
  accessibilityViolations,
  launchChromium,
  reportCspViolations,
  screenshot,
  watchProblems,
} from './browser.ts';

const WAIT = { timeout: 30_000 };
// Each test walks a whole flow through Chromium, the till and the engine: room for a loaded machine.
vi.setConfig({ testTimeout: 120_000 });
const CASHIER = { name: 'amna', pin: '4826' };
const LOCALE = 'ar-TN';
const MEMBER_EMAIL = 'amna@example.com';

let link: EngineLink;
let dir: string;
let till: Till;
let browser: Browser;
let page: Page;
let problems: string[];

beforeAll(async () => {
  link = await startEngineLink();
  // The member the cashier will type, known to the engine.
  const admin = (await link.h.app(['admin', 'cashback_read', 'cashback_write'])).headers;
  const member = await link.h.request({
    method: 'POST',
    url: '/v1/members',
    headers: { ...admin, 'idempotency-key': 'member-amna' },
    body: { email: MEMBER_EMAIL, name: 'Amna' },
  });
  expect(member.status).toBe(201);
  dir = mkdtempSync(join(tmpdir(), 'tillback-cashier-offline-'));
  const engineSecrets = JSON.parse(readFileSync(join(link.h.dir, 'secrets.json'), 'utf8'));
  till = await startTill(
    {
      dataDir: dir,
      logDir: mkdtempSync(join(testLogDir(), 'till-cashier-offline-')),
      engine: { url: link.url, ...link.credentials, tokenizationKey: engineSecrets.cardHashKey },
      program: { id: link.programId, currency: 'TND' },
      store: { name: 'بقالة قرطاج', locale: LOCALE },
      api: { firstManager: { ...CASHIER } },
      outbox: { retry: { baseMs: 50, maxMs: 500 } },
      devices: { simulate: 'never', manifestDir: join(dir, 'devices') },
    },
    { handleSignals: false },
  );
  browser = await launchChromium();
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale: LOCALE });
  await reportCspViolations(context);
  page = await context.newPage();
  problems = watchProblems(page);
}, 90_000);

afterAll(async () => {
  await browser?.close();
  await till?.close();
  await link?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const text = async () => (await page.locator('body').innerText()).replace(/[\u2068\u2069]/g, '');
const attr = (selector: string, name: string) => page.locator(selector).getAttribute(name);

describe('the cashier screen with the engine down (in Arabic)', () => {
  it('signs in, right to left, with amounts in dinars', async () => {
    await page.goto(`${till.apiUrl}/cashier#token=${till.token}`);
    await page.locator('#operator-name').waitFor(WAIT);
    expect(await page.evaluate(() => [document.documentElement.lang, document.documentElement.dir])).toEqual([
      'ar',
      'rtl',
    ]);
    await page.locator('#operator-name').fill(CASHIER.name);
    await page.locator('#operator-pin').fill(CASHIER.pin);
    await page.locator('#operator-pin').press('Enter');
    await page.locator('#amount').waitFor(WAIT);
    await expect.poll(() => attr('[data-engine]', 'data-engine'), WAIT).toBe('online');
    await page.keyboard.type('12500');
    expect(await page.locator('#amount').inputValue()).toBe(formatMoney(12_500, 'TND', LOCALE));
    // The one refusal Chromium logs: no flow has run on this till yet (404 no_flow), read at sign-in.
    expect(problems).toEqual([
      'error: Failed to load resource: the server responded with a status of 404 (Not Found)',
    ]);
    problems.length = 0;
    expect(await accessibilityViolations(page)).toEqual([]);
    await screenshot(page, 'cashier-arabic');
  });

  it('queues an earn while the engine is stopped, then delivers it once the engine is back', async () => {
    await link.stop();
    await page.locator('#reference').fill('OFFLINE-1');
    await page.locator('#reference').press('Enter');
    await expect.poll(() => attr('[data-step]', 'data-step'), WAIT).toBe('identify');
    // No terminal on this till: the cashier types the member.
    await page.locator('#member-value').fill(MEMBER_EMAIL);
    await page.locator('#member-value').press('Enter');
    await expect.poll(() => attr('[data-outcome]', 'data-outcome'), WAIT).toBe('done');
    expect(await text()).toContain(ar.cashier.queuedOffline);
    await expect.poll(() => attr('[data-engine]', 'data-engine'), WAIT).toBe('offline');
    expect(await attr('[data-queued]', 'data-queued')).toBe('1');
    expect(await accessibilityViolations(page)).toEqual([]);
    await screenshot(page, 'cashier-offline-queued');

    await link.start();
    await expect.poll(() => attr('[data-queued]', 'data-queued'), WAIT).toBe('0');
    await expect.poll(() => attr('[data-engine]', 'data-engine'), WAIT).toBe('online');
    const applied = await link.applied();
    expect(applied.filter((t) => t.reference === 'OFFLINE-1')).toMatchObject([
      { type: 'earn', purchaseAmount: 12_500 },
    ]);
    await screenshot(page, 'cashier-offline-delivered');
    expect(problems).toEqual([]);
  });
});
