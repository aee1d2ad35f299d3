// The customer display in real Chromium against a real till core (embedded engine on SQLite, simulated
// terminals over pseudo-terminals): the page served with its strict CSP, the token taken from the
// fragment (or Electron's preload), idle with the store's name; an earn started over the local API and
// a simulated swipe, seen as the prompt, the amount and the cashback earned; a redeem with its PIN
// prompt; a cashout whose QR code, decoded from a screenshot of the display, is the claim's URL,
// followed to paid; a refused token; the till stopped and the display calmly reconnecting; in Arabic,
// right to left. axe-core on each screen, no console error or CSP violation.
// Screenshots: test-results/screenshots/, or docs/screenshots/ with SCREENSHOTS=1 (see browser.ts).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
// jsqr is CommonJS that also sets module.exports.default: that is the function its types declare.
import jsqr from 'jsqr';
import type { Browser, Page } from 'playwright-core';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { formatMoney } from '../../contract/intl-format.ts';
import type { FlowEvent } from '../../contract/till-events.ts';
import { startTill, type Till } from '../../till/core.ts';
import { testLog, testLogDir } from '../fixtures/test-log.ts';
import {
  accessibilityViolations,
  launchChromium,
  reportCspViolations,
  screenshot,
  watchProblems,
} from './browser.ts';

// A counter-top display or a small second monitor.
const DISPLAY = { viewport: { width: 1280, height: 800 }, locale: 'en-AU', timezoneId: 'UTC' };
// Generous: the till answers in milliseconds, a loaded machine with five other test runs not always.
const WAIT = { timeout: 30_000 };
const STORE = 'Corner Store';

interface Running {
  till: Till;
  /** A local API call with the launch token and the first manager's session. */
  call(path: string, body?: unknown): Promise<{ status: number; body: any }>;
}
const started: { till: Till; dir: string }[] = [];

/** A till core on a new data directory, its first manager signed in. */
async function startRunning(store: { name: string; locale: string }, simulate: 'always' | 'never') {
  const dir = mkdtempSync(join(tmpdir(), 'tillback-display-'));
  const till = await startTill(
    {
      dataDir: dir,
      logDir: mkdtempSync(join(testLogDir(), 'till-display-')),
      devices: { pollIntervalMs: 200 },
      store,
    },
    { simulate, simulatorOut: testLog('till-display-simulator'), handleSignals: false },
  );
  started.push({ till, dir });
  let session = '';
  const call: Running['call'] = async (path, body) => {
    const res = await fetch(`${till.apiUrl}${path}`, {
      method: body === undefined ? 'GET' : 'POST',
      headers: {
        authorization: `Bearer ${till.token}`,
        ...(session ? { 'x-operator-session': session } : {}),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: res.status, body: await res.json() };
  };
  const manager = till.firstManager!;
  session = (await call('/api/operators/sign-in', { name: manager.name, pin: manager.generatedPin })).body
    .session as string;
  return { till, call };
}

let t: Running;
let till: Till;
let browser: Browser;
let page: Page;
let problems: string[];

beforeAll(async () => {
  t = await startRunning({ name: STORE, locale: 'en-AU' }, 'always');
  till = t.till;
  browser = await launchChromium();
  const context = await browser.newContext(DISPLAY);
  await reportCspViolations(context);
  page = await context.newPage();
  problems = watchProblems(page);
}, 90_000);

afterAll(async () => {
  await browser?.close();
  for (const { till: each, dir } of started) {
    await each.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

const currentFlow = async (r: Running = t): Promise<FlowEvent> =>
  (await r.call('/api/flows/current')).body.flow;

/** The flow once it ended (the display is then showing its result). */
async function finished(r: Running = t): Promise<FlowEvent> {
  await vi.waitFor(async () => expect((await currentFlow(r)).outcome).not.toBeNull(), WAIT);
  return currentFlow(r);
}

/** The page's visible text, without the direction isolates around the values in a sentence. */
const text = async () => (await page.locator('body').innerText()).replace(/[\u2068\u2069]/g, '');
const money = (minor: number) => formatMoney(minor, till.program.currency, 'en-AU');
const shot = (name: string, on: Page = page) => screenshot(on, name);

/** Decodes the QR code in a screenshot of the whole display. */
async function decodeQr(): Promise<string | undefined> {
  const png = PNG.sync.read(await page.screenshot());
  const pixels = new Uint8ClampedArray(png.data.buffer, png.data.byteOffset, png.data.length);
  return jsqr.default(pixels, png.width, png.height)?.data;
}

describe('customer display in Chromium', () => {
  it('is served with a strict CSP, takes the token out of the address bar, and shows the store idle', async () => {
    const response = await page.goto(`${till.apiUrl}/display#token=${till.token}`);
    expect(response!.status()).toBe(200);
    const csp = response!.headers()['content-security-policy'];
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("style-src 'self'");
    expect(csp).toContain(`connect-src 'self' ws://${new URL(till.apiUrl).host}`);
    expect(csp).not.toContain('unsafe-inline');
    await expect.poll(() => page.locator('[data-connection]').count(), WAIT).toBe(0); // connected
    expect(page.url()).toBe(`${till.apiUrl}/display`);
    expect(await page.locator('h1').textContent()).toBe(STORE);
    expect(await page.evaluate(() => document.documentElement.lang)).toBe('en');
    expect(await accessibilityViolations(page)).toEqual([]);
    await shot('display-idle');
  });

  it('mirrors an earn: the amount and the terminal prompt, then the cashback earned after a swipe', async () => {
    expect((await t.call('/api/flows/earn', { amount: 5_000, reference: 'display-1' })).status).toBe(201);
    await expect.poll(text, WAIT).toContain('Swipe or tap your card');
    expect(await text()).toContain(money(5_000));
    expect(await accessibilityViolations(page)).toEqual([]);
    await shot('display-swipe');

    await till.simulation!.swipe(till.demoCustomer!.card);
    const earned = await finished();
    expect(earned.outcome).toBe('done');
    const cashback = earned.result!.cashback!;
    expect(cashback).toBeGreaterThan(0);
    await expect.poll(text, WAIT).toContain(`You earned ${money(cashback)} cashback`);
    expect(await accessibilityViolations(page)).toEqual([]);
    await shot('display-earned');
  });

  it('mirrors a redeem: the PIN prompt while the simulated pad takes the PIN, then what was paid', async () => {
    // The simulated pad types the PIN at once: record every prompt the display shows, however briefly.
    await page.evaluate(() => {
      const seen: string[] = [];
      (window as unknown as { promptsSeen: string[] }).promptsSeen = seen;
      new MutationObserver(() => {
        const text = document.querySelector('.prompt')?.textContent;
        if (text && seen.at(-1) !== text) seen.push(text);
      }).observe(document.body, { subtree: true, childList: true, characterData: true });
    });
    expect((await t.call('/api/flows/redeem', { amount: 100 })).status).toBe(201);
    await expect.poll(text, WAIT).toContain('Swipe or tap your card');
    await till.simulation!.swipe(till.demoCustomer!.card);
    const redeemed = await finished();
    expect(redeemed, JSON.stringify(redeemed)).toMatchObject({ outcome: 'done', result: { redeemed: 100 } });
    await expect.poll(text, WAIT).toContain(`${money(100)} paid with your cashback`);
    expect(await text()).toContain(`Your cashback balance: ${money(redeemed.result!.available!)}`);
    const prompts = await page.evaluate(() => (window as unknown as { promptsSeen: string[] }).promptsSeen);
    expect(prompts).toContain('Enter your PIN on the keypad');
    expect(await accessibilityViolations(page)).toEqual([]);
  });

  it('shows a cashout as a QR code that decodes to the claim URL, with its status live until paid', async () => {
    expect((await t.call('/api/flows/cashout', { amount: 50 })).status).toBe(201);
    await expect.poll(text, WAIT).toContain('Swipe or tap your card');
    await till.simulation!.swipe(till.demoCustomer!.card);
    await vi.waitFor(async () => expect((await currentFlow()).claim).not.toBeNull(), WAIT);
    const { claim } = await currentFlow();
    await page.locator('svg.qr').waitFor(WAIT);
    expect(await decodeQr()).toBe(claim!.url);
    const shown = await text();
    expect(shown).toContain(claim!.url.replace(/^https?:\/\//, ''));
    expect(shown).toContain(`Cash out ${money(50)}`);
    expect(shown).toContain('Valid until');
    expect(shown).toContain('Waiting for your phone');
    expect(await accessibilityViolations(page)).toEqual([]);
    await shot('display-qr');

    // The customer's phone submits the claim (as the claim page does); the sandbox pays it.
    const submit = await fetch(`${new URL(claim!.url).origin}/v1/public/claims/${claim!.id}/submit`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ consent: true, method: { kind: 'payid', payid: 'jane@example.com' } }),
    });
    expect(submit.status).toBeLessThan(300);
    await expect.poll(() => page.locator('[data-status]').getAttribute('data-status'), WAIT).toBe('paid');
    expect(await text()).toContain('Paid. Enjoy!');
    expect(await page.locator('svg.qr').count()).toBe(0);
    expect(await accessibilityViolations(page)).toEqual([]);
    await shot('display-paid');
  });

  it('says plainly, in another tab, that a wrong token is refused', async () => {
    const other = await browser.newPage(DISPLAY);
    try {
      await other.goto(`${till.apiUrl}/display#token=not-the-token`);
      await expect
        .poll(() => other.locator('[data-connection]').getAttribute('data-connection'), WAIT)
        .toBe('refused');
      expect(await other.locator('body').innerText()).toContain('no longer valid');
    } finally {
      await other.close();
    }
  });

  it("takes the token from Electron's preload when there is one, with no fragment", async () => {
    const context = await browser.newContext(DISPLAY);
    // What electron/'s preload exposes through contextBridge.
    await context.addInitScript((token) => {
      Object.defineProperty(window, 'tillback', { value: { getLaunch: async () => ({ token }) } });
    }, till.token);
    const tab = await context.newPage();
    try {
      await tab.goto(`${till.apiUrl}/display`);
      await expect.poll(() => tab.locator('h1').textContent(), WAIT).toBe(STORE);
      await expect.poll(() => tab.locator('[data-connection]').count(), WAIT).toBe(0); // connected
    } finally {
      await context.close();
    }
  });

  it('reconnects calmly when the till goes away, and says so', async () => {
    expect(problems).toEqual([]);
    await till.close();
    await expect
      .poll(() => page.locator('[data-connection]').getAttribute('data-connection'), WAIT)
      .toBe('reconnecting');
    expect(await text()).toContain('Reconnecting to the till');
    await shot('display-reconnecting');
  });
});

describe('customer display in Arabic', () => {
  it('reads right to left, with amounts in the till locale, an earn by typed member included', async () => {
    const store = 'بقالة النيل';
    const ar = await startRunning({ name: store, locale: 'ar-SD' }, 'never');
    const context = await browser.newContext(DISPLAY);
    await reportCspViolations(context);
    const tab = await context.newPage();
    const arProblems = watchProblems(tab);
    const shownText = async () => (await tab.locator('body').innerText()).replace(/[\u2068\u2069]/g, '');

    await tab.goto(`${ar.till.apiUrl}/display#token=${ar.till.token}`);
    await expect.poll(() => tab.locator('[data-connection]').count(), WAIT).toBe(0);
    expect(await tab.evaluate(() => [document.documentElement.lang, document.documentElement.dir])).toEqual([
      'ar',
      'rtl',
    ]);
    expect(await tab.locator('h1').textContent()).toBe(store);
    expect(await accessibilityViolations(tab)).toEqual([]);
    await shot('display-arabic-idle', tab);

    // No terminal in this till: the cashier types the member, as the cashier's screen will.
    expect((await ar.call('/api/flows/earn', { amount: 5_000, memberName: 'Amna' })).status).toBe(201);
    expect(
      (await ar.call('/api/flows/current/input', { member: { email: 'amna@example.com' } })).status,
    ).toBe(200);
    const earned = await finished(ar);
    expect(earned, JSON.stringify(earned)).toMatchObject({ outcome: 'done' });
    const cashback = earned.result!.cashback!;
    expect(cashback).toBeGreaterThan(0);
    const amount = formatMoney(cashback, ar.till.program.currency, 'ar-SD');
    await expect.poll(shownText, WAIT).toContain(`ربحت ${amount} استردادًا نقديًا`);
    expect(await accessibilityViolations(tab)).toEqual([]);
    await shot('display-arabic-earned', tab);
    expect(arProblems).toEqual([]);
    await context.close();
  }, 90_000);
});
