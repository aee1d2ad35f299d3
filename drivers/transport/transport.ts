// One byte-stream transport interface for every device link (serial, TCP, in-memory, fault-injecting).
// A transport moves raw bytes; framing and protocols live above it.

export type TransportState = 'closed' | 'opening' | 'open' | 'closing' | 'failed';

export type TransportErrorCode = 'not_open' | 'open_failed' | 'write_failed' | 'disconnected' | 'timeout';

/** Every error a transport reports or rejects with: a stable code plus a readable message. */
export class TransportError extends Error {
  override readonly name = 'TransportError';
  constructor(
    readonly code: TransportErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export function isTransportError(err: unknown): err is TransportError {
  return err instanceof TransportError;
}

export interface TransportEvents {
  data: [chunk: Buffer];
  state: [state: TransportState, error?: TransportError];
}

type Listener<A extends unknown[]> = (...args: A) => void;

/**
 * A small typed event emitter. A listener that throws cannot corrupt the emitter's owner: the error is
 * re-thrown on a fresh microtask (so it still surfaces loudly as an uncaught exception).
 */
export class TypedEmitter<E extends { [K in keyof E]: unknown[] }> {
  readonly #listeners = new Map<keyof E, Set<unknown>>();

  on<K extends keyof E>(event: K, listener: Listener<E[K]>): this {
    let set = this.#listeners.get(event);
    if (!set) this.#listeners.set(event, (set = new Set()));
    set.add(listener);
    return this;
  }

  off<K extends keyof E>(event: K, listener: Listener<E[K]>): this {
    this.#listeners.get(event)?.delete(listener);
    return this;
  }

  once<K extends keyof E>(event: K, listener: Listener<E[K]>): this {
    const wrapped: Listener<E[K]> = (...args) => {
      this.off(event, wrapped);
      listener(...args);
    };
    return this.on(event, wrapped);
  }

  listenerCount(event: keyof E): number {
    return this.#listeners.get(event)?.size ?? 0;
  }

  protected emit<K extends keyof E>(event: K, ...args: E[K]): void {
    const set = this.#listeners.get(event);
    if (!set) return;
    for (const listener of [...set]) {
      try {
        (listener as Listener<E[K]>)(...args);
      } catch (err) {
        queueMicrotask(() => {
          throw err;
        });
      }
    }
  }
}

export interface Transport {
  readonly id: string;
  readonly state: TransportState;
  /** Opens the link. Resolves once open; rejects with `open_failed` (or `timeout`). Reopening after
   * `closed` or `failed` is allowed. */
  open(): Promise<void>;
  /** Closes the link and releases every OS resource. Idempotent; never rejects. */
  close(): Promise<void>;
  /** Rejects with `not_open` unless open, `write_failed` on an I/O error, `disconnected` if the link
   * dies before the write completes. */
  write(data: Buffer): Promise<void>;
  on<K extends keyof TransportEvents>(event: K, listener: (...args: TransportEvents[K]) => void): this;
  off<K extends keyof TransportEvents>(event: K, listener: (...args: TransportEvents[K]) => void): this;
  once<K extends keyof TransportEvents>(event: K, listener: (...args: TransportEvents[K]) => void): this;
}

interface PendingWrite {
  reject: (err: TransportError) => void;
}

/**
 * The state machine every transport shares. Subclasses provide the I/O (`doOpen`, `doClose`, `doWrite`)
 * and report incoming bytes with `deliver` and a dead link with `fail`.
 *
 * closed|failed --open()--> opening --ok--> open --close()--> closing --> closed
 *                                    \--error--> failed        \--fail()--> failed
 */
export abstract class BaseTransport extends TypedEmitter<TransportEvents> implements Transport {
  #state: TransportState = 'closed';
  #opening: Promise<void> | undefined;
  #closing: Promise<void> | undefined;
  #releasing: Promise<void> | undefined;
  /** Bumped on every open and every teardown, so late callbacks from an old link are ignored. */
  #generation = 0;
  readonly #pending = new Set<PendingWrite>();

  protected constructor(readonly id: string) {
    super();
  }

  get state(): TransportState {
    return this.#state;
  }

  protected get generation(): number {
    return this.#generation;
  }

  /** Acquire the link. Throw (anything) on failure; a TransportError's code is kept. */
  protected abstract doOpen(): Promise<void>;
  /** Release every resource of the current link. Must be safe to call after a failure. */
  protected abstract doClose(): Promise<void>;
  protected abstract doWrite(data: Buffer): Promise<void>;

  open(): Promise<void> {
    if (this.#state === 'open') return Promise.resolve();
    if (this.#opening) return this.#opening;
    const start = async (): Promise<void> => {
      if (this.#closing) await this.#closing;
      if (this.#releasing) await this.#releasing;
      const gen = ++this.#generation;
      this.#setState('opening');
      try {
        await this.doOpen();
      } catch (err) {
        if (gen === this.#generation) await this.#release();
        const error = isTransportError(err)
          ? err
          : new TransportError('open_failed', `${this.id}: open failed: ${describe(err)}`, { cause: err });
        if (gen === this.#generation && this.#state === 'opening') this.#setState('failed', error);
        throw error;
      }
      if (gen !== this.#generation || this.#state !== 'opening') {
        throw new TransportError('open_failed', `${this.id}: closed or disconnected while opening`);
      }
      this.#setState('open');
    };
    const opening = start().finally(() => {
      if (this.#opening === opening) this.#opening = undefined;
    });
    this.#opening = opening;
    return opening;
  }

  close(): Promise<void> {
    if (this.#closing) return this.#closing;
    if (this.#state === 'closed' && !this.#opening) return Promise.resolve();
    const run = async (): Promise<void> => {
      if (this.#opening) await this.#opening.catch(() => undefined);
      if (this.#state === 'closed') return;
      const wasFailed = this.#state === 'failed';
      this.#generation++;
      this.#rejectPending(new TransportError('not_open', `${this.id}: closed while writing`));
      if (!wasFailed) this.#setState('closing');
      if (this.#releasing) await this.#releasing;
      else await this.#safeDoClose();
      this.#setState('closed');
    };
    const closing = run().finally(() => {
      if (this.#closing === closing) this.#closing = undefined;
    });
    this.#closing = closing;
    return closing;
  }

  write(data: Buffer): Promise<void> {
    if (this.#state !== 'open') {
      return Promise.reject(new TransportError('not_open', `${this.id}: write while ${this.#state}`));
    }
    return new Promise<void>((resolve, reject) => {
      const entry: PendingWrite = { reject };
      this.#pending.add(entry);
      this.doWrite(data).then(
        () => {
          if (this.#pending.delete(entry)) resolve();
        },
        (err: unknown) => {
          if (!this.#pending.delete(entry)) return;
          reject(
            isTransportError(err)
              ? err
              : new TransportError('write_failed', `${this.id}: write failed: ${describe(err)}`, {
                  cause: err,
                }),
          );
        },
      );
    });
  }

  /** Hand received bytes to listeners (ignored unless open). */
  protected deliver(chunk: Buffer): void {
    if (this.#state === 'open' && chunk.length > 0) this.emit('data', chunk);
  }

  /**
   * The link died (unplug, EOF, peer closed, liveness check failed). Moves to `failed`, rejects every
   * pending write with the error and releases the link's resources. No-op unless open or opening.
   */
  protected fail(error: TransportError, generation = this.#generation): void {
    if (generation !== this.#generation) return;
    if (this.#state !== 'open' && this.#state !== 'opening') return;
    this.#generation++;
    this.#rejectPending(error);
    this.#setState('failed', error);
    void this.#release();
  }

  #release(): Promise<void> {
    const releasing = this.#safeDoClose().finally(() => {
      if (this.#releasing === releasing) this.#releasing = undefined;
    });
    this.#releasing = releasing;
    return releasing;
  }

  async #safeDoClose(): Promise<void> {
    try {
      await this.doClose();
    } catch {
      // Releasing a dead link may fail (EBADF, already destroyed): there is nothing left to release.
    }
  }

  #rejectPending(error: TransportError): void {
    const pending = [...this.#pending];
    this.#pending.clear();
    for (const p of pending) p.reject(error);
  }

  #setState(state: TransportState, error?: TransportError): void {
    if (this.#state === state) return;
    this.#state = state;
    if (error) this.emit('state', state, error);
    else this.emit('state', state);
  }
}

export function describe(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as NodeJS.ErrnoException).code;
    return code && !err.message.includes(code) ? `${code} ${err.message}` : err.message;
  }
  return String(err);
}

/** Resolves when `transport` reaches `state` (or rejects after `timeoutMs`). Handy for tests and tools. */
export function waitForState(transport: Transport, state: TransportState, timeoutMs = 5000): Promise<void> {
  if (transport.state === state) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      transport.off('state', onState);
      reject(new TransportError('timeout', `${transport.id}: not ${state} after ${timeoutMs} ms`));
    }, timeoutMs);
    const onState = (s: TransportState): void => {
      if (s !== state) return;
      clearTimeout(timer);
      transport.off('state', onState);
      resolve();
    };
    transport.on('state', onState);
  });
}
