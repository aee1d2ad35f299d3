// The till core in Electron's utility process (`utilityProcess.fork` from main): a Node process of its
// own, so a driver or engine stall never freezes the windows, and a crash is restarted by the shell.
// It loads the till's configuration (the file in TILLBACK_TILL_CONFIG, the TILLBACK_TILL_* variables),
// allows the windows' origin on the local API, starts the till, and reports to the shell over the
// process port: ready (API URL, token), the outbox's state after every change, or why it failed.
import { loadTillConfig } from '../till/config.ts';
import { startTill, TILL_COMPONENTS, type Till, type TillComponent } from '../till/core.ts';
import { APP_ORIGIN } from './scheme.ts';
import { ShellMessageSchema, TillProcessMessageSchema, type TillProcessMessage } from './till-messages.ts';

const send = (message: TillProcessMessage) =>
  process.parentPort.postMessage(TillProcessMessageSchema.parse(message));

/** Passes the outbox's state to the shell's tray (a till component: it sees every change from the start). */
const shellStatus: TillComponent = {
  name: 'shell status',
  start: ({ outbox }) => {
    const off = outbox.onState(({ online, waiting, failed }) =>
      send({ type: 'status', online, waiting, failed }),
    );
    return { close: async () => off() };
  },
};

async function main(): Promise<void> {
  let till: Till;
  try {
    const config = loadTillConfig();
    till = await startTill(
      { ...config, api: { ...config.api, allowedOrigins: [...config.api.allowedOrigins, APP_ORIGIN] } },
      { components: [...TILL_COMPONENTS, shellStatus], handleSignals: true },
    );
  } catch (error) {
    send({ type: 'failed', message: error instanceof Error ? error.message : String(error) });
    process.exit(1);
  }
  process.parentPort.on('message', ({ data }) => {
    if (ShellMessageSchema.safeParse(data).success) void till.close();
  });
  void till.closed.then(() => process.exit(0));
  send({
    type: 'ready',
    apiUrl: till.apiUrl,
    token: till.token,
    ...(till.firstManager ? { firstManager: till.firstManager } : {}),
  });
}

void main();
