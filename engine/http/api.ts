// One way to declare a route: zod schemas for params, query, body and responses (validated here,
// and turned into the OpenAPI document), the scope it needs, and a handler that calls the domain.
// Each API (native, seed 002, seed 004) is a Fastify plugin with its own error shape and its own
// place for credentials; `apiPlugin` wires both so every error of that API comes out in its shape.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z, ZodError, type ZodType } from 'zod';
import { requireScope, type App, type Scope } from '../domain/apps.ts';
import { DomainError } from '../domain/errors.ts';
import { ReplicaUnavailableError } from '../store/store.ts';

export interface ApiError {
  status: number;
  code: string;
  message: string;
  details?: Record<string, unknown> | undefined;
}

export interface ApiStyle {
  /** The error body in this API's documented shape. */
  renderError(error: ApiError): unknown;
  /** Where this API carries app credentials (headers, or the body for seed 004). */
  credentials(req: FastifyRequest): { appId: string; secret: string } | undefined;
  /** What to tell a caller who sent no credentials: where they go. */
  missingCredentials: string;
  /**
   * Refuse unknown body fields (our own API, where a misspelt field must not be silently ignored);
   * the seed APIs accept extra fields as the systems they stand in for did.
   */
  strictBodies: boolean;
  /** Security scheme names for the OpenAPI document. */
  security: Record<string, string[]>[];
}

export type Authenticate = (appId: string, secret: string) => Promise<App>;

function describeZod(error: ZodError, where: string): ApiError {
  const issues = error.issues.map((i) => {
    const path = i.path.length ? i.path.join('.') : where;
    return { field: path, message: i.message };
  });
  const first = issues[0] ?? { field: where, message: 'is invalid' };
  return {
    status: 400,
    code: 'validation_error',
    message: `${first.field}: ${first.message}${issues.length > 1 ? ` (and ${issues.length - 1} more)` : ''}`,
    details: { issues },
  };
}

const fastifyErrors: Record<string, { code: string; message?: string }> = {
  FST_ERR_CTP_BODY_TOO_LARGE: { code: 'body_too_large', message: 'The request body is too large' },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: {
    code: 'unsupported_media_type',
    message: 'Send the body as application/json',
  },
  FST_ERR_CTP_EMPTY_JSON_BODY: { code: 'malformed_json', message: 'The JSON body is empty' },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: {
    code: 'malformed_request',
    message: 'Content-Length does not match the body',
  },
};

/** Turns anything thrown while serving a request into an API error. */
export function toApiError(error: unknown): ApiError {
  if (error instanceof DomainError) {
    return { status: error.status, code: error.code, message: error.message, details: error.details };
  }
  if (error instanceof ZodError) return describeZod(error, 'body');
  if (error instanceof ReplicaUnavailableError) {
    return { status: 503, code: 'replica_unavailable', message: error.message };
  }
  const e = error as { statusCode?: number; code?: string; message?: string };
  if (e.statusCode === 429) {
    return { status: 429, code: 'rate_limited', message: e.message ?? 'Too many requests; slow down' };
  }
  const known = e.code ? fastifyErrors[e.code] : undefined;
  if (known)
    return { status: e.statusCode ?? 400, code: known.code, message: known.message ?? String(e.message) };
  if (typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
    return {
      status: e.statusCode,
      code: e.code === 'malformed_json' ? 'malformed_json' : 'bad_request',
      message: String(e.message),
    };
  }
  return { status: 500, code: 'internal_error', message: 'Internal error; it has been logged' };
}

/**
 * Registers an API's error and not-found handlers in its plugin scope. A second plugin of the same API
 * under the same prefix passes `notFound: false` (Fastify allows one not-found handler per prefix).
 */
export function apiPlugin(app: FastifyInstance, style: ApiStyle, opts: { notFound?: boolean } = {}): void {
  app.setErrorHandler((error, req, reply) => {
    const apiError = toApiError(error);
    if (apiError.status >= 500) req.log.error({ err: error }, 'request failed');
    void reply.code(apiError.status).send(style.renderError(apiError));
  });
  if (opts.notFound === false) return;
  app.setNotFoundHandler((req, reply) => {
    void reply.code(404).send(
      style.renderError({
        status: 404,
        code: 'not_found',
        message: `No route ${req.method} ${req.url.split('?')[0]}`,
      }),
    );
  });
}

export interface RouteContext<B, Q, P, H> {
  body: B;
  query: Q;
  params: P;
  headers: H;
  app: App;
  req: FastifyRequest;
  reply: FastifyReply;
}

export interface RouteSpec<B, Q, P, H> {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  url: string;
  summary: string;
  description?: string;
  tags: string[];
  /** The scope the app needs; every route of these APIs is authenticated. */
  scope: Scope;
  body?: ZodType<B>;
  query?: ZodType<Q>;
  params?: ZodType<P>;
  headers?: ZodType<H>;
  /** Success status (default 200) and documented responses. */
  status?: number;
  response: Record<number, ZodType>;
  handler(ctx: RouteContext<B, Q, P, H>): Promise<unknown>;
}

export function jsonSchema(schema: ZodType, io: 'input' | 'output'): Record<string, unknown> {
  const { $schema: _drop, ...rest } = z.toJSONSchema(schema, {
    io,
    unrepresentable: 'any',
    target: 'draft-2020-12',
  });
  return rest;
}

function parse<T>(schema: ZodType<T> | undefined, value: unknown, where: string): T {
  if (!schema) return undefined as T;
  const result = schema.safeParse(value);
  if (!result.success) {
    const e = describeZod(result.error, where);
    throw new DomainError('validation_error', e.message, e.details);
  }
  return result.data;
}

/** A route anyone may call: no app credentials (the claim page's, where the claim id is the capability). */
export type PublicRouteSpec<B, Q, P, H> = Omit<RouteSpec<B, Q, P, H>, 'scope' | 'handler'> & {
  handler(ctx: Omit<RouteContext<B, Q, P, H>, 'app'>): Promise<unknown>;
};

function registerRoute<B, Q, P, H>(
  app: FastifyInstance,
  style: ApiStyle,
  spec: PublicRouteSpec<B, Q, P, H>,
  security: Record<string, string[]>[],
  /** Authenticates and authorizes the caller before the body is parsed; undefined for public routes. */
  authorize: (req: FastifyRequest) => Promise<App | undefined>,
  handle: (ctx: Omit<RouteContext<B, Q, P, H>, 'app'>, client: App | undefined) => Promise<unknown>,
): void {
  const body =
    style.strictBodies && spec.body instanceof z.ZodObject ? (spec.body.strict() as ZodType<B>) : spec.body;
  const response = Object.fromEntries(
    Object.entries(spec.response).map(([status, schema]) => [status, jsonSchema(schema, 'output')]),
  );
  app.route({
    method: spec.method,
    url: spec.url,
    schema: {
      summary: spec.summary,
      ...(spec.description ? { description: spec.description } : {}),
      tags: spec.tags,
      security,
      ...(body ? { body: jsonSchema(body, 'input') } : {}),
      ...(spec.query ? { querystring: jsonSchema(spec.query, 'input') } : {}),
      ...(spec.params ? { params: jsonSchema(spec.params, 'input') } : {}),
      ...(spec.headers ? { headers: jsonSchema(spec.headers, 'input') } : {}),
      response,
    },
    handler: async (req, reply) => {
      const client = await authorize(req);
      const result = await handle(
        {
          body: parse(body, req.body, 'body'),
          query: parse(spec.query, req.query, 'query'),
          params: parse(spec.params, req.params, 'path'),
          headers: parse(spec.headers, req.headers, 'headers'),
          req,
          reply,
        },
        client,
      );
      return reply.code(spec.status ?? 200).send(result);
    },
  });
}

export function defineRoute<B = undefined, Q = undefined, P = undefined, H = undefined>(
  app: FastifyInstance,
  style: ApiStyle,
  authenticate: Authenticate,
  spec: RouteSpec<B, Q, P, H>,
): void {
  registerRoute(
    app,
    style,
    spec,
    style.security,
    async (req) => {
      const credentials = style.credentials(req);
      if (!credentials) throw new DomainError('unauthorized', style.missingCredentials);
      const client = await authenticate(credentials.appId, credentials.secret);
      requireScope(client, spec.scope);
      return client;
    },
    (ctx, client) => spec.handler({ ...ctx, app: client as App }),
  );
}

export function definePublicRoute<B = undefined, Q = undefined, P = undefined, H = undefined>(
  app: FastifyInstance,
  style: ApiStyle,
  spec: PublicRouteSpec<B, Q, P, H>,
): void {
  registerRoute(
    app,
    style,
    spec,
    [],
    async () => undefined,
    (ctx) => spec.handler(ctx),
  );
}

/** A header value as one string (Fastify gives arrays for repeated headers). */
export function header(req: FastifyRequest, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** App credentials in the X-App-Id and X-Api-Key headers, as the native and seed 002 APIs carry them. */
export const appKeyHeaders: Pick<ApiStyle, 'credentials' | 'security' | 'missingCredentials'> = {
  credentials: (req) => {
    const appId = header(req, 'x-app-id');
    const secret = header(req, 'x-api-key');
    return appId && secret ? { appId, secret } : undefined;
  },
  security: [{ appId: [], apiKey: [] }],
  missingCredentials: 'Send the app credentials in the X-App-Id and X-Api-Key headers',
};
