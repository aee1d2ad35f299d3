// POST /v1/batch: several earns and refunds in one request, for a till delivering its offline queue.
// Each operation carries its own idempotency key, under the same scope as the single route
// (`native:earn`, `native:refund`), so an operation is one operation whichever route delivered it and
// however often: a batch resent after a lost answer gets each stored answer back. The engine applies
// them in the order given, in one transaction (domain/in-order.ts), and answers each with the status
// and body the single route would have given; one refused operation does not stop the others. Only a
// failure of the engine itself (500) answers the request as a whole, with nothing applied.
import type { FastifyInstance } from 'fastify';
import { ZodError } from 'zod';
import {
  BatchAnswerSchema,
  BatchRequestSchema,
  MAX_BATCH,
  type BatchOperation,
  type BatchResult,
} from '../../contract/native-batch.ts';
import type { App } from '../domain/apps.ts';
import { earnIn, refundIn } from '../domain/cashback.ts';
import type { DomainContext } from '../domain/context.ts';
import { DomainError } from '../domain/errors.ts';
import { inOrder } from '../domain/in-order.ts';
import { programReader } from '../domain/programs.ts';
import type { Tx } from '../store/store.ts';
import { apiPlugin, defineRoute, toApiError, type Authenticate } from '../http/api.ts';
import {
  earnBody,
  earnInput,
  earnOut,
  errors,
  keyOf,
  refundBody,
  refundInput,
  refundOut,
  style,
} from './native.ts';

// The single routes' bodies, strict as the native API's are (http/api.ts makes them so for the routes).
const earnOperation = earnBody.strict();
const refundOperation = refundBody.strict();

type Operation = (tx: Tx) => Promise<BatchResult>;

const refused = (error: unknown): BatchResult => {
  const e = toApiError(error);
  return { status: e.status, body: style.renderError(e) as Record<string, unknown> };
};

/** The operation to run in the transaction, or the answer when it is refused before it runs. */
function prepare(
  ctx: DomainContext,
  client: App,
  op: BatchOperation,
  programs: ReturnType<typeof programReader>,
): Operation | BatchResult {
  try {
    const key = keyOf({ 'idempotency-key': op.idempotency_key }, client, op.type);
    if (op.type === 'earn') {
      const input = earnInput(ctx, earnOperation.parse(op.body), client, key);
      return async (tx) => ({ status: 200, body: earnOut(await earnIn(ctx, tx, input, programs)) });
    }
    const input = refundInput(ctx, refundOperation.parse(op.body), client, key);
    return async (tx) => ({ status: 200, body: refundOut(await refundIn(ctx, tx, input)) });
  } catch (error) {
    if (error instanceof DomainError || error instanceof ZodError) return refused(error);
    throw error;
  }
}

export function nativeBatchRoutes(ctx: DomainContext, authenticate: Authenticate) {
  return async function routes(app: FastifyInstance) {
    apiPlugin(app, style, { notFound: false }); // nativeRoutes answers unknown /v1 paths
    defineRoute(app, style, authenticate, {
      method: 'POST',
      url: '/batch',
      summary: 'Earns and refunds in one request, applied in order',
      description: `Up to ${MAX_BATCH} operations, each {type, idempotency_key, body} as POST /v1/earn or /v1/refund takes them, applied in the order given in one transaction. The answer lists, in the same order, the status and body each single request would have got: a refused operation (4xx) changes nothing and the others still apply. Keys share the single routes' scope: an operation sent both ways, or twice, is applied once. A 500 answers the whole batch and applies none of it.`,
      tags: ['Native: operations'],
      scope: 'cashback_write',
      body: BatchRequestSchema,
      response: { 200: BatchAnswerSchema, ...errors },
      handler: async ({ body, app: client }) => {
        const programs = programReader(ctx.store);
        const prepared = body.operations.map((op) => prepare(ctx, client, op, programs));
        const runs = prepared.filter((p): p is Operation => typeof p === 'function');
        const settled = await ctx.store.transact((tx) => inOrder(tx, runs));
        programs.committed();
        let next = 0;
        const results = prepared.map((p) => {
          if (typeof p !== 'function') return p;
          const s = settled[next++];
          if (!s) throw new Error('an operation of the batch has no outcome');
          return s.ok ? s.value : refused(s.error);
        });
        return { results };
      },
    });
  };
}
