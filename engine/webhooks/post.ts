// One webhook attempt: a POST to a vetted address with a deadline covering connect, send and the
// receiver's answer. Redirects are not followed (a 3xx is a failed attempt), so a receiver cannot
// point the engine at an address the policy would refuse.
import http from 'node:http';
import https from 'node:https';
import { performance } from 'node:perf_hooks';
import { vetHost, vettedLookup, type AddressPolicy, type Resolve } from './address-policy.ts';

/** Bytes of the response kept for the attempt log. */
const EXCERPT_BYTES = 512;

export interface PostOutcome {
  /** The HTTP status, or undefined when no response came (then `error` says why). */
  statusCode?: number;
  error?: string;
  latencyMs: number;
  /** The start of the response body, as text. */
  excerpt?: string;
}

export interface Poster {
  post(url: string, body: string, headers: Record<string, string>): Promise<PostOutcome>;
  close(): void;
}

export function webhookPoster(options: {
  policy: AddressPolicy;
  resolve: Resolve;
  timeoutMs: number;
  maxSockets: number;
}): Poster {
  // Keep-alive: a receiver getting a stream of events is not made to accept a connection for each.
  // A kept socket was opened to an address vetted when it was opened.
  const agents = {
    'http:': new http.Agent({ keepAlive: true, maxSockets: options.maxSockets }),
    'https:': new https.Agent({ keepAlive: true, maxSockets: options.maxSockets }),
  };

  async function post(url: string, body: string, headers: Record<string, string>): Promise<PostOutcome> {
    const started = performance.now();
    const elapsed = () => Math.round(performance.now() - started);
    const target = new URL(url);
    const agent = target.protocol === 'https:' ? agents['https:'] : agents['http:'];
    const client = target.protocol === 'https:' ? https : http;
    const deadline = AbortSignal.timeout(options.timeoutMs);
    let vetted: { address: string; family: number };
    try {
      // The resolver cannot be cancelled, but the attempt does not wait for it past its deadline.
      vetted = await Promise.race([
        vetHost(target.hostname, options.policy, options.resolve),
        new Promise<never>((_resolve, reject) =>
          deadline.addEventListener(
            'abort',
            () => reject(new Error(`no address for ${target.hostname} within ${options.timeoutMs} ms`)),
            { once: true },
          ),
        ),
      ]);
    } catch (error) {
      return { error: (error as Error).message, latencyMs: elapsed() };
    }
    return new Promise<PostOutcome>((resolve) => {
      const req = client.request(target, {
        method: 'POST',
        agent,
        lookup: vettedLookup(vetted),
        signal: deadline,
        headers: {
          ...headers,
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
        },
      });
      const fail = (error: Error) => {
        const timedOut = deadline.aborted;
        resolve({
          error: timedOut ? `no answer within ${options.timeoutMs} ms` : networkError(error),
          latencyMs: elapsed(),
        });
      };
      req.on('error', fail);
      req.on('response', (res) => {
        const chunks: Buffer[] = [];
        let kept = 0;
        res.on('data', (chunk: Buffer) => {
          if (kept < EXCERPT_BYTES) {
            chunks.push(chunk.subarray(0, EXCERPT_BYTES - kept));
            kept += Math.min(chunk.length, EXCERPT_BYTES - kept);
          }
        });
        res.on('error', fail);
        res.on('end', () =>
          resolve({
            statusCode: res.statusCode ?? 0,
            latencyMs: elapsed(),
            excerpt: Buffer.concat(chunks).toString('utf8'),
          }),
        );
      });
      req.end(body);
    });
  }

  return {
    post,
    close() {
      agents['http:'].destroy();
      agents['https:'].destroy();
    },
  };
}

function networkError(error: Error): string {
  const code = (error as NodeJS.ErrnoException).code;
  return code ? `${code}: ${error.message}` : error.message;
}
