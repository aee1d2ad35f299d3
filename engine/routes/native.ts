// Native API (/v1): placeholder replaced by the native routes work.
import type { FastifyInstance } from 'fastify';
import type { DomainContext } from '../domain/context.ts';
import type { Authenticate } from '../http/api.ts';

export function nativeRoutes(_ctx: DomainContext, _authenticate: Authenticate) {
  return async function routes(_app: FastifyInstance) {};
}
