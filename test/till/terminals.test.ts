// The terminals for the screens: GET /api/devices lists the till's devices without their USB ids, and a
// `devices` message reaches every event stream when one is unplugged and plugged back.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import type { DeviceSummary, ServerMessage } from '../../contract/till-events.ts';
import { startTill, type Till } from '../../till/core.ts';
import { testLog, testLogDir } from '../fixtures/test-log.ts';
import { openEventStream, type EventStream } from './fixtures/event-stream.ts';

let dir: string;
let till: Till;
let session: string;
let stream: EventStream;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tillback-terminals-'));
  till = await startTill(
    {
      dataDir: dir,
      logDir: mkdtempSync(join(testLogDir(), 'till-terminals-')),
      devices: { pollIntervalMs: 200 },
    },
    { simulate: 'always', simulatorOut: testLog('till-terminals-simulator'), handleSignals: false },
  );
  const manager = till.firstManager!;
  const signIn = await fetch(`${till.apiUrl}/api/operators/sign-in`, {
    method: 'POST',
    headers: { authorization: `Bearer ${till.token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name: manager.name, pin: manager.generatedPin }),
  });
  session = ((await signIn.json()) as { session: string }).session;
  stream = await openEventStream(till.apiUrl, till.token);
}, 60_000);
afterAll(async () => {
  stream?.close();
  await till?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function listed(): Promise<DeviceSummary[]> {
  const res = await fetch(`${till.apiUrl}/api/devices`, {
    headers: { authorization: `Bearer ${till.token}`, 'x-operator-session': session },
  });
  expect(res.status).toBe(200);
  return ((await res.json()) as { devices: DeviceSummary[] }).devices;
}

const reader = (devices: readonly DeviceSummary[]) => devices.find((d) => d.kind === 'card_reader');
const lastDevices = (): DeviceSummary[] | undefined =>
  stream.messages.findLast((m): m is Extract<ServerMessage, { type: 'devices' }> => m.type === 'devices')
    ?.devices;

it('lists every simulated terminal, connected, with no vendor, product id or serial number', async () => {
  const simulated = till.simulation!.devices().map((d) => d.id);
  await vi.waitFor(
    async () => {
      const devices = await listed();
      expect(devices.filter((d) => d.state === 'connected')).toHaveLength(simulated.length);
    },
    { timeout: 20_000, interval: 200 },
  );
  const devices = await listed();
  // The machine's own serial ports are listed too, as unknown devices no driver claims.
  expect(new Set(devices.filter((d) => d.driver !== null).map((d) => d.kind))).toEqual(
    new Set(['card_reader', 'scanner', 'pinpad', 'zvt']),
  );
  for (const device of devices) {
    expect(device).not.toHaveProperty('vendorId');
    expect(device).not.toHaveProperty('productId');
    expect(device).not.toHaveProperty('serialNumber');
  }
});

it('tells every event stream when a terminal is unplugged and when it is back', async () => {
  const id = till.simulation!.devices().find((d) => d.kind === 'reader')!.id;
  await till.simulation!.unplug(id);
  await vi.waitFor(() => expect(reader(lastDevices() ?? [])?.state ?? 'gone').not.toBe('connected'), {
    timeout: 20_000,
  });
  expect(reader(await listed())?.state ?? 'gone').not.toBe('connected');

  await till.simulation!.replug(id);
  await vi.waitFor(() => expect(reader(lastDevices() ?? [])?.state).toBe('connected'), { timeout: 20_000 });
  expect(reader(await listed())?.state).toBe('connected');
});
