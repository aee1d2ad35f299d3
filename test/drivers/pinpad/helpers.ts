import { decryptPinTdesDukpt } from '../../../contract/crypto/tdes-dukpt.ts';
import { PinPadError } from '../../../drivers/pinpad/driver.ts';
import type { PinPadErrorCode } from '../../../drivers/pinpad/driver.ts';
import { TEST_BDK } from '../../../drivers/pinpad/simulator.ts';

import { X924_PAN } from '../../fixtures/secrets.ts';

/** Test card of the X9.24-1 vectors; the PIN used with it there is 1234. */
export const TEST_PAN = X924_PAN;

/** Test side only: what the engine will do with the block. */
export function decryptPin(ksn: string, pinBlock: string, pan = TEST_PAN): string {
  return decryptPinTdesDukpt(
    Buffer.from(TEST_BDK, 'hex'),
    Buffer.from(ksn, 'hex'),
    Buffer.from(pinBlock, 'hex'),
    pan,
  );
}

/** Resolves to the PinPadError code a promise rejects with (fails on anything else). */
export async function errorCode(p: Promise<unknown>): Promise<PinPadErrorCode | 'resolved'> {
  try {
    await p;
    return 'resolved';
  } catch (err) {
    if (!(err instanceof PinPadError)) throw err;
    return err.code;
  }
}

export async function until(cond: () => boolean, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('condition not met');
    await new Promise((r) => setTimeout(r, 2));
  }
}
