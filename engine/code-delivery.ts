// How one-time codes (a member's OTP, a textcoin's claim code) reach people: through the chain's own
// message gateway (its SMS or email service) over HTTP. The engine does not write the message: the
// gateway knows the chain's brand, language and channel; the engine says who, which kind and the code.
import { z } from 'zod';
import type { Notifier } from './domain/context.ts';

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

/**
 * A code is a credential: it crosses a network only over HTTPS, so plain http:// is for a gateway on
 * this machine (a relay beside the engine).
 */
export const GatewayUrl = z
  .url({ protocol: /^https?$/, error: 'the code gateway is an absolute http(s) URL' })
  .refine(
    (text) => {
      // Not a URL at all: z.url() has said so already.
      if (!URL.canParse(text)) return true;
      const url = new URL(text);
      return url.protocol === 'https:' || LOOPBACK_HOSTS.has(url.hostname);
    },
    { error: 'the code gateway needs https:// (http:// only on this machine: localhost, 127.0.0.1, [::1])' },
  );

export const CodeDeliverySchema = z
  .object({
    /** POSTed `{"to","kind","code"}` for each code to send; unset, codes cannot be sent. */
    gatewayUrl: GatewayUrl.optional(),
    /** The Authorization header the gateway expects (TILLBACK_CODES_AUTHORIZATION keeps it out of files). */
    authorization: z.string().min(1).optional(),
    /** A gateway slower than this counts as failed: the till is told to try again. */
    timeoutMs: z.coerce.number().int().min(100).max(60_000).default(5_000),
  })
  .strict();

export type CodeDelivery = z.infer<typeof CodeDeliverySchema>;

/**
 * Sends each code to the gateway and resolves once it answered 2xx (it accepted the message). Any
 * other answer, or none within `timeoutMs`, rejects: the member is told the code could not be sent.
 */
export function gatewayNotifier(delivery: CodeDelivery & { gatewayUrl: string }): Notifier {
  return {
    async send(message) {
      let res: Response;
      try {
        res = await fetch(delivery.gatewayUrl, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            ...(delivery.authorization ? { authorization: delivery.authorization } : {}),
          },
          body: JSON.stringify({ to: message.to, kind: message.kind, code: message.code }),
          signal: AbortSignal.timeout(delivery.timeoutMs),
        });
        // Read to the end so the connection is reused; the body itself is not needed.
        await res.arrayBuffer();
      } catch (error) {
        throw new Error(`the code gateway did not answer (${(error as Error).name})`);
      }
      if (!res.ok) throw new Error(`the code gateway answered ${res.status}`);
    },
  };
}

/** What the engine's banner says about code delivery: where codes go, or that they cannot be sent. */
export function describeCodeDelivery(delivery: CodeDelivery, printed: boolean): string {
  if (printed) return 'printed here, not sent (--print-codes or --demo: for trials)';
  if (delivery.gatewayUrl) return `sent through ${new URL(delivery.gatewayUrl).origin}`;
  return 'no gateway (codes.gatewayUrl): a redeem by one-time code is refused';
}
