import Database from 'better-sqlite3';
import { join } from 'node:path';
import { installSqlTrace } from './sql-trace.ts';
import { closedLoop, domainEarn, openBenchEngine } from './setup.ts';
const trace = installSqlTrace();
const dir = process.argv[2]!;
const variant = process.argv[3] ?? 'base';
const extra: Record<string, string[]> = {
  base: [],
  cache: ['cache_size = -262144'],
  mmap: ['mmap_size = 2147483648'],
  temp: ['temp_store = MEMORY'],
  all: ['cache_size = -262144', 'temp_store = MEMORY'],
  noauto: ['wal_autocheckpoint = 0'],
};
const proto = Database.prototype as unknown as { pragma: (s: string, o?: unknown) => unknown };
const orig = proto.pragma;
proto.pragma = function (this: Database.Database, s: string, o?: unknown) {
  const r = orig.call(this, s, o);
  if (s.startsWith('foreign_keys')) for (const p of extra[variant]!) orig.call(this, p);
  return r;
};
const path = join(dir, 'engine.sqlite');
const db = new Database(path);
const app = db.prepare('SELECT app_id FROM apps').get() as { app_id: string };
const n = (db.prepare('SELECT COUNT(*) AS n FROM transfers').get() as { n: number }).n;
db.close();
const ids = { appId: app.app_id, secret: 'x', programId: 1 };
const b = await openBenchEngine({ synchronous: 'FULL', dir, existing: ids });
const tag = `${variant}-${Date.now()}`;
await closedLoop(64, { seconds: 1 }, (i) => domainEarn(b, i, `${tag}-w`));
trace();
const r = await closedLoop(64, { seconds: Number(process.argv[4] ?? 4) }, (i) => domainEarn(b, i, tag));
const t = trace();
const per = (re: RegExp) => t.statements.filter((s) => re.test(s.sql)).reduce((a, s) => a + s.ms, 0) * 1000 / r.ops;
console.log(variant.padEnd(7), n, 'transfers', r.perSecond.toFixed(0).padStart(5), 'earns/s  sql us/earn', (t.sqlMs*1000/r.ops).toFixed(0), ' commit us/earn', per(/^exec COMMIT/).toFixed(0), ' inserts us/earn', per(/^INSERT/).toFixed(0), ' selects us/earn', per(/^SELECT/).toFixed(0), ' savepoints', per(/^exec (SAVEPOINT|RELEASE)/).toFixed(0), ' other JS us/earn', ((t.wallMs - t.sqlMs)*1000/r.ops).toFixed(0));
await b.close({ keepFiles: true });
