// Provider options are validated by each provider's own zod schema. A bad setting stops the factory with
// its name and the rule it breaks, never its value: card numbers, IPINs and secrets are among them.
import type { z } from 'zod';

export function readOptions<S extends z.ZodType>(schema: S, options: unknown, provider: string): z.infer<S> {
  const parsed = schema.safeParse(options);
  if (parsed.success) return parsed.data;
  const which = parsed.error.issues.map((i) => `${i.path.join('.') || '(options)'}: ${i.message}`).join('; ');
  throw new Error(`${provider} provider options: ${which}`);
}
