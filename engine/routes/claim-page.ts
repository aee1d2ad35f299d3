// GET /c/:id, the claim URL, until the claim page (renderer/) is built: a plain-text placeholder
// saying what the claim is and where its API is. Plain text, so nothing in it can run.
import type { FastifyInstance } from 'fastify';
import { formatAmount } from '../../contract/money.ts';
import { getClaim } from '../domain/claims.ts';
import type { DomainContext } from '../domain/context.ts';
import { DomainError } from '../domain/errors.ts';

export function claimPageRoutes(ctx: DomainContext) {
  return async function routes(app: FastifyInstance) {
    app.get('/c/:id', { schema: { hide: true } }, async (req, reply) => {
      void reply
        .header('content-type', 'text/plain; charset=utf-8')
        .header('content-security-policy', "default-src 'none'")
        .header('cache-control', 'no-store');
      const { id } = req.params as { id: string };
      try {
        const c = await getClaim(ctx, id);
        return [
          `Cashout from ${c.storeName}: ${formatAmount(c.amount, c.currency)} ${c.currency}`,
          `Status: ${c.state}; open until ${new Date(c.expiresAt).toISOString()}`,
          '',
          `The claim page is not built yet. Its API: /v1/public/claims/${c.id}`,
        ].join('\n');
      } catch (error) {
        if (!(error instanceof DomainError)) throw error;
        return reply.code(404).send('No such claim\n');
      }
    });
  };
}
