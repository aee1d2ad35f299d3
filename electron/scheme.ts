// The app's own scheme, tillback://app/...: the windows' pages come from the renderer build directory
// through it, never from file:// (which would let a page read any file) nor from the local API's HTTP
// origin (which a DNS-rebinding page could share). The handler is plain web Request -> Response, so the
// tests drive it without Electron over a real directory.
import { readFile, realpath, stat } from 'node:fs/promises';
import { extname, isAbsolute, relative, resolve, sep } from 'node:path';
import type { WindowRole } from './bridge.ts';

export const APP_SCHEME = 'tillback';
export const APP_HOST = 'app';
/** The windows' origin, which the local API must allow (`api.allowedOrigins`). */
export const APP_ORIGIN = `${APP_SCHEME}://${APP_HOST}`;

/** A window's page in the renderer build: `/cashier/` serves `cashier/index.html`. */
export const pagePath = (role: WindowRole): string => `/${role}/`;
export const pageUrl = (role: WindowRole): string => `${APP_ORIGIN}${pagePath(role)}`;

/**
 * What Chromium must know of the scheme before `ready`: `standard` gives it an origin and relative
 * URLs, `secure` a secure context (like https), `supportFetchAPI` lets pages fetch their own assets.
 * Not `bypassCSP`, not `corsEnabled`: nothing else should reach into it.
 */
export const APP_SCHEME_PRIVILEGES = {
  scheme: APP_SCHEME,
  privileges: { standard: true, secure: true, supportFetchAPI: true },
} as const;

/**
 * The pages allow only their own scripts and styles, images from themselves or data: URLs (the QR
 * code), and connections to the local API (HTTP and WebSocket); no plugins, no frames, no forms.
 */
export function contentSecurityPolicy(apiUrl: string): string {
  const api = new URL(apiUrl);
  const ws = `${api.protocol === 'https:' ? 'wss:' : 'ws:'}//${api.host}`;
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    `connect-src ${api.origin} ${ws}`,
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
    "object-src 'none'",
  ].join('; ');
}

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.map': 'application/json',
  '.webmanifest': 'application/manifest+json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
};

export interface AppProtocolOptions {
  /** The renderer build (Vite's output): the only directory served. */
  root: string;
  /** The local API's current URL (it may change when the till process restarts), for the CSP. */
  apiUrl: () => string;
}

/** The handler for `protocol.handle(APP_SCHEME, ...)`. */
export function createAppProtocolHandler(
  options: AppProtocolOptions,
): (request: Request) => Promise<Response> {
  const rootReal = realpath(resolve(options.root));
  return async (request) => {
    if (request.method !== 'GET') return refuse(405, 'Only GET', { allow: 'GET' });
    const url = new URL(request.url);
    if (url.protocol !== `${APP_SCHEME}:` || url.host !== APP_HOST) return refuse(404, 'Not found');
    const root = await rootReal;
    const path = safeRelativePath(url.pathname);
    if (path === undefined) return refuse(403, 'Forbidden');
    let file = resolve(root, path);
    if (!inside(root, file)) return refuse(403, 'Forbidden');
    let real: string;
    try {
      if ((await stat(file)).isDirectory()) file = resolve(file, 'index.html');
      real = await realpath(file);
    } catch {
      return refuse(404, 'Not found');
    }
    // A symbolic link inside the build that points out of it is refused like `..`.
    if (!inside(root, real)) return refuse(403, 'Forbidden');
    let body: Buffer;
    try {
      body = await readFile(real);
    } catch {
      return refuse(404, 'Not found');
    }
    return new Response(new Uint8Array(body), {
      status: 200,
      headers: {
        'content-type': CONTENT_TYPES[extname(real).toLowerCase()] ?? 'application/octet-stream',
        'content-security-policy': contentSecurityPolicy(options.apiUrl()),
        'x-content-type-options': 'nosniff',
        'cache-control': 'no-store',
      },
    });
  };
}

/**
 * The URL's path as a relative path of plain segments, or undefined when a segment, once decoded, is
 * empty in the middle (`//etc`), `.` or `..`, or holds a separator, a NUL or a drive letter: so
 * `..%2f..`, `%2e%2e` and `/C:/Windows` never name anything outside the root.
 */
export function safeRelativePath(pathname: string): string | undefined {
  const segments = pathname.replace(/^\//, '').split('/');
  const decoded: string[] = [];
  for (const [i, raw] of segments.entries()) {
    let segment: string;
    try {
      segment = decodeURIComponent(raw);
    } catch {
      return undefined;
    }
    const last = i === segments.length - 1;
    if (segment === '' && last) continue; // a trailing slash: the directory's index.html
    if (segment === '' || segment === '.' || segment === '..') return undefined;
    if (/[/\\\0]/.test(segment) || /^[a-zA-Z]:/.test(segment)) return undefined;
    decoded.push(segment);
  }
  const path = decoded.join(sep);
  return isAbsolute(path) ? undefined : path;
}

function inside(root: string, file: string): boolean {
  const rel = relative(root, file);
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel));
}

function refuse(status: number, text: string, headers: Record<string, string> = {}): Response {
  return new Response(text, {
    status,
    headers: { 'content-type': 'text/plain; charset=utf-8', 'x-content-type-options': 'nosniff', ...headers },
  });
}
