// A local Payoneer (application token + v4 payee onboarding) on 127.0.0.1 answering in the shapes
// engine/payouts/payoneer.ts reads (see its sources): registration links for our payee ids, a
// registration page that registers the payee and sends the member back to redirect_url, payee status,
// and scripted faults.
import { randomBytes } from 'node:crypto';
import Fastify, { type FastifyReply, type FastifyRequest } from 'fastify';

export type PayoneerRoute = 'token' | 'link' | 'status';

export interface FakePayoneer {
  url: string;
  clientId: string;
  clientSecret: string;
  programId: string;
  /** Payee id -> status description; a payee appears when they register ("ACTIVE" unless `approve` is off). */
  payees: Map<string, string>;
  /** Whether a member who registers is approved at once (else "INACTIVE" until a test says otherwise). */
  approve: boolean;
  /** Raw bodies of each registration-link request, in order. */
  linkBodies: string[];
  counts: Record<PayoneerRoute, number>;
  /** The next request to `route` answers this HTTP status with a Payoneer error body. */
  fail(route: PayoneerRoute, status: number): void;
  close(): Promise<void>;
}

const payoneerError = (error: string, description: string) => ({
  error,
  error_description: description,
  audit_id: randomBytes(6).readUIntBE(0, 6),
});

export async function startFakePayoneer(): Promise<FakePayoneer> {
  const clientId = 'payoneer-client';
  const clientSecret = 'payoneer-secret';
  const programId = '100086520';
  const tokens = new Set<string>();
  const pending = new Map<string, { payeeId: string; redirectUrl: string }>(); // registration token -> payee
  const failures: { route: PayoneerRoute; status: number }[] = [];
  const counts: Record<PayoneerRoute, number> = { token: 0, link: 0, status: 0 };
  const app = Fastify({ logger: false, forceCloseConnections: true });
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string' }, (_req, body, done) => done(null, body));

  const fake: FakePayoneer = {
    url: '',
    clientId,
    clientSecret,
    programId,
    payees: new Map(),
    approve: true,
    linkBodies: [],
    counts,
    fail: (route, status) => void failures.push({ route, status }),
    close: () => app.close(),
  };

  function failed(route: PayoneerRoute, reply: FastifyReply): boolean {
    counts[route] += 1;
    const i = failures.findIndex((f) => f.route === route);
    if (i < 0) return false;
    const { status } = failures.splice(i, 1)[0]!;
    void reply.code(status).send(payoneerError('Service Unavailable', 'Payoneer is down for maintenance'));
    return true;
  }

  function authorised(request: FastifyRequest, reply: FastifyReply): boolean {
    const auth = request.headers.authorization ?? '';
    if (auth.startsWith('Bearer ') && tokens.has(auth.slice(7))) return true;
    void reply.code(401).send(payoneerError('Unauthorized', 'Invalid access token'));
    return false;
  }

  app.post('/api/v2/oauth2/token', async (request, reply) => {
    if (failed('token', reply)) return reply;
    const expected = `Basic ${Buffer.from(`${clientId}:${clientSecret}`).toString('base64')}`;
    const form = new URLSearchParams(String(request.body));
    if (request.headers.authorization !== expected || form.get('grant_type') !== 'client_credentials') {
      return reply
        .code(401)
        .send({ error: 'invalid_client', error_description: 'Client authentication failed' });
    }
    const token = randomBytes(24).toString('hex');
    tokens.add(token);
    return reply.send({
      token_type: 'Bearer',
      access_token: token,
      expires_in: 2_592_000,
      consented_on: Math.floor(Date.now() / 1000),
      scope: form.get('scope') ?? 'read write',
    });
  });

  app.post<{ Params: { program: string } }>(
    '/v4/programs/:program/payees/registration-link',
    async (request, reply) => {
      if (failed('link', reply)) return reply;
      if (!authorised(request, reply)) return reply;
      if (request.params.program !== programId) {
        return reply.code(404).send(payoneerError('Not Found', 'Program not found'));
      }
      fake.linkBodies.push(String(request.body));
      let body: { payee_id?: unknown; redirect_url?: unknown };
      try {
        body = JSON.parse(String(request.body)) as typeof body;
      } catch {
        return reply.code(400).send(payoneerError('Bad Request', 'Malformed JSON'));
      }
      if (typeof body.payee_id !== 'string' || !/^[\w.-]{1,64}$/.test(body.payee_id)) {
        return reply.code(400).send(payoneerError('Bad Request', 'payee_id is invalid'));
      }
      const registration = randomBytes(16).toString('hex');
      pending.set(registration, {
        payeeId: body.payee_id,
        redirectUrl: typeof body.redirect_url === 'string' ? body.redirect_url : '',
      });
      return reply.send({
        result: {
          registration_link: `${fake.url}/partners/lp.aspx?token=${registration}`,
          token: registration,
        },
      });
    },
  );

  // The member registers on Payoneer's page (no form here) and is sent back to redirect_url.
  app.get('/partners/lp.aspx', async (request, reply) => {
    const registration = pending.get((request.query as { token?: string }).token ?? '');
    if (registration === undefined) return reply.code(404).send('Link expired');
    fake.payees.set(registration.payeeId, fake.approve ? 'ACTIVE' : 'INACTIVE');
    return reply.redirect(registration.redirectUrl, 302);
  });

  app.get<{ Params: { program: string; payee: string } }>(
    '/v4/programs/:program/payees/:payee/status',
    async (request, reply) => {
      if (failed('status', reply)) return reply;
      if (!authorised(request, reply)) return reply;
      const status = fake.payees.get(request.params.payee);
      if (request.params.program !== programId || status === undefined) {
        return reply.code(404).send(payoneerError('Not Found', 'Payee was not found'));
      }
      return reply.send({ result: { status: { type: status === 'ACTIVE' ? 1 : 0, description: status } } });
    },
  );

  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  if (address === null || typeof address === 'string') throw new Error('fake Payoneer has no port');
  fake.url = `http://127.0.0.1:${address.port}`;
  return fake;
}

/** The engine's `payouts.payoneer` options for this fake. */
export const payoneerOptions = (fake: FakePayoneer) => ({
  baseUrl: fake.url,
  tokenUrl: `${fake.url}/api/v2/oauth2/token`,
  clientId: fake.clientId,
  clientSecret: fake.clientSecret,
  programId: fake.programId,
});
