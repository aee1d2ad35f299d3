// fast-check properties of everything that reads a provider's answer or shapes money for one: any
// body, however malformed, is either a clear PayoutUnavailable or an outcome, and never a wrong 'paid'.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { CURRENCIES, MoneyError, parseAmount } from '../../../contract/money.ts';
import { payoutAmount } from '../../../engine/payouts/amount.ts';
import { quote } from '../../../engine/payouts/http.ts';
import { parseStatusAnswer, parseTransferAnswer, requestUuid } from '../../../engine/payouts/noebs.ts';
import { parsePayeeActive, parseRegistrationLink } from '../../../engine/payouts/payoneer.ts';
import { parseBatch } from '../../../engine/payouts/paypal.ts';
import { parseUserInfo, PayPalLinkRefused } from '../../../engine/payouts/paypal-connect.ts';
import { PayoutUnavailable } from '../../../engine/payouts/provider.ts';

const RUNS = { numRuns: 2000 };

/** Runs a parser: its result, or PayoutUnavailable (any other throw fails the property). */
function attempt<T>(parse: () => T): T | 'unavailable' {
  try {
    return parse();
  } catch (error) {
    expect(error).toBeInstanceOf(PayoutUnavailable);
    expect((error as Error).message.length).toBeGreaterThan(10);
    return 'unavailable';
  }
}

function json(text: string): any {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

const oddValue = fc.oneof(
  fc.integer({ min: -5, max: 200 }),
  fc.constant(0),
  // Out of EBS's range, card-number-like: such a code must not be echoed into a failure.
  fc.constantFrom(1303118463427076, 4111111111111111, 10000, -1),
  fc.integer(),
  fc.constantFrom('0', '00', 0.5, -0, null, true, [], {}),
  fc.string({ maxLength: 8 }),
  fc.double(),
);
const maybe = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined });

const ebsResult = fc.record(
  {
    responseCode: oddValue,
    responseMessage: maybe(fc.oneof(fc.string(), fc.constant('Approved 4111111111111111'))),
  },
  { requiredKeys: [] },
);
const noebsBody = fc.oneof(
  fc.string(),
  fc.json(),
  fc.record({ ebs_response: ebsResult }).map((v) => JSON.stringify(v)),
  fc
    .record({
      ebs_response: fc.record(
        { responseCode: oddValue, originalTransaction: maybe(ebsResult) },
        { requiredKeys: [] },
      ),
    })
    .map((v) => JSON.stringify(v)),
  fc
    .record({
      code: oddValue,
      status: fc.constantFrom('EBSError', 'Other', undefined),
      message: fc.string(),
      details: maybe(ebsResult),
    })
    .map((v) => JSON.stringify(v)),
);
const noebsStatus = fc.constantFrom(200, 201, 204, 301, 400, 401, 403, 404, 409, 422, 502);

function noLongDigitRuns(text: string): boolean {
  return !/\d{12,}/.test(text.replace(/[ -]/g, ''));
}

describe('noebs answers', () => {
  it('paid only for HTTP 200 carrying ebs_response.responseCode exactly 0', () => {
    fc.assert(
      fc.property(noebsStatus, noebsBody, (status, text) => {
        const outcome = attempt(() => parseTransferAnswer({ status, text }, 'u'));
        if (outcome === 'unavailable') return;
        if (outcome.status === 'paid') {
          expect(status).toBe(200);
          expect(json(text).ebs_response.responseCode).toBe(0);
        } else {
          expect(outcome.status).toBe('failed');
          expect(outcome.failure!.message.length).toBeGreaterThan(0);
          expect(noLongDigitRuns(JSON.stringify(outcome.failure))).toBe(true);
        }
      }),
      // Found by CI: a 16-digit code was declined with that code in the failure's code and message.
      { ...RUNS, examples: [[200, '{"ebs_response":{"responseCode":1303118463427076}}']] },
    );
  });

  it('a status query is paid only when EBS names the original transfer as approved', () => {
    fc.assert(
      fc.property(noebsStatus, noebsBody, (status, text) => {
        const outcome = attempt(() => parseStatusAnswer({ status, text }, 'u'));
        if (outcome === 'unavailable') return;
        const body = json(text);
        if (outcome === 'unknown') {
          // Only EBS declining the query itself says "no such transfer".
          expect(status).toBe(502);
          expect(body.status).toBe('EBSError');
          return;
        }
        expect(status).toBe(200);
        expect(body.ebs_response.responseCode).toBe(0);
        if (outcome.status === 'paid') expect(body.ebs_response.originalTransaction.responseCode).toBe(0);
        else expect(body.ebs_response.originalTransaction.responseCode).not.toBe(0);
      }),
      RUNS,
    );
  });
});

describe('PayPal batch answers', () => {
  const cardLike = fc.constantFrom('4111111111111111', 'card 4111 1111 1111 1111 declined');
  const statusText = fc.oneof(
    fc.constantFrom(
      'SUCCESS',
      'FAILED',
      'PENDING',
      'UNCLAIMED',
      'RETURNED',
      'ONHOLD',
      'BLOCKED',
      'REFUNDED',
      'REVERSED',
    ),
    fc.constantFrom('DENIED', 'PROCESSING', 'CANCELED', 'success', ''),
    fc.string({ maxLength: 6 }),
    fc.integer(),
  );
  const item = fc.record(
    {
      payout_item_id: fc.oneof(fc.constant('ITEM1'), fc.string({ maxLength: 3 }), fc.integer()),
      transaction_status: statusText,
      payout_item: fc.record(
        { sender_item_id: fc.constantFrom('po_1', 'po_2', undefined) },
        { requiredKeys: [] },
      ),
      errors: fc.record(
        { name: fc.oneof(fc.string(), cardLike), message: fc.oneof(fc.string(), cardLike) },
        { requiredKeys: [] },
      ),
    },
    { requiredKeys: [] },
  );
  const batch = fc
    .record(
      {
        batch_header: fc.record(
          {
            payout_batch_id: fc.oneof(fc.constant('B1'), fc.string({ maxLength: 3 }), fc.constant(null)),
            batch_status: statusText,
          },
          { requiredKeys: [] },
        ),
        items: fc.oneof(fc.array(item, { maxLength: 3 }), fc.constant('x')),
      },
      { requiredKeys: [] },
    )
    .map((v) => JSON.stringify(v));

  it('paid only when our item says SUCCESS in a batch that was not denied or cancelled', () => {
    fc.assert(
      fc.property(fc.oneof(batch, fc.string(), fc.json()), (text) => {
        const outcome = attempt(() => parseBatch(text, 'po_1'));
        if (outcome === 'unavailable') return;
        expect(noLongDigitRuns(JSON.stringify(outcome.failure ?? {}))).toBe(true);
        if (outcome.status !== 'paid') return;
        const body = json(text);
        expect(['DENIED', 'CANCELED']).not.toContain(body.batch_header.batch_status);
        const items: any[] = body.items;
        const ours =
          items.find((i) => i.payout_item?.sender_item_id === 'po_1') ??
          (items.length === 1 ? items[0] : undefined);
        expect(ours.transaction_status).toBe('SUCCESS');
      }),
      RUNS,
    );
  });
});

describe('account link answers (PayPal userinfo, Payoneer onboarding)', () => {
  const emailish = fc.oneof(fc.emailAddress(), fc.string({ maxLength: 12 }), oddValue);
  const userInfo = fc.oneof(
    fc.string(),
    fc.json(),
    fc
      .record(
        {
          user_id: fc.string(),
          emails: fc.oneof(
            oddValue,
            fc.array(
              fc.record(
                {
                  value: emailish,
                  primary: maybe(oddValue),
                  confirmed: maybe(fc.oneof(fc.boolean(), oddValue)),
                },
                { requiredKeys: [] },
              ),
              { maxLength: 4 },
            ),
          ),
        },
        { requiredKeys: [] },
      )
      .map((v) => JSON.stringify(v)),
  );

  it('a PayPal email is only one the answer shows as confirmed, the primary first', () => {
    fc.assert(
      fc.property(userInfo, (text) => {
        let email: string;
        try {
          email = parseUserInfo(text);
        } catch (error) {
          expect([PayoutUnavailable, PayPalLinkRefused]).toContain((error as Error).constructor);
          return;
        }
        const emails: { value: unknown; primary?: unknown; confirmed?: unknown }[] = json(text).emails;
        const confirmed = emails.filter((e) => e.confirmed === true);
        expect(confirmed.map((e) => e.value)).toContain(email);
        // When a confirmed primary address is a usable email, that is the one.
        const primary = confirmed.find((e) => e.primary === true && z.email().safeParse(e.value).success);
        if (primary !== undefined) expect(email).toBe(primary.value);
      }),
      RUNS,
    );
  });

  it('a Payoneer link is exactly result.registration_link, and active only for status ACTIVE', () => {
    const answer = fc.oneof(
      fc.string(),
      fc.json(),
      fc
        .record(
          {
            result: fc.record(
              {
                registration_link: fc.oneof(fc.webUrl(), oddValue),
                status: fc.record(
                  {
                    type: oddValue,
                    description: fc.oneof(fc.constantFrom('ACTIVE', 'Active', 'INACTIVE'), oddValue),
                  },
                  { requiredKeys: [] },
                ),
              },
              { requiredKeys: [] },
            ),
          },
          { requiredKeys: [] },
        )
        .map((v) => JSON.stringify(v)),
    );
    fc.assert(
      fc.property(answer, (text) => {
        const link = attempt(() => parseRegistrationLink(text));
        if (link !== 'unavailable') expect(link).toBe(json(text).result.registration_link);
        const active = attempt(() => parsePayeeActive(text));
        if (active !== 'unavailable') {
          expect(active).toBe(String(json(text).result.status.description).toUpperCase() === 'ACTIVE');
        }
      }),
      RUNS,
    );
  });
});

describe('helpers', () => {
  it('quote never lets a run of 12 or more digits through', () => {
    const digits = fc.stringMatching(/^[0-9 -]{0,60}$/);
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.string({ maxLength: 10 }), digits), { maxLength: 6 }), (parts) => {
        const out = quote(parts.join(''), 1000);
        expect(noLongDigitRuns(out)).toBe(true);
      }),
      RUNS,
    );
  });

  it('requestUuid is a 36-character UUID, the same for the same payoutId', () => {
    fc.assert(
      fc.property(fc.string(), (id) => {
        const uuid = requestUuid(id);
        expect(uuid).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
        expect(requestUuid(id)).toBe(uuid);
      }),
      RUNS,
    );
  });

  it('payoutAmount is exact decimal text of a positive amount, or a MoneyError', () => {
    const codes = Object.keys(CURRENCIES);
    fc.assert(
      fc.property(
        fc.oneof(fc.integer({ min: -1000, max: 10 ** 15 + 10 }), fc.double()),
        fc.oneof(fc.constantFrom(...codes), fc.string({ maxLength: 4 })),
        (amount, currency) => {
          let text: string;
          try {
            text = payoutAmount({ amount, currency });
          } catch (error) {
            expect(error).toBeInstanceOf(MoneyError);
            return;
          }
          expect(amount).toBeGreaterThan(0);
          expect(parseAmount(text, currency)).toBe(amount);
        },
      ),
      RUNS,
    );
  });
});
