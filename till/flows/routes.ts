// The flows on the local API (cashier role): start one, follow it, give it typed input, cancel it.
// Every FlowEvent goes to every event stream as a `flow` message. POST /api/earn and /api/refund stay
// as they are for an external POS that only records sales.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { EarnBodySchema } from '../api/bodies.ts';
import { ApiError } from '../api/errors.ts';
import type { LocalApiRouteContext, LocalApiRoutes } from '../api/server.ts';
import type { FlowEvent } from './events.ts';
import { FlowError, type FlowStart, type Flows } from './runner.ts';

// A member the cashier types or a POS sends: the queue's member forms, except a card, which is only
// ever named by swiping it (its number must not travel through the API).
const typedMember = EarnBodySchema.shape.member.refine((m) => !('card' in m), {
  error: 'a card is named by swiping it, not in a request',
});
const amount = z.number().int('must be an integer number of minor units').positive('must be positive');
const { programId, currency, reference } = EarnBodySchema.shape;
// The program and its currency default to the till's (flows config `program`).
const sale = {
  programId: programId.optional(),
  currency: currency.optional(),
  amount,
  reference,
  member: typedMember.optional(),
};

export const EarnFlowBodySchema = z.object({ ...sale, memberName: EarnBodySchema.shape.memberName }).strict();
export const RedeemFlowBodySchema = z.object(sale).strict();
export const CashoutFlowBodySchema = z.object(sale).strict();
export const RefundFlowBodySchema = z
  .object({
    original: z.union([
      z.object({ operationId: z.uuid() }).strict(),
      z.object({ reference: z.string().min(1).max(128) }).strict(),
    ]),
    amount: amount.optional(),
    reference,
    member: typedMember.optional(),
    programId: programId.optional(),
    currency: currency.optional(),
  })
  .strict();
export const FlowInputBodySchema = z.union([
  z.object({ member: typedMember }).strict(),
  z.object({ code: z.string().regex(/^\d{6}$/, 'a one-time code is 6 digits') }).strict(),
]);

const STATUS: Record<FlowError['code'], number> = { flow_busy: 409, no_flow: 404, not_waiting: 409 };

/** Runs a flow operation, answering a FlowError in the API's error shape. */
function flowCall(fn: () => FlowEvent): FlowEvent {
  try {
    return fn();
  } catch (error) {
    if (error instanceof FlowError) throw new ApiError(STATUS[error.code], error.code, error.message);
    throw error;
  }
}

export function flowRoutes(flows: Flows): LocalApiRoutes {
  return (ctx: LocalApiRouteContext) => {
    const { app } = ctx;
    const off = flows.onEvent((flow) => ctx.publish({ type: 'flow', flow }));
    app.addHook('onClose', async () => off());

    type InputOf<K extends FlowStart['kind']> = Omit<Extract<FlowStart, { kind: K }>['input'], 'cashier'>;
    type BodyOf<K extends FlowStart['kind']> = Omit<InputOf<K>, 'programId' | 'currency'> & {
      programId?: number | undefined;
      currency?: string | undefined;
    };
    const startRoute =
      <K extends FlowStart['kind']>(kind: K, schema: z.ZodType<BodyOf<K>>) =>
      async (req: FastifyRequest, reply: FastifyReply) => {
        const op = await ctx.operator(req, 'cashier');
        const body = ctx.parse(schema, req.body);
        // The till's program unless the body names one; a sale needs one (a refund only for a purchase
        // the till never saw, which the refund flow checks).
        const programId = body.programId ?? flows.program?.id;
        const currency = body.currency ?? flows.program?.currency;
        if (kind !== 'refund' && (programId === undefined || currency === undefined)) {
          throw new ApiError(
            400,
            'validation_error',
            'programId and currency: this till has no program of its own, name one',
          );
        }
        const input = { ...body, programId, currency, cashier: op.name };
        const flow = flowCall(() => flows.start({ kind, input } as Extract<FlowStart, { kind: K }>));
        return reply.code(201).send({ flowId: flow.flowId, state: flow });
      };
    app.post('/api/flows/earn', startRoute('earn', EarnFlowBodySchema));
    app.post('/api/flows/redeem', startRoute('redeem', RedeemFlowBodySchema));
    app.post('/api/flows/refund', startRoute('refund', RefundFlowBodySchema));
    app.post('/api/flows/cashout', startRoute('cashout', CashoutFlowBodySchema));

    app.get('/api/flows/current', async (req) => {
      await ctx.operator(req, 'cashier');
      const flow = flows.current();
      if (!flow) throw new ApiError(404, 'no_flow', 'No flow has run on this till yet');
      return { flow };
    });
    app.post('/api/flows/current/cancel', async (req) => {
      await ctx.operator(req, 'cashier');
      return { flow: flowCall(() => flows.cancel()) };
    });
    app.post('/api/flows/current/input', async (req) => {
      await ctx.operator(req, 'cashier');
      const body = ctx.parse(FlowInputBodySchema, req.body);
      return { flow: flowCall(() => flows.input(body)) };
    });
  };
}
