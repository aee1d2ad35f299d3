// The engine's refusals and silences as the local API says them: a manager's screen asks the till, the
// till asks the engine, and the answer must say in words which of the two could not help.
import { ApiError } from '../api/errors.ts';
import { EngineError } from '../engine-client.ts';

/**
 * An engine call's failure in the local API's shape: no answer (502 `engine_unreachable` or 504
 * `engine_timeout`), the till's credentials refused (502 `engine_forbidden`, what to grant), a thing
 * the engine does not know (404) or a request it refused (its status and code), or an engine error (502).
 */
export function fromEngineError(error: unknown, what: string): ApiError {
  if (!(error instanceof EngineError)) throw error;
  if (error.status === null)
    return new ApiError(
      error.code === 'engine_timeout' ? 504 : 502,
      error.code,
      `${error.message}, so the till cannot ${what}`,
    );
  if (error.status === 401 || error.status === 403)
    return new ApiError(
      502,
      'engine_forbidden',
      `The engine does not let this till's app ${what} (${error.message})`,
    );
  if (error.status >= 500)
    return new ApiError(
      502,
      'engine_error',
      `The engine failed (${error.status}), so the till cannot ${what}: ${error.message}`,
    );
  return new ApiError(error.status, error.code, error.message);
}
