// What a simulation leaves when its process is killed with SIGKILL: socat processes (orphaned, still
// serving the ptys), their links and the manifest files, which the next till would take for attached
// terminals. A running simulation therefore keeps a record in its manifest directory (OWNER_FILE): who
// owns it (pid, that process's start time and the boot, so a reused pid is not taken for the owner) and
// each device's socat pid. The next start reads it: a live owner's simulation is left alone (someone
// runs `npm run simulate` on purpose); a dead owner's socat processes are stopped, but only after
// /proc/<pid>/cmdline shows a socat naming this simulation's links (never a stranger), and its manifests
// and links are removed.
import { lstatSync, readFileSync, renameSync, rmSync, rmdirSync, unlinkSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { z } from 'zod';
import { SOCAT } from './socat.ts';

/** The record's name in the manifest directory: not `*.json`, so the device manager never reads it. */
export const OWNER_FILE = 'simulation.owner';
/** The prefix of the simulator's own temporary directory (its ends of the pty pairs). */
export const SIM_DIR_PREFIX = 'tillback-sim-';
/** How long a stopped socat may take to go before it is killed outright. */
const STOP_TIMEOUT_MS = 3000;

/** A process as /proc knows it: the same three values mean the same process. */
export interface ProcessIdentity {
  pid: number;
  /** Field 22 of /proc/<pid>/stat: clock ticks after boot, as text (it may pass 2^53 in theory). */
  startTime: string;
  /** /proc/sys/kernel/random/boot_id: a start time means nothing across a reboot. */
  bootId: string;
}

const identitySchema = z.object({
  pid: z.number().int().positive(),
  startTime: z.string().regex(/^\d+$/),
  bootId: z.string().min(1),
});
export const simulationRecordSchema = z.object({
  owner: identitySchema,
  /** The simulator's temporary directory; its name must start with SIM_DIR_PREFIX. */
  simDir: z.string().refine((d) => basename(d).startsWith(SIM_DIR_PREFIX), 'not a simulator directory'),
  /** Ids only (paths are derived from them), so a record can never point outside its directories. */
  devices: z.array(
    z.object({
      id: z.string().regex(/^[a-z]+(-[a-z]+)*-\d+$/),
      socatPid: z.number().int().positive().optional(),
    }),
  ),
});
export type SimulationRecord = z.infer<typeof simulationRecordSchema>;

/** The state letter and start time of a /proc/<pid>/stat line; undefined when it is not one. */
export function parseProcStat(text: string): { state: string; startTime: string } | undefined {
  // The command name (field 2) is in parentheses and may hold spaces and parentheses itself: the
  // fields that follow start after the last ')'.
  const end = text.lastIndexOf(')');
  if (end < 0) return undefined;
  const fields = text
    .slice(end + 1)
    .trim()
    .split(/\s+/);
  const [state] = fields;
  const startTime = fields[22 - 3]; // field 3 (state) is fields[0]
  if (!state || !/^[A-Za-z]$/.test(state) || !startTime || !/^\d+$/.test(startTime)) return undefined;
  return { state, startTime };
}

function readProc(pid: number, file: string): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/${file}`, 'utf8');
  } catch {
    return undefined;
  }
}

/** A pid's stat, if it names a process that has not ended (a zombie has ended, unreaped). */
function liveStat(pid: number) {
  const stat = parseProcStat(readProc(pid, 'stat') ?? '');
  return stat && stat.state !== 'Z' && stat.state !== 'X' ? stat : undefined;
}

const bootId = () => readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();

/** This process (or `pid`) as an identity; undefined when it is not running. */
export function processIdentity(pid = process.pid): ProcessIdentity | undefined {
  const stat = liveStat(pid);
  return stat && { pid, startTime: stat.startTime, bootId: bootId() };
}

/** Whether the process the identity names still runs (not merely a process with its pid). */
export function isAlive(owner: ProcessIdentity): boolean {
  const now = processIdentity(owner.pid);
  return now !== undefined && now.startTime === owner.startTime && now.bootId === owner.bootId;
}

/** Writes the record whole (temporary name, then rename): a reader never sees half of it. */
export function writeSimulationRecord(dir: string, record: SimulationRecord): void {
  const file = join(dir, OWNER_FILE);
  writeFileSync(`${file}.tmp`, `${JSON.stringify(simulationRecordSchema.parse(record), null, 2)}\n`);
  renameSync(`${file}.tmp`, file);
}

export function removeSimulationRecord(dir: string): void {
  rmSync(join(dir, OWNER_FILE), { force: true });
}

/** The record in `dir`: none, one, or a file that is not one (kept for the caller to report). */
export function readSimulationRecord(
  dir: string,
): { kind: 'none' } | { kind: 'record'; record: SimulationRecord } | { kind: 'unreadable' } {
  let text: string;
  try {
    text = readFileSync(join(dir, OWNER_FILE), 'utf8');
  } catch {
    return { kind: 'none' };
  }
  try {
    const parsed = simulationRecordSchema.safeParse(JSON.parse(text));
    return parsed.success ? { kind: 'record', record: parsed.data } : { kind: 'unreadable' };
  } catch {
    return { kind: 'unreadable' };
  }
}

/** The paths a device of a simulation in `dir` uses: its manifest, its link, the simulator's link. */
export function devicePaths(dir: string, simDir: string, id: string) {
  return { manifest: join(dir, `${id}.json`), link: join(dir, id), simLink: join(simDir, id) };
}

/** Whether `pid` runs socat with one of `links` as a `link=` of its addresses. */
export function isOurSocat(pid: number, links: readonly string[]): boolean {
  if (!liveStat(pid)) return false;
  const [program, ...args] = (readProc(pid, 'cmdline') ?? '').split('\0');
  if (program === undefined || basename(program) !== basename(SOCAT)) return false;
  return args.some((arg) => arg.split(',').some((option) => links.some((l) => option === `link=${l}`)));
}

/** Removes `path` if it is a symbolic link (what socat leaves), nothing else. */
function removeLink(path: string): void {
  try {
    if (lstatSync(path).isSymbolicLink()) unlinkSync(path);
  } catch {
    // not there
  }
}

async function stopProcess(pid: number): Promise<void> {
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return; // gone already
  }
  const deadline = Date.now() + STOP_TIMEOUT_MS;
  while (liveStat(pid)) {
    if (Date.now() > deadline) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // it went in the meantime
      }
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

export type LeftoverCheck =
  | { state: 'none' }
  /** A simulation whose owner runs: its devices are attached terminals. */
  | { state: 'live'; owner: number }
  /** A dead owner's simulation, cleared; `message` says so in one line. */
  | { state: 'cleared'; owner: number; stopped: number[]; message: string }
  | { state: 'unreadable'; message: string };

/**
 * Looks for a simulation record in `dir` and clears what a dead owner left: its socat processes (each
 * checked to be ours first), manifests and links, the simulator's directory, and the record.
 */
export async function clearAbandonedSimulation(dir: string): Promise<LeftoverCheck> {
  const found = readSimulationRecord(dir);
  if (found.kind === 'none') return { state: 'none' };
  if (found.kind === 'unreadable') {
    // Nothing in it can be trusted to kill; it is ours, so it goes (manifests it described stay).
    removeSimulationRecord(dir);
    return {
      state: 'unreadable',
      message: `Removed an unreadable ${OWNER_FILE} in ${dir}; stopped nothing`,
    };
  }
  const { owner, simDir, devices } = found.record;
  if (isAlive(owner)) return { state: 'live', owner: owner.pid };

  const stopped: number[] = [];
  for (const { id, socatPid } of devices) {
    const paths = devicePaths(dir, simDir, id);
    if (socatPid !== undefined && isOurSocat(socatPid, [paths.link, paths.simLink])) {
      await stopProcess(socatPid);
      stopped.push(socatPid);
    }
    rmSync(paths.manifest, { force: true });
    removeLink(paths.link);
    removeLink(paths.simLink);
  }
  try {
    rmdirSync(simDir); // only once empty: anything else in it is not ours to delete
  } catch {
    // gone already, or not empty
  }
  removeSimulationRecord(dir);
  const socat = stopped.length ? `stopped socat ${stopped.join(', ')}` : 'no socat was still running';
  return {
    state: 'cleared',
    owner: owner.pid,
    stopped,
    message: `Cleared the simulated terminals left in ${dir} by process ${owner.pid} (no longer running): ${socat}, manifests and links removed`,
  };
}
