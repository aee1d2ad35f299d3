// The whole till as rows 10 use it: startTill with the embedded engine and simulated terminals in a
// temporary directory, browser mode's demo customer (the simulator's visa card is theirs, so a swipe
// names them), and the first manager signed in to start flows over the local API.
import type { SimulationController } from '../drivers/simulate/simulation.ts';
import type { DemoCustomer } from '../till/demo-customer.ts';
import { startTill, type Till } from '../till/core.ts';
import { benchTempDir, removeDir } from './setup.ts';

export interface BenchTill {
  till: Till;
  sim: SimulationController;
  demo: DemoCustomer;
  /** POSTs to the local API as the signed-in manager; throws on anything but a 2xx. */
  post(path: string, body: unknown): Promise<Record<string, unknown>>;
  close(): Promise<void>;
}

export async function startBenchTill(baseDir: string | undefined, name: string): Promise<BenchTill> {
  const dir = benchTempDir(baseDir, name);
  const till = await startTill(
    { dataDir: dir, logDir: `${dir}/logs`, logLevel: 'warn' },
    { simulate: 'always', simulatorOut: () => undefined, handleSignals: false },
  );
  const close = async () => {
    await till.close();
    removeDir(dir);
  };
  try {
    const sim = till.simulation;
    const demo = till.demoCustomer;
    if (!sim || !demo) throw new Error('the simulated terminals or the demo customer did not start');
    const request = async (path: string, body: unknown, session?: string) => {
      const res = await fetch(`${till.apiUrl}${path}`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${till.token}`,
          'content-type': 'application/json',
          ...(session ? { 'x-operator-session': session } : {}),
        },
        body: JSON.stringify(body),
      });
      const answer = (await res.json()) as Record<string, unknown>;
      if (!res.ok) throw new Error(`${path}: ${res.status} ${JSON.stringify(answer)}`);
      return answer;
    };
    const manager = till.firstManager!;
    const signedIn = await request('/api/operators/sign-in', {
      name: manager.name,
      pin: manager.generatedPin,
    });
    const post = (path: string, body: unknown) => request(path, body, signedIn.session as string);
    return { till, sim, demo, post, close };
  } catch (error) {
    await close();
    throw error;
  }
}
