// Native API for a chain's reports (/v1/reports, admin scope): transactions per store and till, for a
// head office reading one central engine (or, on PostgreSQL, a read replica of its database).
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { DomainContext } from '../domain/context.ts';
import { MAX_REPORT_DAYS, tillReport } from '../domain/reports.ts';
import { apiPlugin, defineRoute, type Authenticate, type RouteSpec } from '../http/api.ts';
import { currencyCode, errorSchema, errors, style } from './native.ts';
import { isoTime } from './shared.ts';

/** A UTC instant in a query string, `2026-11-30` or `2026-11-30T09:00:00Z`, as epoch milliseconds. */
const queryInstant = z
  .union([z.iso.date(), z.iso.datetime()], { error: 'must be an ISO-8601 date or UTC date-time' })
  .transform((text) => Date.parse(text.length === 10 ? `${text}T00:00:00Z` : text));

export function nativeReportRoutes(ctx: DomainContext, authenticate: Authenticate) {
  return async function routes(app: FastifyInstance) {
    apiPlugin(app, style, { notFound: false }); // nativeRoutes answers unknown /v1 paths
    const route = <B = undefined, Q = undefined, P = undefined, H = undefined>(spec: RouteSpec<B, Q, P, H>) =>
      defineRoute(app, style, authenticate, spec);

    route({
      method: 'GET',
      url: '/reports/tills',
      summary: 'Transactions per store, till, type and currency over a time range',
      description: `Transactions created in [from, to), at most ${MAX_REPORT_DAYS} days, grouped by the store and till of the app that made them (apps create --store --till); other apps report under null. amount is the signed effect on members' cashback, purchase_amount the purchases (earns and refunds), both in minor units. With a read replica configured (db.replicaUrl) the report is read there and may lag the latest transactions by the replica's replay delay; 503 replica_unavailable while it cannot be reached.`,
      tags: ['Native: reports'],
      scope: 'admin',
      query: z.object({ from: queryInstant, to: queryInstant }).strict(),
      response: {
        200: z.object({
          from: z.string(),
          to: z.string(),
          rows: z.array(
            z.object({
              store: z.string().nullable(),
              till: z.string().nullable(),
              type: z.string(),
              currency: currencyCode,
              count: z.number().int(),
              amount: z.number().int(),
              purchase_amount: z.number().int(),
            }),
          ),
        }),
        ...errors,
        503: errorSchema,
      },
      handler: async ({ query }) => {
        // A head office's report may lag: on a chain with a replica it is read there, off the primary.
        const rows = await tillReport(ctx.laggingStore, query);
        return {
          from: isoTime(query.from),
          to: isoTime(query.to),
          rows: rows.map(({ purchaseAmount, ...r }) => ({ ...r, purchase_amount: purchaseAmount })),
        };
      },
    });
  };
}
