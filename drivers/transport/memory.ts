// An in-memory connected pair of transports: a cable between two ends, for tests and the simulator.
import { BaseTransport, TransportError } from './transport.ts';

export interface MemoryPairOptions {
  /** Ids of the two ends (default `memory:a` / `memory:b`). */
  ids?: [string, string];
  /** Each write resolves (and its bytes arrive) after this many ms; 0 = next I/O turn. */
  latencyMs?: number;
}

interface Cable {
  connected: boolean;
  latencyMs: number;
}

export class MemoryTransport extends BaseTransport {
  #peer: MemoryTransport | undefined;
  readonly #cable: Cable;
  /** Bytes that arrived while this end was not open (a pty buffers them the same way). */
  #inbox: Buffer[] = [];
  readonly #timers = new Set<NodeJS.Timeout>();

  /** @internal use memoryPair() */
  constructor(id: string, cable: Cable) {
    super(id);
    this.#cable = cable;
  }

  /** @internal */
  link(peer: MemoryTransport): void {
    this.#peer = peer;
  }

  get connected(): boolean {
    return this.#cable.connected;
  }

  /** Cuts the cable: both ends go `failed` with `disconnected`, pending writes reject, reopen fails. */
  disconnect(): void {
    if (!this.#cable.connected) return;
    this.#cable.connected = false;
    this.#onCut();
    if (this.#peer) this.#peer.#onCut();
  }

  /** Plugs the cable back in; each end must be opened again. */
  reconnect(): void {
    this.#cable.connected = true;
  }

  #onCut(): void {
    this.#inbox = [];
    this.fail(new TransportError('disconnected', `${this.id}: cable disconnected`));
  }

  protected override async doOpen(): Promise<void> {
    if (!this.#cable.connected) throw new TransportError('open_failed', `${this.id}: cable disconnected`);
    const gen = this.generation;
    setImmediate(() => {
      if (gen !== this.generation) return;
      const inbox = this.#inbox;
      this.#inbox = [];
      for (const chunk of inbox) this.deliver(chunk);
    });
  }

  protected override async doClose(): Promise<void> {
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
  }

  protected override doWrite(data: Buffer): Promise<void> {
    const copy = Buffer.from(data);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#timers.delete(timer);
        if (this.#peer) this.#peer.#receive(copy);
        resolve();
      }, this.#cable.latencyMs);
      this.#timers.add(timer);
    });
  }

  #receive(chunk: Buffer): void {
    if (!this.#cable.connected) return;
    if (this.state === 'open') this.deliver(chunk);
    else this.#inbox.push(chunk);
  }
}

/** Two connected in-memory transports: bytes written to one arrive at the other. */
export function memoryPair(options: MemoryPairOptions = {}): [MemoryTransport, MemoryTransport] {
  const cable: Cable = { connected: true, latencyMs: options.latencyMs ?? 0 };
  const [idA, idB] = options.ids ?? ['memory:a', 'memory:b'];
  const a = new MemoryTransport(idA, cable);
  const b = new MemoryTransport(idB, cable);
  a.link(b);
  b.link(a);
  return [a, b];
}
