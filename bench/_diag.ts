import Database from 'better-sqlite3';
import { join } from 'node:path';
import { installSqlTrace } from './sql-trace.ts';
import { growByCopy } from './ledger-size.ts';
import { benchTempDir, closedLoop, domainEarn, openBenchEngine } from './setup.ts';
const trace = installSqlTrace();
const dir = process.argv[2] ?? benchTempDir(undefined, 'diag');
const path = join(dir, 'engine.sqlite');
const fresh = !process.argv[2];
let ids;
if (fresh) {
  const seeding = await openBenchEngine({ synchronous: 'NORMAL', dir, maxBatch: 1024 });
  ids = { appId: seeding.appId, secret: seeding.secret, programId: seeding.programId };
  await closedLoop(1024, { total: 10_000 }, (i) => domainEarn(seeding, i, 'seed'));
  await seeding.close({ keepFiles: true });
} else {
  const db = new Database(path);
  const app = db.prepare('SELECT app_id FROM apps').get() as { app_id: string };
  ids = { appId: app.app_id, secret: 'x', programId: 1 };
  db.close();
}
async function measure(label: string) {
  const b = await openBenchEngine({ synchronous: 'FULL', dir, existing: ids });
  await closedLoop(64, { seconds: 1 }, (i) => domainEarn(b, i, `${label}-w`));
  trace();
  const r = await closedLoop(64, { seconds: 4 }, (i) => domainEarn(b, i, label));
  const t = trace();
  console.log(label, r.perSecond.toFixed(0), 'earns/s', 'sql share', (t.sqlMs / t.wallMs).toFixed(2), 'commit mean', t.commitMs.mean.toFixed(2), 'jobs/commit', t.jobsPerCommit.mean.toFixed(1));
  for (const s of t.statements.slice(0, 14)) console.log(((s.ms * 1000) / r.ops).toFixed(1).padStart(7), 'us/earn', s.usPerCall.toFixed(1).padStart(7), 'us/call', String(s.calls).padStart(6), s.sql.slice(0, 120));
  await b.close({ keepFiles: true });
}
function plans() {
  const db = new Database(path, { readonly: true });
  for (const q of [
    "SELECT id FROM earn_lots WHERE state = 'maturing' AND matures_at <= 1 AND member_id = 1 AND program_id = 1 ORDER BY id",
    "SELECT id FROM earn_lots WHERE state = 'available' AND expires_at IS NOT NULL AND expires_at <= 1 AND member_id = 1 AND program_id = 1 ORDER BY id",
  ]) console.log(q.slice(0, 60), JSON.stringify(db.prepare('EXPLAIN QUERY PLAN ' + q).all()));
  db.close();
}
if (fresh) await measure('10k');
plans();
if (fresh) { const g = growByCopy(path, { lo: 3, hi: 10002 }, 1_000_000); console.log('grown', g); }
await measure('1M');
plans();
console.log('dir', dir);
