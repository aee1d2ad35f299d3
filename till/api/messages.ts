// Every WebSocket message of /api/events, both ways: the schemas live in contract/till-events.ts (the
// renderer validates what it receives with the same ones); the server checks each message it sends.
import { ServerMessageSchema, type ServerMessage } from '../../contract/till-events.ts';

export {
  ClientMessageSchema,
  ServerMessageSchema,
  type ClientMessage,
  type ServerMessage,
} from '../../contract/till-events.ts';

/** Serializes a server message, checking it first: a message the schema refuses is a server bug. */
export const encodeServerMessage = (m: ServerMessage): string => JSON.stringify(ServerMessageSchema.parse(m));
