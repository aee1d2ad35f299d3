// The `kill` scenario's chaos loop: at random moments (every few seconds) it SIGKILLs a random engine
// process and starts it again on the same port, while the tills keep retrying against the others
// (and, once it answers /health, the restarted one).
import type { Cluster } from './cluster.ts';

export interface ChaosStats {
  kills: number;
  /** From each SIGKILL until the restarted engine answered /health. */
  downtimesMs: number[];
  /** A restart that failed (the engine would not come back): the run is then a failure. */
  error: string | undefined;
}

export interface Chaos {
  /** Stops after the kill/restart in progress, if any. */
  stop(): Promise<ChaosStats>;
}

export function startChaos(cluster: Cluster, opts: { minGapMs: number; maxGapMs: number }): Chaos {
  const stats: ChaosStats = { kills: 0, downtimesMs: [], error: undefined };
  let running = true;
  let wake: (() => void) | undefined;
  const pause = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });

  const loop = (async () => {
    while (running) {
      await pause(opts.minGapMs + Math.random() * (opts.maxGapMs - opts.minGapMs));
      if (!running) break;
      const n = Math.floor(Math.random() * cluster.urls.length);
      const killedAt = Date.now();
      await cluster.kill(n);
      stats.kills++;
      try {
        await cluster.start(n);
        stats.downtimesMs.push(Date.now() - killedAt);
      } catch (error) {
        stats.error = error instanceof Error ? error.message : String(error);
        break;
      }
    }
  })();

  return {
    async stop() {
      running = false;
      wake?.();
      await loop;
      return stats;
    },
  };
}
