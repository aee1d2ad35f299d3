// A local Tipalti Payee API (SOAP 1.2 `UpdateOrCreatePayeeInfo`, see engine/payouts/tipalti.ts for the
// sources) on 127.0.0.1. It reads the envelope with an XML parser, checks the payer name and the key
// (HMAC-SHA256 of payerName + idap + timestamp + street1 under its own master key) and the idap's
// characters, then creates or updates the payee. Tests script refusals (any documented errorCode),
// HTTP statuses, SOAP faults, unreadable bodies and requests that hang.
import { createHmac } from 'node:crypto';
import { XMLBuilder, XMLParser } from 'fast-xml-parser';
import Fastify, { type FastifyInstance } from 'fastify';

export type TipaltiFault =
  | { kind: 'status'; status: number }
  | { kind: 'soap-fault' }
  | { kind: 'garbage' }
  | { kind: 'hang' }
  | { kind: 'refuse'; errorCode: string; errorMessage: string };

export interface FakeTipalti {
  /** The PayeeFunctions.asmx URL to configure as the client's `url`. */
  url: string;
  payerName: string;
  masterKey: string;
  /** Payees by idap: the item fields as Tipalti received them (decoded text). */
  payees: Map<string, Record<string, string>>;
  /** Raw request bodies, in order. */
  bodies: string[];
  /** The next `times` requests get this fault instead of the normal answer. */
  fault(fault: TipaltiFault, times?: number): void;
  close(): Promise<void>;
}

const parser = new XMLParser({ removeNSPrefix: true, parseTagValue: false, ignoreAttributes: true });
const builder = new XMLBuilder({ ignoreAttributes: false, suppressBooleanAttributes: false });

/** Tipalti's answer envelope, as its documentation and recorded responses show it. */
export function tipaltiAnswer(errorCode: string, errorMessage: string): string {
  return `<?xml version="1.0" encoding="utf-8"?>${builder.build({
    'soap:Envelope': {
      '@_xmlns:soap': 'http://www.w3.org/2003/05/soap-envelope',
      '@_xmlns:xsi': 'http://www.w3.org/2001/XMLSchema-instance',
      'soap:Body': {
        UpdateOrCreatePayeeInfoResponse: {
          '@_xmlns': 'http://Tipalti.org/',
          UpdateOrCreatePayeeInfoResult: {
            errorMessage,
            errorCode,
            b: { '@_xsi:nil': 'true' },
            i: { '@_xsi:nil': 'true' },
            d: { '@_xsi:nil': 'true' },
          },
        },
      },
    },
  })}`;
}

const SOAP_FAULT =
  '<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="http://www.w3.org/2003/05/soap-envelope">' +
  '<soap:Body><soap:Fault><soap:Code><soap:Value>soap:Receiver</soap:Value></soap:Code>' +
  '<soap:Reason><soap:Text xml:lang="en">Server was unable to process request.</soap:Text></soap:Reason>' +
  '</soap:Fault></soap:Body></soap:Envelope>';

const text = (v: unknown): string => (typeof v === 'string' ? v : '');

export async function startFakeTipalti(
  options: { payerName?: string; masterKey?: string } = {},
): Promise<FakeTipalti> {
  const payerName = options.payerName ?? 'TillbackTest';
  const masterKey = options.masterKey ?? 'fake-tipalti-master-key-0123456789';
  const payees = new Map<string, Record<string, string>>();
  const bodies: string[] = [];
  const faults: TipaltiFault[] = [];

  const app: FastifyInstance = Fastify({ logger: false, forceCloseConnections: true });
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string' }, (_req, body, done) => done(null, body));

  app.post('/v6/PayeeFunctions.asmx', async (req, reply) => {
    const body = String(req.body);
    bodies.push(body);
    const soap = (status: number, xml: string) =>
      reply.code(status).header('content-type', 'application/soap+xml; charset=utf-8').send(xml);
    const answer = (code: string, message = code) => soap(200, tipaltiAnswer(code, message));

    const fault = faults.shift();
    if (fault?.kind === 'hang') await new Promise(() => {}); // cut when the server closes
    if (fault?.kind === 'status') return reply.code(fault.status).send('Service Unavailable');
    if (fault?.kind === 'soap-fault') return soap(500, SOAP_FAULT);
    if (fault?.kind === 'garbage') return soap(200, '<html>maintenance</html>');

    let call: Record<string, unknown> | undefined;
    try {
      call = parser.parse(body, true)?.Envelope?.Body?.UpdateOrCreatePayeeInfo;
    } catch {
      call = undefined;
    }
    if (!call) return soap(500, SOAP_FAULT);
    if (text(call.payerName) !== payerName) return answer('PayerUnknown');
    const idap = text(call.idap);
    const item = (call.item ?? {}) as Record<string, unknown>;
    const street1 = text(item.Street1);
    const expected = createHmac('sha256', masterKey)
      .update(`${payerName}${idap}${text(call.timestamp)}${street1}`, 'utf8')
      .digest('hex');
    if (text(call.key) !== expected) return answer('EncryptionKeyFailedValidation');
    if (idap.trim() !== idap) return answer('IdapContainsSpaces');
    if (!/^[A-Za-z0-9]+$/.test(idap)) return answer('IdapContainsIllegalCharacters');
    if (idap.length > 64) return answer('IdapMaxLengthExceeded');
    if (fault?.kind === 'refuse') return answer(fault.errorCode, fault.errorMessage);
    // skipNulls: fields not sent keep what the payee had.
    const fields = Object.fromEntries(Object.entries(item).map(([k, v]) => [k, text(v)]));
    payees.set(idap, { ...payees.get(idap), ...fields });
    return answer('OK');
  });

  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}/v6/PayeeFunctions.asmx`,
    payerName,
    masterKey,
    payees,
    bodies,
    fault(f, times = 1) {
      for (let i = 0; i < times; i++) faults.push(f);
    },
    close: () => app.close(),
  };
}
