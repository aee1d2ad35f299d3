// Test helper: a real pseudo-terminal pair made by socat. Killing socat is an unplug; starting it again
// with the same link names is a replug.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const SOCAT = '/usr/bin/socat';

export class SocatPair {
  readonly dir: string;
  /** Link to one end (the driver side in tests). */
  readonly a: string;
  /** Link to the other end (the device side). */
  readonly b: string;
  #child: ChildProcess | undefined;

  constructor(dir = mkdtempSync(join(tmpdir(), 'tillback-pty-'))) {
    this.dir = dir;
    this.a = join(dir, 'a');
    this.b = join(dir, 'b');
  }

  get running(): boolean {
    return this.#child !== undefined && this.#child.exitCode === null && this.#child.signalCode === null;
  }

  /** Starts socat and resolves once both links name live ptys. */
  async start(timeoutMs = 5000): Promise<void> {
    if (this.running) return;
    for (const link of [this.a, this.b]) {
      try {
        unlinkSync(link); // a stale link left by SIGKILL
      } catch {
        // none
      }
    }
    const child = spawn(
      SOCAT,
      ['-d', '-d', `pty,raw,echo=0,link=${this.a}`, `pty,raw,echo=0,link=${this.b}`],
      { stdio: 'ignore' },
    );
    this.#child = child;
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

  /** Kills socat (an unplug) and resolves once it has exited. */
  async kill(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const child = this.#child;
    this.#child = undefined;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill(signal);
    });
  }

  async restart(): Promise<void> {
    await this.kill();
    await this.start();
  }

  async dispose(): Promise<void> {
    await this.kill();
    rmSync(this.dir, { recursive: true, force: true });
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

export async function startSocatPair(): Promise<SocatPair> {
  const pair = new SocatPair();
  await pair.start();
  return pair;
}
