// The manager's screen in real Chromium against a real till core (embedded engine on SQLite, simulated
// terminals over pseudo-terminals), with history made through the local API: earns by two cashiers,
// earns the engine refused (an unknown member), a swipe, a cashout whose claim events the engine sends
// as webhooks. A cashier is refused with a clear message; a manager signs in by keyboard and goes
// through every section: the history narrowed by a filter and an operation's details, the day totals
// and their chart, the CSV export downloaded and parsed, a failed item retried (after its cause was
// fixed) and another voided with a reason, the webhook deliveries re-sent, the terminals and a
// terminal's log, the settings with an operator added and disabled and the last manager kept. Every
// section passes axe and is photographed; no console error or CSP violation; a reload keeps the place.
// Screenshots: test-results/screenshots/, or docs/screenshots/ with SCREENSHOTS=1 (see browser.ts).
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { parse } from 'csv-parse/sync';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { formatMoney } from '../../contract/intl-format.ts';
import { startTill, type Till } from '../../till/core.ts';
import { OPERATOR_PINS } from '../fixtures/secrets.ts';
import { testLog, testLogDir } from '../fixtures/test-log.ts';
import {
  accessibilityViolations,
  launchChromium,
  reportCspViolations,
  screenshot,
  watchProblems,
} from './browser.ts';

// A manager's laptop, or a counter tablet on its side, set to another zone than the till's (UTC): the
// screen shows times in the till's zone, whose days the history counts.
const SCREEN = { viewport: { width: 1366, height: 900 }, locale: 'en-AU', timezoneId: 'Australia/Sydney' };
const WAIT = { timeout: 30_000 };
const MANAGER = { name: 'maria', pin: OPERATOR_PINS[0] };
const CASHIER = { name: 'carl', pin: OPERATOR_PINS[1] };
// Loopback is refused by the engine's address policy by default: its deliveries stay pending, with the
// error of each attempt, which is what a manager opens this section for.
const SUBSCRIBER = 'http://127.0.0.1:9/accounting-hook';

let dir: string;
let till: Till;
let browser: Browser;
let page: Page;
let problems: string[];
const sessions: Record<string, string> = {};

async function call(as: string, method: string, path: string, body?: unknown) {
  const res = await fetch(`${till.apiUrl}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${till.token}`,
      ...(sessions[as] ? { 'x-operator-session': sessions[as] } : {}),
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, body: (await res.json()) as any };
}
const api = (method: string, path: string, body?: unknown) => call(MANAGER.name, method, path, body);

async function signInApi(who: { name: string; pin: string }) {
  const r = await call('', 'POST', '/api/operators/sign-in', who);
  expect(r.status).toBe(200);
  sessions[who.name] = r.body.session as string;
}

/** Waits until every operation the till has is settled (none queued). */
async function settled() {
  await vi.waitFor(async () => {
    expect((await api('GET', '/api/history?state=queued')).body.operations).toEqual([]);
  }, WAIT);
}

const earn = (as: string, email: string, amount: number, memberName?: string) =>
  call(as, 'POST', '/api/earn', {
    programId: till.program.id,
    currency: till.program.currency,
    member: { email },
    purchaseAmount: amount,
    ...(memberName ? { memberName } : {}),
  });

/** The page's visible text, without the direction isolates around the values in a sentence. */
const text = async (on: Page = page, selector = 'body') =>
  (await on.locator(selector).innerText()).replace(/[\u2068\u2069]/g, '');
const money = (minor: number) => formatMoney(minor, till.program.currency, 'en-AU');
const rows = (table = page.locator('table').first()) => table.locator('tbody tr');
const noViolations = async () => expect(await accessibilityViolations(page)).toEqual([]);

let late: string; // refused (member unknown), then retried once the member exists
let lost: string; // refused, then voided

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tillback-manager-'));
  till = await startTill(
    {
      dataDir: dir,
      logDir: mkdtempSync(join(testLogDir(), 'till-manager-')),
      devices: { pollIntervalMs: 200 },
      store: { name: 'Corner Store', locale: 'en-AU' },
      timeZone: 'UTC',
      api: { firstManager: MANAGER },
    },
    { simulate: 'always', simulatorOut: testLog('till-manager-simulator'), handleSignals: false },
  );
  await signInApi(MANAGER);
  expect((await api('POST', '/api/operators', { ...CASHIER, role: 'cashier' })).status).toBe(201);
  await signInApi(CASHIER);

  // The engine's subscriber, as its `webhooks.subscribers` setting writes it at an engine's start.
  const engineDb = new Database(till.paths.engineDb);
  engineDb.prepare('INSERT INTO webhook_subscribers (url) VALUES (?)').run(SUBSCRIBER);
  engineDb.close();

  // History: two cashiers' earns, two refused for an unknown member, a swipe, a cashout.
  expect((await earn(MANAGER.name, 'jane@example.com', 12_000, 'Jane Citizen')).status).toBe(201);
  expect((await earn(CASHIER.name, 'jane@example.com', 4_000)).status).toBe(201);
  expect((await earn(CASHIER.name, 'omar@example.com', 2_500, 'Omar Haddad')).status).toBe(201);
  late = (await earn(CASHIER.name, 'late@example.com', 3_000)).body.id as string;
  lost = (await earn(CASHIER.name, 'nobody@example.com', 1_500)).body.id as string;
  await settled();
  expect((await api('POST', '/api/flows/earn', { amount: 5_000 })).status).toBe(201);
  await vi.waitFor(async () => {
    expect((await api('GET', '/api/flows/current')).body.flow.step).toBe('identify');
  }, WAIT);
  await till.simulation!.swipe(till.demoCustomer!.card);
  await vi.waitFor(async () => {
    expect((await api('GET', '/api/flows/current')).body.flow.outcome).toBe('done');
  }, WAIT);
  // The demo customer pays 1.20 with cashback (the simulated pad types their PIN): a redeemed bar.
  expect((await api('POST', '/api/flows/redeem', { amount: 120 })).status).toBe(201);
  await vi.waitFor(async () => {
    expect((await api('GET', '/api/flows/current')).body.flow.step).toBe('identify');
  }, WAIT);
  await till.simulation!.swipe(till.demoCustomer!.card);
  await vi.waitFor(async () => {
    expect((await api('GET', '/api/flows/current')).body.flow).toMatchObject({ outcome: 'done' });
  }, WAIT);
  expect(
    (await api('POST', '/api/flows/cashout', { amount: 100, member: { email: 'jane@example.com' } })).status,
  ).toBe(201);
  await vi.waitFor(async () => {
    expect((await api('GET', '/api/flows/current')).body.flow.claim).not.toBeNull();
  }, WAIT);
  await api('POST', '/api/flows/current/cancel');
  await vi.waitFor(async () => {
    expect((await api('GET', '/api/flows/current')).body.flow.outcome).not.toBeNull();
  }, WAIT);

  browser = await launchChromium();
  const context = await browser.newContext({ ...SCREEN, acceptDownloads: true });
  await reportCspViolations(context);
  page = await context.newPage();
  problems = watchProblems(page);
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await till?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Opens a section by its key, as a keyboard user does. */
async function openSection(key: string, name: string) {
  await page.locator('body').press(key);
  await expect
    .poll(() => page.locator('[role="tab"][aria-selected="true"]').innerText(), WAIT)
    .toContain(name);
}

describe('the manager’s screen in Chromium', { timeout: 120_000 }, () => {
  it('refuses a cashier in words, and signs a manager in by keyboard', async () => {
    const response = await page.goto(`${till.apiUrl}/manager#token=${till.token}`);
    expect(response!.headers()['content-security-policy']).toContain("style-src 'self'");
    await page.locator('#operator-name').waitFor(WAIT);
    await page.locator('#operator-name').fill(CASHIER.name);
    await page.locator('#operator-pin').focus();
    await page.keyboard.type(CASHIER.pin);
    await page.keyboard.press('Enter');
    await expect.poll(() => text(), WAIT).toContain('This screen needs a manager: carl is a cashier.');
    await noViolations();
    await screenshot(page, 'manager-sign-in-refused');

    await page.locator('#operator-name').fill(MANAGER.name);
    await page.locator('#operator-pin').focus();
    await page.keyboard.type(MANAGER.pin);
    await page.keyboard.press('Enter');
    await page.locator('[role="tablist"]').waitFor(WAIT);
    expect(await text()).toContain('Signed in: maria');
  });

  it('lists the history newest first, narrows it by a filter, and shows an operation’s details', async () => {
    const all = (await api('GET', '/api/history')).body.operations as { id: string }[];
    await expect.poll(() => rows().count(), WAIT).toBe(all.length);
    expect(await rows().first().getAttribute('data-operation')).toBe(all[0]!.id);
    expect(await text()).toContain(money(12_000));
    await noViolations();
    await screenshot(page, 'manager-history');
    // Live: an earn made at the till meanwhile comes in without a reload.
    expect((await earn(MANAGER.name, 'jane@example.com', 7_000)).status).toBe(201);
    await expect.poll(() => rows().count(), WAIT).toBe(all.length + 1);
    await expect.poll(() => text(), WAIT).toContain(money(7_000));

    await page.getByLabel('Cashier', { exact: true }).fill(CASHIER.name);
    await page.getByLabel('State').selectOption('delivered');
    await page.getByRole('button', { name: /Apply filters/ }).click();
    const carls = (await api('GET', '/api/history?cashier=carl&state=delivered')).body.operations as {
      id: string;
      createdAt: number;
    }[];
    expect(carls.length).toBe(2);
    await expect.poll(() => rows().count(), WAIT).toBe(carls.length);
    expect(await rows().evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-operation')))).toEqual(
      carls.map((o) => o.id),
    );

    await rows()
      .first()
      .getByRole('button', { name: /Details/ })
      .click();
    const detail = page.locator('.detail');
    await expect.poll(() => detail.innerText(), WAIT).toContain(carls[0]!.id);
    expect(await detail.innerText()).toContain('Delivered');
    const created = new Intl.DateTimeFormat('en-AU', {
      dateStyle: 'medium',
      timeStyle: 'medium',
      timeZone: 'UTC',
    });
    const spaces = (t: string) => t.replace(/[\u202f\u00a0]/g, ' ');
    expect(spaces(await detail.innerText())).toContain(spaces(created.format(carls[0]!.createdAt)));
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('detail-title');
    await noViolations();
    await screenshot(page, 'manager-history-detail');
    await page.keyboard.press('Escape');
    await expect.poll(() => detail.count(), WAIT).toBe(0);
  });

  it('exports what the filters select as CSV, downloaded and parsed', async () => {
    const [download] = await Promise.all([
      page.waitForEvent('download', WAIT),
      page.getByRole('button', { name: 'Export CSV' }).click(),
    ]);
    expect(download.suggestedFilename()).toMatch(/\.csv$/);
    const csv = readFileSync((await download.path())!, 'utf8');
    const records = parse(csv, { columns: true }) as Record<string, string>[];
    const carls = (await api('GET', '/api/history?cashier=carl&state=delivered')).body.operations as {
      id: string;
      amount: number;
    }[];
    expect(records.map((r) => [r.id, r.cashier, r.state, Number(r.amount_minor)])).toEqual(
      carls.map((o) => [o.id, 'carl', 'delivered', o.amount]),
    );
    await expect.poll(() => text(), WAIT).toContain(`Saved ${download.suggestedFilename()}`);
    await page.getByRole('button', { name: 'Clear filters' }).click();
  });

  it('shows the day totals and the chart of cashback earned and redeemed', async () => {
    await openSection('2', 'Day totals');
    const totals = (await api('GET', '/api/history/totals')).body;
    const today = totals.days[0];
    await page.locator('svg.chart-svg').waitFor(WAIT);
    // One pair of bars per day of the range (31 by default), today's earned bar above the axis.
    const bars = page.locator(`g[data-day="${today.date}"] rect.bar-earned`);
    expect(await bars.count()).toBe(1);
    expect(Number(await bars.getAttribute('height'))).toBeGreaterThan(0);
    expect(await page.locator('svg.chart-svg g[data-day]').count()).toBe(31);
    expect(await page.locator('table.day-totals').innerText()).toContain(money(today.cashback.earned));
    expect(today.cashback.redeemed).toBe(120);
    const redeemed = page.locator(`g[data-day="${today.date}"] rect.bar-redeemed`);
    expect(Number(await redeemed.getAttribute('height'))).toBeGreaterThan(0);
    await noViolations();
    await screenshot(page, 'manager-totals');
  });

  it('retries a failed item once its cause is fixed, and voids another with a reason', async () => {
    await openSection('3', 'Queue');
    const failed = page.locator('section[aria-labelledby="failed-title"] tbody tr');
    await expect.poll(() => failed.count(), WAIT).toBe(2);
    expect(await text()).toContain('No member with email late@example.com');
    await noViolations();
    await screenshot(page, 'manager-queue');

    // The cause: the member did not exist. Now they do.
    expect((await earn(CASHIER.name, 'late@example.com', 1_000, 'Lee Late')).status).toBe(201);
    await settled();
    await page.locator(`tr[data-operation="${late}"]`).getByRole('button', { name: 'Retry' }).click();
    await expect
      .poll(async () => (await api('GET', `/api/history/${late}`)).body.operation.state, WAIT)
      .toBe('delivered');

    const row = page.locator(`tr[data-operation="${lost}"]`);
    await row.getByRole('button', { name: 'Void…' }).click();
    await row.getByRole('button', { name: /Void it/ }).click();
    await expect.poll(() => text(), WAIT).toContain('Say why it is voided');
    await row.getByLabel(/Why is it voided/).fill('customer left without a receipt');
    await page.keyboard.press('Enter');
    await expect
      .poll(async () => (await api('GET', `/api/history/${lost}`)).body.operation, WAIT)
      .toMatchObject({
        state: 'voided',
        voidReason: 'customer left without a receipt',
      });
    await expect.poll(() => failed.count(), WAIT).toBe(0);
    expect(await text()).toContain('No failed item');
    const log = page.locator('section[aria-labelledby="queue-log-title"]');
    await expect.poll(() => log.innerText(), WAIT).toContain('retried by a manager');
    // The log reads again once the till says the history changed (at most twice a second): the void's
    // entry may come a reload after the retry's.
    await expect.poll(() => log.innerText(), WAIT).toContain('customer left without a receipt');
    await noViolations();
    await screenshot(page, 'manager-queue-resolved');
  });

  it('lists the engine’s webhook deliveries and sends one again', async () => {
    await openSection('4', 'Webhooks');
    const deliveries = page.locator('tr[data-delivery]');
    await expect.poll(() => deliveries.count(), WAIT).toBeGreaterThanOrEqual(2);
    const shown = await text();
    expect(shown).toContain('claim.created');
    expect(shown).toContain(SUBSCRIBER);
    await deliveries.first().getByRole('button', { name: 'Send again' }).click();
    await expect.poll(() => text(), WAIT).toContain('Sent again');
    await noViolations();
    await screenshot(page, 'manager-webhooks');
  });

  it('lists the terminals live, and a terminal’s event log', async () => {
    await openSection('5', 'Terminals');
    const devices = (await api('GET', '/api/devices')).body.devices as {
      id: string;
      kind: string;
      label?: string;
    }[];
    const terminals = page.locator('tr[data-device]');
    await expect.poll(() => terminals.count(), WAIT).toBe(devices.length);
    expect(await text()).toContain('connected');
    const reader = devices.find((d) => d.kind === 'card_reader')!;
    await page
      .locator(`tr[data-device="${reader.id}"]`)
      .getByRole('button', { name: /Show its log/ })
      .click();
    const log = page.locator('section[aria-labelledby="device-log-title"]');
    await expect
      .poll(() => text(page, 'section[aria-labelledby="device-log-title"]'), WAIT)
      .toContain(`Events of ${reader.label ?? reader.id}`);
    await expect.poll(() => log.locator('tbody tr').count(), WAIT).toBeGreaterThan(0);
    // The swipe was logged with its card masked: never the whole number.
    expect(await log.innerText()).not.toMatch(/\d{13,19}/);
    await noViolations();
    await screenshot(page, 'manager-terminals');
  });

  it('shows the settings, adds a cashier and disables them, and keeps the last manager', async () => {
    await openSection('6', 'Settings');
    await expect.poll(() => text(), WAIT).toContain('embedded in this till');
    const shown = await text();
    expect(shown).toContain(till.engineUrl);
    expect(shown).toContain('5%');
    expect(shown).toContain('Read-only here');

    await page.getByLabel('Name', { exact: true }).fill('dana');
    await page.getByLabel(/^PIN/).fill(OPERATOR_PINS[2]);
    await page.getByRole('button', { name: /^Add/ }).click();
    await expect.poll(() => text(), WAIT).toContain('dana added.');
    const dana = page.locator('tr[data-operator="dana"]');
    await dana.getByRole('button', { name: /Make .manager. \(dana\)/ }).click();
    await expect.poll(() => text(), WAIT).toContain('dana is now manager.');
    await dana.getByRole('button', { name: 'Disable' }).click();
    await expect.poll(() => dana.innerText(), WAIT).toContain('disabled');
    const signIn = await call('', 'POST', '/api/operators/sign-in', { name: 'dana', pin: OPERATOR_PINS[2] });
    expect(signIn.status).toBe(401);

    await page.locator('tr[data-operator="maria"]').getByRole('button', { name: 'Disable' }).click();
    await expect
      .poll(() => text(), WAIT)
      .toContain('The till must keep at least one enabled manager: add or enable another manager first.');
    await page.getByRole('button', { name: 'New pairing code' }).click();
    await expect.poll(() => text(), WAIT).toMatch(/On the display, type \d{6} before/);
    // A display on the LAN pairs with the code (as its page does); it shows up by itself, then goes.
    const code = /type (\d{6}) before/.exec(await text())![1];
    const paired = await fetch(`${till.apiUrl}/api/displays/pair`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ code, name: 'Counter tablet' }),
    });
    expect(paired.status).toBe(201);
    const tablet = page.locator('.displays li', { hasText: 'Counter tablet' });
    await tablet.waitFor(WAIT);
    await tablet.getByRole('button', { name: 'Unpair' }).click();
    await expect.poll(() => text(), WAIT).toContain('Counter tablet unpaired');
    expect((await api('GET', '/api/displays')).body.displays).toEqual([]);
    await noViolations();
    await screenshot(page, 'manager-settings');
  });

  it('keeps its place and its session on a reload; the arrows move along the section bar', async () => {
    await page.reload();
    await expect
      .poll(() => page.locator('[role="tab"][aria-selected="true"]').innerText(), WAIT)
      .toContain('Settings');
    expect(await text()).toContain('Signed in: maria');
    // The arrows move along the section bar (Home: the first).
    await page.locator('[role="tab"][aria-selected="true"]').focus();
    await page.keyboard.press('Home');
    await page.keyboard.press('ArrowRight');
    await expect
      .poll(() => page.evaluate(() => document.activeElement?.getAttribute('aria-selected')), WAIT)
      .toBe('true');
    expect(await page.locator('[role="tab"][aria-selected="true"]').innerText()).toContain('Day totals');
  });

  it('sends a manager whose session the till ended back to sign-in, saying why', async () => {
    const kept = await page.evaluate(() => sessionStorage.getItem('tillback.operator.session'));
    const { session } = JSON.parse(kept!) as { session: string };
    const out = await fetch(`${till.apiUrl}/api/operators/sign-out`, {
      method: 'POST',
      headers: { authorization: `Bearer ${till.token}`, 'x-operator-session': session },
    });
    expect(out.status).toBe(204);
    await page.locator('body').press('1'); // the history asks the till, which no longer knows the session
    await expect.poll(() => text(), WAIT).toContain('Your session ended. Sign in again.');
    await page.locator('#operator-pin').waitFor(WAIT);
    await noViolations();
    // The refusals the test asked for (disabling the last manager; the session it ended) are failed
    // loads to Chromium; nothing else may be said on the console.
    const expected = [409, 401].map(
      (status) =>
        `error: Failed to load resource: the server responded with a status of ${status} (${status === 409 ? 'Conflict' : 'Unauthorized'})`,
    );
    expect(problems.filter((p) => !expected.includes(p))).toEqual([]);
  });
});

describe('the manager’s screen in Arabic', () => {
  it('reads right to left, amounts and the chart in the till’s locale', async () => {
    const arDir = mkdtempSync(join(tmpdir(), 'tillback-manager-ar-'));
    const ar = await startTill(
      {
        dataDir: arDir,
        logDir: mkdtempSync(join(testLogDir(), 'till-manager-ar-')),
        store: { name: 'بقالة النيل', locale: 'ar-SD' },
        api: { firstManager: MANAGER },
      },
      { simulate: 'never', handleSignals: false },
    );
    const context = await browser.newContext(SCREEN);
    try {
      // One earn, so the list and the chart have something to show.
      const headers = { authorization: `Bearer ${ar.token}`, 'content-type': 'application/json' };
      const signedIn = await fetch(`${ar.apiUrl}/api/operators/sign-in`, {
        method: 'POST',
        headers,
        body: JSON.stringify(MANAGER),
      });
      const { session } = (await signedIn.json()) as { session: string };
      const earned = await fetch(`${ar.apiUrl}/api/earn`, {
        method: 'POST',
        headers: { ...headers, 'x-operator-session': session },
        body: JSON.stringify({
          programId: ar.program.id,
          currency: ar.program.currency,
          member: { email: 'amna@example.com' },
          memberName: 'Amna',
          purchaseAmount: 8_000,
        }),
      });
      expect(earned.status).toBe(201);
      await reportCspViolations(context);
      const tab = await context.newPage();
      const arProblems = watchProblems(tab);
      await tab.goto(`${ar.apiUrl}/manager#token=${ar.token}`);
      await tab.locator('#operator-name').fill(MANAGER.name);
      await tab.locator('#operator-pin').fill(MANAGER.pin);
      await tab.keyboard.press('Enter');
      await tab.locator('[role="tablist"]').waitFor(WAIT);
      expect(await tab.evaluate(() => [document.documentElement.lang, document.documentElement.dir])).toEqual(
        ['ar', 'rtl'],
      );
      await expect.poll(() => text(tab), WAIT).toContain('amna@example.com');
      expect(await text(tab)).toContain(formatMoney(8_000, ar.program.currency, 'ar-SD'));
      expect(await accessibilityViolations(tab)).toEqual([]);
      await screenshot(tab, 'manager-arabic-history');
      await tab.locator('body').press('2');
      await tab.locator('svg.chart-svg').waitFor(WAIT);
      // Right to left: the value axis' labels stand at the right of the plot.
      const [axis, plot] = await tab.evaluate(() => {
        const label = document.querySelector('svg.chart-svg .tick text')!.getBoundingClientRect();
        const line = document.querySelector('svg.chart-svg .tick line')!.getBoundingClientRect();
        return [label.left, line.right];
      });
      expect(axis).toBeGreaterThanOrEqual(plot);
      expect(await accessibilityViolations(tab)).toEqual([]);
      await screenshot(tab, 'manager-arabic-totals');
      expect(arProblems).toEqual([]);
    } finally {
      await context.close();
      await ar.close();
      rmSync(arDir, { recursive: true, force: true });
    }
  }, 120_000);
});
