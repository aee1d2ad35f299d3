// noebs card transfer: pays a customer's card from the funding card the cashout provider registered,
// through a noebs server (github.com/noebs/noebs, formerly adonese/noebs), which forwards to EBS
// Sudan's consumer API. This is how noebs' own cashout pays a claim (`cashOutClaims`: the registered
// card is the sender, the claimant's card is `toCard`), minus its faults: a fresh UUID per attempt and a
// PIN in its logs.
//
// Sources (noebs source):
// - Routes (consumer group): POST /consumer/p2p (CardTransfer), /consumer/status (TransactionStatus,
//   EBS `getTransactionStatus` with originalTranUUID),
//   /consumer/key (WorkingKey -> EBS `getPublicKey`, answering `pubKeyValue`).
// - Request fields (ebs_fields.ConsumerCardTransferFields): applicationId, tranDateTime, UUID (36 chars),
//   PAN, IPIN, expDate, tranAmount (a JSON number in major units), tranCurrencyCode, toCard.
//   Status: ConsumerStatusFields = common fields + originalTranUUID.
// - IPIN block (noebs/ipin.dart `Ipin.encrypt`, noebs/cashqbot rsa.go `rsaEncrypt`): the key is base64
//   DER SubjectPublicKeyInfo; the block is base64(RSA-PKCS#1-v1.5-encrypt(UUID + clear IPIN)); "the same
//   UUID we use for encryption is the one we send in our subsequent API calls".
// - Answers (ebs_fields.EBSHttpClient and the consumer handlers): EBS responseCode 0 -> HTTP 200
//   `{"ebs_response": {...}}`; any other responseCode -> HTTP 502 `{"code": <responseCode>,
//   "status": "EBSError", "message": "EBSError", "details": {responseCode, responseMessage, ...}}`;
//   EBS unreachable -> 504; bad fields -> 400. noebs waits up to 90 s for EBS.
// - Response codes named in noebs (INVALIDCARD 52, INVALIDPIN 53, ROUTINGERROR 72) and seed 000's
//   webhook example (69 "Generic Error").
import {
  constants,
  createHash,
  createPublicKey,
  publicEncrypt,
  randomUUID,
  type KeyObject,
} from 'node:crypto';
import { z } from 'zod';
import { isValidPan, maskPan } from '../../contract/card.ts';
import { decimalNumber, serializeJson } from '../http/json.ts';
import { refusedAmount } from './amount.ts';
import { exchange, quote, silentLogger, type HttpAnswer, type PayoutLogger } from './http.ts';
import { readOptions } from './options.ts';
import {
  PayoutUnavailable,
  type PayoutOutcome,
  type PayoutProvider,
  type PayoutRequest,
} from './provider.ts';

export const NoebsOptionsSchema = z
  .object({
    /** The noebs server, e.g. https://noebs.example.sd (the /consumer routes are appended). */
    baseUrl: z.url(),
    /** EBS's IPIN public key: base64 DER as /consumer/key serves it, or PEM. Fetched once when absent. */
    publicKey: z.string().min(1).optional(),
    /**
     * The funding card of payouts whose request brings none. A claim generated through seed 000 brings
     * its registered provider's card (`PayoutRequest.source`), which is used instead.
     */
    source: z
      .object({
        pan: z
          .string()
          .regex(/^(\d{16}|\d{19})$/, 'pan has 16 or 19 digits')
          .refine(isValidPan, 'pan fails the Luhn check'),
        expDate: z.string().regex(/^\d{2}(0[1-9]|1[0-2])$/, 'expDate is YYmm'),
        ipin: z.string().regex(/^\d{4}$/, 'ipin is 4 digits'),
      })
      .strict()
      .optional(),
    /** EBS application id; noebs fills in its own when this is absent. */
    applicationId: z.string().min(1).optional(),
    /** Authorization header value the noebs gateway expects, if any. */
    authorization: z.string().min(1).optional(),
    /** Longer than noebs' own 90 s wait for EBS, so noebs answers 504 before we give up. */
    timeoutMs: z.number().int().min(100).max(300_000).default(95_000),
  })
  .strict();

export type NoebsOptions = z.input<typeof NoebsOptionsSchema>;

export interface NoebsDeps {
  now?: () => number;
  logger?: PayoutLogger;
}

/** EBS response codes we can explain better than EBS's own text; others keep EBS's responseMessage. */
const EBS_RESPONSE_CODES: Readonly<Record<number, { code: string; message: string }>> = {
  52: { code: 'invalid_card', message: 'EBS says the card is not valid' },
  53: { code: 'invalid_ipin', message: "EBS refused the funding card's IPIN: check the registered card" },
  69: { code: 'generic_error', message: 'EBS reported a generic error' },
  72: { code: 'routing_error', message: "EBS could not route the transfer to the card's bank" },
};

// EBS's response codes are ISO 8583-style numbers of two or three digits; 0-9999 leaves room. A code
// beyond that is not an EBS answer we can read, and refusing it keeps a long, card-number-like digit
// run out of the failure's code and message, which are stored and shown.
const EbsResultSchema = z.object({
  responseCode: z.number().int().min(0).max(9999),
  responseMessage: z.string().optional(),
});

const SuccessSchema = z.object({
  ebs_response: EbsResultSchema.extend({
    pubKeyValue: z.string().optional(),
    originalTransaction: EbsResultSchema.optional(),
  }),
});

const DeclineSchema = z.object({ status: z.literal('EBSError'), details: EbsResultSchema });

/** The one currency EBS card transfers move. */
const CURRENCY = 'SDG';

/** A noebs UUID (36 characters) for our payoutId: the id itself when it is one, else a name-based v5. */
export function requestUuid(payoutId: string): string {
  if (/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(payoutId))
    return payoutId.toLowerCase();
  // RFC 4122 version 5 over a fixed namespace: the same payoutId always gives the same UUID.
  const namespace = Buffer.from('6f1b5c2e9d0a4e7bb3c8a1d2e4f60718', 'hex');
  const hash = createHash('sha1').update(namespace).update(payoutId, 'utf8').digest();
  hash.writeUInt8((hash.readUInt8(6) & 0x0f) | 0x50, 6);
  hash.writeUInt8((hash.readUInt8(8) & 0x3f) | 0x80, 8);
  const hex = hash.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** The IPIN block as noebs builds it: base64(RSA PKCS#1 v1.5(UUID + IPIN)) under EBS's public key. */
function ipinBlock(publicKey: KeyObject, uuid: string, ipin: string): string {
  return publicEncrypt(
    { key: publicKey, padding: constants.RSA_PKCS1_PADDING },
    Buffer.from(uuid + ipin, 'utf8'),
  ).toString('base64');
}

/** EBS's key as served (bare base64 DER SPKI) or PEM. */
function readPublicKey(text: string): KeyObject {
  const trimmed = text.trim();
  return trimmed.startsWith('-----BEGIN')
    ? createPublicKey(trimmed)
    : createPublicKey({ key: Buffer.from(trimmed, 'base64'), format: 'der', type: 'spki' });
}

/** ddMMyyHHmmss, the EBS transaction time format (UTC). */
export function ebsDateTime(ms: number): string {
  const d = new Date(ms);
  const two = (n: number) => String(n).padStart(2, '0');
  return (
    two(d.getUTCDate()) +
    two(d.getUTCMonth() + 1) +
    two(d.getUTCFullYear() % 100) +
    two(d.getUTCHours()) +
    two(d.getUTCMinutes()) +
    two(d.getUTCSeconds())
  );
}

function json(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function declined(result: z.infer<typeof EbsResultSchema>, uuid: string): PayoutOutcome {
  const known = EBS_RESPONSE_CODES[result.responseCode];
  const said = result.responseMessage === undefined ? '' : quote(result.responseMessage);
  const message =
    known === undefined
      ? said || `EBS declined the transfer (code ${result.responseCode})`
      : `${known.message} (EBS ${result.responseCode}${said ? `: ${said}` : ''})`;
  return {
    status: 'failed',
    providerReference: uuid,
    failure: { code: known?.code ?? `ebs_${result.responseCode}`, message },
  };
}

function outcomeOf(result: z.infer<typeof EbsResultSchema>, uuid: string): PayoutOutcome {
  return result.responseCode === 0 ? { status: 'paid', providerReference: uuid } : declined(result, uuid);
}

/**
 * What noebs' answer to a card transfer decides. Only HTTP 200 carrying `ebs_response.responseCode`
 * exactly 0 is paid; a 502 carrying EBS's decline is failed; a 400 is noebs refusing the fields; anything
 * else, or a body we cannot read, decides nothing (`PayoutUnavailable`).
 */
export function parseTransferAnswer(answer: HttpAnswer, uuid: string): PayoutOutcome {
  const body = json(answer.text);
  if (answer.status === 200) {
    const ok = SuccessSchema.safeParse(body);
    if (!ok.success)
      throw new PayoutUnavailable('noebs', 'card transfer: noebs answered 200 without an EBS result');
    return outcomeOf(ok.data.ebs_response, uuid);
  }
  if (answer.status === 502) {
    const no = DeclineSchema.safeParse(body);
    if (!no.success || no.data.details.responseCode === 0) {
      throw new PayoutUnavailable('noebs', 'card transfer: noebs answered 502 without an EBS decline');
    }
    return declined(no.data.details, uuid);
  }
  if (answer.status === 401 || answer.status === 403) {
    throw new PayoutUnavailable(
      'noebs',
      `card transfer: noebs refused our credentials (HTTP ${answer.status})`,
    );
  }
  if (answer.status >= 400 && answer.status < 500) {
    return {
      status: 'failed',
      providerReference: uuid,
      failure: {
        code: 'rejected_by_noebs',
        message: `noebs refused the transfer request (HTTP ${answer.status})`,
      },
    };
  }
  throw new PayoutUnavailable('noebs', `card transfer: unexpected HTTP ${answer.status}`);
}

/**
 * What noebs' answer to a status query says about the original transfer: its outcome when EBS names it,
 * 'unknown' when EBS declined the query (it has no such transfer), and `PayoutUnavailable` otherwise.
 */
export function parseStatusAnswer(answer: HttpAnswer, uuid: string): PayoutOutcome | 'unknown' {
  const body = json(answer.text);
  if (answer.status === 502 && DeclineSchema.safeParse(body).success) return 'unknown';
  const ok = answer.status === 200 ? SuccessSchema.safeParse(body) : undefined;
  const original =
    ok?.success === true && ok.data.ebs_response.responseCode === 0
      ? ok.data.ebs_response.originalTransaction
      : undefined;
  if (original === undefined) {
    throw new PayoutUnavailable(
      'noebs',
      `transfer status: noebs gave no usable answer (HTTP ${answer.status})`,
    );
  }
  return outcomeOf(original, uuid);
}

export function createNoebsProvider(options: NoebsOptions, deps: NoebsDeps = {}): PayoutProvider {
  const opts = readOptions(NoebsOptionsSchema, options, 'noebs');
  const base = opts.baseUrl.replace(/\/+$/, '');
  const now = deps.now ?? Date.now;
  const log = deps.logger ?? silentLogger;
  let key: KeyObject | undefined;
  if (opts.publicKey !== undefined) {
    try {
      key = readPublicKey(opts.publicKey);
    } catch {
      throw new Error('noebs provider options: publicKey is not an RSA public key (base64 DER or PEM)');
    }
  }

  const headers: Record<string, string> = {
    'Content-Type': 'application/json',
    Accept: 'application/json',
    ...(opts.authorization === undefined ? {} : { Authorization: opts.authorization }),
  };

  function common(uuid: string): Record<string, string> {
    return {
      ...(opts.applicationId === undefined ? {} : { applicationId: opts.applicationId }),
      tranDateTime: ebsDateTime(now()),
      UUID: uuid,
    };
  }

  async function post(what: string, path: string, body: string, readable: readonly number[] = []) {
    return exchange(
      'noebs',
      what,
      `${base}${path}`,
      { method: 'POST', headers, body },
      opts.timeoutMs,
      readable,
    );
  }

  async function publicKey(): Promise<KeyObject> {
    if (key !== undefined) return key;
    const answer = await post('public key', '/consumer/key', JSON.stringify(common(randomUUID())));
    const ok = answer.status === 200 ? SuccessSchema.safeParse(json(answer.text)) : undefined;
    const value = ok?.success === true ? ok.data.ebs_response.pubKeyValue : undefined;
    if (value === undefined)
      throw new PayoutUnavailable('noebs', `public key: noebs gave no pubKeyValue (HTTP ${answer.status})`);
    try {
      key = readPublicKey(value);
    } catch {
      throw new PayoutUnavailable(
        'noebs',
        'public key: noebs served something that is not an RSA public key',
      );
    }
    return key;
  }

  async function submit(request: PayoutRequest): Promise<PayoutOutcome> {
    const uuid = requestUuid(request.payoutId);
    const refuse = (code: string, message: string): PayoutOutcome => ({
      status: 'failed',
      failure: { code, message },
    });
    if (request.method.kind !== 'card')
      return refuse('unsupported_method', `noebs pays cards, not ${request.method.kind}`);
    if (request.currency !== CURRENCY)
      return refuse('unsupported_currency', `EBS card transfers are in SDG, not ${request.currency}`);
    const toCard = request.method.pan;
    if (!isValidPan(toCard)) return refuse('invalid_card', 'the card number fails the Luhn check');
    const refused = refusedAmount(request);
    if (refused !== undefined) return refused;
    const source = request.source ?? opts.source;
    if (source === undefined) {
      return refuse('no_funding_card', 'noebs needs a funding card: register one or configure source');
    }
    // The request's UUID is our payoutId's, and the IPIN block is bound to it: a retry is the same
    // transaction to EBS. EBS is asked about that UUID first, so a retry after a lost answer reports the
    // transfer that happened instead of sending another; only a transfer EBS has never seen is sent.
    const earlier = await lookup(uuid);
    if (earlier !== 'unknown') return earlier;
    const body = serializeJson({
      ...common(uuid),
      PAN: source.pan,
      IPIN: ipinBlock(await publicKey(), uuid, source.ipin),
      expDate: source.expDate,
      tranAmount: decimalNumber(request.amount, CURRENCY),
      tranCurrencyCode: CURRENCY,
      toCard,
    });
    const outcome = parseTransferAnswer(await post('card transfer', '/consumer/p2p', body, [502]), uuid);
    log.info(
      {
        provider: 'noebs',
        payoutId: request.payoutId,
        uuid,
        toCard: maskPan(toCard),
        status: outcome.status,
        failure: outcome.failure?.code,
      },
      'card transfer answered',
    );
    return outcome;
  }

  async function lookup(uuid: string): Promise<PayoutOutcome | 'unknown'> {
    const body = JSON.stringify({ ...common(randomUUID()), originalTranUUID: uuid });
    return parseStatusAnswer(await post('transfer status', '/consumer/status', body, [502]), uuid);
  }

  async function status(payoutId: string): Promise<PayoutOutcome> {
    const outcome = await lookup(requestUuid(payoutId));
    if (outcome === 'unknown') {
      // Not "failed": a transfer still on its way to EBS would be paid after we said so.
      throw new PayoutUnavailable('noebs', 'transfer status: EBS has no record of this transfer yet');
    }
    return outcome;
  }

  return { name: 'noebs', methods: ['card'], submit, status };
}
