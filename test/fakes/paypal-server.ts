// A local PayPal (OAuth2 + Payouts v1 + webhook verification + "Log in with PayPal") on 127.0.0.1 that
// answers in PayPal's documented shapes (see engine/payouts/paypal.ts and paypal-connect.ts for the
// sources). Tests script it: item statuses, refusals, 5xx/429, requests that hang, token expiry, the
// rule that decides webhook signatures, and the account that signs in at /signin/authorize.
import { randomBytes } from 'node:crypto';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';

export type PayPalRoute = 'token' | 'create' | 'batch' | 'verify' | 'authorize' | 'userinfo';
export type Fault =
  | { kind: 'status'; status: number }
  | { kind: 'hang' }
  /** Creates the payout, then never answers (the client times out on a payout that exists). */
  | { kind: 'hang-after-create' };

export interface FakeBatch {
  payoutBatchId: string;
  senderBatchId: string;
  batchStatus: string;
  receiver: string;
  amount: { value: string; currency: string };
  senderItemId: string | undefined;
  item: { payoutItemId: string; transactionStatus: string; errors?: { name: string; message: string } };
}

export interface VerifyRequest {
  auth_algo: string;
  cert_url: string;
  transmission_id: string;
  transmission_sig: string;
  transmission_time: string;
  webhook_id: string;
  webhook_event: unknown;
}

/** The PayPal account that signs in at the fake's authorize page. */
export interface FakeAccount {
  email: string;
  confirmed: boolean;
}

export interface FakePayPalOptions {
  clientId?: string;
  clientSecret?: string;
  tokenTtlSeconds?: number;
  /** PayPal's clock (ms): a token stops working expires_in seconds after it was issued. */
  now?: () => number;
  /** Decides webhook signatures; default: transmission_sig must be "good-signature". */
  webhookRule?: (request: VerifyRequest) => boolean;
}

export interface FakePayPal {
  url: string;
  clientId: string;
  clientSecret: string;
  /** Tokens issued, and payout batches created, since start. */
  counts: { tokens: number; payoutsCreated: number; requests: Record<PayPalRoute, number> };
  /** Who signs in when a member follows a "Log in with PayPal" URL to this fake. */
  account: FakeAccount;
  /** The query of each authorize request, in order. */
  authorizeQueries: Record<string, string>[];
  batches: Map<string, FakeBatch>;
  /** Raw request bodies of POST /v1/payments/payouts, in order. */
  createBodies: string[];
  /** Raw request bodies of POST /v1/notifications/verify-webhook-signature. */
  verifyBodies: string[];
  /** Every token issued so far stops working (PayPal's expiry, seen from the client). */
  expireTokens(): void;
  /** The next `times` requests to `route` get this fault instead of an answer. */
  fault(route: PayPalRoute, fault: Fault, times?: number): void;
  /** The next payout creation is refused with this status and PayPal error body. */
  refuseNextCreate(status: number, body: object): void;
  setItemStatus(senderBatchId: string, status: string, errors?: { name: string; message: string }): void;
  setBatchStatus(senderBatchId: string, status: string): void;
  close(): Promise<void>;
}

function paypalId(): string {
  const alphabet = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789';
  return Array.from(randomBytes(13), (b) => alphabet[b % alphabet.length]).join('');
}

function error(name: string, message: string, details: object[] = [], links: object[] = []) {
  return {
    name,
    message,
    debug_id: randomBytes(6).toString('hex'),
    information_link: `https://developer.paypal.com/docs/api/payments.payouts-batch/#errors`,
    details,
    links,
  };
}

export async function startFakePayPal(options: FakePayPalOptions = {}): Promise<FakePayPal> {
  const clientId = options.clientId ?? 'test-client-id';
  const clientSecret = options.clientSecret ?? 'test-client-secret';
  const ttl = options.tokenTtlSeconds ?? 32_400;
  const rule = options.webhookRule ?? ((r: VerifyRequest) => r.transmission_sig === 'good-signature');
  const now = options.now ?? Date.now;
  const tokens = new Map<string, number>(); // token -> expiry (ms)
  const faults: { route: PayPalRoute; fault: Fault }[] = [];
  const refusals: { status: number; body: object }[] = [];
  const batches = new Map<string, FakeBatch>();
  const byPayoutBatchId = new Map<string, FakeBatch>();
  const counts = {
    tokens: 0,
    payoutsCreated: 0,
    requests: { token: 0, create: 0, batch: 0, verify: 0, authorize: 0, userinfo: 0 },
  };
  const account: FakeAccount = { email: 'jane.paypal@example.com', confirmed: true };
  const authorizeQueries: Record<string, string>[] = [];
  // Authorization codes (single use) and member tokens, each bound to the account that signed in.
  const codes = new Map<string, { account: FakeAccount; redirectUri: string }>();
  const memberTokens = new Map<string, FakeAccount>();
  const createBodies: string[] = [];
  const verifyBodies: string[] = [];

  const app: FastifyInstance = Fastify({ logger: false, forceCloseConnections: true });
  // Keep every body as its raw text: the tests look at exactly what the client sent.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string' }, (_req, body, done) => done(null, body));

  let url = '';

  /** Counts the request and applies a scripted fault; true when the fault has answered (or hangs). */
  async function faulted(route: PayPalRoute, reply: FastifyReply): Promise<boolean> {
    counts.requests[route] += 1;
    const i = faults.findIndex((f) => f.route === route && f.fault.kind !== 'hang-after-create');
    if (i < 0) return false;
    const { fault } = faults.splice(i, 1)[0]!;
    if (fault.kind === 'hang') {
      await new Promise(() => {}); // never answers; the connection is cut when the server closes
    }
    if (fault.kind === 'status') {
      await reply
        .code(fault.status)
        .send(error('INTERNAL_SERVER_ERROR', 'An internal server error has occurred.'));
    }
    return true;
  }

  function authorised(request: FastifyRequest, reply: FastifyReply): boolean {
    const auth = request.headers.authorization ?? '';
    const token = auth.startsWith('Bearer ') ? auth.slice(7) : '';
    const expires = tokens.get(token);
    if (expires !== undefined && now() < expires) return true;
    void reply
      .code(401)
      .send({ error: 'invalid_token', error_description: 'Token signature verification failed' });
    return false;
  }

  function batchBody(b: FakeBatch) {
    return {
      batch_header: {
        payout_batch_id: b.payoutBatchId,
        batch_status: b.batchStatus,
        time_created: new Date().toISOString(),
        sender_batch_header: { sender_batch_id: b.senderBatchId },
        amount: b.amount,
      },
      items: [
        {
          payout_item_id: b.item.payoutItemId,
          transaction_status: b.item.transactionStatus,
          payout_batch_id: b.payoutBatchId,
          payout_item: {
            recipient_type: 'EMAIL',
            amount: b.amount,
            receiver: b.receiver,
            ...(b.senderItemId === undefined ? {} : { sender_item_id: b.senderItemId }),
          },
          ...(b.item.errors === undefined ? {} : { errors: b.item.errors }),
          links: [
            { href: `${url}/v1/payments/payouts-item/${b.item.payoutItemId}`, rel: 'item', method: 'GET' },
          ],
        },
      ],
      links: [{ href: `${url}/v1/payments/payouts/${b.payoutBatchId}`, rel: 'self', method: 'GET' }],
    };
  }

  app.post('/v1/oauth2/token', async (request, reply) => {
    if (await faulted('token', reply)) return reply;
    const expected = `Basic ${Buffer.from(`${clientId}:${clientSecret}`).toString('base64')}`;
    if (request.headers.authorization !== expected) {
      return reply
        .code(401)
        .send({ error: 'invalid_client', error_description: 'Client Authentication failed' });
    }
    const form = new URLSearchParams(String(request.body));
    if (form.get('grant_type') === 'authorization_code') {
      const code = codes.get(form.get('code') ?? '');
      if (code === undefined || code.redirectUri !== form.get('redirect_uri')) {
        return reply
          .code(400)
          .send({ error: 'invalid_grant', error_description: 'Invalid authorization code' });
      }
      codes.delete(form.get('code') ?? ''); // an authorization code works once
      const token = `A23AA${randomBytes(24).toString('hex')}`;
      memberTokens.set(token, { ...code.account });
      return reply.send({
        token_type: 'Bearer',
        expires_in: 28_800,
        refresh_token: `R23AA${randomBytes(24).toString('hex')}`,
        access_token: token,
        scope: 'openid email',
        nonce: randomBytes(8).toString('hex'),
      });
    }
    if (String(request.body) !== 'grant_type=client_credentials') {
      return reply
        .code(400)
        .send({ error: 'unsupported_grant_type', error_description: 'Grant Type is NULL' });
    }
    const token = `A21AA${randomBytes(24).toString('hex')}`;
    tokens.set(token, now() + ttl * 1000);
    counts.tokens += 1;
    return reply.send({
      scope: 'https://uri.paypal.com/services/payments/payouts',
      access_token: token,
      token_type: 'Bearer',
      app_id: 'APP-80W284485P519543T',
      expires_in: ttl,
      nonce: randomBytes(8).toString('hex'),
    });
  });

  app.post('/v1/payments/payouts', async (request, reply) => {
    if (await faulted('create', reply)) return reply;
    if (!authorised(request, reply)) return reply;
    const text = String(request.body);
    createBodies.push(text);
    let body: any;
    try {
      body = JSON.parse(text);
    } catch {
      return reply
        .code(400)
        .send(error('MALFORMED_REQUEST', 'Incoming JSON request does not map to API request'));
    }
    const refusal = refusals.shift();
    if (refusal !== undefined) return reply.code(refusal.status).send(refusal.body);

    const details: object[] = [];
    const senderBatchId = body?.sender_batch_header?.sender_batch_id;
    if (typeof senderBatchId !== 'string' || senderBatchId.length === 0) {
      details.push({
        field: 'sender_batch_header.sender_batch_id',
        location: 'body',
        issue: 'Required field is missing',
      });
    }
    const items = Array.isArray(body?.items) ? body.items : [];
    if (items.length === 0)
      details.push({ field: 'items', location: 'body', issue: 'Required field is missing' });
    items.forEach((item: any, i: number) => {
      if (
        item?.recipient_type !== 'EMAIL' ||
        typeof item?.receiver !== 'string' ||
        !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(item.receiver)
      ) {
        details.push({
          field: `items[${i}].receiver`,
          location: 'body',
          issue: 'Receiver is invalid or does not match with type',
        });
      }
      if (typeof item?.amount?.value !== 'string' || !/^\d+(\.\d{1,3})?$/.test(item.amount.value)) {
        details.push({
          field: `items[${i}].amount.value`,
          location: 'body',
          issue: 'Amount value is invalid',
        });
      }
      if (typeof item?.amount?.currency !== 'string' || !/^[A-Z]{3}$/.test(item.amount.currency)) {
        details.push({
          field: `items[${i}].amount.currency`,
          location: 'body',
          issue: 'Currency is invalid',
        });
      }
    });
    if (details.length > 0)
      return reply.code(400).send(error('VALIDATION_ERROR', 'Invalid request - see details', details));

    const existing = batches.get(senderBatchId);
    if (existing !== undefined) {
      return reply.code(400).send(
        error(
          'USER_BUSINESS_ERROR',
          'User business error.',
          [
            {
              field: 'SENDER_BATCH_ID',
              location: 'body',
              issue: 'Batch with given sender_batch_id already exists',
            },
          ],
          [
            {
              href: `${url}/v1/payments/payouts/${existing.payoutBatchId}`,
              rel: 'self',
              method: 'GET',
              encType: 'application/json',
            },
          ],
        ),
      );
    }
    const item = items[0];
    const batch: FakeBatch = {
      payoutBatchId: paypalId(),
      senderBatchId,
      batchStatus: 'PENDING',
      receiver: item.receiver,
      amount: item.amount,
      senderItemId: item.sender_item_id,
      item: { payoutItemId: paypalId(), transactionStatus: 'PENDING' },
    };
    batches.set(senderBatchId, batch);
    byPayoutBatchId.set(batch.payoutBatchId, batch);
    counts.payoutsCreated += 1;
    const lost = faults.findIndex((f) => f.route === 'create' && f.fault.kind === 'hang-after-create');
    if (lost >= 0) {
      faults.splice(lost, 1);
      await new Promise(() => {});
    }
    return reply.code(201).send({
      batch_header: {
        payout_batch_id: batch.payoutBatchId,
        batch_status: 'PENDING',
        sender_batch_header: body.sender_batch_header,
      },
      links: [{ href: `${url}/v1/payments/payouts/${batch.payoutBatchId}`, rel: 'self', method: 'GET' }],
    });
  });

  app.get<{ Params: { id: string } }>('/v1/payments/payouts/:id', async (request, reply) => {
    if (await faulted('batch', reply)) return reply;
    if (!authorised(request, reply)) return reply;
    const batch = byPayoutBatchId.get(request.params.id);
    if (batch === undefined)
      return reply.code(404).send(error('RESOURCE_NOT_FOUND', 'The specified resource does not exist.'));
    return reply.send(batchBody(batch));
  });

  app.post('/v1/notifications/verify-webhook-signature', async (request, reply) => {
    if (await faulted('verify', reply)) return reply;
    if (!authorised(request, reply)) return reply;
    const text = String(request.body);
    verifyBodies.push(text);
    let body: VerifyRequest;
    try {
      body = JSON.parse(text) as VerifyRequest;
    } catch {
      return reply
        .code(400)
        .send(error('MALFORMED_REQUEST', 'Incoming JSON request does not map to API request'));
    }
    const required = [
      'auth_algo',
      'cert_url',
      'transmission_id',
      'transmission_sig',
      'transmission_time',
      'webhook_id',
    ] as const;
    const missing = required.filter((k) => typeof body[k] !== 'string' || body[k].length === 0);
    if (missing.length > 0 || typeof body.webhook_event !== 'object' || body.webhook_event === null) {
      return reply.code(400).send(
        error(
          'VALIDATION_ERROR',
          'Invalid request - see details',
          missing.map((m) => ({ field: m, location: 'body', issue: 'Required field is missing' })),
        ),
      );
    }
    return reply.send({ verification_status: rule(body) ? 'SUCCESS' : 'FAILURE' });
  });

  // "Log in with PayPal": the member signs in (as `account`, no page) and is sent back with a code.
  app.get('/signin/authorize', async (request, reply) => {
    if (await faulted('authorize', reply)) return reply;
    const query = request.query as Record<string, string>;
    authorizeQueries.push(query);
    const redirectUri = query.redirect_uri ?? '';
    if (
      query.client_id !== clientId ||
      query.response_type !== 'code' ||
      !(query.scope ?? '').split(' ').includes('openid') ||
      !/^https?:\/\//.test(redirectUri)
    ) {
      return reply.code(400).send({ error: 'invalid_request', error_description: 'Invalid request' });
    }
    const code = `C21AA${randomBytes(24).toString('hex')}`;
    codes.set(code, { account: { ...account }, redirectUri });
    const back = new URL(redirectUri);
    back.searchParams.set('code', code);
    if (query.state !== undefined) back.searchParams.set('state', query.state);
    return reply.redirect(back.toString(), 302);
  });

  app.get('/v1/identity/oauth2/userinfo', async (request, reply) => {
    if (await faulted('userinfo', reply)) return reply;
    const auth = request.headers.authorization ?? '';
    const member = memberTokens.get(auth.startsWith('Bearer ') ? auth.slice(7) : '');
    if (member === undefined) {
      return reply.code(401).send({ error: 'invalid_token', error_description: 'Invalid access token' });
    }
    if ((request.query as Record<string, string>).schema !== 'paypalv1.1') {
      return reply.code(400).send(error('INVALID_REQUEST', 'Request is not well-formed.'));
    }
    return reply.send({
      user_id: `https://www.paypal.com/webapps/auth/identity/user/${randomBytes(16).toString('base64url')}`,
      name: 'Jane Citizen',
      given_name: 'Jane',
      family_name: 'Citizen',
      emails: [{ value: member.email, primary: true, confirmed: member.confirmed }],
      verified_account: true,
    });
  });

  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  if (address === null || typeof address === 'string') throw new Error('fake PayPal has no port');
  url = `http://127.0.0.1:${address.port}`;

  function find(senderBatchId: string): FakeBatch {
    const b = batches.get(senderBatchId);
    if (b === undefined) throw new Error(`fake PayPal has no batch ${senderBatchId}`);
    return b;
  }

  return {
    url,
    clientId,
    clientSecret,
    counts,
    account,
    authorizeQueries,
    batches,
    createBodies,
    verifyBodies,
    expireTokens: () => tokens.clear(),
    fault: (route, fault, times = 1) => {
      for (let i = 0; i < times; i++) faults.push({ route, fault });
    },
    refuseNextCreate: (status, body) => {
      refusals.push({ status, body });
    },
    setItemStatus: (senderBatchId, status, errors) => {
      const b = find(senderBatchId);
      b.item = { ...b.item, transactionStatus: status, ...(errors === undefined ? {} : { errors }) };
      if (b.batchStatus === 'PENDING' || b.batchStatus === 'PROCESSING') b.batchStatus = 'SUCCESS';
    },
    setBatchStatus: (senderBatchId, status) => {
      find(senderBatchId).batchStatus = status;
    },
    close: () => app.close(),
  };
}

export { error as paypalError };

/** The engine's `payouts.paypal` options for this fake, "Log in with PayPal" included. */
export const paypalOptions = (fake: FakePayPal) => ({
  baseUrl: fake.url,
  authorizeUrl: `${fake.url}/signin/authorize`,
  clientId: fake.clientId,
  clientSecret: fake.clientSecret,
});
