// The messages between the shell and its till process (electron/till-process.ts), as zod schemas:
// the process boundary is checked both ways like any other.
import { z } from 'zod';

const count = z.number().int().nonnegative();

export const TillProcessMessageSchema = z.discriminatedUnion('type', [
  /** The till is up: where its local API is and the launch token for the windows. */
  z
    .object({
      type: z.literal('ready'),
      apiUrl: z.url({ protocol: /^https?$/ }),
      token: z.string().min(1),
      /** At the start that made the first manager with a generated PIN: shown once, then forgotten. */
      firstManager: z.object({ name: z.string(), generatedPin: z.string().optional() }).strict().optional(),
    })
    .strict(),
  /** The outbox's state after every change: the tray's line. */
  z
    .object({ type: z.literal('status'), online: z.boolean().nullable(), waiting: count, failed: count })
    .strict(),
  /** The till could not start (a bad configuration names the setting); the process then exits. */
  z.object({ type: z.literal('failed'), message: z.string() }).strict(),
]);
export type TillProcessMessage = z.infer<typeof TillProcessMessageSchema>;
export type TillStatus = Omit<Extract<TillProcessMessage, { type: 'status' }>, 'type'>;

export const ShellMessageSchema = z.object({ type: z.literal('stop') }).strict();
export type ShellMessage = z.infer<typeof ShellMessageSchema>;
