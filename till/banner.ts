// What browser mode prints once the till is up: where the screens are, the launch token, the first
// manager's PIN (only at the start that made it), the terminals, and shell commands to paste: sign in,
// an earn, the queue and the event stream, with this start's address and token filled in.
import { formatAmount } from '../contract/money.ts';
import type { Till } from './core.ts';
import { claimPageWarning } from './embedded-engine.ts';
import { SCREENS } from './screens.ts';

const row = (label: string, value: string) => `  ${label.padEnd(18)}${value}`;
const quote = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;

/** The lines to paste into a POSIX shell: they use the values of this start. */
export function tryItCommands(till: Till, manager: { name: string; pin: string | undefined }): string[] {
  const auth = `-H "Authorization: Bearer $TOKEN"`;
  const session = `-H "X-Operator-Session: $SESSION"`;
  const json = `-H 'Content-Type: application/json'`;
  const signIn = JSON.stringify({ name: manager.name, pin: manager.pin ?? '<the manager PIN>' });
  const purchaseAmount = 5000;
  const earn = JSON.stringify({
    programId: till.program.id,
    currency: till.program.currency,
    member: { email: 'jane@example.com' },
    memberName: 'Jane Citizen',
    purchaseAmount,
    reference: 'demo-sale-1',
  });
  const events = new URL('/api/events', till.apiUrl.replace(/^http/, 'ws')).href;
  const stream = [
    'const ws = new WebSocket(process.argv[1]);',
    'ws.onopen = () => ws.send(JSON.stringify({ type: "auth", token: process.env.TOKEN }));',
    'ws.onmessage = (m) => console.log(m.data);',
  ].join(' ');
  return [
    `export TILL=${till.apiUrl} TOKEN=${till.token}`,
    '# Sign in (the session goes with every operator call):',
    `export SESSION=$(curl -s -X POST "$TILL/api/operators/sign-in" ${auth} ${json} -d ${quote(signIn)} | node -pe 'JSON.parse(require("fs").readFileSync(0, "utf8")).session')`,
    `# An earn of ${formatAmount(purchaseAmount, till.program.currency)} ${till.program.currency} (amounts in minor units): queued, then delivered to the engine:`,
    `curl -s -X POST "$TILL/api/earn" ${auth} ${session} ${json} -d ${quote(earn)}`,
    '# The queue: online, waiting, oldest age, failed:',
    `curl -s "$TILL/api/queue" ${auth} ${session}`,
    '# The event stream (a WebSocket: curl cannot send its auth message; Ctrl+C ends it):',
    `node --experimental-websocket -e ${quote(stream)} ${events}`,
  ];
}

/** The embedded engine's claim pages (what the cashout QR codes open), and the engine's warning if any. */
function claimPages(till: Till): string[] {
  if (!till.embedded) return [];
  const lines = [row('Claim pages:', `${till.enginePublicUrl}/c/<claim id> (customers' phones open these)`)];
  const warning = claimPageWarning(till.enginePublicUrl);
  if (warning) lines.push(row('Warning:', warning));
  return lines;
}

export function banner(till: Till): string[] {
  const lines = ['Tillback till is running (browser mode)'];
  // The token rides in the fragment, which the browser keeps to itself; the page takes it out at once.
  for (const screen of SCREENS)
    lines.push(row(`${screen.title}:`, `${till.apiUrl}${screen.path}#token=${till.token}`));
  lines.push(
    row('Local API:', `${till.apiUrl}/api (till/README.md, Local API)`),
    row('Launch token:', `${till.token}`),
    row('', 'new at every start; send it as Authorization: Bearer <token>'),
    row(
      'Engine:',
      till.embedded ? `${till.engineUrl} (embedded, ${till.paths.engineDb})` : `${till.engineUrl} (central)`,
    ),
    ...claimPages(till),
    row('Program:', `${till.program.id} (${till.program.currency})`),
    row('Data:', `${till.paths.outbox}, ${till.paths.secrets}, logs in ${till.paths.logs}`),
  );
  const manager = till.firstManager;
  if (manager?.generatedPin !== undefined) {
    lines.push(row('Manager:', `${manager.name}, PIN ${manager.generatedPin}`));
    lines.push(row('', 'shown only now: note it (the till keeps only its hash)'));
  } else if (manager) {
    lines.push(row('Manager:', `${manager.name}, with the PIN of the configuration`));
  } else {
    lines.push(row('Manager:', 'as created at the first start (its PIN was shown then)'));
  }
  const sim = till.simulation;
  if (sim) {
    lines.push(
      row(
        'Terminals:',
        `simulated: ${sim
          .devices()
          .map((d) => d.id)
          .join(', ')}`,
      ),
    );
    lines.push(
      row('', 'type simulator commands here: swipe visa, pin 1234, scan member, unplug reader-1, help'),
    );
    const demo = till.demoCustomer;
    if (demo)
      lines.push(
        row(
          'Demo customer:',
          `${demo.email}: \`swipe ${demo.card}\` is their card, PIN ${demo.pin} on the simulated PIN pad`,
        ),
      );
  } else {
    const attached = till.devices.list().filter((d) => d.kind !== 'unknown');
    lines.push(
      row('Terminals:', attached.length ? attached.map((d) => `${d.id} (${d.kind})`).join(', ') : 'none'),
    );
  }
  return lines;
}
