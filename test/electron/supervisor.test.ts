// The till process's supervisor, over a stand-in for Electron's UtilityProcess (which needs the
// Electron binary): ready and status read through the message schema, restarts with a doubling delay,
// the delay reset by a start that came up, and a stop that asks first and kills after its timeout.
import fc from 'fast-check';
import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { restartDelayMs, superviseTill, type ChildProcessLike } from '../../electron/till-supervisor.ts';

class FakeChild extends EventEmitter implements ChildProcessLike {
  readonly received: unknown[] = [];
  killed = false;
  /** Exits by itself when asked to stop (a till that closes cleanly), unless told to hang. */
  constructor(private readonly hangOnStop = false) {
    super();
  }
  postMessage(message: never) {
    this.received.push(message);
    if (!this.hangOnStop) setImmediate(() => this.emit('exit', 0));
  }
  kill() {
    this.killed = true;
    setImmediate(() => this.emit('exit', 137));
    return true;
  }
}

const POLICY = { baseMs: 20, maxMs: 80, stopTimeoutMs: 100 };

function harness(hangOnStop = false) {
  const children: FakeChild[] = [];
  const log: string[] = [];
  const downs: number[] = [];
  const supervisor = superviseTill(
    () => {
      const child = new FakeChild(hangOnStop);
      children.push(child);
      return child;
    },
    {
      ready: (launch, firstManager) =>
        log.push(`ready ${launch.apiUrl} ${firstManager?.generatedPin ?? '-'}`),
      status: (s) => log.push(`status ${s.online} ${s.waiting} ${s.failed}`),
      down: (reason, delay) => {
        log.push(`down ${reason}`);
        downs.push(delay);
      },
    },
    POLICY,
  );
  const nextChild = async (count: number) => {
    const deadline = Date.now() + 10_000;
    while (children.length < count) {
      if (Date.now() > deadline) throw new Error(`no child #${count}`);
      await new Promise((r) => setTimeout(r, 5));
    }
    return children[count - 1]!;
  };
  return { supervisor, children, log, downs, nextChild };
}

const READY = { type: 'ready', apiUrl: 'http://127.0.0.1:5000', token: 't0k3n' };

describe('superviseTill', () => {
  it('reports ready with the launch and each status; ignores messages outside the schema', async () => {
    const h = harness();
    const child = h.children[0]!;
    expect(h.supervisor.launch()).toBeUndefined();
    child.emit('message', { type: 'ready', apiUrl: 'javascript:alert(1)', token: 'x' });
    child.emit('message', { type: 'status', online: true, waiting: -1, failed: 0 });
    child.emit('message', 'hello');
    expect(h.log).toEqual([]);
    child.emit('message', { ...READY, firstManager: { name: 'manager', generatedPin: '123456' } });
    child.emit('message', { type: 'status', online: false, waiting: 3, failed: 1 });
    expect(h.log).toEqual(['ready http://127.0.0.1:5000 123456', 'status false 3 1']);
    expect(h.supervisor.launch()).toEqual({ apiUrl: 'http://127.0.0.1:5000', token: 't0k3n' });
    await h.supervisor.stop();
  });

  it('restarts a dead till after a doubling delay, saying why it died, and resets the delay once it came up', async () => {
    const h = harness();
    h.children[0]!.emit('message', { type: 'failed', message: 'api.port: too big' });
    h.children[0]!.emit('exit', 1);
    expect(h.log).toEqual(['down api.port: too big (exit code 1)']);
    (await h.nextChild(2)).emit('exit', 1);
    (await h.nextChild(3)).emit('exit', 1);
    (await h.nextChild(4)).emit('exit', 1);
    expect(h.downs).toEqual([20, 40, 80, 80]);
    const fifth = await h.nextChild(5);
    fifth.emit('message', READY);
    expect(h.supervisor.launch()).toBeDefined();
    fifth.emit('exit', 9);
    expect(h.supervisor.launch()).toBeUndefined();
    expect(h.downs.at(-1)).toBe(20);
    await h.nextChild(6);
    await h.supervisor.stop();
  });

  it('stop asks the till to stop, waits for it, and restarts nothing', async () => {
    const h = harness();
    h.children[0]!.emit('message', READY);
    await h.supervisor.stop();
    expect(h.children[0]!.received).toEqual([{ type: 'stop' }]);
    expect(h.children[0]!.killed).toBe(false);
    await new Promise((r) => setTimeout(r, POLICY.maxMs * 2));
    expect(h.children).toHaveLength(1);
    expect(h.log.filter((l) => l.startsWith('down'))).toEqual([]);
  });

  it('stop kills a till that does not close in time', async () => {
    const h = harness(true);
    await h.supervisor.stop();
    expect(h.children[0]!.killed).toBe(true);
    expect(h.children).toHaveLength(1);
  });

  it('stop during a restart wait cancels the restart', async () => {
    const h = harness();
    h.children[0]!.emit('exit', 1);
    await h.supervisor.stop();
    await new Promise((r) => setTimeout(r, POLICY.maxMs * 2));
    expect(h.children).toHaveLength(1);
  });
});

describe('restartDelayMs', () => {
  it('starts at the base, never decreases, never passes the cap', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 10_000 }),
        fc.integer({ min: 1, max: 1e7 }),
        fc.integer({ min: 1, max: 200 }),
        (base, extra, n) => {
          const policy = { baseMs: base, maxMs: base + extra };
          expect(restartDelayMs(1, policy)).toBe(base);
          expect(restartDelayMs(n + 1, policy)).toBeGreaterThanOrEqual(restartDelayMs(n, policy));
          expect(restartDelayMs(n, policy)).toBeLessThanOrEqual(policy.maxMs);
        },
      ),
    );
  });
});
