// A card reader or barcode scanner on a serial line (RS-232, USB CDC): it sends one line per swipe or
// scan, ended by CR, LF or CRLF. A line that starts with a track sentinel ('%' or ';') is a swipe and
// is decoded as ISO 7813 tracks; any other line is a scan. The PAN stays inside the CardRead.
import type { Transport } from '../transport/transport.ts';
import { TypedEmitter } from '../transport/transport.ts';
import { classifyScan, SerialLineSplitter, type ScanKind } from './barcode.ts';
import type { CardError } from './errors.ts';
import { decodeSwipe, type Swipe } from './magstripe.ts';

export type SerialReaderEvent =
  | { type: 'card'; swipe: Swipe; at: number }
  | { type: 'scan'; scan: ScanKind; at: number }
  | { type: 'error'; error: CardError; at: number };

export interface SerialReaderEvents {
  event: [event: SerialReaderEvent];
}

export class SerialCardReader extends TypedEmitter<SerialReaderEvents> {
  readonly #transport: Transport;
  readonly #now: () => number;
  #splitter = new SerialLineSplitter();
  readonly #onData = (chunk: Buffer) => this.#push(chunk);
  readonly #onState = () => {
    // A line cut by an unplug must not join the first line after the replug.
    this.#splitter = new SerialLineSplitter();
  };

  constructor(transport: Transport, opts: { now?: () => number } = {}) {
    super();
    this.#transport = transport;
    this.#now = opts.now ?? Date.now;
    transport.on('data', this.#onData);
    transport.on('state', this.#onState);
  }

  /** Stops listening to the transport; the transport itself is the caller's to close. */
  detach(): void {
    this.#transport.off('data', this.#onData);
    this.#transport.off('state', this.#onState);
  }

  #push(chunk: Buffer): void {
    const { lines, errors } = this.#splitter.push(chunk);
    for (const error of errors) this.emit('event', { type: 'error', error, at: this.#now() });
    for (const line of lines) this.emit('event', decodeReaderLine(line, this.#now()));
  }
}

/** One reader line (a swipe if it starts with a track sentinel, else a scan) as a reader event. */
export function decodeReaderLine(line: string, at: number): SerialReaderEvent {
  const text = line.trim();
  if (text.startsWith('%') || text.startsWith(';')) {
    const r = decodeSwipe(text);
    return r.ok ? { type: 'card', swipe: r.value, at } : { type: 'error', error: r.error, at };
  }
  const r = classifyScan(text);
  return r.ok ? { type: 'scan', scan: r.value, at } : { type: 'error', error: r.error, at };
}
