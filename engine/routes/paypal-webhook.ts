// POST /v1/providers/paypal/webhook: PayPal's payouts item events. PayPal verifies an event by the
// exact text it sent, so this route alone keeps the raw body (its own JSON parser in this plugin scope;
// every other route still parses JSON as before). The verified outcome is recorded through the payout
// worker's `record`, the domain function that records the worker's own answers: one way to settle a
// payout. Answers: 200 recorded (or an event we do not act on), 400 bad_request, 401 refused, 503 when
// PayPal could not be asked, so that PayPal sends the event again.
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { apiPlugin, jsonSchema, type ApiError } from '../http/api.ts';
import { PayPalWebhookError, type PayPalProvider } from '../payouts/paypal.ts';
import { PayoutUnavailable } from '../payouts/provider.ts';
import type { PayoutWorker } from '../payouts/worker.ts';
import { errorSchema, style } from './native.ts';

const STATUS: Record<Exclude<PayPalWebhookError['code'], 'unsupported_event'>, 400 | 401 | 503> = {
  bad_request: 400,
  refused: 401,
  not_configured: 503,
};

const answerSchema = z.object({
  result: z.enum(['recorded', 'unknown_payout', 'unsupported_event']),
  payout_id: z.string().optional(),
  status: z.string().optional().describe('The payout state after the event: processing, paid or failed'),
});

export function paypalWebhookRoutes(paypal: PayPalProvider, payouts: Pick<PayoutWorker, 'record'>) {
  return async function routes(app: FastifyInstance) {
    apiPlugin(app, style, { notFound: false });
    // The body stays text here: a re-serialised event fails PayPal's signature check.
    app.removeAllContentTypeParsers();
    app.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => {
      done(null, body);
    });
    const fail = (status: 400 | 401 | 503, code: string, message: string) =>
      style.renderError({ status, code, message } satisfies ApiError);

    app.post(
      '/v1/providers/paypal/webhook',
      {
        schema: {
          summary: 'PayPal payouts webhook',
          description:
            'PAYMENT.PAYOUTS-ITEM.* events, verified with PayPal (verify-webhook-signature) before anything is recorded. 5xx means try again.',
          tags: ['Payout providers'],
          response: {
            200: jsonSchema(answerSchema, 'output'),
            400: jsonSchema(errorSchema, 'output'),
            401: jsonSchema(errorSchema, 'output'),
            503: jsonSchema(errorSchema, 'output'),
          },
        },
      },
      async (req, reply) => {
        const body = typeof req.body === 'string' ? req.body : '';
        try {
          const { payoutId, outcome } = await paypal.handleWebhook({ headers: req.headers, body });
          const state = await payouts.record(payoutId, paypal.name, outcome);
          req.log.info({ payoutId, status: outcome.status, state }, 'paypal webhook');
          // An id that is not a PayPal payout of ours (another system on the same PayPal account) is
          // acknowledged, so PayPal stops sending it, and changes nothing.
          return state === 'unknown'
            ? { result: 'unknown_payout', payout_id: payoutId }
            : { result: 'recorded', payout_id: payoutId, status: state };
        } catch (error) {
          if (error instanceof PayPalWebhookError) {
            if (error.code === 'unsupported_event') return { result: 'unsupported_event' };
            const status = STATUS[error.code];
            return reply.code(status).send(fail(status, error.code, error.message));
          }
          if (error instanceof PayoutUnavailable) {
            req.log.warn({ err: error.message }, 'paypal webhook: verification unavailable');
            return reply.code(503).send(fail(503, 'unavailable', error.message));
          }
          throw error;
        }
      },
    );
  };
}
