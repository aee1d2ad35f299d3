// Test helper: a socat pty pair (drivers/simulate/socat.ts) in its own temporary directory.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SocatPty } from '../../../drivers/simulate/socat.ts';

export { SOCAT } from '../../../drivers/simulate/socat.ts';

export class SocatPair extends SocatPty {
  readonly dir: string;

  constructor(dir = mkdtempSync(join(tmpdir(), 'tillback-pty-'))) {
    super(join(dir, 'a'), join(dir, 'b'));
    this.dir = dir;
  }

  async dispose(): Promise<void> {
    await this.kill();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export async function startSocatPair(): Promise<SocatPair> {
  const pair = new SocatPair();
  await pair.start();
  return pair;
}
