// CPU time processes have used, from Linux's /proc: an engine process's, and a PostgreSQL server's,
// so row 12 can read the database's cost per operation apart from the engines' and the load
// generator's on a machine they all share. Elsewhere (no /proc) every figure is undefined.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const TICKS_PER_SECOND = 100;

/** The fields after "pid (comm) " of /proc/<pid>/stat, or undefined for a process that is gone. */
function statFields(pid: string): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/** proc(5): ppid is field 4, utime 14, stime 15, cutime 16, cstime 17 (1-based, from the pid). */
const PPID = 1;
const UTIME = 11;
const STIME = 12;
const CUTIME = 13;
const CSTIME = 14;
const ticks = (fields: string[], ...at: number[]) => at.reduce((sum, i) => sum + Number(fields[i]), 0);

/** utime + stime of a process, in seconds. */
export function processCpuSeconds(pid: number | undefined): number | undefined {
  const fields = pid === undefined ? undefined : statFields(String(pid));
  return fields && ticks(fields, UTIME, STIME) / TICKS_PER_SECOND;
}

/**
 * Seconds of CPU the server whose data directory is `dataDir` has used so far; undefined where
 * /proc is not there. Read before and after a measurement: the difference is what the server used.
 */
export function postgresCpuSeconds(dataDir: string): number | undefined {
  // The postmaster's own time, its live children's (a backend per connection, the WAL writer, the
  // checkpointer...), and its reaped children's (a backend whose connection closed), which the
  // kernel adds to the postmaster's cutime and cstime.
  let postmaster: string | undefined;
  try {
    postmaster = readFileSync(join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]?.trim();
  } catch {
    return undefined;
  }
  const own = postmaster && statFields(postmaster);
  if (!own) return undefined;
  let total = ticks(own, UTIME, STIME, CUTIME, CSTIME);
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    const fields = statFields(pid);
    if (fields && fields[PPID] === postmaster) total += ticks(fields, UTIME, STIME);
  }
  return total / TICKS_PER_SECOND;
}
