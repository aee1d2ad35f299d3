// GET /c/:id, the claim URL the customer display shows as a QR code: the claim page
// (engine/claim-page/) in the customer's language, and its script and stylesheet under /c/assets/.
// The page runs under a Content-Security-Policy that allows nothing but its own two files and the
// claim page's API on this origin; it talks to that API itself (see native-claims.ts).
import type { FastifyInstance, FastifyReply } from 'fastify';
import { buildClaimPageAssets, type ClaimPageAssets } from '../claim-page/assets.ts';
import { pickLanguage } from '../claim-page/language.ts';
import { getClaim } from '../domain/claims.ts';
import type { DomainContext } from '../domain/context.ts';
import { DomainError } from '../domain/errors.ts';

export const CLAIM_PAGE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "connect-src 'self'",
  "img-src 'self'",
  "form-action 'none'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join('; ');

function secureHeaders(reply: FastifyReply, cacheControl: string) {
  void reply
    .header('content-security-policy', CLAIM_PAGE_CSP)
    .header('x-content-type-options', 'nosniff')
    .header('referrer-policy', 'no-referrer')
    .header('cache-control', cacheControl);
}

export function claimPageRoutes(ctx: DomainContext) {
  // Built at the first request, not at engine start: an engine that never serves the page (tests,
  // a central engine behind another front end) never starts esbuild.
  let assets: Promise<ClaimPageAssets> | undefined;
  const loadAssets = () =>
    (assets ??= buildClaimPageAssets().catch((error: unknown) => {
      assets = undefined;
      throw error;
    }));

  return async function routes(app: FastifyInstance) {
    app.get('/c/:id', { schema: { hide: true } }, async (req, reply) => {
      const { id } = req.params as { id: string };
      const { lang: chosen } = req.query as { lang?: string };
      const page = await loadAssets();
      const lang = pickLanguage(page.languages, chosen, req.headers['accept-language']);
      // An unknown claim still gets the page (it says so in the customer's language), with a 404.
      const known = await getClaim(ctx, id).then(
        () => true,
        (error: unknown) => {
          if (error instanceof DomainError && error.code === 'not_found') return false;
          throw error;
        },
      );
      secureHeaders(reply, 'no-store');
      return reply
        .code(known ? 200 : 404)
        .header('content-type', 'text/html; charset=utf-8')
        .header('content-language', lang)
        .send(page.page(lang));
    });

    // Every browser asks for /favicon.ico; "no content" is a quieter answer than a 404 in its console.
    app.get('/favicon.ico', { schema: { hide: true } }, async (_req, reply) =>
      reply.code(204).header('cache-control', 'public, max-age=86400').send(),
    );

    app.get('/c/assets/:name', { schema: { hide: true } }, async (req, reply) => {
      const { name } = req.params as { name: string };
      const asset = (await loadAssets()).asset(name);
      if (!asset) {
        secureHeaders(reply, 'no-store');
        return reply.code(404).header('content-type', 'text/plain; charset=utf-8').send('Not found\n');
      }
      // Named by their content's hash: a new version has a new name, so these may be kept for good.
      secureHeaders(reply, 'public, max-age=31536000, immutable');
      return reply.header('content-type', asset.type).send(asset.body);
    });
  };
}
