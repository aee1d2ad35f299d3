// kill -9 of the till core (till/cli.ts, pointed at a standalone engine on loopback) at random points
// of a burst of earns sent over its local API, three times, then a normal start on the same data
// directory: every earn the API confirmed (201) reaches the engine exactly once, nothing is applied
// twice, and the engine's ledger verifies clean.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it, vi } from 'vitest';
import { OPERATOR_PINS } from '../fixtures/secrets.ts';
import { testLogDir } from '../fixtures/test-log.ts';
import { startEngineLink, type EngineLink } from './engine-link.ts';
import { startTillProcess, type TillProcess } from './fixtures/till-process.ts';

const MANAGER = { name: 'maria', pin: OPERATOR_PINS[0] };
/** Requests in flight at once during the burst. */
const CONCURRENCY = 4;

let link: EngineLink;
let dir: string;
let configFile: string;
beforeEach(async () => {
  link = await startEngineLink();
  dir = mkdtempSync(join(tmpdir(), 'tillback-core-crash-'));
  configFile = join(dir, 'till.json');
  const engineSecrets = JSON.parse(readFileSync(join(link.h.dir, 'secrets.json'), 'utf8'));
  writeFileSync(
    configFile,
    JSON.stringify({
      dataDir: join(dir, 'till'),
      logDir: mkdtempSync(join(testLogDir(), 'till-crash-')),
      engine: { url: link.url, ...link.credentials, tokenizationKey: engineSecrets.cardHashKey },
      program: { id: link.programId, currency: 'TND' },
      api: { firstManager: MANAGER },
      outbox: { retry: { baseMs: 10, maxMs: 100 } },
      devices: { simulate: 'never', manifestDir: join(dir, 'devices') },
    }),
  );
});
afterEach(async () => {
  await link.close();
  rmSync(dir, { recursive: true, force: true });
});

async function signedIn(till: TillProcess) {
  const { apiUrl, token } = await till.ready;
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  const res = await fetch(`${apiUrl}/api/operators/sign-in`, {
    method: 'POST',
    headers,
    body: JSON.stringify(MANAGER),
  });
  expect(res.status).toBe(200);
  const { session } = (await res.json()) as { session: string };
  return { apiUrl, headers: { ...headers, 'x-operator-session': session } };
}

/**
 * Starts the till, sends earns numbered from `first` until `confirmations` are confirmed, then
 * SIGKILLs it with requests still in flight. Returns the confirmed references and the next free number.
 */
async function burstThenKill(first: number, confirmations: number) {
  const till = startTillProcess(['--config', configFile]);
  const { apiUrl, headers } = await signedIn(till);
  const confirmed = new Set<string>();
  let next = first;
  let killed = false;
  const worker = async () => {
    while (!killed) {
      const reference = `sale-${next++}`;
      const res = await fetch(`${apiUrl}/api/earn`, {
        method: 'POST',
        headers,
        body: JSON.stringify({
          programId: link.programId,
          currency: 'TND',
          member: { phone: `+6140000000${next % 7}` },
          memberName: 'Burst Member',
          purchaseAmount: 1000 + next,
          reference,
        }),
      }).catch(() => undefined); // the kill cuts requests in flight: those were never confirmed
      if (res?.status === 201 && !killed) {
        confirmed.add(reference);
        if (confirmed.size >= confirmations) {
          killed = true;
          till.child.kill('SIGKILL');
        }
      } else if (res && res.status !== 201 && !killed) {
        throw new Error(`earn answered ${res.status}: ${await res.text()}`);
      }
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  expect((await till.exited).signal, till.out.stderr).toBe('SIGKILL');
  return { confirmed, next };
}

it(
  'delivers every confirmed earn exactly once across kill -9 at random points, ledger clean',
  { timeout: 240_000 },
  async () => {
    const confirmed = new Set<string>();
    let next = 0;
    for (const confirmations of [
      20 + Math.floor(Math.random() * 60),
      3,
      40 + Math.floor(Math.random() * 60),
    ]) {
      const round = await burstThenKill(next, confirmations);
      for (const reference of round.confirmed) confirmed.add(reference);
      next = round.next;
    }
    expect(confirmed.size).toBeGreaterThanOrEqual(63);

    // A normal start drains what the killed ones left queued.
    const till = startTillProcess(['--config', configFile]);
    try {
      const { apiUrl, headers } = await signedIn(till);
      await vi.waitFor(
        async () => {
          const res = await fetch(`${apiUrl}/api/queue`, { headers });
          expect(((await res.json()) as any).queue).toMatchObject({ waiting: 0, failed: 0 });
        },
        { timeout: 120_000, interval: 100 },
      );
      till.child.kill('SIGTERM');
      expect((await till.exited).code).toBe(0);
    } finally {
      till.child.kill('SIGKILL');
    }

    const references = (await link.applied()).map((t) => t.reference!);
    expect(new Set(references).size).toBe(references.length); // nothing twice
    const missing = [...confirmed].filter((r) => !references.includes(r));
    expect(missing).toEqual([]); // nothing confirmed lost
    expect(await link.h.ledgerProblems()).toEqual([]);
  },
);
