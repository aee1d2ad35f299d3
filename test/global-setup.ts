// vitest globalSetup: gives the run one log directory (test-results/logs/<time>) that every test
// process writes its logs to (test/fixtures/test-log.ts), and at the end scans all of it for the test
// PANs and PINs (test/fixtures/secrets.ts). A hit fails the run: the teardown sets exit code 1 and throws the report.
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describeHits, scanLogDir } from './fixtures/log-scan.ts';
import { TEST_PANS, TEST_PINS } from './fixtures/secrets.ts';
import { LOG_DIR_ENV } from './fixtures/test-log.ts';

const ROOT = resolve(import.meta.dirname, '../test-results/logs');
/** Runs whose logs are kept for reading afterwards. */
const KEEP = 5;

export default function setup(): () => void {
  const dir = process.env[LOG_DIR_ENV] ?? join(ROOT, new Date().toISOString().replace(/[:.]/g, '-'));
  mkdirSync(dir, { recursive: true });
  process.env[LOG_DIR_ENV] = dir;
  for (const old of safeList(ROOT).sort().slice(0, -KEEP))
    rmSync(join(ROOT, old), { recursive: true, force: true });
  return () => {
    const hits = scanLogDir(dir, { pans: TEST_PANS, pins: TEST_PINS });
    if (hits.length) {
      // vitest prints a teardown error but does not fail the run for it: the exit code is set here.
      process.exitCode = 1;
      throw new Error(
        `test logs in ${dir} hold test PANs or PINs (${hits.length} lines):\n${describeHits(hits.slice(0, 50))}`,
      );
    }
    console.log(`Log scan: no test PAN or PIN in the ${safeList(dir).length} log files of ${dir}`);
  };
}

function safeList(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}
