// TCP client transport for LAN terminals (e.g. ZVT over TCP, port 20007).
import { Socket } from 'node:net';
import { BaseTransport, TransportError, describe } from './transport.ts';

export interface TcpOptions {
  host: string;
  port: number;
  /** Give up connecting after this long (default 5000 ms); rejects with `timeout`. */
  connectTimeoutMs?: number;
  /** TCP keepalive initial delay (default 10000 ms; 0 disables keepalive). */
  keepAliveMs?: number;
  id?: string;
  /** Makes the socket (default `new Socket()`); for tests and proxies. */
  createSocket?: () => Socket;
}

export class TcpTransport extends BaseTransport {
  readonly options: Readonly<TcpOptions>;
  #socket: Socket | undefined;

  constructor(options: TcpOptions) {
    super(options.id ?? `tcp:${options.host}:${options.port}`);
    this.options = { ...options };
  }

  protected override doOpen(): Promise<void> {
    const { host, port } = this.options;
    const socket = this.options.createSocket?.() ?? new Socket({ allowHalfOpen: false });
    this.#socket = socket;
    const gen = this.generation;
    return new Promise<void>((resolve, reject) => {
      const timeoutMs = this.options.connectTimeoutMs ?? 5000;
      const timer = setTimeout(() => {
        cleanup();
        socket.destroy();
        reject(new TransportError('timeout', `${this.id}: connect timed out after ${timeoutMs} ms`));
      }, timeoutMs);
      const onError = (err: Error): void => {
        cleanup();
        socket.destroy();
        reject(
          new TransportError('open_failed', `${this.id}: connect failed: ${describe(err)}`, { cause: err }),
        );
      };
      const onConnect = (): void => {
        cleanup();
        const keepAlive = this.options.keepAliveMs ?? 10_000;
        if (keepAlive > 0) socket.setKeepAlive(true, keepAlive);
        socket.setNoDelay(true);
        socket.on('data', (chunk: Buffer) => {
          if (gen === this.generation) this.deliver(chunk);
        });
        socket.on('error', (err) => this.#lost(gen, `socket error: ${describe(err)}`, err));
        socket.on('end', () => this.#lost(gen, 'peer closed the connection'));
        socket.on('close', () => this.#lost(gen, 'connection closed'));
        resolve();
      };
      const cleanup = (): void => {
        clearTimeout(timer);
        socket.off('error', onError);
        socket.off('connect', onConnect);
      };
      socket.once('error', onError);
      socket.once('connect', onConnect);
      socket.connect({ host, port });
    });
  }

  protected override async doClose(): Promise<void> {
    const socket = this.#socket;
    this.#socket = undefined;
    if (!socket || socket.destroyed) return;
    await new Promise<void>((resolve) => {
      socket.once('close', () => resolve());
      socket.destroy();
    });
  }

  protected override doWrite(data: Buffer): Promise<void> {
    const socket = this.#socket;
    if (!socket) return Promise.reject(new TransportError('not_open', `${this.id}: not connected`));
    return new Promise((resolve, reject) => {
      socket.write(data, (err) => (err ? reject(err) : resolve()));
    });
  }

  #lost(gen: number, why: string, cause?: unknown): void {
    this.fail(new TransportError('disconnected', `${this.id}: ${why}`, { cause }), gen);
  }
}
