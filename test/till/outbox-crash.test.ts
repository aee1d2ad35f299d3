// kill -9 of a till process in the middle of a burst (enqueueing while its sender delivers), then a
// new till on the same file: every confirmed operation reaches the engine, none twice, in order.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it, vi } from 'vitest';
import { openOutbox } from '../../till/outbox/outbox.ts';
import { startEngineLink, type EngineLink } from './engine-link.ts';

let link: EngineLink;
let dir: string;
beforeEach(async () => {
  link = await startEngineLink();
  dir = mkdtempSync(join(tmpdir(), 'tillback-till-crash-'));
});
afterEach(async () => {
  await link.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Runs the burst till from sale `first` and SIGKILLs it after `confirmations` lines; returns them. */
async function burstThenKill(
  path: string,
  first: number,
  confirmations: number,
): Promise<Map<string, string>> {
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      'test/till/fixtures/outbox-burst.ts',
      path,
      link.url,
      String(link.programId),
      String(first),
    ],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, TILL_APP_ID: link.credentials.appId, TILL_API_KEY: link.credentials.apiKey },
    },
  );
  const confirmed = new Map<string, string>();
  let stderr = '';
  let pending = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdout.on('data', (d: Buffer) => {
    pending += d.toString();
    const lines = pending.split('\n');
    pending = lines.pop()!;
    for (const line of lines) {
      const [id, reference] = line.split(' ');
      confirmed.set(id!, reference!);
    }
    if (confirmed.size >= confirmations) child.kill('SIGKILL');
  });
  const signal = await new Promise<NodeJS.Signals | null>((resolve) =>
    child.on('exit', (_c, s) => resolve(s)),
  );
  expect(signal, stderr).toBe('SIGKILL');
  return confirmed;
}

it(
  'loses nothing confirmed and applies nothing twice across kill -9 at random points',
  { timeout: 120_000 },
  async () => {
    const path = join(dir, 'till.sqlite');
    const confirmed = new Map<string, string>();
    let next = 0;
    for (const confirmations of [
      20 + Math.floor(Math.random() * 100),
      5,
      150 + Math.floor(Math.random() * 100),
    ]) {
      const round = await burstThenKill(path, next, confirmations);
      for (const [id, reference] of round) confirmed.set(id, reference);
      // The next run numbers its sales after anything this one may have written without printing.
      next += round.size + 1;
    }

    const till = await openOutbox({
      path,
      engine: { url: link.url, ...link.credentials },
      retry: { baseMs: 10, maxMs: 100 },
    });
    try {
      till.start();
      await vi.waitFor(async () => expect((await till.state()).waiting).toBe(0), {
        timeout: 60_000,
        interval: 50,
      });
      for (const id of confirmed.keys()) expect((await till.operation(id))?.state, id).toBe('delivered');
    } finally {
      await till.close();
    }

    const references = (await link.applied()).map((t) => t.reference!);
    expect(new Set(references).size).toBe(references.length);
    for (const reference of confirmed.values()) expect(references).toContain(reference);
    // In order: sale numbers only grow in the order the engine applied them.
    const numbers = references.map((r) => Number(r.slice('sale-'.length)));
    expect(numbers).toEqual([...numbers].sort((a, b) => a - b));
    expect(await link.h.ledgerProblems()).toEqual([]);
  },
);
