// A real pseudo-terminal pair made by socat: `socat -d -d pty,raw,echo=0,link=A pty,raw,echo=0,link=B`.
// Each end is a pty named by a symlink. Killing socat is an unplug (both ptys vanish, readers get EOF);
// starting it again with the same links is a replug. The simulator and the tests share this one class.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { statSync, unlinkSync } from 'node:fs';

export const SOCAT = '/usr/bin/socat';

export class SocatPty {
  /** Link to one end (the driver's side). */
  readonly a: string;
  /** Link to the other end (the device's side). */
  readonly b: string;
  #child: ChildProcess | undefined;

  constructor(a: string, b: string) {
    this.a = a;
    this.b = b;
  }

  get running(): boolean {
    return this.#child !== undefined && this.#child.exitCode === null && this.#child.signalCode === null;
  }

  /** socat's process id while it runs. */
  get pid(): number | undefined {
    return this.running ? this.#child?.pid : undefined;
  }

  /** Starts socat and resolves once both links name live ptys. */
  async start(timeoutMs = 5000): Promise<void> {
    if (this.running) return;
    // A link left behind by a SIGKILLed socat would make socat refuse to create its own.
    for (const link of [this.a, this.b]) removeLink(link);
    const child = spawn(
      SOCAT,
      ['-d', '-d', `pty,raw,echo=0,link=${this.a}`, `pty,raw,echo=0,link=${this.b}`],
      {
        stdio: 'ignore',
      },
    );
    this.#child = child;
    const spawned = new Promise<Error | undefined>((resolve) => {
      child.once('spawn', () => resolve(undefined));
      child.once('error', resolve);
    });
    const failed = await spawned;
    if (failed) {
      this.#child = undefined;
      throw new Error(`cannot start ${SOCAT} (${failed.message}); install the Debian package socat`);
    }
    const deadline = Date.now() + timeoutMs;
    while (!(exists(this.a) && exists(this.b))) {
      if (child.exitCode !== null || child.signalCode !== null) throw new Error('socat exited at start');
      if (Date.now() > deadline) {
        await this.kill('SIGKILL');
        throw new Error(`socat links not ready after ${timeoutMs} ms`);
      }
      await new Promise((r) => setTimeout(r, 5));
    }
  }

  /** Kills socat (an unplug), resolves once it has exited, and removes both links. */
  async kill(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const child = this.#child;
    this.#child = undefined;
    if (child && child.exitCode === null && child.signalCode === null) {
      await new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.kill(signal);
      });
    }
    // socat removes its links on a clean exit; after SIGKILL they dangle.
    for (const link of [this.a, this.b]) removeLink(link);
  }

  async restart(): Promise<void> {
    await this.kill();
    await this.start();
  }
}

function removeLink(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // not there
  }
}

function exists(path: string): boolean {
  try {
    statSync(path);
    return true;
  } catch {
    return false;
  }
}
