// The till core: the one entry point that Electron (later), browser mode (till/cli.ts) and the tests
// start. In order: the engine (embedded, or a central one by URL), the outbox, the components (flows,
// history: whatever plugs in below), the outbox's sender and the device manager (with simulated
// terminals when asked), then the local API with every component's routes. close(), SIGTERM, SIGINT
// and SIGHUP stop it all in the reverse order; the queue is durable, so a stop loses nothing.
import { randomInt } from 'node:crypto';
import { createWriteStream, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { pino, type Logger } from 'pino';
import type { Notifier } from '../engine/domain/context.ts';
import { loggerOptions } from '../engine/logger.ts';
import { DeviceManager } from '../drivers/devices/manager.ts';
import { clearAbandonedSimulation } from '../drivers/simulate/leftovers.ts';
import { startSimulation, type SimulationController } from '../drivers/simulate/simulation.ts';
import { createLocalApi, type LocalApi, type LocalApiRoutes } from './api/server.ts';
import {
  parseTillConfig,
  tillPaths,
  type SimulateMode,
  type TillConfig,
  type TillConfigInput,
} from './config.ts';
import { centralEngine, claimPageWarning, startEmbeddedEngine, type EngineLink } from './embedded-engine.ts';
import { openOutbox, type Outbox } from './outbox/outbox.ts';
import { flowsComponent } from './flows/component.ts';
import type { DemoCustomer } from './demo-customer.ts';
import { historyComponent } from './history/component.ts';
import { managerComponent } from './manager/component.ts';
import { terminalsComponent } from './terminals/component.ts';
import { screenRoutes } from './screens.ts';

/** What a component gets: the till's parts, started (the device manager polls once components are in). */
export interface TillServices {
  readonly config: TillConfig;
  readonly outbox: Outbox;
  readonly devices: DeviceManager;
  /** The engine's URL and this till's credentials, for calls that cannot wait (redeem, cashout). */
  readonly engine: Pick<EngineLink, 'url' | 'publicUrl' | 'appId' | 'apiKey'>;
  /** The key of the keyed card hash (never log it): a card-identified earn may then be queued. */
  readonly tokenizationKey: string;
  /** The program earns go to, and its currency. */
  readonly program: EngineLink['program'];
  readonly log: Logger;
}

/** A part of the till (flows, history...) that starts with the core and may add local API routes. */
export interface TillComponent {
  readonly name: string;
  start(services: TillServices): Promise<StartedComponent> | StartedComponent;
}
export interface StartedComponent {
  routes?: LocalApiRoutes;
  close?(): Promise<void>;
}

/**
 * THE PLACE WHERE COMPONENTS PLUG IN: one line each, in start order (history before flows, so it sees
 * every flow's first event).
 */
export const TILL_COMPONENTS: readonly TillComponent[] = [
  historyComponent,
  flowsComponent,
  terminalsComponent,
  managerComponent,
];

export interface StartTillOptions {
  /** Default: TILL_COMPONENTS. */
  components?: readonly TillComponent[];
  /** `devices.simulate` when the configuration leaves it unset (browser mode: auto). Default never. */
  simulate?: SimulateMode;
  /** Where the simulator's lines go (default: the till's log). */
  simulatorOut?: (line: string) => void;
  /** The embedded engine's delivery of one-time codes (browser mode prints them). */
  notifier?: Notifier;
  /** Stop on SIGTERM, SIGINT and SIGHUP (default true; tests running several tills in one process turn it off). */
  handleSignals?: boolean;
  now?: () => number;
}

export interface Till {
  /** The local API, e.g. http://127.0.0.1:41234 */
  readonly apiUrl: string;
  /** Every route of the local API (core, components and screens). */
  readonly apiRoutes: LocalApi['routes'];
  /** The per-launch token for the windows: show it once, never log it. */
  readonly token: string;
  /** Where the till calls its engine. */
  readonly engineUrl: string;
  /** Where customers' phones reach the engine (claim pages, their QR codes): `engine.publicUrl`. */
  readonly enginePublicUrl: string;
  readonly embedded: boolean;
  readonly program: EngineLink['program'];
  /** The first manager, when this start created them; `generatedPin` when the PIN was made here. */
  readonly firstManager: { name: string; generatedPin?: string } | undefined;
  /** Browser mode's demo customer (embedded engine, simulated terminals allowed). */
  readonly demoCustomer: DemoCustomer | undefined;
  readonly devices: DeviceManager;
  /** The simulated terminals, when this start runs them. */
  readonly simulation: SimulationController | undefined;
  readonly paths: ReturnType<typeof tillPaths>;
  /** Resolves once the till has stopped (by close() or a signal). */
  readonly closed: Promise<void>;
  /** Stops everything in reverse order; idempotent. */
  close(): Promise<void>;
}

/** The manager name when the configuration gives none; their PIN is then made at the first start. */
export const DEFAULT_MANAGER_NAME = 'manager';
const SIMULATED_READY_TIMEOUT_MS = 15_000;
/** Each stops the till (SIGHUP: its terminal closed), so the simulator's socat processes go with it. */
const SIGNALS = ['SIGTERM', 'SIGINT', 'SIGHUP'] as const;

/** Waits until the device manager lists `count` devices as connected; false if the time ran out. */
async function connected(devices: DeviceManager, count: number): Promise<boolean> {
  const deadline = Date.now() + SIMULATED_READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    await devices.pollOnce();
    await devices.settled();
    if (devices.list().filter((d) => d.state === 'connected').length >= count) return true;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return false;
}

/**
 * The device manager's first enumeration, then the simulated terminals if `simulate` asks for them
 * (auto: when no terminal was found), their manifests in the manager's directory, waited for until
 * connected. Returns the simulation, if any. Before the enumeration, what a killed simulation left in
 * the directory goes (drivers/simulate/leftovers.ts): its manifests would pass for attached terminals.
 */
async function startDevices(
  devices: DeviceManager,
  simulate: SimulateMode,
  dir: string,
  out: (line: string) => void,
  log: Logger,
): Promise<SimulationController | undefined> {
  let simulation: SimulationController | undefined;
  try {
    const leftover = await clearAbandonedSimulation(dir);
    if (leftover.state === 'cleared' || leftover.state === 'unreadable') out(leftover.message);
    await devices.start();
    const terminals = devices.list().filter((d) => d.kind !== 'unknown');
    if (simulate === 'never' || (simulate === 'auto' && terminals.length > 0)) return undefined;
    simulation = await startSimulation({ dir, out });
    if (!(await connected(devices, terminals.length + simulation.devices().length)))
      log.warn('not every simulated terminal connected in time; the device manager keeps trying');
    return simulation;
  } catch (error) {
    await devices.close();
    await simulation?.stop();
    throw error;
  }
}

export async function startTill(input: TillConfigInput, options: StartTillOptions = {}): Promise<Till> {
  const config = parseTillConfig(input);
  const paths = tillPaths(config);
  for (const folder of [config.dataDir, paths.logs]) mkdirSync(folder, { recursive: true });
  const logStream = createWriteStream(join(paths.logs, 'till.log'), { flags: 'a' });
  const log = pino(loggerOptions(config.logLevel), logStream);
  const simulate = config.devices.simulate ?? options.simulate ?? 'never';
  /** What to undo, last started first. */
  const stops: { name: string; stop: () => Promise<void> }[] = [];
  const stopAll = async () => {
    let failure: unknown;
    for (const { name, stop } of stops.reverse()) {
      try {
        await stop();
      } catch (error) {
        log.error({ err: error }, `stopping ${name} failed`);
        failure ??= error;
      }
    }
    stops.length = 0;
    await new Promise<void>((resolve) => logStream.end(resolve));
    if (failure) throw failure;
  };

  try {
    const engine = config.engine.url
      ? centralEngine(config)
      : await startEmbeddedEngine(config, {
          notifier: options.notifier,
          now: options.now,
          simulatedTerminals: simulate !== 'never',
        });
    stops.push({ name: 'engine', stop: engine.close });
    log.info(
      { engineUrl: engine.url, publicUrl: engine.publicUrl, embedded: !config.engine.url },
      'engine ready',
    );
    const warning = config.engine.url ? undefined : claimPageWarning(engine.publicUrl);
    if (warning) log.warn(warning);
    if (!config.engine.url && simulate !== 'never' && config.engine.pinBdk === undefined)
      log.warn(
        "PIN blocks are verified with the PIN pad simulator's public test key: set engine.pinBdk for real PIN pads",
      );

    const outbox = await openOutbox(
      {
        path: paths.outbox,
        engine: { url: engine.url, appId: engine.appId, apiKey: engine.apiKey },
        ...config.outbox,
      },
      { ...(options.now ? { now: options.now } : {}) },
    );
    stops.push({ name: 'outbox', stop: () => outbox.close() });

    const devices = new DeviceManager({
      manifestDir: paths.devices,
      pollIntervalMs: config.devices.pollIntervalMs,
    });
    const services: TillServices = {
      config,
      outbox,
      devices,
      engine: { url: engine.url, publicUrl: engine.publicUrl, appId: engine.appId, apiKey: engine.apiKey },
      tokenizationKey: engine.tokenizationKey,
      program: engine.program,
      log,
    };
    const routes: LocalApiRoutes[] = [
      screenRoutes({
        storeName: config.store.name,
        locale: config.store.locale,
        currency: engine.program.currency,
      }),
    ];
    for (const component of options.components ?? TILL_COMPONENTS) {
      const started = await component.start(services);
      if (started.close) stops.push({ name: component.name, stop: started.close });
      if (started.routes) routes.push(started.routes);
    }

    outbox.start();
    // A source that cannot be read (udevadm or libusb missing, a bad manifest) is said once: keep it.
    const offNotices = devices.subscribe('*', (event) => {
      if (event.type === 'notice') log.warn({ source: event.source }, event.message);
    });
    const simulation = await startDevices(
      devices,
      simulate,
      paths.devices,
      options.simulatorOut ?? ((line) => log.info({ simulator: line }, 'simulator')),
      log,
    );
    stops.push({
      name: 'devices',
      stop: async () => {
        // The drivers close first: they would only report the simulator's devices going away.
        await devices.close();
        offNotices();
        await simulation?.stop();
      },
    });
    log.info({ devices: devices.list().map((d) => `${d.id} ${d.kind} ${d.state}`) }, 'devices ready');

    // With no manager in the configuration, one is made at the first start with a random PIN, which the
    // caller shows once (ensureFirstManager ignores it once the till has a manager).
    const generated = config.api.firstManager === undefined;
    const firstManager = config.api.firstManager ?? {
      name: DEFAULT_MANAGER_NAME,
      pin: String(randomInt(0, 1_000_000)).padStart(6, '0'),
    };
    const api = await createLocalApi({
      outbox,
      config: { ...config.api, firstManager },
      routes,
      logStream,
      ...(options.now ? { now: options.now } : {}),
    });
    stops.push({ name: 'local API', stop: () => api.close() });
    log.info({ apiUrl: api.url, createdFirstManager: api.createdFirstManager }, 'till ready');

    let closing: Promise<void> | undefined;
    let markClosed: () => void = () => undefined;
    const closed = new Promise<void>((resolve) => (markClosed = resolve));
    const onSignal = (signal: NodeJS.Signals) => {
      if (closing) return; // a second Ctrl+C while stopping: the stop is already on its way
      log.info(`${signal}: stopping`);
      close().then(
        () => (process.exitCode ??= 0),
        () => (process.exitCode = 1),
      );
    };
    const close = () =>
      (closing ??= (async () => {
        log.info('stopping the till');
        try {
          await stopAll();
        } finally {
          for (const signal of SIGNALS) process.off(signal, onSignal);
          markClosed();
        }
      })());
    if (options.handleSignals !== false) for (const signal of SIGNALS) process.on(signal, onSignal);

    return {
      apiUrl: api.url,
      apiRoutes: api.routes,
      token: api.token,
      engineUrl: engine.url,
      enginePublicUrl: engine.publicUrl,
      embedded: !config.engine.url,
      program: engine.program,
      firstManager: api.createdFirstManager
        ? { name: firstManager.name, ...(generated ? { generatedPin: firstManager.pin } : {}) }
        : undefined,
      demoCustomer: engine.demoCustomer,
      devices,
      simulation,
      paths,
      closed,
      close,
    };
  } catch (error) {
    log.error({ err: error }, 'the till could not start');
    await stopAll().catch(() => undefined);
    throw error;
  }
}
