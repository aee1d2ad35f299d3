// Keeps the till process running: forks it, reads its messages (zod-checked), restarts it with a
// doubling delay when it dies, and stops it when the shell quits. Written against the few members of
// Electron's UtilityProcess it uses, so its logic is tested with a stand-in process.
import { TillProcessMessageSchema, type ShellMessage, type TillStatus } from './till-messages.ts';
import type { LaunchInfo } from './bridge.ts';

/** The part of Electron's UtilityProcess the supervisor uses. */
export interface ChildProcessLike {
  on(event: 'message', listener: (message: unknown) => void): unknown;
  on(event: 'exit', listener: (code: number) => void): unknown;
  postMessage(message: ShellMessage): void;
  kill(): boolean;
}

export interface RestartPolicy {
  baseMs: number;
  maxMs: number;
  /** How long a stop waits for the till to close before killing it. */
  stopTimeoutMs: number;
}

export const DEFAULT_RESTART: RestartPolicy = { baseMs: 1_000, maxMs: 30_000, stopTimeoutMs: 15_000 };

/** The wait before restart number `failures` (1, 2, ...): base, doubling, capped. */
export function restartDelayMs(failures: number, policy: Pick<RestartPolicy, 'baseMs' | 'maxMs'>): number {
  return Math.min(policy.maxMs, policy.baseMs * 2 ** Math.min(Math.max(failures - 1, 0), 30));
}

export interface SupervisorEvents {
  ready(launch: LaunchInfo, firstManager: { name: string; generatedPin?: string } | undefined): void;
  status(status: TillStatus): void;
  /** The till is down (died or failed to start); `restartInMs` until the next try. */
  down(reason: string, restartInMs: number): void;
}

export interface TillSupervisor {
  /** The running till's launch, or undefined while it is down or starting. */
  launch(): LaunchInfo | undefined;
  /** Asks the till to close, kills it after `stopTimeoutMs`, and restarts it no more. */
  stop(): Promise<void>;
}

export function superviseTill(
  fork: () => ChildProcessLike,
  events: SupervisorEvents,
  policy: RestartPolicy = DEFAULT_RESTART,
): TillSupervisor {
  let child: ChildProcessLike | undefined;
  let launch: LaunchInfo | undefined;
  let failures = 0;
  let stopping = false;
  let restartTimer: NodeJS.Timeout | undefined;
  let exited: Promise<void> = Promise.resolve();

  const start = () => {
    restartTimer = undefined;
    const current = fork();
    child = current;
    let lastFailure = 'the till process exited';
    exited = new Promise<void>((resolve) => {
      current.on('exit', (code) => {
        resolve();
        if (child !== current) return;
        child = undefined;
        launch = undefined;
        if (stopping) return;
        failures += 1;
        const delay = restartDelayMs(failures, policy);
        events.down(`${lastFailure} (exit code ${code})`, delay);
        restartTimer = setTimeout(start, delay);
      });
    });
    current.on('message', (raw) => {
      const parsed = TillProcessMessageSchema.safeParse(raw);
      if (!parsed.success) return; // not ours to act on: the schema is the protocol
      const message = parsed.data;
      if (message.type === 'ready') {
        failures = 0; // it came up: the next crash starts the backoff again from the base
        launch = { apiUrl: message.apiUrl, token: message.token };
        events.ready(launch, message.firstManager);
      } else if (message.type === 'status') {
        events.status({ online: message.online, waiting: message.waiting, failed: message.failed });
      } else {
        lastFailure = message.message;
      }
    });
  };
  start();

  return {
    launch: () => launch,
    stop: async () => {
      stopping = true;
      if (restartTimer) clearTimeout(restartTimer);
      const current = child;
      if (!current) return;
      current.postMessage({ type: 'stop' });
      let timer: NodeJS.Timeout | undefined;
      const killed = new Promise<void>((resolve) => {
        timer = setTimeout(() => {
          current.kill();
          resolve();
        }, policy.stopTimeoutMs);
      });
      await Promise.race([exited, killed]);
      clearTimeout(timer);
    },
  };
}
