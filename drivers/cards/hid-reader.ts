// A MagTek-style USB HID swipe reader in vendor mode: one input report per swipe (magtek-hid.ts has the
// layout). It emits the same events as the serial reader, so the till handles both alike.
import type { Transport } from '../transport/transport.ts';
import { TypedEmitter } from '../transport/transport.ts';
import { decodeMagtekCard } from './magtek-hid.ts';
import type { SerialReaderEvents } from './serial-reader.ts';

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
