import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeStxEtx } from '../../../drivers/framing/stx-etx.ts';
import {
  PinPadProtocolError,
  decodeHostMessage,
  decodePadMessage,
  describePacket,
  encodeHostMessage,
  encodePadMessage,
  suppressKsn,
} from '../../../drivers/pinpad/protocol.ts';
import type { HostMessage, PadMessage } from '../../../drivers/pinpad/protocol.ts';

const ascii = (s: string) => Buffer.from(s, 'latin1');
const TEST_PAN = '4012345678909';

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(PinPadProtocolError);
    return (err as PinPadProtocolError).code;
  }
  return 'none';
}

describe('host messages', () => {
  it('encodes Z2, Z3, Z62 and 72 byte for byte as the manuals lay them out', () => {
    expect(encodeHostMessage({ type: 'display', text: 'HELLO', clear: true })).toEqual(ascii('Z2\x1aHELLO'));
    expect(encodeHostMessage({ type: 'display', text: 'HELLO', clear: false })).toEqual(ascii('Z2HELLO'));
    expect(encodeHostMessage({ type: 'displayLines', lines: ['TOTAL', '$1.00'], clear: true })).toEqual(
      ascii('Z32\x1aTOTAL\x1c$1.00'),
    );
    expect(
      encodeHostMessage({
        type: 'pinEntry',
        account: TEST_PAN,
        minPin: 4,
        maxPin: 12,
        allowNullPin: false,
        prompt1: 'ENTER PIN',
        prompt2: 'PRESS ENTER',
        processingPrompt: 'PROCESSING',
        timeoutUnits: 2,
      }),
    ).toEqual(ascii(`Z62.${TEST_PAN}\x1c0412NENTER PIN\x1cPRESS ENTER\x1cPROCESSING\x1c2`));
    expect(encodeHostMessage({ type: 'cancel' })).toEqual(ascii('72'));
  });

  it('refuses bad requests with bad_request and without echoing the account', () => {
    const base: HostMessage = {
      type: 'pinEntry',
      account: TEST_PAN,
      minPin: 4,
      maxPin: 12,
      allowNullPin: false,
      prompt1: 'ENTER PIN',
      prompt2: '',
      processingPrompt: '',
      timeoutUnits: undefined,
    };
    const cases: HostMessage[] = [
      { type: 'display', text: '', clear: true },
      { type: 'display', text: 'x'.repeat(65), clear: true },
      { type: 'display', text: 'A\x03B', clear: true },
      { type: 'displayLines', lines: [], clear: true },
      { type: 'displayLines', lines: Array.from({ length: 8 }, () => 'x'), clear: true },
      { type: 'displayLines', lines: ['x'.repeat(60), 'y'.repeat(60)], clear: true },
      { ...base, account: '4012345' },
      { ...base, account: `${TEST_PAN}A` },
      { ...base, minPin: 3 },
      { ...base, minPin: 8, maxPin: 6 },
      { ...base, prompt1: '' },
      { ...base, prompt2: 'x'.repeat(17) },
      { ...base, timeoutUnits: 10 },
    ];
    for (const c of cases) {
      let error: unknown;
      try {
        encodeHostMessage(c);
      } catch (err) {
        error = err;
      }
      expect(error).toBeInstanceOf(PinPadProtocolError);
      expect((error as PinPadProtocolError).code).toBe('bad_request');
      expect((error as Error).message).not.toContain(TEST_PAN);
    }
  });

  const text = (min: number, max: number) =>
    fc.string({
      unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)),
      minLength: min,
      maxLength: max,
    });
  const hostArb: fc.Arbitrary<HostMessage> = fc.oneof(
    fc.record({ type: fc.constant('display' as const), text: text(1, 64), clear: fc.boolean() }),
    fc.record({
      type: fc.constant('displayLines' as const),
      lines: fc.array(text(0, 14), { minLength: 1, maxLength: 7 }),
      clear: fc.boolean(),
    }),
    fc
      .record({
        type: fc.constant('pinEntry' as const),
        account: fc.stringMatching(/^\d{8,19}$/),
        minPin: fc.integer({ min: 4, max: 12 }),
        maxPin: fc.integer({ min: 4, max: 12 }),
        allowNullPin: fc.boolean(),
        prompt1: text(1, 16),
        prompt2: text(0, 16),
        processingPrompt: text(0, 16),
        timeoutUnits: fc.option(fc.integer({ min: 1, max: 9 }), { nil: undefined }),
      })
      .map((m) => ({ ...m, minPin: Math.min(m.minPin, m.maxPin), maxPin: Math.max(m.minPin, m.maxPin) })),
    fc.constant({ type: 'cancel' as const }),
  );

  it('round-trips every valid host message (fast-check)', () => {
    fc.assert(
      fc.property(hostArb, (m) => {
        const data = encodeHostMessage(m);
        expect(() => encodeStxEtx(data)).not.toThrow();
        expect(decodeHostMessage(data)).toEqual(m);
      }),
      { numRuns: 500 },
    );
  });

  it('decodes any bytes to a message or a coded error, nothing else (fast-check)', () => {
    const prefixed = fc
      .tuple(fc.constantFrom('Z2', 'Z3', 'Z62.', '72', 'Z6', ''), fc.uint8Array({ maxLength: 80 }))
      .map(([p, rest]) => Buffer.concat([ascii(p), rest]));
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 200 }), prefixed), (bytes) => {
        try {
          decodeHostMessage(bytes);
        } catch (err) {
          expect(err).toBeInstanceOf(PinPadProtocolError);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('rejects malformed Z62 fields', () => {
    const z62 = (s: string) => codeOf(() => decodeHostMessage(ascii(`Z62.${s}`)));
    expect(z62(`${TEST_PAN}\x1c0412NENTER PIN\x1c\x1c`)).toBe('none');
    expect(z62(`${TEST_PAN}\x1c0412XENTER PIN\x1c\x1c`)).toBe('malformed');
    expect(z62(`${TEST_PAN}\x1c0000NENTER PIN\x1c\x1c`)).toBe('malformed');
    expect(z62(`${TEST_PAN}\x1c0000YENTER PIN\x1c\x1c`)).toBe('none');
    expect(z62(`1234567\x1c0412NENTER PIN\x1c\x1c`)).toBe('malformed');
    expect(z62(`${TEST_PAN}\x1c0412NENTER PIN\x1c\x1c\x1c0`)).toBe('malformed');
    expect(z62(`${TEST_PAN}\x1c0412N`)).toBe('malformed');
    expect(codeOf(() => decodeHostMessage(ascii('Z9')))).toBe('unknown_message');
  });
});

describe('PIN pad messages', () => {
  it('decodes the [MX800] packet 73 example and the [PP791] 71 layout', () => {
    // [MX800] p=327 example: <STX>73.0000001234567890123456789123456<ETX>: KSN 0123456789, block 0123456789123456.
    expect(decodePadMessage(ascii('73.0000001234567890123456789123456'))).toEqual({
      type: 'pinBlock',
      id: '73',
      ksn: 'FFFFFFFFFF0123456789',
      pinBlock: '0123456789123456',
    });
    expect(decodePadMessage(ascii('7109876543210E000011B9C1845EB993A7A'))).toEqual({
      type: 'pinBlock',
      id: '71',
      ksn: 'FFFF9876543210E00001',
      pinBlock: '1B9C1845EB993A7A',
    });
    expect(decodePadMessage(ascii('71A'))).toEqual({ type: 'pinError', id: '71', code: 'A' });
    expect(decodePadMessage(ascii('730'))).toEqual({ type: 'pinError', id: '73', code: '0' });
  });

  it('suppresses leading Fs of the KSN but keeps at least 10 digits', () => {
    expect(suppressKsn('FFFF9876543210E00001')).toBe('9876543210E00001');
    expect(suppressKsn('FFFFFFFFFFFFFFFFFFFF')).toBe('FFFFFFFFFF');
    expect(
      encodePadMessage({
        type: 'pinBlock',
        id: '73',
        ksn: 'FFFF9876543210E00001',
        pinBlock: '1B9C1845EB993A7A',
      }),
    ).toEqual(ascii('73.000009876543210E000011B9C1845EB993A7A'));
  });

  it('round-trips pin blocks and error frames (fast-check)', () => {
    const hex = (n: number) => fc.stringMatching(new RegExp(`^[0-9A-F]{${n}}$`));
    const padArb: fc.Arbitrary<PadMessage> = fc.oneof(
      fc.record({
        type: fc.constant('pinBlock' as const),
        id: fc.constantFrom('71' as const, '73' as const),
        ksn: hex(20),
        pinBlock: hex(16),
      }),
      fc.record({
        type: fc.constant('pinError' as const),
        id: fc.constantFrom('71' as const, '73' as const),
        code: fc.stringMatching(/^[0-9A-Z]$/),
      }),
    );
    fc.assert(
      fc.property(padArb, (m) => {
        expect(decodePadMessage(encodePadMessage(m))).toEqual(m);
      }),
      { numRuns: 500 },
    );
  });

  it('decodes any bytes to a message or a coded error, nothing else (fast-check)', () => {
    const prefixed = fc
      .tuple(fc.constantFrom('73.00000', '710', '73', '71', ''), fc.stringMatching(/^[0-9A-Fa-gx.]{0,40}$/))
      .map(([p, rest]) => ascii(p + rest));
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 60 }), prefixed), (bytes) => {
        try {
          const m = decodePadMessage(bytes);
          if (m.type === 'pinBlock') {
            expect(m.ksn).toMatch(/^[0-9A-F]{20}$/);
            expect(m.pinBlock).toMatch(/^[0-9A-F]{16}$/);
          }
        } catch (err) {
          expect(err).toBeInstanceOf(PinPadProtocolError);
          expect((err as Error).message).not.toMatch(/[0-9A-F]{16}/);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('rejects short, non-hex and unknown frames', () => {
    expect(codeOf(() => decodePadMessage(ascii('73.00000123')))).toBe('malformed');
    expect(codeOf(() => decodePadMessage(ascii('73.0000001234567890123456789XYZ456')))).toBe('malformed');
    expect(codeOf(() => decodePadMessage(ascii('73x')))).toBe('malformed');
    expect(codeOf(() => decodePadMessage(ascii('74')))).toBe('unknown_message');
    expect(codeOf(() => decodePadMessage(Buffer.alloc(0)))).toBe('unknown_message');
  });

  it('describes packets by id and length only', () => {
    expect(describePacket(ascii(`Z62.${TEST_PAN}\x1c0412N`))).toBe('Z62 (23 bytes)');
    expect(describePacket(ascii('Z2\x1aHI'))).toBe('Z2 (5 bytes)');
    expect(describePacket(ascii('73.00000'))).toBe('73 (8 bytes)');
    expect(describePacket(Buffer.of(0xff))).toBe('unknown (1 bytes)');
  });
});
