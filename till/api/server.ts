// The till's local API for its windows (cashier, customer display, manager): HTTP and a WebSocket on
// loopback by default. Every request passes, in order: the Host check and the Origin check (a page
// from another site, or a DNS-rebinding page naming our address, gets 403), then the per-launch
// token, then, on operator routes, the operator's session and role; only then is the body read.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { Writable } from 'node:stream';
import cors from '@fastify/cors';
import websocket from '@fastify/websocket';
import type { WebSocket } from 'ws';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { z } from 'zod';
import { closeSilentConnectionsOnClose } from '../../engine/http/silent-connections.ts';
import type { Outbox } from '../outbox/outbox.ts';
import { OutboxError } from '../outbox/errors.ts';
import {
  LOOPBACK_HOSTS,
  LocalApiConfigSchema,
  type LocalApiConfigInput,
  type OperatorRole,
} from './config.ts';
import {
  CreateOperatorBodySchema,
  EarnBodySchema,
  IdParamSchema,
  PairBodySchema,
  RefundBodySchema,
  SignInBodySchema,
  UpdateOperatorBodySchema,
} from './bodies.ts';
import { ApiError, fromOutboxError } from './errors.ts';
import { ClientMessageSchema, encodeServerMessage, type ServerMessage } from './messages.ts';
import {
  createOperator,
  ensureFirstManager,
  listOperators,
  newToken,
  sessionOperator,
  signIn,
  signOut,
  updateOperator,
  type Operator,
} from './operators.ts';
import { createPairing } from './pairing.ts';

export const SESSION_HEADER = 'x-operator-session';
const EVENTS_PATH = '/api/events';
const PAIR_PATH = '/api/displays/pair';
// Routes whose caller has no launch token: the stream (its token comes in the first message) and a
// display being paired (its code is the credential). Host and Origin are still checked on them.
const WITHOUT_LAUNCH_TOKEN = new Set([EVENTS_PATH, PAIR_PATH]);

declare module 'fastify' {
  interface FastifyContextConfig {
    /**
     * false: the route answers without the launch token (Host and Origin are still checked). Only for
     * pages that hold no data (the screens' pages, which get the token from their URL's fragment).
     */
    launchToken?: boolean;
  }
}
const WS_AUTH_TIMEOUT_MS = 10_000;

export interface LocalApi {
  /** e.g. http://127.0.0.1:41234 */
  readonly url: string;
  /** The per-launch token: the caller shows it once to the windows it starts; it is never logged. */
  readonly token: string;
  /** Whether this start created the configured first manager. */
  readonly createdFirstManager: boolean;
  /** Every route served (method and URL pattern), for the tests that check each one is guarded. */
  readonly routes: readonly { method: string; url: string }[];
  close(): Promise<void>;
}

/**
 * What a module adding routes to the local API gets: the app to register on (after the Host, Origin
 * and token hook), the session and role check, the body parser that answers 400 in the API's shape,
 * and `publish`, which sends a message to every authenticated event stream.
 */
export interface LocalApiRouteContext {
  app: FastifyInstance;
  operator(req: FastifyRequest, role: OperatorRole): Promise<Operator>;
  parse<T>(schema: z.ZodType<T>, input: unknown): T;
  publish(message: ServerMessage): void;
  now(): number;
}
/** A module of routes (flows, history...): registered by `createLocalApi` before it listens. */
export type LocalApiRoutes = (ctx: LocalApiRouteContext) => void | Promise<void>;

export interface LocalApiOptions {
  outbox: Outbox;
  config: LocalApiConfigInput;
  /** Further routes, each module in its own file (see LocalApiRouteContext). */
  routes?: readonly LocalApiRoutes[];
  /** Where request logs go (pino JSON lines); standard output by default. */
  logStream?: Writable;
  now?: () => number;
}

function parse<T>(schema: z.ZodType<T>, input: unknown): T {
  const r = schema.safeParse(input);
  if (!r.success) throw new ApiError(400, 'validation_error', z.prettifyError(r.error));
  return r.data;
}

/**
 * An allowed origin as a browser sends it: scheme://host[:port] for http(s); any other scheme (the
 * Electron windows' tillback://app) as written, since URL.origin is "null" for every one of them.
 */
function originOf(configured: string): string {
  const u = new URL(configured);
  return u.protocol === 'http:' || u.protocol === 'https:' ? u.origin : `${u.protocol}//${u.host}`;
}

const digest = (s: string) => createHash('sha256').update(s).digest();
/** Constant-time comparison of a presented token with the launch token (hashes have equal lengths). */
const sameToken = (presented: string, token: string) => timingSafeEqual(digest(presented), digest(token));

function send(reply: FastifyReply, status: number, code: string, message: string): FastifyReply {
  return reply.code(status).send({ error: { code, message } });
}

export async function createLocalApi(options: LocalApiOptions): Promise<LocalApi> {
  const config = parse(LocalApiConfigSchema, options.config);
  const { outbox } = options;
  const { store } = outbox;
  const now = options.now ?? Date.now;
  const token = newToken();
  const createdFirstManager = await ensureFirstManager(store, config.firstManager, now());
  const allowedHosts = new Set<string>([
    ...LOOPBACK_HOSTS,
    ...(config.lanAddress ? [config.lanAddress] : []),
  ]);
  const allowedOrigins = new Set(config.allowedOrigins.map(originOf));
  const pairing = createPairing(store, now);
  let port = 0;
  /** The authenticated event streams, with the paired display each belongs to (none: a till window). */
  const streams = new Map<WebSocket, number | undefined>();
  const publish = (message: ServerMessage) => {
    const encoded = encodeServerMessage(message);
    for (const socket of streams.keys()) socket.send(encoded);
  };
  const offQueue = outbox.onState((queue) => publish({ type: 'queue_state', queue }));

  const app = Fastify({
    logger: { level: 'info', stream: options.logStream ?? process.stdout },
    bodyLimit: 16 * 1024,
  });
  closeSilentConnectionsOnClose(app);
  const routes: { method: string; url: string }[] = [];
  app.addHook('onRoute', (route) => {
    for (const method of [route.method].flat())
      if (method !== 'HEAD') routes.push({ method, url: route.url });
  });
  await app.register(websocket);
  // An empty body with a JSON content type is no body (a `curl -H 'Content-Type: application/json'`
  // of a route that takes none, such as cancel); the routes that need one say so in their 400.
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => {
    const text = (body as string).trim();
    try {
      done(null, text === '' ? undefined : JSON.parse(text));
    } catch (error) {
      done(Object.assign(new Error(`Malformed JSON: ${(error as Error).message}`), { statusCode: 400 }));
    }
  });

  const hostname = (hostHeader: string | undefined): string | undefined => {
    if (!hostHeader) return undefined;
    try {
      return new URL(`http://${hostHeader}`).hostname.toLowerCase();
    } catch {
      return undefined;
    }
  };
  const originAllowed = (origin: string): boolean => {
    if (allowedOrigins.has(origin)) return true;
    let u: URL;
    try {
      u = new URL(origin);
    } catch {
      return false;
    }
    // The API's own origin, under any name the Host check accepts (the browser-mode pages).
    return u.protocol === 'http:' && allowedHosts.has(u.hostname.toLowerCase()) && u.port === String(port);
  };

  app.addHook('onRequest', async (req, reply) => {
    const host = hostname(req.headers.host);
    if (!host || !allowedHosts.has(host)) return send(reply, 403, 'host_not_allowed', 'Host not allowed');
    const origin = req.headers.origin;
    if (origin !== undefined && !originAllowed(origin))
      return send(reply, 403, 'origin_not_allowed', 'Origin not allowed');
    // A CORS preflight carries no credentials by design: @fastify/cors (next hook) answers it for an
    // origin allowed above; OPTIONS serves nothing else.
    if (req.method === 'OPTIONS') return;
    if (
      WITHOUT_LAUNCH_TOKEN.has(req.routeOptions.url ?? '') ||
      req.routeOptions.config?.launchToken === false
    )
      return;
    const auth = req.headers.authorization;
    const presented = auth?.startsWith('Bearer ') ? auth.slice('Bearer '.length) : undefined;
    if (presented === undefined || !sameToken(presented, token))
      return send(reply, 401, 'unauthorized', 'Missing or wrong launch token');
  });
  // Pages of another allowed origin (the Electron windows at tillback://app, a configured one) call
  // with an Authorization header, which makes the browser ask first. Only origins that passed the
  // check above get here, so every one is reflected; our own pages need no CORS at all.
  await app.register(cors, {
    origin: true,
    methods: ['GET', 'POST', 'PATCH', 'DELETE'],
    allowedHeaders: ['authorization', 'content-type', SESSION_HEADER],
    maxAge: 600,
  });

  app.setErrorHandler((err, req, reply) => {
    if (err instanceof ApiError) return send(reply, err.status, err.code, err.message);
    if (err instanceof OutboxError) {
      const e = fromOutboxError(err);
      return send(reply, e.status, e.code, e.message);
    }
    const status = (err as { statusCode?: unknown }).statusCode;
    if (typeof status === 'number' && status >= 400 && status < 500)
      return send(reply, status, 'bad_request', (err as Error).message);
    req.log.error({ err }, 'local API error');
    return send(reply, 500, 'internal', 'Internal error');
  });
  app.setNotFoundHandler((req, reply) => send(reply, 404, 'not_found', `No route ${req.method} ${req.url}`));

  /** The signed-in operator, if their role allows the route (a manager may do what a cashier may). */
  async function operator(req: FastifyRequest, role: OperatorRole): Promise<Operator> {
    const session = req.headers[SESSION_HEADER];
    const op = typeof session === 'string' ? await sessionOperator(store, session, now()) : undefined;
    if (!op) throw new ApiError(401, 'session_required', `Sign in first (${SESSION_HEADER} header)`);
    if (role === 'manager' && op.role !== 'manager')
      throw new ApiError(403, 'forbidden', 'This needs a manager');
    return op;
  }

  app.get('/api/health', async () => ({ ok: true }));

  app.post('/api/operators/sign-in', async (req) => {
    const body = parse(SignInBodySchema, req.body);
    const s = await signIn(store, body, now, config.sessionTtlMinutes * 60_000);
    return { session: s.token, operator: s.operator, expiresAt: s.expiresAt };
  });

  app.post('/api/operators/sign-out', async (req, reply) => {
    await operator(req, 'cashier');
    await signOut(store, req.headers[SESSION_HEADER] as string);
    return reply.code(204).send();
  });

  app.get('/api/operators', async (req) => {
    await operator(req, 'manager');
    return { operators: await listOperators(store) };
  });

  app.patch('/api/operators/:id', async (req) => {
    await operator(req, 'manager');
    const { id } = parse(IdParamSchema, req.params);
    const change = parse(UpdateOperatorBodySchema, req.body);
    return { operator: await updateOperator(store, id, change, now()) };
  });

  app.post('/api/operators', async (req, reply) => {
    await operator(req, 'manager');
    const body = parse(CreateOperatorBodySchema, req.body);
    return reply.code(201).send({ operator: await createOperator(store, body, now()) });
  });

  const enqueueRoute =
    (type: 'earn' | 'refund', schema: typeof EarnBodySchema | typeof RefundBodySchema) =>
    async (req: FastifyRequest, reply: FastifyReply) => {
      const op = await operator(req, 'cashier');
      const body = parse<object>(schema, req.body);
      const id = await outbox.enqueue({ ...body, type, cashier: op.name });
      return reply.code(201).send({ id, state: 'queued', queue: await outbox.state() });
    };
  app.post('/api/earn', enqueueRoute('earn', EarnBodySchema));
  app.post('/api/refund', enqueueRoute('refund', RefundBodySchema));

  app.get('/api/queue', async (req) => {
    await operator(req, 'cashier');
    return { queue: await outbox.state() };
  });

  app.post('/api/displays/pairing-code', async (req, reply) => {
    await operator(req, 'manager');
    return reply.code(201).send(pairing.newCode());
  });

  app.get('/api/displays', async (req) => {
    await operator(req, 'manager');
    return { displays: await pairing.list() };
  });

  app.delete('/api/displays/:id', async (req, reply) => {
    await operator(req, 'manager');
    const { id } = parse(IdParamSchema, req.params);
    await pairing.remove(id);
    // Its open streams end now, not at its next reconnect.
    for (const [socket, displayId] of streams) if (displayId === id) socket.close(4401, 'display unpaired');
    return reply.code(204).send();
  });

  app.post(PAIR_PATH, async (req, reply) => {
    const body = parse(PairBodySchema, req.body);
    const { token: displayToken, displayId } = await pairing.claim(body.code, body.name);
    return reply.code(201).send({ token: displayToken, displayId });
  });

  app.get(EVENTS_PATH, { websocket: true }, (socket) => {
    let unsubscribe: (() => void) | undefined;
    const refuse = (message: string) => {
      socket.send(encodeServerMessage({ type: 'error', error: { code: 'unauthorized', message } }));
      socket.close(4401, 'unauthorized');
    };
    const timer = setTimeout(() => refuse('No auth message'), WS_AUTH_TIMEOUT_MS);
    async function authenticate(data: Buffer): Promise<void> {
      let msg: unknown;
      try {
        msg = JSON.parse(data.toString('utf8'));
      } catch {
        return refuse('The first message must be {"type":"auth","token":...}');
      }
      const auth = ClientMessageSchema.safeParse(msg);
      if (!auth.success) return refuse('The first message must be {"type":"auth","token":...}');
      // The launch token (the till's own windows) or a paired display's token.
      const launch = sameToken(auth.data.token, token);
      const displayId = launch ? undefined : await pairing.displayOf(auth.data.token);
      if (!launch && displayId === undefined) return refuse('Wrong token');
      const queue = await outbox.state();
      if (socket.readyState !== socket.OPEN) return;
      // ready first, then the changes: a client always sees ready before any queue_state.
      socket.send(encodeServerMessage({ type: 'ready', queue }));
      streams.set(socket, displayId);
      unsubscribe = () => streams.delete(socket);
    }
    // Only the first message counts: a later one is ignored, not an error.
    socket.once('message', (data: Buffer) => {
      clearTimeout(timer);
      authenticate(data).catch((err: unknown) => {
        app.log.error({ err }, 'event stream auth failed');
        socket.close(1011, 'internal error');
      });
    });
    socket.on('close', () => {
      clearTimeout(timer);
      unsubscribe?.();
    });
  });

  for (const routes of options.routes ?? []) await routes({ app, operator, parse, publish, now });

  await app.listen({ host: config.host, port: config.port });
  port = (app.server.address() as AddressInfo).port;
  const shownHost = config.host.includes(':') ? `[${config.host}]` : config.host;
  return {
    url: `http://${shownHost}:${port}`,
    token,
    createdFirstManager,
    routes,
    close: async () => {
      offQueue();
      await app.close();
    },
  };
}
