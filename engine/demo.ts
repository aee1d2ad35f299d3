// Demo mode (`npm run engine -- serve --demo`): on an empty database, a demo app with every scope and a demo program, so a
// newcomer can post an earn with curl at once; one-time codes are printed instead of sent.
import { formatPercent } from '../contract/money.ts';
import type { EngineConfig } from './config.ts';
import { SCOPES, createApp, listApps } from './domain/apps.ts';
import type { Notifier } from './domain/context.ts';
import { createProgram, listPrograms, type Program } from './domain/programs.ts';
import type { Store } from './store/store.ts';

export const DEMO_APP_ID = 'app_demo';
export const DEMO_PROGRAM_ID = 'DEMO-AUD-5';

export type DemoState =
  /** Created now: the secret exists only in this value. */
  | { kind: 'created'; appId: string; secret: string; program: Program }
  /** Created at an earlier start: the secret was shown then and is not stored. */
  | { kind: 'exists'; appId: string; program: Program | undefined }
  /** A database with apps or programs of its own: demo data is not mixed in. */
  | { kind: 'skipped' };

/**
 * The PIN pad simulator's TDES DUKPT BDK: the public X9.24-1 test key (drivers/pinpad/simulator.ts
 * TEST_BDK; engine/ may not import drivers/). A TEST KEY, for the demo only: anyone can decipher
 * blocks made under it.
 */
export const DEMO_PIN_BDK = '0123456789ABCDEFFEDCBA9876543210';

/** The demo's configuration: the simulator's test BDK for PIN blocks, unless a BDK is configured. */
export function demoConfig(config: EngineConfig): EngineConfig {
  return { ...config, secrets: { ...config.secrets, pinBdk: config.secrets.pinBdk ?? DEMO_PIN_BDK } };
}

/** Creates the demo app and program when the database has no apps and no programs. */
export async function ensureDemoData(store: Store, now: number): Promise<DemoState> {
  return store.transact(async (tx) => {
    const apps = await listApps(tx);
    const programs = await listPrograms(tx);
    if (apps.length === 0 && programs.length === 0) {
      const { app, secret } = await createApp(
        tx,
        { name: 'Demo till', scopes: [...SCOPES], appId: DEMO_APP_ID },
        now,
      );
      const program = await createProgram(
        tx,
        {
          uniqueIdentifier: DEMO_PROGRAM_ID,
          name: 'Demo cashback',
          description: '5% cashback on every purchase (demo)',
          currency: 'AUD',
          cashbackBps: 500,
          allowsPinRedemption: true,
        },
        now,
      );
      return { kind: 'created', appId: app.appId, secret, program };
    }
    const demoApp = apps.find((a) => a.appId === DEMO_APP_ID && a.revokedAt === null);
    if (!demoApp) return { kind: 'skipped' };
    return {
      kind: 'exists',
      appId: demoApp.appId,
      program: programs.find((p) => p.uniqueIdentifier === DEMO_PROGRAM_ID),
    };
  });
}

/** Prints one-time codes (OTPs, textcoin claim codes) to the console: demo delivery, nothing is sent. */
export function demoNotifier(write: (line: string) => void = (line) => console.log(line)): Notifier {
  return {
    async send(message) {
      const what = message.kind === 'otp' ? 'one-time code' : 'textcoin claim code';
      write(`[demo delivery, not sent] ${what} for ${message.to}: ${message.code}`);
    },
  };
}

/**
 * The requests a newcomer can paste: an earn through the seed 002 route and the native one, and a
 * cashout claim. Without
 * credentials they read them from the shell variables APP_ID and API_KEY.
 */
export function demoCurls(
  baseUrl: string,
  cardId: number,
  credentials?: { appId: string; secret: string },
): string[] {
  const auth = credentials
    ? `-H 'X-App-Id: ${credentials.appId}' -H 'X-Api-Key: ${credentials.secret}'`
    : `-H "X-App-Id: $APP_ID" -H "X-Api-Key: $API_KEY"`;
  return [
    '# Earn through the loyalty cashback API (seed 002); amounts are decimals:',
    `curl -s -X POST ${baseUrl}/api/v1/cashback/cashback/earn \\`,
    `  -H 'Content-Type: application/json' ${auth} \\`,
    `  -d '{"card_id": ${cardId}, "email": "jane@example.com", "member_name": "Jane Citizen", "purchase_amount": 50.00, "reference": "demo-order-1"}'`,
    '',
    '# Earn through the native API; amounts are integer minor units (5000 = 50.00 AUD):',
    `curl -s -X POST ${baseUrl}/v1/earn \\`,
    `  -H 'Content-Type: application/json' ${auth} \\`,
    `  -H 'Idempotency-Key: demo-earn-1' \\`,
    `  -d '{"program_id": ${cardId}, "member": {"email": "jane@example.com"}, "member_name": "Jane Citizen", "purchase_amount": 5000}'`,
    '',
    '# A cashout claim: open the "url" it answers in a browser (the claim page) and choose where the money goes:',
    `curl -s -X POST ${baseUrl}/v1/claims \\`,
    `  -H 'Content-Type: application/json' ${auth} \\`,
    `  -H 'Idempotency-Key: demo-claim-1' \\`,
    `  -d '{"amount": 2500, "currency": "AUD", "store_name": "Demo Store"}'`,
  ];
}

const demoNotes = [
  '  One-time codes (OTP) are printed here, labelled "demo delivery": nothing is sent.',
  "  PIN blocks are deciphered with the PIN pad simulator's public TEST key (demo only, never real cards).",
];

/** What demo mode tells the user after the engine is up. `cli` is how to run the CLI here. */
export function describeDemo(state: DemoState, baseUrl: string, cli: string): string[] {
  const newKey = `${cli} apps create --name "My till" --scopes cashback_read,cashback_write`;
  if (state.kind === 'created') {
    const p = state.program;
    return [
      'Demo mode: created a demo app and a demo program.',
      `  App id:   ${state.appId} (all scopes)`,
      `  Secret:   ${state.secret}`,
      '            Copy it now: only its hash is stored, and it is NOT shown again.',
      `  Program:  ${p.uniqueIdentifier}, card_id ${p.id}, ${p.currency}, ${formatPercent(p.cashbackBps)}% cashback, available at once`,
      ...demoNotes,
      '',
      ...demoCurls(baseUrl, p.id, { appId: state.appId, secret: state.secret }),
    ];
  }
  if (state.kind === 'exists') {
    const cardId = state.program?.id ?? 1;
    return [
      `Demo mode: the demo app ${state.appId} exists; its secret was shown once, at its first start.`,
      `  Create a new key:  ${newKey}`,
      ...demoNotes,
      '',
      'Then, with APP_ID and API_KEY set from its output:',
      ...demoCurls(baseUrl, cardId),
    ];
  }
  return [
    'Demo mode: this database already has apps or programs of its own, so no demo data was added.',
    `  Create a key:      ${newKey}`,
    ...demoNotes,
  ];
}
