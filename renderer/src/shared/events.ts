// The screens' connection to the till's event stream (WebSocket /api/events): the first message is the
// auth message with the launch token; every message received is validated (messages.ts). When the
// connection drops it is made again after a delay that grows to half a minute (with jitter, so screens
// do not all knock at once after the till restarts); a refused token stops it, since trying the same
// token again cannot succeed.
import type { ClientMessage, ServerMessage } from '../../../contract/till-events.ts';
import { parseServerMessage } from './messages.ts';

export type ConnectionState = 'connecting' | 'open' | 'reconnecting' | 'refused';

export interface EventsOptions {
  token: string;
  onMessage(message: ServerMessage): void;
  onState(state: ConnectionState): void;
  /** The stream's URL; by default /api/events on the page's own host. */
  url?: string;
}

const FIRST_DELAY_MS = 500;
const MAX_DELAY_MS = 30_000;

/** The wait before reconnect attempt `attempt` (0 first): doubling, capped, with up to 20% jitter. */
export function reconnectDelay(attempt: number, random: () => number = Math.random): number {
  const base = Math.min(MAX_DELAY_MS, FIRST_DELAY_MS * 2 ** Math.min(attempt, 16));
  return Math.round(base * (1 - 0.2 * random()));
}

export function eventsUrl(location: Pick<Location, 'protocol' | 'host'>): string {
  return `${location.protocol === 'https:' ? 'wss:' : 'ws:'}//${location.host}/api/events`;
}

/** Connects and keeps connecting until closed; returns the function that closes it for good. */
export function connectEvents(options: EventsOptions): () => void {
  const url = options.url ?? eventsUrl(location);
  let socket: WebSocket | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let attempt = 0;
  let stopped = false;

  const open = () => {
    options.onState(attempt === 0 ? 'connecting' : 'reconnecting');
    const ws = new WebSocket(url);
    socket = ws;
    ws.onopen = () => {
      const auth: ClientMessage = { type: 'auth', token: options.token };
      ws.send(JSON.stringify(auth));
    };
    ws.onmessage = (event) => {
      const message = parseServerMessage(event.data);
      if (!message) return;
      if (message.type === 'error') {
        stopped = true;
        options.onState('refused');
        ws.close();
        return;
      }
      if (message.type === 'ready') {
        attempt = 0;
        options.onState('open');
      }
      options.onMessage(message);
    };
    ws.onclose = () => {
      if (stopped) return;
      options.onState('reconnecting');
      timer = setTimeout(open, reconnectDelay(attempt));
      attempt += 1;
    };
  };
  open();
  return () => {
    stopped = true;
    clearTimeout(timer);
    socket?.close();
  };
}
