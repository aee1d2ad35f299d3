// The same driver and simulator over a real pseudo-terminal pair made by socat, both ends SerialTransport.
import { afterEach, describe, expect, it } from 'vitest';
import { SerialTransport } from '../../../drivers/transport/serial.ts';
import { PinPad } from '../../../drivers/pinpad/driver.ts';
import { PinPadSimulator } from '../../../drivers/pinpad/simulator.ts';
import { SocatPair } from '../transport/socat.ts';
import { TEST_PAN, decryptPin, errorCode, until } from './helpers.ts';

// A fresh pair per test: socat exits once one end has been closed, so a pair is not reused after a test.
describe('PIN entry over a real socat pty pair', () => {
  const cleanup: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const f of cleanup.splice(0).reverse()) await f();
  });

  async function open(): Promise<{ pad: PinPad; sim: PinPadSimulator; pty: SocatPair }> {
    const pty = new SocatPair();
    await pty.start();
    cleanup.push(() => pty.dispose());
    const host = new SerialTransport({ path: pty.a, baudRate: 9600, livenessIntervalMs: 100 });
    const device = new SerialTransport({ path: pty.b, baudRate: 9600, livenessIntervalMs: 100 });
    await host.open();
    await device.open();
    const pad = new PinPad(host, { ackTimeoutMs: 500 });
    const sim = new PinPadSimulator(device, { pin: '4321', disconnect: () => void pty.kill() });
    cleanup.push(
      () => pad.close(),
      () => sim.stop(),
      () => host.close(),
      () => device.close(),
    );
    return { pad, sim, pty };
  }

  it('shows a prompt and an amount, and returns a KSN and block that decrypt to the PIN', async () => {
    const { pad, sim } = await open();
    await pad.displayPrompt('INSERT CARD');
    await pad.displayAmount(2599, { currencySymbol: '$' });
    const first = await pad.enterPin({ pan: TEST_PAN, timeoutMs: 5000 });
    const second = await pad.enterPin({ pan: TEST_PAN, timeoutMs: 5000 });
    expect(first.ksn).toBe('FFFF9876543210E00001');
    expect(second.ksn).toBe('FFFF9876543210E00002');
    expect(decryptPin(first.ksn, first.pinBlock)).toBe('4321');
    expect(decryptPin(second.ksn, second.pinBlock)).toBe('4321');
    expect(sim.displays).toEqual(['INSERT CARD', 'TOTAL | $25.99', 'ENTER PIN', 'ENTER PIN']);
  });

  it('ends PIN entry with disconnected when socat dies mid-entry', async () => {
    const { pad, sim, pty } = await open();
    sim.behaviour = { kind: 'disconnect' };
    const t0 = Date.now();
    expect(await errorCode(pad.enterPin({ pan: TEST_PAN, timeoutMs: 10_000 }))).toBe('disconnected');
    expect(Date.now() - t0).toBeLessThan(2500);
    await until(() => !pty.running);
  });
});
