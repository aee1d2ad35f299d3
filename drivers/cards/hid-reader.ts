// USB HID card readers, as drivers over a Transport (the HID transport gives one input report per chunk).
// Both emit the same events as the serial reader, so the till handles every reader alike.
//   HidCardReader       vendor mode: one MagTek-style report per swipe (layout in magtek-hid.ts)
//   HidKeyboardReader   keyboard mode: 8-byte boot keyboard reports typing the swipe or the barcode,
//                       read from the hidraw node, so the OS keyboard layout never applies
import type { Transport } from '../transport/transport.ts';
import { TypedEmitter } from '../transport/transport.ts';
import { KeyboardWedgeAssembler, type WedgeLine } from './hid-keyboard.ts';
import { decodeMagtekCard } from './magtek-hid.ts';
import { decodeReaderLine, type SerialReaderEvents } from './serial-reader.ts';

export class HidCardReader extends TypedEmitter<SerialReaderEvents> {
  readonly #transport: Transport;
  readonly #now: () => number;
  readonly #onData = (report: Buffer): void => this.#push(report);

  /** `reportId`: the stack puts a report id byte in front of each report (node-hid on Windows). */
  constructor(
    transport: Transport,
    readonly opts: { reportId?: boolean; now?: () => number } = {},
  ) {
    super();
    this.#transport = transport;
    this.#now = opts.now ?? Date.now;
    transport.on('data', this.#onData);
  }

  /** Stops listening to the transport; the transport itself is the caller's to close. */
  detach(): void {
    this.#transport.off('data', this.#onData);
  }

  #push(report: Buffer): void {
    const at = this.#now();
    const r = decodeMagtekCard(report, { reportId: this.opts.reportId ?? false });
    if (!r.ok) {
      this.emit('event', { type: 'error', error: r.error, at });
      return;
    }
    const { cards, trackErrors } = r.value;
    const card = cards.find((c) => c.track === 1) ?? cards[0];
    if (!card) return; // decodeMagtekCard fails when no track decoded; kept for the type checker
    this.emit('event', {
      type: 'card',
      swipe: { card, tracks: cards, trackErrors: trackErrors.map((t) => t.error) },
      at,
    });
  }
}

export class HidKeyboardReader extends TypedEmitter<SerialReaderEvents> {
  readonly #transport: Transport;
  readonly #now: () => number;
  readonly #idleMs: number;
  readonly #assembler: KeyboardWedgeAssembler;
  #idleTimer: NodeJS.Timeout | undefined;
  readonly #onData = (report: Buffer): void => this.#push(report);

  /** `idleMs`: a pause this long ends a line from a reader that sends no Enter (default 100 ms). */
  constructor(transport: Transport, opts: { idleMs?: number; now?: () => number } = {}) {
    super();
    this.#transport = transport;
    this.#now = opts.now ?? Date.now;
    this.#idleMs = opts.idleMs ?? 100;
    this.#assembler = new KeyboardWedgeAssembler({ clock: this.#now, idleMs: this.#idleMs });
    transport.on('data', this.#onData);
  }

  detach(): void {
    this.#transport.off('data', this.#onData);
    clearTimeout(this.#idleTimer);
  }

  #push(report: Buffer): void {
    const r = this.#assembler.pushReport(report);
    if (!r.ok) this.emit('event', { type: 'error', error: r.error, at: this.#now() });
    else this.#emitLines(r.value);
    clearTimeout(this.#idleTimer);
    this.#idleTimer = undefined;
    if (this.#assembler.pending > 0) {
      // One ms past the gap, so the assembler's own clock check sees it passed.
      this.#idleTimer = setTimeout(() => this.#emitLines(this.#assembler.tick()), this.#idleMs + 1);
    }
  }

  #emitLines(lines: WedgeLine[]): void {
    for (const line of lines) {
      const at = this.#now();
      if (line.error) this.emit('event', { type: 'error', error: line.error, at });
      else
        this.emit(
          'event',
          line.text.reveal((text) => decodeReaderLine(text, at)),
        );
    }
  }
}
