// The local API's configuration, validated by zod. Loopback only unless a LAN address is given: a
// customer display or a manager on another device is an opt-in, never the default.
import { z } from 'zod';
import { PIN_PATTERN } from '../../engine/domain/member-auth.ts';

export const OperatorRoleSchema = z.enum(['cashier', 'manager']);
export type OperatorRole = z.infer<typeof OperatorRoleSchema>;

export const OperatorNameSchema = z.string().trim().min(1).max(64);
export const PinSchema = z.string().regex(PIN_PATTERN, 'must be 4 to 12 digits');

export const LocalApiConfigSchema = z
  .object({
    /** The address to listen on: loopback by default; the LAN address (or 0.0.0.0) to opt in. */
    host: z.string().min(1).default('127.0.0.1'),
    port: z.number().int().min(0).max(65_535).default(0),
    /** The till's LAN address (a name or IP) that remote devices put in their Host header. */
    lanAddress: z.string().min(1).optional(),
    /** Origins (scheme://host:port) of pages allowed to call; the API's own origin always is. */
    allowedOrigins: z.array(z.url()).default([]),
    sessionTtlMinutes: z
      .number()
      .int()
      .positive()
      .max(24 * 60)
      .default(12 * 60),
    /** Created at the first start, when the till has no manager yet; ignored afterwards. */
    firstManager: z.object({ name: OperatorNameSchema, pin: PinSchema }).strict().optional(),
  })
  .strict()
  .refine((c) => isLoopback(c.host) || c.lanAddress !== undefined, {
    message: 'listening beyond loopback needs lanAddress (the Host remote devices will send)',
    path: ['lanAddress'],
  });
export type LocalApiConfig = z.infer<typeof LocalApiConfigSchema>;
export type LocalApiConfigInput = z.input<typeof LocalApiConfigSchema>;

export const LOOPBACK_HOSTS = ['127.0.0.1', 'localhost', '[::1]', '::1'] as const;

export function isLoopback(host: string): boolean {
  return (LOOPBACK_HOSTS as readonly string[]).includes(host.toLowerCase());
}
