// The cashier screen in real Chromium against a real till core (embedded engine on SQLite, simulated
// terminals over pseudo-terminals): sign-in by PIN (a wrong PIN and a lock said in words), the status
// bar (engine, queue, terminals, operator), an earn by simulated swipe seen on the cashier page and on
// the customer display, a redeem whose PIN the simulated pad types (after a reload mid-flow: the flow
// is still there), a refund by the purchase's reference, a cashout whose QR code is decoded from the
// display's screenshot and paid on the claim page in a second browser context (a phone), seen as paid
// on the cashier page; digits and Enter typed with the focus on a tapped kind or on no field; a
// keyboard-only earn from sign-in to the next sale; the till going away (the banner). axe-core on
// sign-in, the idle till, a running flow and a result; no console error or CSP violation.
// Screenshots: test-results/screenshots/, or docs/screenshots/ with SCREENSHOTS=1.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
// jsqr is CommonJS that also sets module.exports.default: that is the function its types declare.
import jsqr from 'jsqr';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { PNG } from 'pngjs';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
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

// A counter-top touch screen.
const TILL_SCREEN = { viewport: { width: 1280, height: 800 }, locale: 'en-AU', timezoneId: 'UTC' };
const PHONE = { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, locale: 'en-AU' };
// Generous: the till answers in milliseconds, a loaded machine with five other test runs not always.
const WAIT = { timeout: 30_000 };
const CASHIER = { name: 'alex', pin: '2468' };
// Each test walks a whole flow through Chromium, the till and the engine: room for a loaded machine.
vi.setConfig({ testTimeout: 120_000 });

let dir: string;
let till: Till;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let display: Page;
let problems: string[];
let displayProblems: string[];
let managerSession = '';
const codes: { to: string; code: string }[] = [];

/** A local API call as the first manager (setting up operators, reading the flow). */
async function call(path: string, body?: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(`${till.apiUrl}${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: {
      authorization: `Bearer ${till.token}`,
      ...(managerSession ? { 'x-operator-session': managerSession } : {}),
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, body: res.status === 204 ? undefined : await res.json() };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tillback-cashier-'));
  till = await startTill(
    {
      dataDir: dir,
      logDir: mkdtempSync(join(testLogDir(), 'till-cashier-')),
      devices: { pollIntervalMs: 200 },
      store: { name: 'Corner Store', locale: 'en-AU' },
    },
    {
      simulate: 'always',
      simulatorOut: testLog('till-cashier-simulator'),
      handleSignals: false,
      // One-time codes, as an SMS gateway would deliver them to the customer's phone.
      notifier: { send: async (message) => void codes.push(message) },
    },
  );
  const manager = till.firstManager!;
  managerSession = (await call('/api/operators/sign-in', { name: manager.name, pin: manager.generatedPin }))
    .body.session;
  expect((await call('/api/operators', { ...CASHIER, role: 'cashier' })).status).toBe(201);
  expect((await call('/api/operators', { name: 'sam', pin: '1357', role: 'cashier' })).status).toBe(201);
  browser = await launchChromium();
  context = await browser.newContext(TILL_SCREEN);
  await reportCspViolations(context);
  page = await context.newPage();
  display = await context.newPage();
  problems = watchProblems(page);
  displayProblems = watchProblems(display);
}, 90_000);

afterAll(async () => {
  await browser?.close();
  await till?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const currentFlow = async (): Promise<FlowEvent> => (await call('/api/flows/current')).body.flow;

/** A page's visible text, without the direction isolates around the values in a sentence. */
const textOf = async (p: Page) => (await p.locator('body').innerText()).replace(/[\u2068\u2069]/g, '');
const text = () => textOf(page);
const money = (minor: number) => formatMoney(minor, till.program.currency, 'en-AU');
/** The flow's outcome on the page, or, while there is none, what the page says (a refused start). */
const outcome = async () =>
  (await page.locator('[data-outcome]').count())
    ? page.locator('[data-outcome]').getAttribute('data-outcome')
    : `no outcome: ${await text()}`;
/** The running flow's step, or, while no flow is on the page, what the page says (a start that did not happen). */
const step = async () =>
  (await page.locator('[data-step]').count())
    ? page.locator('[data-step]').getAttribute('data-step')
    : `no step: ${await text()}`;

/** Types an amount on the screen's keypad, digit by digit (a touch user). */
async function tapAmount(p: Page, digits: string): Promise<void> {
  for (const d of digits) await p.locator(`.keypad [data-key="${d}"]`).click();
}

async function newSale(): Promise<void> {
  await page.getByRole('button', { name: /New sale/ }).click();
  await page.locator('#amount').waitFor(WAIT);
}

describe('the cashier screen in Chromium', () => {
  // A test that fails mid-flow leaves no flow running for the next one (its own failure is enough).
  afterEach(async () => {
    const f = await currentFlow().catch(() => undefined);
    if (f && f.outcome === null) await call('/api/flows/current/cancel', {});
  });

  it('is served with a strict CSP and asks for a sign-in; a wrong PIN and a lock are said in words', async () => {
    const response = await page.goto(`${till.apiUrl}/cashier#token=${till.token}`);
    expect(response!.status()).toBe(200);
    const csp = response!.headers()['content-security-policy'];
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    await page.locator('#operator-name').waitFor(WAIT);
    expect(page.url()).toBe(`${till.apiUrl}/cashier`); // the token left the address bar
    expect(await page.locator('h1').textContent()).toBe('Corner Store: Cashier');
    expect(await accessibilityViolations(page)).toEqual([]);
    await screenshot(page, 'cashier-sign-in');

    // A wrong PIN: the till's answer in words, the PIN field emptied for the next try.
    await page.locator('#operator-name').fill(CASHIER.name);
    await tapAmount(page, '9999');
    expect(await page.locator('#operator-pin').inputValue()).toBe('9999');
    await page.getByRole('button', { name: /Sign in/ }).click();
    await expect.poll(() => page.getByRole('alert').first().innerText(), WAIT).toContain('Wrong name or PIN');
    expect(await page.locator('#operator-pin').inputValue()).toBe('');
    expect(await accessibilityViolations(page)).toEqual([]);
    await screenshot(page, 'cashier-sign-in-error');

    // Another operator locked by five wrong PINs: the sixth try says until when.
    await page.locator('#operator-name').fill('sam');
    for (let i = 0; i < 6; i++) {
      await page.locator('#operator-pin').fill('0000');
      await page.locator('#operator-pin').press('Enter');
      await expect.poll(() => page.locator('#operator-pin').inputValue(), WAIT).toBe('');
    }
    await expect.poll(() => page.locator('#sign-in-error').innerText(), WAIT).toMatch(/locked until .*\d/);
    expect(await page.locator('#sign-in-error').innerText()).not.toMatch(/\d{4}-\d\d-\d\dT/); // no raw ISO time
    // Chromium logs each refused request; those are the refusals asked for, and nothing else.
    expect(problems.length).toBeGreaterThan(0);
    for (const p of problems)
      expect(p).toMatch(/Failed to load resource: .* (401 \(Unauthorized\)|423 \(Locked\))/);
    problems.length = 0;
  });

  it('signs in by PIN and shows the status bar: engine online, nothing queued, terminals, the operator', async () => {
    await page.locator('#operator-name').fill(CASHIER.name);
    await tapAmount(page, CASHIER.pin);
    await page.getByRole('button', { name: /Sign in/ }).click();
    await page.locator('#amount').waitFor(WAIT);
    await expect.poll(() => page.locator('[data-engine]').getAttribute('data-engine'), WAIT).toBe('online');
    expect(await page.locator('[data-queued]').getAttribute('data-queued')).toBe('0');
    // The terminals are the devices a driver claims (not the machine's own serial port).
    const devices = (await call('/api/devices')).body.devices as { state: string; driver: string | null }[];
    const terminals = devices.filter((d) => d.driver !== null);
    const connected = terminals.filter((d) => d.state === 'connected').length;
    expect(connected).toBeGreaterThan(0);
    await expect
      .poll(() => page.locator('[data-terminals]').getAttribute('data-terminals'), WAIT)
      .toBe(`${connected}/${terminals.length}`);
    expect((await page.locator('[data-operator]').textContent())?.replace(/[\u2068\u2069]/g, '')).toBe(
      'alex (cashier)',
    );
    // The one refusal Chromium logs: no flow has run on this till yet (404 no_flow), read at sign-in.
    expect(problems).toEqual([
      'error: Failed to load resource: the server responded with a status of 404 (Not Found)',
    ]);
    problems.length = 0;
    // Each kind shows its shortcut.
    for (const key of ['F1', 'F2', 'F3', 'F4'])
      expect(await page.locator(`.kind kbd`, { hasText: key }).count()).toBe(1);
    expect(await accessibilityViolations(page)).toEqual([]);
    await screenshot(page, 'cashier-idle');

    // A reader unplugged and plugged back: the bar follows the till's `devices` messages, naming it.
    await till.simulation!.unplug('reader-1');
    await expect
      .poll(() => page.locator('[data-terminals]').getAttribute('data-terminals'), WAIT)
      .toBe(`${connected - 1}/${terminals.length}`);
    expect(await page.locator('[data-terminals] .down').innerText()).toMatch(
      /magstripe reader.*(disconnected|unplugged)/,
    );
    await till.simulation!.replug('reader-1');
    await expect
      .poll(() => page.locator('[data-terminals]').getAttribute('data-terminals'), WAIT)
      .toBe(`${connected}/${terminals.length}`);
  });

  it('runs an earn by simulated swipe, seen on the cashier page and on the customer display', async () => {
    await display.goto(`${till.apiUrl}/display#token=${till.token}`);
    await expect.poll(() => display.locator('[data-connection]').count(), WAIT).toBe(0);

    await page.bringToFront();
    await page.locator('.kind[data-kind="earn"]').click();
    await tapAmount(page, '20000');
    expect(await page.locator('#amount').inputValue()).toBe(money(20_000));
    await page.locator('#reference').fill('SALE-1');
    await page.getByRole('button', { name: /Start/ }).click();
    await expect.poll(step, WAIT).toBe('identify');
    expect(await text()).toContain('Waiting for the card');
    expect(await text()).toContain(money(20_000));
    await expect.poll(() => textOf(display), WAIT).toContain('Swipe or tap your card');
    expect(await accessibilityViolations(page)).toEqual([]);
    await screenshot(page, 'cashier-swipe');

    await till.simulation!.swipe(till.demoCustomer!.card);
    await expect.poll(outcome, WAIT).toBe('done');
    const earned = await currentFlow();
    const cashback = earned.result!.cashback!;
    expect(cashback).toBeGreaterThan(0);
    expect(await text()).toContain(`Cashback earned: ${money(cashback)}`);
    expect(await text()).toContain('Member: 411111');
    await expect.poll(() => textOf(display), WAIT).toContain(`You earned ${money(cashback)} cashback`);
    // Focus is on New sale, so Enter begins the next one.
    await expect
      .poll(() => page.evaluate(() => document.activeElement?.textContent), WAIT)
      .toContain('New sale');
    expect(await accessibilityViolations(page)).toEqual([]);
    await screenshot(page, 'cashier-earned');
    await newSale();
  });

  it('keeps a flow over a reload: a redeem whose PIN the simulated pad types, then what was paid', async () => {
    await page.keyboard.press('F2');
    await tapAmount(page, '100');
    await page.getByRole('button', { name: /Start/ }).click();
    await expect.poll(step, WAIT).toBe('identify');
    await page.reload();
    await expect.poll(step, WAIT).toBe('identify'); // still signed in, the flow read back from the till
    expect(await text()).toContain('Pay with cashback');
    // The simulated pad types the PIN at once: record every prompt the page shows, however briefly.
    await page.evaluate(() => {
      const seen: string[] = [];
      (window as unknown as { promptsSeen: string[] }).promptsSeen = seen;
      new MutationObserver(() => {
        const key = document.querySelector('[data-prompt]')?.getAttribute('data-prompt');
        if (key && seen.at(-1) !== key) seen.push(key);
      }).observe(document.body, { subtree: true, childList: true, attributes: true });
    });
    await till.simulation!.swipe(till.demoCustomer!.card);
    await expect.poll(outcome, WAIT).toBe('done');
    const redeemed = await currentFlow();
    expect(redeemed.result).toMatchObject({ redeemed: 100 });
    expect(await text()).toContain(`Paid with cashback: ${money(100)}`);
    expect(await text()).toContain(`Balance now: ${money(redeemed.result!.available!)}`);
    const prompts = await page.evaluate(() => (window as unknown as { promptsSeen: string[] }).promptsSeen);
    expect(prompts).toContain('customer_enters_pin');
    await newSale();
  });

  it('runs a redeem by a typed member and the one-time code they received; a wrong code is asked again', async () => {
    await page.keyboard.press('F2');
    await page.keyboard.type('40');
    await page.keyboard.press('Enter');
    await expect.poll(step, WAIT).toBe('identify');
    await page.locator('#member-by').selectOption('email');
    await page.locator('#member-value').fill(till.demoCustomer!.email);
    await page.locator('#member-value').press('Enter');
    await expect.poll(step, WAIT).toBe('otp');
    expect(await text()).toContain('Type the code the customer received');
    await expect.poll(() => page.evaluate(() => document.activeElement?.id), WAIT).toBe('otp-code');
    const sent = codes.filter((c) => c.to === till.demoCustomer!.email).at(-1)!;
    const wrong = sent.code === '000000' ? '111111' : '000000';
    await page.keyboard.type(wrong);
    await page.keyboard.press('Enter');
    await expect.poll(() => page.locator('.flow > p.error').first().innerText(), WAIT).not.toBe('');
    expect(await step()).toBe('otp');
    await page.locator('#otp-code').fill(sent.code);
    await page.locator('#otp-code').press('Enter');
    await expect.poll(outcome, WAIT).toBe('done');
    expect(await text()).toContain(`Paid with cashback: ${money(40)}`);
    await newSale();
  });

  it('says a wrong PIN while the pad asks again, then the failure with its reason', async () => {
    till.simulation!.setPin('9999'); // the customer keeps typing a wrong PIN
    try {
      await page.keyboard.press('F2');
      await page.keyboard.type('100');
      await page.keyboard.press('Enter');
      await expect.poll(step, WAIT).toBe('identify');
      await page.evaluate(() => {
        const seen: string[] = [];
        (window as unknown as { errorsSeen: string[] }).errorsSeen = seen;
        new MutationObserver(() => {
          const running = document.querySelector('.flow-running > p.error')?.textContent;
          if (running && seen.at(-1) !== running) seen.push(running);
        }).observe(document.body, { subtree: true, childList: true, characterData: true });
      });
      await till.simulation!.swipe(till.demoCustomer!.card);
      await expect.poll(outcome, WAIT).toBe('failed');
      const errors = await page.evaluate(() => (window as unknown as { errorsSeen: string[] }).errorsSeen);
      expect(
        errors.some((e) => /PIN/i.test(e)),
        JSON.stringify(errors),
      ).toBe(true);
      expect(await page.locator('.flow > p.error').first().innerText()).toMatch(/^Reason: .*PIN/i);
      expect(await accessibilityViolations(page)).toEqual([]);
      await screenshot(page, 'cashier-failed');
    } finally {
      till.simulation!.setPin(till.demoCustomer!.pin);
    }
    await newSale();
  });

  it('refunds part of a purchase by its reference, with the cashback taken back', async () => {
    await page.keyboard.press('F3');
    await page.locator('#original').fill('SALE-1');
    await page.locator('#amount').focus();
    // As a phone's or tablet's on-screen keyboard types (input events, no keys), in Arabic-Indic digits.
    await page.keyboard.insertText('٢٠٠٠');
    expect(await page.locator('#amount').inputValue()).toBe(money(2_000));
    await page.keyboard.press('Enter');
    await expect.poll(outcome, WAIT).toBe('done');
    const refund = await currentFlow();
    expect(refund.amount.minor).toBe(2_000);
    expect(await text()).toContain(`Refunded: ${money(2_000)}`);
    expect(await text()).toContain(`Cashback taken back: ${money(refund.result!.clawback!)}`);
    await screenshot(page, 'cashier-refund');
    await newSale();
  });

  it('runs a cashout: the QR code from the display, paid on the phone, seen as paid on the cashier page', async () => {
    await page.keyboard.press('F4');
    await tapAmount(page, '50');
    await page.keyboard.press('Enter');
    await expect.poll(step, WAIT).toBe('identify');
    await till.simulation!.swipe(till.demoCustomer!.card);
    await expect.poll(step, WAIT).toBe('following');
    const { claim } = await currentFlow();
    expect(await text()).toContain(claim!.url);
    expect(await page.locator('[data-claim-status]').getAttribute('data-claim-status')).toBe('created');
    expect(await accessibilityViolations(page)).toEqual([]);
    await screenshot(page, 'cashier-cashout');

    // The customer's phone reads the code off the display.
    await display.bringToFront();
    await display.locator('svg.qr').waitFor(WAIT);
    const png = PNG.sync.read(await display.screenshot());
    const pixels = new Uint8ClampedArray(png.data.buffer, png.data.byteOffset, png.data.length);
    const scanned = jsqr.default(pixels, png.width, png.height)?.data;
    expect(scanned).toBe(claim!.url);

    const phone = await browser.newContext(PHONE);
    await reportCspViolations(phone);
    const claimPage = await phone.newPage();
    const phoneProblems = watchProblems(claimPage);
    try {
      await claimPage.goto(scanned!);
      await claimPage.locator('#form').waitFor(WAIT);
      await claimPage.locator('input[name=method][value=payid]').check();
      await claimPage.locator('#payid').fill('0412 345 678');
      await claimPage.getByLabel(/I agree/).check();
      await claimPage.getByRole('button', { name: 'Get my money' }).click();
      await expect.poll(() => claimPage.locator('#status-title').innerText(), WAIT).toBe('Paid');
      await screenshot(claimPage, 'cashier-claim-phone');
      expect(phoneProblems).toEqual([]);
    } finally {
      await phone.close();
    }

    await page.bringToFront();
    await expect.poll(outcome, WAIT).toBe('done');
    expect(await page.locator('[data-claim-status]').getAttribute('data-claim-status')).toBe('paid');
    expect(await accessibilityViolations(page)).toEqual([]);
    await screenshot(page, 'cashier-cashout-paid');
    await newSale();
  });

  it('cancels a running flow with Esc', async () => {
    await page.keyboard.press('F1');
    await page.keyboard.type('700');
    await page.keyboard.press('Enter');
    await expect.poll(step, WAIT).toBe('identify');
    await page.keyboard.press('Escape');
    await expect.poll(outcome, WAIT).toBe('cancelled');
    expect((await currentFlow()).outcome).toBe('cancelled');
    await expect
      .poll(() => page.evaluate(() => document.activeElement?.textContent), WAIT)
      .toContain('New sale');
    await page.keyboard.press('Enter');
    await page.locator('#amount').waitFor(WAIT);
  });

  it('types the amount and starts the sale with the focus on a tapped kind, or on no field at all', async () => {
    await page.locator('.kind[data-kind="redeem"]').click(); // a touch on the kind, then the keyboard
    expect(await page.evaluate(() => document.activeElement?.getAttribute('data-kind'))).toBe('redeem');
    await page.keyboard.type('25');
    expect(await page.locator('#amount').inputValue()).toBe(money(25));
    await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
    await page.keyboard.press('Backspace');
    await page.keyboard.type('0');
    expect(await page.locator('#amount').inputValue()).toBe(money(20));
    await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
    await page.keyboard.press('Enter');
    await expect.poll(step, WAIT).toBe('identify');
    expect(await currentFlow()).toMatchObject({ kind: 'redeem', amount: { minor: 20 } });
    await page.keyboard.press('Escape');
    await expect.poll(outcome, WAIT).toBe('cancelled');
    await newSale();
  });

  it('says a start the till refuses in words, and starts nothing', async () => {
    await page.keyboard.press('F3');
    await page.locator('#original').fill('NO-SUCH-SALE');
    await page.locator('#original').press('Enter');
    await expect.poll(outcome, WAIT).toBe('failed');
    expect(await text()).toContain('Reason: This till never saw that purchase');
    await page.keyboard.press('Escape'); // puts the result away
    await page.locator('#amount').waitFor(WAIT);
    await page.keyboard.press('F1');
    await page.keyboard.press('Enter'); // no amount
    expect(await page.locator('.compose .error').innerText()).toBe('Type the amount first.');
  });

  it('sends the cashier back to sign-in, saying why, when the till ended their session', async () => {
    const kept = await page.evaluate(() => sessionStorage.getItem('tillback.operator.session'));
    const { session } = JSON.parse(kept!) as { session: string };
    const ended = await fetch(`${till.apiUrl}/api/operators/sign-out`, {
      method: 'POST',
      headers: { authorization: `Bearer ${till.token}`, 'x-operator-session': session },
    });
    expect(ended.status).toBe(204);
    await page.keyboard.press('F1');
    await page.keyboard.type('300');
    await page.keyboard.press('Enter');
    await expect
      .poll(() => page.locator('.notice').textContent(), WAIT)
      .toBe('Your session ended. Sign in again.');
    expect(await page.evaluate(() => sessionStorage.getItem('tillback.operator.session'))).toBeNull();
    expect(problems).toEqual([
      'error: Failed to load resource: the server responded with a status of 401 (Unauthorized)',
    ]);
    problems.length = 0;
    await page.locator('#operator-pin').fill(CASHIER.pin);
    await page.locator('#operator-pin').press('Enter');
    await page.locator('#amount').waitFor(WAIT);
  });

  it('signs out with F8 and back to the sign-in', async () => {
    await page.keyboard.press('F8');
    await page.locator('#operator-name').waitFor(WAIT);
    expect(await page.locator('#operator-name').inputValue()).toBe(CASHIER.name); // remembered
  });
});

describe('keyboard only', () => {
  it('signs in, runs an earn and begins the next sale without a single click', async () => {
    const tab = await context.newPage();
    const tabProblems = watchProblems(tab);
    const focusedId = () => tab.evaluate(() => document.activeElement?.id ?? '');
    try {
      await tab.goto(`${till.apiUrl}/cashier#token=${till.token}`);
      await tab.locator('#operator-pin').waitFor(WAIT);
      // The name is remembered on this till: the PIN field has the focus.
      await expect.poll(focusedId, WAIT).toBe('operator-pin');
      await tab.keyboard.press('Shift+Tab');
      expect(await focusedId()).toBe('operator-name');
      await tab.keyboard.press('Control+A');
      await tab.keyboard.type(CASHIER.name);
      await tab.keyboard.press('Tab');
      await tab.keyboard.type(`${CASHIER.pin}5`);
      await tab.keyboard.press('Backspace');
      await tab.keyboard.press('Enter');
      await tab.locator('#amount').waitFor(WAIT);
      await expect.poll(focusedId, WAIT).toBe('amount');
      const outline = await tab.evaluate(() => getComputedStyle(document.activeElement!).outlineStyle);
      expect(outline).toBe('solid'); // the focus is visible

      await tab.keyboard.press('F1');
      await tab.keyboard.type('12345');
      await tab.keyboard.press('Backspace');
      expect(await tab.locator('#amount').inputValue()).toBe(money(1_234));
      await tab.keyboard.press('Enter');
      await expect.poll(() => tab.locator('[data-step]').getAttribute('data-step'), WAIT).toBe('identify');
      await screenshot(tab, 'cashier-keyboard');
      await till.simulation!.swipe(till.demoCustomer!.card);
      await expect.poll(() => tab.locator('[data-outcome]').getAttribute('data-outcome'), WAIT).toBe('done');
      const flow = await currentFlow();
      expect(flow).toMatchObject({ kind: 'earn', amount: { minor: 1_234 }, outcome: 'done' });
      await tab.keyboard.press('Enter'); // New sale
      await tab.locator('#amount').waitFor(WAIT);
      await expect.poll(focusedId, WAIT).toBe('amount');
      // The Enter that put the result away did not also try to start the next sale (no amount yet).
      expect(await tab.locator('.compose .error').innerText()).toBe('');
      expect(tabProblems).toEqual([]);
    } finally {
      await tab.close();
    }
  });
});

describe('the connection to the till', () => {
  it('shows a banner when the till goes away; no console error or CSP violation on the way', async () => {
    expect(problems).toEqual([]);
    expect(displayProblems).toEqual([]);
    await page.locator('#operator-pin').fill(CASHIER.pin);
    await page.locator('#operator-pin').press('Enter');
    await page.locator('#amount').waitFor(WAIT);
    await till.close();
    await expect
      .poll(() => page.locator('[data-connection]').getAttribute('data-connection'), WAIT)
      .toBe('reconnecting');
    expect(await text()).toContain('Connection to the till lost');
    // What the till said last is not current any more.
    expect(await page.locator('[data-engine]').getAttribute('data-engine')).toBe('unknown');
    expect(await page.locator('[data-terminals]').getAttribute('data-terminals')).toBe('');
    await screenshot(page, 'cashier-till-lost');
  });
});
