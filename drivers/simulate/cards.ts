// The named test cards the simulator swipes and the codes it scans. Test data only: the PANs are public
// test numbers, and the simulator prints them masked (first 6, last 4).
import { maskPan } from '../../contract/card.ts';
import { memberCode } from '../cards/barcode.ts';
import { lrcChar } from '../cards/magstripe.ts';
import { TEST_CARD, type SimulatedCard } from '../zvt/simulator.ts';

export interface TestCard {
  /** What the card is for, shown by `help`. */
  about: string;
  pan: string;
  /** The swipe as a serial reader sends it: track 1 then track 2 on one line (no line end). */
  swipe: string;
  /** What a ZVT terminal reports when the card is presented there (no tracks: none for a garbled stripe). */
  zvt?: SimulatedCard;
}

/** A Visa-style test PAN (Luhn-valid) that expires in the future. */
export const VISA_TEST_PAN = '4111111111111111';
/** The DESIGN.md track vector: a Mastercard PAN that expired in April 2016. */
export const EXPIRED_TEST_PAN = TEST_CARD.pan;

const visaT1 = `%B${VISA_TEST_PAN}^CUSTOMER/TEST^3012101000000000000?`;
const visaT2 = `;${VISA_TEST_PAN}=30121010000000000?`;

/** An LRC character that is valid on the track but wrong for it. */
function wrongLrc(track: 1 | 2, text: string): string {
  const right = lrcChar(track, text);
  const other = track === 1 ? (right === 'A' ? 'B' : 'A') : right === '1' ? '2' : '1';
  return text + other;
}

export type TestCardName = 'visa' | 'expired' | 'bad-lrc';

export const TEST_CARDS: Readonly<Record<TestCardName, TestCard>> = {
  visa: {
    about: 'a valid Visa-style test card (expires 2030-12)',
    pan: VISA_TEST_PAN,
    swipe: visaT1 + visaT2,
    zvt: { pan: VISA_TEST_PAN, expiry: '3012', cardName: 'VISA' },
  },
  expired: {
    about: 'a card that expired in 2016-04 (reads fine; the till must refuse it)',
    pan: EXPIRED_TEST_PAN,
    swipe:
      `%B${EXPIRED_TEST_PAN}^FATEHI/SUALEH^16042010000000000000000000000000000567001000?` +
      `;${EXPIRED_TEST_PAN}=16042010000056700100?`,
    // The ZVT simulator's own test card is the same DESIGN.md vector.
    zvt: TEST_CARD,
  },
  'bad-lrc': {
    about: 'the Visa card with a wrong LRC after each track: a garbled read (bad_lrc)',
    pan: VISA_TEST_PAN,
    swipe: wrongLrc(1, visaT1) + wrongLrc(2, visaT2),
  },
};

export function isTestCardName(name: string): name is TestCardName {
  return Object.hasOwn(TEST_CARDS, name);
}

export function maskedTestPan(name: TestCardName): string {
  return maskPan(TEST_CARDS[name].pan);
}

/** Sample codes for `scan member` and `scan receipt`. */
export const SAMPLE_SCANS = {
  member: memberCode('4200017'),
  receipt: 'TB-R-MFRGGZDFMZTWQ2LK',
} as const;
