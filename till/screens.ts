// The screens on the local API: /cashier, /display and /manager answer the renderer's built pages
// (renderer/dist, made by `vite build`: see renderer/README.md), /assets/* their scripts and styles, and
// /screens/settings.json the store's name and locale. None holds data, so they answer without the
// launch token (a page reads it from its URL's fragment, or from Electron's preload); Host and Origin
// are still checked. Every answer carries a strict CSP: scripts and styles only from this origin, no
// inline ones, connections only to this origin and its WebSocket.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ScreenSettings } from '../contract/till-events.ts';
import type { LocalApiRoutes } from './api/server.ts';

interface Screen {
  path: string;
  title: string;
}

export const SCREENS: readonly Screen[] = [
  { path: '/cashier', title: 'Cashier' },
  { path: '/display', title: 'Customer display' },
  { path: '/manager', title: 'Manager' },
];

/** Where `vite build` puts the screens (renderer/vite.config.ts). */
export const SCREENS_DIST = fileURLToPath(new URL('../renderer/dist', import.meta.url));

/** The CSP of every screen answer; the WebSocket is named since `'self'` covers ws: only in newer browsers. */
export function screenCsp(host: string): string {
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self'",
    `connect-src 'self' ws://${host}`,
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}

const secure = (req: FastifyRequest, reply: FastifyReply) =>
  reply
    .header('content-security-policy', screenCsp(req.headers.host ?? ''))
    .header('x-content-type-options', 'nosniff')
    .header('referrer-policy', 'no-referrer');

const NOT_BUILT = `The screens are not built: run \`npx tsx renderer/build.ts\` (npm start does it by itself).\n`;

export function screenRoutes(settings: ScreenSettings, dist: string = SCREENS_DIST): LocalApiRoutes {
  return async ({ app }) => {
    // sendFile only: the routes below say which files are served (each exempt from the token) and how
    // long they may be cached.
    await app.register(fastifyStatic, { root: dist, serve: false, cacheControl: false });
    const noToken = { config: { launchToken: false } };
    const built = () => existsSync(dist);
    for (const screen of SCREENS) {
      app.get(screen.path, noToken, async (req, reply) => {
        secure(req, reply).header('cache-control', 'no-cache');
        if (!built()) return reply.code(503).type('text/plain; charset=utf-8').send(NOT_BUILT);
        return reply.sendFile(`${screen.path.slice(1)}/index.html`);
      });
    }
    // Hashed names (vite): a file never changes under its name. `send` refuses any path traversal.
    app.get('/assets/:file', noToken, async (req, reply) => {
      const { file } = req.params as { file: string };
      secure(req, reply).header('cache-control', 'public, max-age=31536000, immutable');
      return reply.sendFile(`assets/${file}`);
    });
    // Browsers ask for it by themselves: no icon rather than a 401 in the console.
    app.get('/favicon.ico', noToken, async (_req, reply) => reply.code(204).send());
    app.get('/screens/settings.json', noToken, async (req, reply) => {
      secure(req, reply).header('cache-control', 'no-cache');
      return settings;
    });
  };
}
