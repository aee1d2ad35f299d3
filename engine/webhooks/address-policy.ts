// Which addresses a webhook may be sent to. A webhook URL comes from a caller (seed 001's endpoint_url,
// a provider's registered endpoint), so without this check the engine could be made to POST into its
// own network: the database admin page, a cloud metadata service. Only global unicast addresses are
// reached, unless an address falls inside a range the configuration allows (tests allow 127.0.0.1).
//
// DNS rebinding: the check runs on the addresses the host resolves to at delivery time, every one of
// them, and the connection is then made to the checked address itself (`vettedLookup` is the socket's
// `lookup`), so a second resolution that answers differently is never asked for.
import { lookup as dnsLookup } from 'node:dns/promises';
import type { LookupFunction } from 'node:net';
import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';
import { z } from 'zod';

/** A webhook endpoint: an absolute http or https URL (the configuration and `recordEvent` both check). */
export const WebhookUrl = z.url({ protocol: /^https?$/, error: 'a webhook URL is an absolute http(s) URL' });

/** Resolves a host name to all its addresses (node's dns.lookup by default; tests pass their own). */
export type Resolve = (hostname: string) => Promise<{ address: string; family: number }[]>;

export const systemResolve: Resolve = (hostname) => dnsLookup(hostname, { all: true, verbatim: true });

/** True for "10.0.0.0/8", "::1/128" or a single address. */
export function isAddressRange(text: string): boolean {
  return ipaddr.isValidCIDR(text) || ipaddr.isValid(text);
}

type Range = [ipaddr.IPv4 | ipaddr.IPv6, number];

function toRange(text: string): Range {
  if (ipaddr.isValidCIDR(text)) return ipaddr.parseCIDR(text);
  const address = ipaddr.parse(text);
  return [address, address.kind() === 'ipv4' ? 32 : 128];
}

export class AddressRefused extends Error {
  override name = 'AddressRefused';
}

export interface AddressPolicy {
  /** Throws AddressRefused naming the address and its kind when it may not be reached. */
  check(address: string): void;
}

export function addressPolicy(allowed: readonly string[]): AddressPolicy {
  const ranges = allowed.map(toRange);
  return {
    check(text) {
      // process() turns an IPv4-mapped IPv6 address (::ffff:10.0.0.1) back into the IPv4 it is.
      const address = ipaddr.process(text);
      const kind = address.range();
      // 'unicast' is what ipaddr.js calls a global address; everything else (loopback, private,
      // linkLocal, uniqueLocal, carrierGradeNat, multicast, reserved, 6to4, teredo...) is refused.
      if (kind === 'unicast') return;
      if (ranges.some(([net, bits]) => net.kind() === address.kind() && address.match(net, bits))) return;
      throw new AddressRefused(
        `${address.toString()} is a ${kind} address; allow it in webhooks.allowPrivateNetworks to send there`,
      );
    },
  };
}

/**
 * Resolves `hostname` (an IP literal is taken as is), checks every address it has and returns the
 * first: the one the connection will use. Refuses the host if any address is refused, so a name
 * that mixes a public and a private address cannot win by luck of the order.
 */
export async function vetHost(
  hostname: string,
  policy: AddressPolicy,
  resolve: Resolve,
): Promise<{ address: string; family: number }> {
  const bare = hostname.startsWith('[') ? hostname.slice(1, -1) : hostname;
  const literal = isIP(bare);
  const addresses = literal ? [{ address: bare, family: literal }] : await resolve(bare);
  const first = addresses[0];
  if (!first) throw new AddressRefused(`${bare} has no address`);
  for (const { address } of addresses) policy.check(address);
  return first;
}

/** A socket `lookup` that answers with the already-checked address, whatever the name. */
export function vettedLookup(vetted: { address: string; family: number }): LookupFunction {
  return (_hostname, options, callback) => {
    if (options.all) callback(null, [vetted]);
    else callback(null, vetted.address, vetted.family);
  };
}
