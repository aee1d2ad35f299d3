// The embedded engine where customers' phones can reach it: its listen address, public URL, TLS and
// trusted proxy in the till's configuration (parsed, or refused by name); an engine on 0.0.0.0 with a
// public URL answering from this machine's LAN address with claim URLs under that public URL (and, as
// plain HTTP off loopback, no card entry: the banner's warning); over HTTPS, the till still reaching
// its engine on loopback; and the default unchanged: loopback only.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CARD_ENTRY_HTTPS_ONLY } from '../../engine/routes/native-claims.ts';
import { banner } from '../../till/banner.ts';
import { TillConfigError, loadTillConfig } from '../../till/config.ts';
import { startTill, type Till } from '../../till/core.ts';
import { claimPageWarning } from '../../till/embedded-engine.ts';
import { testLogDir } from '../fixtures/test-log.ts';
import { httpsGet, selfSigned } from '../fixtures/tls.ts';

let dir: string;
let logDir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'tillback-engine-listen-'));
  logDir = mkdtempSync(join(testLogDir(), 'till-engine-listen-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** This machine's first non-loopback IPv4 address: where a phone on the LAN would connect. */
const lanAddress = Object.values(networkInterfaces())
  .flat()
  .find((a) => a && a.family === 'IPv4' && !a.internal)?.address;

const start = (name: string, engine: Record<string, unknown>) =>
  startTill({ dataDir: join(dir, name), logDir, engine }, { simulate: 'never', handleSignals: false });

/** A store-funded claim made with the till's own app, through the URL the till uses. */
async function createClaim(till: Till, key: string) {
  const { appId, apiKey } = JSON.parse(readFileSync(till.paths.secrets, 'utf8')).till;
  const res = await fetch(`${till.engineUrl}/v1/claims`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-app-id': appId,
      'x-api-key': apiKey,
      'idempotency-key': key,
    },
    body: JSON.stringify({ amount: 500, currency: 'AUD', store_name: 'Corner Store' }),
  });
  expect(res.status).toBe(201);
  return (await res.json()) as { claim_id: string; url: string };
}

const reachable = (url: string) =>
  fetch(url).then(
    (r) => r.status,
    () => 'refused' as const,
  );

describe('configuration of the embedded engine', () => {
  const problems = (environment: Record<string, string>, overrides = {}): string => {
    try {
      loadTillConfig({ environment, overrides });
    } catch (error) {
      expect(error).toBeInstanceOf(TillConfigError);
      return (error as Error).message;
    }
    throw new Error('no error');
  };

  it('defaults to loopback on any free port, with no public URL, TLS or proxy', () => {
    expect(loadTillConfig({ environment: {} }).engine).toEqual({ listen: { host: '127.0.0.1', port: 0 } });
  });

  it('reads listen address, public URL, TLS files and trusted proxies from the environment', () => {
    const c = loadTillConfig({
      environment: {
        TILLBACK_TILL_ENGINE_HOST: '0.0.0.0',
        TILLBACK_TILL_ENGINE_PORT: '8080',
        TILLBACK_TILL_PUBLIC_URL: 'https://till-3.shop.example',
        TILLBACK_TILL_TLS_CERT_FILE: '/etc/till/cert.pem',
        TILLBACK_TILL_TLS_KEY_FILE: '/etc/till/key.pem',
        TILLBACK_TILL_TRUST_PROXY: '10.0.0.1, 10.0.1.0/24',
      },
    });
    expect(c.engine).toEqual({
      listen: { host: '0.0.0.0', port: 8080 },
      publicUrl: 'https://till-3.shop.example',
      tls: { certFile: '/etc/till/cert.pem', keyFile: '/etc/till/key.pem' },
      trustProxy: ['10.0.0.1', '10.0.1.0/24'],
    });
    expect(loadTillConfig({ environment: { TILLBACK_TILL_TRUST_PROXY: 'true' } }).engine.trustProxy).toBe(
      true,
    );
  });

  it('refuses each bad setting by name and variable', () => {
    const msg = problems({
      TILLBACK_TILL_ENGINE_PORT: '70000',
      TILLBACK_TILL_PUBLIC_URL: 'ftp://till-3.shop.example',
      TILLBACK_TILL_TLS_KEY_FILE: '/etc/till/key.pem',
    });
    expect(msg).toContain('engine.listen.port (from TILLBACK_TILL_ENGINE_PORT)');
    expect(msg).toContain('engine.publicUrl (from TILLBACK_TILL_PUBLIC_URL)');
    expect(msg).toContain('engine.tls.certFile');
    expect(problems({}, { engine: { listen: { host: '' } } })).toContain('engine.listen.host');
    expect(problems({}, { engine: { trustProxy: [] } })).toContain('engine.trustProxy');
  });

  it('needs the public URL when listening on every address, and refuses these settings with a central engine', () => {
    for (const host of ['0.0.0.0', '::'])
      expect(problems({ TILLBACK_TILL_ENGINE_HOST: host })).toContain(
        `engine.publicUrl: needed when engine.listen.host is ${host}`,
      );
    const central = problems({
      TILLBACK_TILL_ENGINE_URL: 'https://engine.chain.example',
      TILLBACK_TILL_APP_ID: 'app_1',
      TILLBACK_TILL_API_KEY: 'sk_1',
      TILLBACK_TILL_TOKENIZATION_KEY: 'k'.repeat(32),
      TILLBACK_TILL_PROGRAM_ID: '1',
      TILLBACK_TILL_PUBLIC_URL: 'https://till-3.shop.example',
      TILLBACK_TILL_TRUST_PROXY: 'true',
    });
    expect(central).toContain(
      'engine.publicUrl (from TILLBACK_TILL_PUBLIC_URL): only for the embedded engine',
    );
    expect(central).toContain(
      'engine.trustProxy (from TILLBACK_TILL_TRUST_PROXY): only for the embedded engine',
    );
  });

  it('warns of plain HTTP off this machine only', () => {
    expect(claimPageWarning('http://192.168.1.20:8080')).toContain(CARD_ENTRY_HTTPS_ONLY);
    expect(claimPageWarning('http://till-3.shop.example')).toContain('engine.tls');
    for (const quiet of [
      'https://till-3.shop.example',
      'http://127.0.0.1:8080',
      'http://localhost:1',
      'http://[::1]:2',
    ])
      expect(claimPageWarning(quiet), quiet).toBeUndefined();
  });

  it('names a certificate it cannot read as the till setting, exit-code 2 material', async () => {
    const start = startTill(
      {
        dataDir: join(dir, 'bad-cert'),
        logDir,
        engine: { tls: { certFile: join(dir, 'nonexistent.pem'), keyFile: join(dir, 'nonexistent.key') } },
      },
      { simulate: 'never', handleSignals: false },
    );
    await expect(start).rejects.toThrow(TillConfigError);
    await expect(start).rejects.toThrow(/^engine\.tls\.certFile: cannot read .*nonexistent\.pem \(ENOENT\)$/);
  });
});

describe('the embedded engine', () => {
  it(
    'on loopback by default: the till and phones use the same loopback URL; the LAN gets nothing',
    {
      timeout: 60_000,
    },
    async () => {
      const till = await start('loopback', {});
      try {
        expect(till.engineUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
        expect(till.enginePublicUrl).toBe(till.engineUrl);
        const claim = await createClaim(till, 'loopback-1');
        expect(claim.url).toBe(`${till.engineUrl}/c/${claim.claim_id}`);
        if (lanAddress) {
          const port = new URL(till.engineUrl).port;
          expect(await reachable(`http://${lanAddress}:${port}/health`)).toBe('refused');
        }
        const printed = banner(till).join('\n');
        expect(printed).toContain(`Claim pages:      ${till.engineUrl}/c/<claim id>`);
        expect(printed).not.toContain('Warning:');
      } finally {
        await till.close();
      }
    },
  );

  it.skipIf(!lanAddress)(
    'on 0.0.0.0 with a public URL: reachable from the LAN, claim URLs under the public URL, no card entry over plain HTTP',
    { timeout: 60_000 },
    async () => {
      const publicUrl = 'http://192.0.2.10:8080';
      const till = await start('everywhere', { listen: { host: '0.0.0.0' }, publicUrl });
      try {
        expect(till.enginePublicUrl).toBe(publicUrl);
        expect(till.engineUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
        const claim = await createClaim(till, 'lan-1');
        expect(claim.url).toBe(`${publicUrl}/c/${claim.claim_id}`);

        // What a phone on the LAN gets: the claim, without card entry, and the reason.
        const port = new URL(till.engineUrl).port;
        const res = await fetch(`http://${lanAddress}:${port}/v1/public/claims/${claim.claim_id}`);
        expect(res.status).toBe(200);
        const view = (await res.json()) as { card_entry: unknown; methods: string[] };
        expect(view.card_entry).toEqual({ allowed: false, reason: CARD_ENTRY_HTTPS_ONLY });
        expect(view.methods).not.toContain('card');

        const printed = banner(till).join('\n');
        expect(printed).toContain(`Claim pages:      ${publicUrl}/c/<claim id>`);
        expect(printed).toContain(
          `Warning:          claim pages at ${publicUrl} are plain HTTP off this machine`,
        );
      } finally {
        await till.close();
      }
    },
  );

  it(
    'over HTTPS: phones get the certificate, the till reaches its engine on loopback, close stops both',
    {
      timeout: 60_000,
    },
    async () => {
      const tls = selfSigned(mkdtempSync(join(dir, 'tls-')));
      const till = await start('https', { tls });
      const ca = readFileSync(tls.certFile);
      try {
        expect(till.enginePublicUrl).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
        expect(till.engineUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
        expect((await httpsGet(`${till.enginePublicUrl}/health`, ca)).status).toBe(200);
        expect(await reachable(`${till.engineUrl}/health`)).toBe(200);

        const claim = await createClaim(till, 'https-1');
        expect(claim.url).toBe(`${till.enginePublicUrl}/c/${claim.claim_id}`);
        const view = await httpsGet(`${till.enginePublicUrl}/v1/public/claims/${claim.claim_id}`, ca);
        expect(JSON.parse(view.body).card_entry).toEqual({ allowed: true, reason: null });
        expect(banner(till).join('\n')).not.toContain('Warning:');
      } finally {
        await till.close();
      }
      expect(await reachable(`${till.engineUrl}/health`)).toBe('refused');
      await expect(httpsGet(`${till.enginePublicUrl}/health`, ca)).rejects.toThrow();
    },
  );
});
