// A local noebs (consumer routes in front of EBS) on 127.0.0.1, answering in the shapes noebs' source
// shows (see engine/payouts/noebs.ts). It holds EBS's RSA private key, so it decrypts each IPIN block and
// checks it is PKCS#1 v1.5 over UUID + IPIN with the request's own UUID, as EBS does. Tests script the
// EBS response code per destination card, and can make it fail (5xx) or hang, before or after it pays.
import { privateDecrypt, constants, type KeyObject } from 'node:crypto';
import Fastify, { type FastifyInstance, type FastifyReply } from 'fastify';
import { parse } from 'lossless-json';

export interface FakeNoebsOptions {
  privateKey: KeyObject;
  /** The public key as EBS serves it: bare base64 DER SPKI. */
  publicKeyBase64: string;
  /** The funding card EBS knows, with its clear IPIN. */
  source: { pan: string; expDate: string; ipin: string };
}

export type NoebsFault =
  | { kind: 'status'; status: number }
  /** Never answers and does nothing. */
  | { kind: 'hang' }
  /** Pays, then never answers (the client times out on a transfer that happened). */
  | { kind: 'hang-after-paying' };

export interface FakeTransfer {
  uuid: string;
  toCard: string;
  /** Exact JSON text of tranAmount, as sent. */
  tranAmount: string;
  tranCurrencyCode: string;
  responseCode: number;
  responseMessage: string;
}

export interface FakeNoebs {
  url: string;
  /** Transfers EBS executed (a repeated UUID is not executed again). */
  transfers: FakeTransfer[];
  /** The clear text of every IPIN block received, in order (UUID + IPIN when well formed). */
  decryptedBlocks: string[];
  /** Raw request bodies per route. */
  bodies: { p2p: string[]; status: string[]; key: string[] };
  /** EBS's answer for transfers to this card; default 0 "Approved". */
  respond(toCard: string, responseCode: number, responseMessage: string): void;
  fault(route: 'p2p' | 'status' | 'key', fault: NoebsFault, times?: number): void;
  close(): Promise<void>;
}

/** RSA PKCS#1 v1.5 (type 2) decryption by hand: Node 20 refuses PKCS#1 v1.5 private decryption. */
function pkcs1v15Decrypt(key: KeyObject, block: Buffer): string | undefined {
  let em: Buffer;
  try {
    em = privateDecrypt({ key, padding: constants.RSA_NO_PADDING }, block);
  } catch {
    return undefined;
  }
  // 0x00 0x02, at least 8 nonzero random bytes, 0x00, message.
  if (em[0] !== 0x00 || em[1] !== 0x02) return undefined;
  const sep = em.indexOf(0x00, 2);
  if (sep < 10) return undefined;
  return em.subarray(sep + 1).toString('utf8');
}

/** noebs' own error body for an EBS decline (ebs_fields.ErrorDetails), sent as HTTP 502. */
function decline(responseCode: number, responseMessage: string, extra: object = {}) {
  return {
    code: responseCode,
    status: 'EBSError',
    message: 'EBSError',
    details: { responseCode, responseMessage, responseStatus: 'Failed', ...extra },
  };
}

export async function startFakeNoebs(options: FakeNoebsOptions): Promise<FakeNoebs> {
  const transfers: FakeTransfer[] = [];
  const byUuid = new Map<string, FakeTransfer>();
  const decryptedBlocks: string[] = [];
  const bodies = { p2p: [] as string[], status: [] as string[], key: [] as string[] };
  const scripted = new Map<string, { code: number; message: string }>();
  const faults: { route: 'p2p' | 'status' | 'key'; fault: NoebsFault }[] = [];

  const app: FastifyInstance = Fastify({ logger: false, forceCloseConnections: true });
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string' }, (_req, body, done) => done(null, body));

  function takeFault(route: 'p2p' | 'status' | 'key'): NoebsFault | undefined {
    const i = faults.findIndex((f) => f.route === route);
    return i < 0 ? undefined : faults.splice(i, 1)[0]!.fault;
  }

  async function hang(): Promise<never> {
    return new Promise<never>(() => {});
  }

  function badRequest(reply: FastifyReply, details: string[]) {
    return reply.code(400).send({
      error: { code: 400, status: 'BadRequest', message: 'Request fields validation error', details },
    });
  }

  /** Parses with exact numbers; field values come back as text. */
  function fields(text: string): Record<string, string> | undefined {
    try {
      const value = parse(text) as Record<string, unknown>;
      if (typeof value !== 'object' || value === null) return undefined;
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, String(v)]));
    } catch {
      return undefined;
    }
  }

  app.post('/consumer/p2p', async (request, reply) => {
    const text = String(request.body);
    bodies.p2p.push(text);
    const fault = takeFault('p2p');
    if (fault?.kind === 'hang') return hang();
    if (fault?.kind === 'status')
      return reply.code(fault.status).send({ code: 'upstream', message: 'EBS gateway error' });

    const f = fields(text);
    if (f === undefined) return badRequest(reply, ['body is not JSON']);
    const required = ['tranDateTime', 'UUID', 'PAN', 'IPIN', 'expDate', 'tranAmount', 'toCard'];
    const missing = required.filter((k) => f[k] === undefined || f[k] === '');
    if (missing.length > 0)
      return badRequest(
        reply,
        missing.map((m) => `${m} is required`),
      );
    if (f.UUID!.length !== 36) return badRequest(reply, ['UUID must be 36 characters']);
    if (!/^\d{12}$/.test(f.tranDateTime!)) return badRequest(reply, ['tranDateTime is ddMMyyHHmmss']);

    const repeat = byUuid.get(f.UUID!);
    let transfer: FakeTransfer;
    if (repeat !== undefined) {
      transfer = repeat; // EBS knows this UUID: the same answer, no second transfer
    } else {
      const plain = pkcs1v15Decrypt(options.privateKey, Buffer.from(f.IPIN!, 'base64'));
      decryptedBlocks.push(plain ?? '(undecryptable)');
      const pinOk = plain === f.UUID! + options.source.ipin;
      const cardOk = f.PAN === options.source.pan && f.expDate === options.source.expDate;
      const script = scripted.get(f.toCard!) ?? { code: 0, message: 'Approved' };
      const result = !cardOk
        ? { code: 52, message: 'Invalid Card' }
        : !pinOk
          ? { code: 53, message: 'Invalid PIN' }
          : script;
      transfer = {
        uuid: f.UUID!,
        toCard: f.toCard!,
        tranAmount: f.tranAmount!,
        tranCurrencyCode: f.tranCurrencyCode ?? '',
        responseCode: result.code,
        responseMessage: result.message,
      };
      byUuid.set(transfer.uuid, transfer);
      if (result.code === 0) transfers.push(transfer);
    }
    if (fault?.kind === 'hang-after-paying') return hang();
    const masked = `${transfer.toCard.slice(0, 6)}*****${transfer.toCard.slice(-4)}`;
    if (transfer.responseCode !== 0) {
      return reply
        .code(502)
        .send(
          decline(transfer.responseCode, transfer.responseMessage, { UUID: transfer.uuid, toCard: masked }),
        );
    }
    return reply.send({
      ebs_response: {
        responseCode: 0,
        responseMessage: 'Approved',
        responseStatus: 'Successful',
        UUID: transfer.uuid,
        toCard: masked,
        referenceNumber: String(100000 + transfers.length),
        approvalCode: '123456',
        tranCurrency: 'SDG',
      },
    });
  });

  app.post('/consumer/status', async (request, reply) => {
    const text = String(request.body);
    bodies.status.push(text);
    const fault = takeFault('status');
    if (fault?.kind === 'hang' || fault?.kind === 'hang-after-paying') return hang();
    if (fault?.kind === 'status')
      return reply.code(fault.status).send({ code: 'upstream', message: 'EBS gateway error' });
    const f = fields(text);
    if (f?.originalTranUUID === undefined) return badRequest(reply, ['originalTranUUID is required']);
    const original = byUuid.get(f.originalTranUUID);
    if (original === undefined) return reply.code(502).send(decline(196, 'Transaction not found'));
    return reply.send({
      ebs_response: {
        responseCode: 0,
        responseMessage: 'Approved',
        originalTransaction: {
          responseCode: original.responseCode,
          responseMessage: original.responseMessage,
          UUID: original.uuid,
        },
      },
    });
  });

  app.post('/consumer/key', async (request, reply) => {
    bodies.key.push(String(request.body));
    const fault = takeFault('key');
    if (fault?.kind === 'hang' || fault?.kind === 'hang-after-paying') return hang();
    if (fault?.kind === 'status')
      return reply.code(fault.status).send({ code: 'upstream', message: 'EBS gateway error' });
    return reply.send({
      ebs_response: { responseCode: 0, responseMessage: 'Approved', pubKeyValue: options.publicKeyBase64 },
    });
  });

  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  if (address === null || typeof address === 'string') throw new Error('fake noebs has no port');

  return {
    url: `http://127.0.0.1:${address.port}`,
    transfers,
    decryptedBlocks,
    bodies,
    respond: (toCard, code, message) => {
      scripted.set(toCard, { code, message });
    },
    fault: (route, fault, times = 1) => {
      for (let i = 0; i < times; i++) faults.push({ route, fault });
    },
    close: () => app.close(),
  };
}
