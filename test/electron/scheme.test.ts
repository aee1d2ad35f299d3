// The app scheme's handler over a real temporary directory: files served with the CSP, GET only, and
// nothing outside the renderer build ever served, whatever the path (named variants and fast-check).
import fc from 'fast-check';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  APP_ORIGIN,
  contentSecurityPolicy,
  createAppProtocolHandler,
  safeRelativePath,
} from '../../electron/scheme.ts';

const SECRET = 'SECRET-OUTSIDE-THE-ROOT';
const API = 'http://127.0.0.1:41234';
let base: string;
let root: string;
let handler: (request: Request) => Promise<Response>;
/** Every file body inside the root: what a response may ever carry. */
const inRoot = new Set<string>();

beforeAll(() => {
  base = mkdtempSync(join(tmpdir(), 'tillback-scheme-'));
  root = join(base, 'dist');
  const put = (path: string, body: string) => {
    writeFileSync(join(root, path), body);
    inRoot.add(body);
  };
  mkdirSync(join(root, 'cashier'), { recursive: true });
  mkdirSync(join(root, 'assets'));
  put('index.html', '<h1>root</h1>');
  put('cashier/index.html', '<h1>cashier</h1>');
  put('assets/app.js', 'console.log(1)');
  put('assets/app.css', 'body{}');
  put('assets/font.unknownext', 'bytes');
  writeFileSync(join(base, 'secret.txt'), SECRET);
  mkdirSync(join(base, 'outside'));
  writeFileSync(join(base, 'outside', 'secret.txt'), SECRET);
  // Links inside the build pointing out of it, to a file and to a directory.
  symlinkSync(join(base, 'secret.txt'), join(root, 'link-to-secret.txt'));
  symlinkSync(join(base, 'outside'), join(root, 'link-dir'));
  // A link that stays inside is fine.
  symlinkSync(join(root, 'assets', 'app.js'), join(root, 'alias.js'));
  handler = createAppProtocolHandler({ root, apiUrl: () => API });
});

afterAll(() => rmSync(base, { recursive: true, force: true }));

const get = (path: string, init?: RequestInit) => handler(new Request(`${APP_ORIGIN}${path}`, init));

describe('the app scheme handler', () => {
  it('serves a page with its type, the strict CSP naming the local API, nosniff and no caching', async () => {
    const res = await get('/cashier/');
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('<h1>cashier</h1>');
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const csp = res.headers.get('content-security-policy')!;
    expect(csp).toBe(contentSecurityPolicy(API));
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain(`connect-src ${API} ws://127.0.0.1:41234`);
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toMatch(/unsafe-inline|unsafe-eval/);
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect((await get('/cashier/index.html')).status).toBe(200);
    expect((await get('/cashier')).status).toBe(200); // a directory without the slash: its index
    expect(await (await get('/')).text()).toBe('<h1>root</h1>');
  });

  it('types scripts and styles, and anything else as bytes', async () => {
    expect((await get('/assets/app.js')).headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect((await get('/assets/app.css')).headers.get('content-type')).toBe('text/css; charset=utf-8');
    expect((await get('/assets/font.unknownext')).headers.get('content-type')).toBe(
      'application/octet-stream',
    );
    expect(await (await get('/alias.js')).text()).toBe('console.log(1)');
    expect(await (await get('/assets/app.js?v=3#x')).text()).toBe('console.log(1)');
  });

  it('follows the API URL as it changes (a restarted till listens elsewhere)', async () => {
    let api = 'http://127.0.0.1:1000';
    const moving = createAppProtocolHandler({ root, apiUrl: () => api });
    const csp = async () =>
      (await moving(new Request(`${APP_ORIGIN}/`))).headers.get('content-security-policy');
    expect(await csp()).toContain('connect-src http://127.0.0.1:1000 ws://127.0.0.1:1000');
    api = 'http://127.0.0.1:2000';
    expect(await csp()).toContain('connect-src http://127.0.0.1:2000 ws://127.0.0.1:2000');
  });

  it('refuses every method but GET with 405', async () => {
    for (const method of ['POST', 'PUT', 'DELETE', 'PATCH', 'HEAD', 'OPTIONS']) {
      const res = await get('/cashier/index.html', { method, ...(method === 'POST' ? { body: 'x' } : {}) });
      expect(res.status, method).toBe(405);
      expect(res.headers.get('allow')).toBe('GET');
    }
  });

  it('answers 404 for a missing file and for another host', async () => {
    expect((await get('/nope.html')).status).toBe(404);
    expect((await get('/cashier/nope/')).status).toBe(404);
    expect((await handler(new Request('tillback://other/cashier/'))).status).toBe(404);
  });

  it('refuses traversal: dot segments, encoded dots and slashes, backslashes, absolute paths, links out', async () => {
    const attempts = [
      '/../secret.txt',
      '/cashier/../../secret.txt',
      '/%2e%2e/secret.txt',
      '/%2E%2E/secret.txt',
      '/..%2fsecret.txt',
      '/%2e%2e%2fsecret.txt',
      '/cashier/..%2f..%2fsecret.txt',
      '/..%5csecret.txt',
      '/cashier/%2e%2e%5c%2e%2e%5csecret.txt',
      '//' + join(base, 'secret.txt').slice(1),
      '/' + encodeURIComponent(join(base, 'secret.txt')),
      '/C:/Windows/win.ini',
      '/%00/secret.txt',
      '/cashier/%00',
      '/%E0%A4%A',
      '/link-to-secret.txt',
      '/link-dir/secret.txt',
      '/link-dir/',
    ];
    for (const path of attempts) {
      const res = await get(path);
      expect([403, 404], path).toContain(res.status);
      expect(await res.text(), path).not.toContain(SECRET);
    }
    expect((await get('/..%2fsecret.txt')).status).toBe(403);
    expect((await get('/link-to-secret.txt')).status).toBe(403);
  });

  it('by property: a random path is served only with a file from inside the root, never anything else', async () => {
    const segment = fc.oneof(
      fc.constantFrom('..', '.', '%2e%2e', '%2E.', '..%2f', '%2f', '%5c', '%00', '', 'secret.txt', 'cashier'),
      fc.constantFrom('index.html', 'assets', 'app.js', 'link-dir', 'link-to-secret.txt', 'outside', 'dist'),
      fc.string({ maxLength: 6 }).map(encodeURIComponent),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(segment, { maxLength: 8 }), async (segments) => {
        const res = await get(`/${segments.join('/')}`);
        const body = await res.text();
        expect(body).not.toContain(SECRET);
        if (res.status === 200) expect(inRoot.has(body)).toBe(true);
        else expect([403, 404]).toContain(res.status);
      }),
      { numRuns: 400 },
    );
  });

  it('safeRelativePath never returns a path with a dot-dot segment, an absolute path or a NUL', () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.string(), fc.constantFrom('..', '%2e%2e', '%2f..', '%00')), { maxLength: 6 }),
        (parts) => {
          const path = safeRelativePath(`/${parts.join('/')}`);
          if (path === undefined) return;
          expect(path.split('/')).not.toContain('..');
          expect(path.startsWith('/')).toBe(false);
          expect(path).not.toContain('\0');
        },
      ),
    );
  });
});
