// The screens on the local API over real HTTP: the renderer's build served at /cashier, /display and
// /manager with every script and style it names, each answer with the strict CSP and without the
// launch token; the settings; nothing outside the build (no traversal, no directory); a clear 503
// when the screens were not built.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ScreenSettingsSchema } from '../../contract/till-events.ts';
import { createLocalApi, type LocalApi } from '../../till/api/server.ts';
import { openOutbox, type Outbox } from '../../till/outbox/outbox.ts';
import { SCREENS, SCREENS_DIST, screenRoutes } from '../../till/screens.ts';

const SETTINGS = { storeName: 'Corner Store', locale: 'ar-SD', currency: 'SDG' };
let dir: string;
let outbox: Outbox;
let api: LocalApi;

async function serve(dist: string): Promise<void> {
  outbox = await openOutbox({
    path: join(dir, 'till.sqlite'),
    // Never called: the sender is not started.
    engine: { url: 'http://127.0.0.1:9', appId: 'app_test', apiKey: 'sk_test' },
  });
  api = await createLocalApi({
    outbox,
    config: {},
    routes: [screenRoutes(SETTINGS, dist)],
    logStream: new PassThrough(),
  });
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'tillback-screens-'));
});
afterEach(async () => {
  await api?.close();
  await outbox?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A raw GET, so a path such as /assets/../x reaches the server as written. */
function get(path: string): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(`${api.url}${path}`, { method: 'GET' }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('the built screens', () => {
  it('serves each page and every script and style it names, with the CSP, without the token', async () => {
    await serve(SCREENS_DIST);
    const host = new URL(api.url).host;
    for (const screen of SCREENS) {
      const page = await get(screen.path);
      expect(page.status).toBe(200);
      expect(page.headers['content-type']).toMatch(/^text\/html/);
      expect(page.headers['content-security-policy']).toBe(
        `default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self' ws://${host}; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`,
      );
      expect(page.body).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/); // no inline script
      expect(page.body).not.toMatch(/<style|style=/); // no inline style
      const assets = [...page.body.matchAll(/(?:src|href)="(\/assets\/[^"]+)"/g)].map((m) => m[1]!);
      expect(assets.length).toBeGreaterThan(0);
      for (const path of assets) {
        const asset = await get(path);
        expect(asset.status, path).toBe(200);
        expect(asset.headers['content-type']).toMatch(path.endsWith('.css') ? /^text\/css/ : /javascript/);
        expect(asset.headers['cache-control']).toContain('immutable');
        expect(asset.body).toBe(readFileSync(join(SCREENS_DIST, path), 'utf8'));
      }
    }
    const settings = await get('/screens/settings.json');
    expect(ScreenSettingsSchema.parse(JSON.parse(settings.body))).toEqual(SETTINGS);
    expect((await get('/favicon.ico')).status).toBe(204);
  });

  it('serves nothing outside the build: no traversal, no directory, no unknown file', async () => {
    const dist = join(dir, 'dist');
    mkdirSync(join(dist, 'assets'), { recursive: true });
    writeFileSync(join(dist, 'assets', 'a.js'), 'export {};\n');
    writeFileSync(join(dir, 'secret.txt'), 'not for the browser\n');
    await serve(dist);
    expect((await get('/assets/a.js')).status).toBe(200);
    for (const path of [
      '/assets/../../secret.txt',
      '/assets/..%2f..%2fsecret.txt',
      '/assets/%2e%2e%2f%2e%2e%2fsecret.txt',
      '/assets/',
      '/assets/missing.js',
      '/secret.txt',
    ]) {
      const res = await get(path);
      expect(res.status, path).toBeGreaterThanOrEqual(400);
      expect(res.body, path).not.toContain('not for the browser');
    }
  });

  it('says how to build the screens when they are not built, rather than a bare 404', async () => {
    await serve(join(dir, 'no-dist'));
    const page = await get('/display');
    expect(page.status).toBe(503);
    expect(page.body).toContain('renderer/build.ts');
  });
});
