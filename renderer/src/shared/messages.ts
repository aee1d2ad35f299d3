// What a screen accepts from the till's event stream: only text that is JSON and a valid server message
// (contract/till-events.ts, the schemas the till core sends with). Anything else is ignored, never
// thrown: a newer till's unknown message must not break an older screen.
import { ServerMessageSchema, type ServerMessage } from '../../../contract/till-events.ts';

export function parseServerMessage(data: unknown): ServerMessage | undefined {
  if (typeof data !== 'string') return undefined;
  let json: unknown;
  try {
    json = JSON.parse(data);
  } catch {
    return undefined;
  }
  const parsed = ServerMessageSchema.safeParse(json);
  return parsed.success ? parsed.data : undefined;
}
