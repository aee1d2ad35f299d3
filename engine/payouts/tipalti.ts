// Tipalti payee creation: the SOAP Payee API's `UpdateOrCreatePayeeInfo`, which creates the payee named
// by `idap` or updates it when it exists (so a repeat of the same idap is harmless).
//
// Sources:
// - soap-support.tipalti.com, PayeeAPI/UpdatePayee/UpdateOrCreatePayeeInfo/v6: the SOAP 1.2 request
//   (`payerName`, `idap`, `timestamp`, `key`, `skipNulls`, `overridePayableCountry`, `item` {Idap,
//   FirstName, LastName, Street1, Street2, City, State, Zip, Country, Email, Company, ...}) in namespace
//   `http://Tipalti.org/`, POST to `/v6/PayeeFunctions.asmx`, `Content-Type: application/soap+xml`; the
//   answer `UpdateOrCreatePayeeInfoResult` {errorMessage, errorCode, b, i, d}; "EAT (Encryption
//   Additional Terms) parameter: street1".
// - getstarted.tipalti.com "Payee Onboarding via API": the key signs `payer + idap + now + street1`
//   (street1 only when it is sent); sandbox host `api.sandbox.tipalti.com`.
// - The key is the lower-case hex HMAC-SHA256 of that string under the payer's master key, the timestamp
//   Unix seconds (github.com/peek-travel/tipalti-elixir `Tipalti.Config.build_hashkey`, and its recorded
//   request `test/requests/update_or_create_payee_info_success_new_req.xml`).
// - soap-support.tipalti.com GetStarted/ApiErrorCodes: `OK` and the error statuses mapped below.
import { createHmac } from 'node:crypto';
import { XMLBuilder, XMLParser } from 'fast-xml-parser';
import { z } from 'zod';
import { exchange, quote, quoteCode, silentLogger, type PayoutLogger } from './http.ts';
import { readOptions } from './options.ts';
import { PayoutUnavailable } from './provider.ts';

export const TIPALTI_PAYEE_URLS = {
  sandbox: 'https://api.sandbox.tipalti.com/v6/PayeeFunctions.asmx',
  production: 'https://api.tipalti.com/v6/PayeeFunctions.asmx',
} as const;

export const TipaltiOptionsSchema = z
  .object({
    environment: z.enum(['sandbox', 'production']).default('sandbox'),
    /** Overrides the environment's PayeeFunctions.asmx URL (a proxy, or a local server in tests). */
    url: z.url().optional(),
    /** The payer name Tipalti gave the account (sent and signed with every call). */
    payerName: z.string().min(1, 'payerName is required').max(100),
    /** The payer's master key: signs each call, is never sent or logged. */
    masterKey: z.string().min(1, 'masterKey is required'),
    /**
     * Starts every idap we make (`<prefix><member id>`), so engines sharing one Tipalti payer cannot
     * collide. Tipalti allows letters and digits only, at most 64 in all.
     */
    idapPrefix: z
      .string()
      .regex(/^[A-Za-z0-9]{1,32}$/, 'idapPrefix is 1 to 32 letters or digits')
      .default('tillback'),
    timeoutMs: z.number().int().min(100).max(120_000).default(20_000),
  })
  .strict();

export type TipaltiOptions = z.input<typeof TipaltiOptionsSchema>;

/** A payee in Tipalti's item fields; absent fields are not sent (skipNulls keeps Tipalti's values). */
export interface TipaltiPayeeFields {
  firstName?: string | undefined;
  lastName?: string | undefined;
  company?: string | undefined;
  email: string;
  street1: string;
  street2?: string | undefined;
  city: string;
  state?: string | undefined;
  zip?: string | undefined;
  country: string;
}

/** Tipalti refused the payee: `code` is Tipalti's error status, `message` what a person can act on. */
export class TipaltiRefused extends Error {
  override name = 'TipaltiRefused';
  constructor(
    readonly code: string,
    message: string,
    /** True when the payee's own fields are at fault (the member can fix them), false for our setup. */
    readonly payeeFault: boolean,
  ) {
    super(message);
  }
}

// The documented statuses a payee call can meet: the payee's fields at fault, or ours (the payer name,
// the key, the idap we make). Any other status is quoted as Tipalti sent it.
const PAYEE_FAULTS: Record<string, string> = {
  UnknownCountryCode: 'The country is not an ISO 3166 country code',
  CountryNotSupported: 'Tipalti does not pay to this country',
  UnknownState: 'The state is not an ISO 3166 state code',
  ParameterError: 'Tipalti refused a payee field',
  StringContainsNonEBCDICCharacters: "The address may contain only letters, digits and / - ? : ( ) . , ' +",
};
const SETUP_FAULTS: Record<string, string> = {
  PayerUnknown: 'Tipalti does not know the configured payer name',
  EncryptionKeyFailedValidation: "Tipalti refused the request's key: check the configured master key",
  IdapContainsSpaces: 'Tipalti refused the payee id (spaces)',
  IdapContainsIllegalCharacters: 'Tipalti refused the payee id (characters)',
  IdapMaxLengthExceeded: 'Tipalti refused the payee id (longer than 64 characters)',
  PreferredEntityIsNotValid: "Tipalti refused the payer entity: check the payer's default entity",
  UnknownError: 'Tipalti reported an unknown error',
};

/** UpdateOrCreatePayeeInfo's key: it signs payer name, idap, timestamp, then street1 (the EAT). */
function payeeKey(
  masterKey: string,
  parts: { payerName: string; idap: string; timestamp: number; street1: string },
) {
  return createHmac('sha256', masterKey)
    .update(`${parts.payerName}${parts.idap}${parts.timestamp}${parts.street1}`, 'utf8')
    .digest('hex');
}

// fast-xml-parser: a maintained parser and builder. The builder escapes every text value (&, <, >, ', ")
// so a payee's fields cannot change the envelope's structure; the parser drops namespace prefixes
// (Tipalti answers with `soap:`, a SOAP 1.2 peer may say `soap12:`) and keeps every value as text.
const builder = new XMLBuilder({ ignoreAttributes: false });
const parser = new XMLParser({ removeNSPrefix: true, parseTagValue: false, ignoreAttributes: true });

/** The SOAP 1.2 envelope of one call; `fields` in the order given, absent ones left out. */
export function soapEnvelope(action: string, fields: Record<string, unknown>): string {
  return `<?xml version="1.0" encoding="utf-8"?>${builder.build({
    'soap12:Envelope': {
      '@_xmlns:xsi': 'http://www.w3.org/2001/XMLSchema-instance',
      '@_xmlns:xsd': 'http://www.w3.org/2001/XMLSchema',
      '@_xmlns:soap12': 'http://www.w3.org/2003/05/soap-envelope',
      'soap12:Body': { [action]: { '@_xmlns': 'http://Tipalti.org/', ...fields } },
    },
  })}`;
}

const resultSchema = z.object({ errorCode: z.string().trim().min(1), errorMessage: z.string().optional() });

/**
 * Reads a `<action>Response/<action>Result` answer: `{ errorCode, errorMessage }`, or undefined when
 * the text is not such an answer (malformed XML, another action, no errorCode).
 */
export function parseSoapResult(action: string, text: string): z.infer<typeof resultSchema> | undefined {
  let doc: unknown;
  try {
    doc = parser.parse(text, true);
  } catch {
    return undefined;
  }
  const result = ['Envelope', 'Body', `${action}Response`, `${action}Result`].reduce<unknown>(
    (node, name) =>
      typeof node === 'object' && node !== null ? (node as Record<string, unknown>)[name] : undefined,
    doc,
  );
  const parsed = resultSchema.safeParse(result);
  return parsed.success ? parsed.data : undefined;
}

export interface TipaltiDeps {
  /** Clock in milliseconds: the signed timestamp. */
  now?: () => number;
  logger?: PayoutLogger;
}

export interface TipaltiPayees {
  /** The idap this engine uses for a member: stable, letters and digits only. */
  idapFor(memberId: number): string;
  /**
   * Creates (or updates) the payee `idap` at Tipalti. Throws `TipaltiRefused` for a refusal and
   * `PayoutUnavailable` when Tipalti could not be asked or its answer read (try again later).
   */
  updateOrCreatePayee(idap: string, payee: TipaltiPayeeFields): Promise<void>;
}

const ACTION = 'UpdateOrCreatePayeeInfo';

export function createTipaltiPayees(options: TipaltiOptions, deps: TipaltiDeps = {}): TipaltiPayees {
  const o = readOptions(TipaltiOptionsSchema, options, 'tipalti');
  const url = o.url ?? TIPALTI_PAYEE_URLS[o.environment];
  const now = deps.now ?? Date.now;
  const log = deps.logger ?? silentLogger;

  return {
    idapFor: (memberId) => `${o.idapPrefix}${memberId}`,

    async updateOrCreatePayee(idap, payee) {
      const timestamp = Math.floor(now() / 1000);
      const body = soapEnvelope(ACTION, {
        payerName: o.payerName,
        idap,
        timestamp,
        key: payeeKey(o.masterKey, { payerName: o.payerName, idap, timestamp, street1: payee.street1 }),
        // Fields we do not send keep the values Tipalti has (the payee may have edited them there).
        skipNulls: true,
        overridePayableCountry: false,
        item: {
          Idap: idap,
          FirstName: payee.firstName,
          LastName: payee.lastName,
          Street1: payee.street1,
          Street2: payee.street2,
          City: payee.city,
          State: payee.state,
          Zip: payee.zip,
          Country: payee.country,
          Email: payee.email,
          Company: payee.company,
        },
      });
      const answer = await exchange(
        'tipalti',
        ACTION,
        url,
        { method: 'POST', headers: { 'content-type': 'application/soap+xml; charset=utf-8' }, body },
        o.timeoutMs,
      ).catch((error: unknown) => {
        if (error instanceof PayoutUnavailable)
          log.warn({ idap, reason: error.message }, 'tipalti: not reached');
        throw error;
      });
      const result = answer.status === 200 ? parseSoapResult(ACTION, answer.text) : undefined;
      if (!result) {
        // Anything else (a 4xx, a body that is not the answer) decides nothing; the idap makes a retry
        // safe. A SOAP fault comes as HTTP 500, already PayoutUnavailable.
        log.warn({ idap, status: answer.status }, 'tipalti: unreadable UpdateOrCreatePayeeInfo answer');
        throw new PayoutUnavailable('tipalti', `${ACTION}: unreadable answer (HTTP ${answer.status})`);
      }
      if (result.errorCode === 'OK') {
        log.info({ idap }, 'tipalti: payee created or updated');
        return;
      }
      // Quoted like any provider text: an errorCode is logged and kept, so no card-like run survives.
      const code = quoteCode(result.errorCode);
      const payeeFault = code in PAYEE_FAULTS;
      const known = PAYEE_FAULTS[code] ?? SETUP_FAULTS[code];
      // Tipalti's own message may name the field it refused; it is quoted (shortened, digits masked).
      const detail =
        result.errorMessage && result.errorMessage !== result.errorCode
          ? `: ${quote(result.errorMessage)}`
          : '';
      log.warn({ idap, errorCode: code }, 'tipalti: UpdateOrCreatePayeeInfo refused');
      throw new TipaltiRefused(
        code,
        `${known ?? `Tipalti refused the payee (${code})`}${detail}`,
        payeeFault,
      );
    },
  };
}
