// Card numbers cross a network only over TLS (DESIGN.md): the engine serves HTTPS from a configured
// certificate and key, or trusts a TLS proxy's forwarded scheme when told to. The claim page's API
// offers card entry to another device only over HTTPS, by either route; plain HTTP from elsewhere
// gets the other payout methods and the reason.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, onTestFinished } from 'vitest';
import { ConfigError, loadEngineConfig } from '../../engine/config.ts';
import { httpsGet, selfSigned } from '../fixtures/tls.ts';
import { startHarness, type Harness } from './harness.ts';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

describe('TLS', () => {
  it('serves HTTPS from the configured certificate, and claim URLs say https', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tillback-tls-'));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    const tls = selfSigned(dir);
    h = await startHarness({ tls, port: 0 });
    const url = await h.engine.listen();
    expect(url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const health = await httpsGet(`${url}/health`, readFileSync(tls.certFile));
    expect(health.status).toBe(200);
    expect(JSON.parse(health.body)).toMatchObject({ status: 'ok' });

    const till = (await h.app(['cashback_write'])).headers;
    const claim = await h.request({
      method: 'POST',
      url: '/v1/claims',
      headers: { ...till, 'idempotency-key': 'tls-1' },
      body: { amount: 500, currency: 'AUD', store_name: 'Corner Store' },
    });
    expect(claim.status).toBe(201);
    expect(claim.body.url).toBe(`${url}/c/${claim.body.claim_id}`);
  });

  it('refuses to start on a certificate file it cannot read, naming the setting', async () => {
    await expect(
      startHarness({ tls: { certFile: '/nonexistent/cert.pem', keyFile: '/nonexistent/key.pem' } }),
    ).rejects.toThrow(ConfigError);
    await expect(
      startHarness({ tls: { certFile: '/nonexistent/cert.pem', keyFile: '/nonexistent/key.pem' } }),
    ).rejects.toThrow(/tls\.certFile: cannot read \/nonexistent\/cert\.pem \(ENOENT\)/);
  });
});

describe('behind a TLS proxy', () => {
  async function claimView(forwarded: Record<string, string>) {
    const till = (await h!.app(['cashback_write'])).headers;
    const created = await h!.request({
      method: 'POST',
      url: '/v1/claims',
      headers: { ...till, 'idempotency-key': `proxy-${Math.random()}` },
      body: { amount: 500, currency: 'AUD', store_name: 'Corner Store' },
    });
    return (
      await h!.request({
        method: 'GET',
        url: `/v1/public/claims/${created.body.claim_id}`,
        headers: forwarded,
      })
    ).body;
  }

  it('offers card entry to a phone elsewhere only when the trusted proxy says the scheme is https', async () => {
    h = await startHarness({ trustProxy: ['127.0.0.1'] });
    const overTls = await claimView({ 'x-forwarded-for': '203.0.113.5', 'x-forwarded-proto': 'https' });
    expect(overTls.card_entry).toEqual({ allowed: true, reason: null });
    expect(overTls.methods).toContain('card');

    const plain = await claimView({ 'x-forwarded-for': '203.0.113.5', 'x-forwarded-proto': 'http' });
    expect(plain.card_entry.allowed).toBe(false);
    expect(plain.card_entry.reason).toMatch(/HTTPS/i);
    expect(plain.methods).not.toContain('card');
    expect(plain.methods).toContain('payid');
  });

  it('ignores forwarded headers from a client that is not the trusted proxy', async () => {
    h = await startHarness({ trustProxy: ['10.0.0.1'] });
    // From 127.0.0.1, which is not the proxy: the claimed https and address are not believed; the
    // request is what it is, a local one.
    const view = await claimView({ 'x-forwarded-for': '203.0.113.5', 'x-forwarded-proto': 'https' });
    expect(view.card_entry).toEqual({ allowed: true, reason: null });
    const spoofed = await claimView({ 'x-forwarded-for': '203.0.113.5' });
    expect(spoofed.card_entry).toEqual({ allowed: true, reason: null });
  });
});

describe('configuration', () => {
  it('reads the certificate, key and trusted proxies from the environment', () => {
    const fromEnv = loadEngineConfig({
      environment: {
        TILLBACK_TLS_CERT_FILE: '/etc/tillback/cert.pem',
        TILLBACK_TLS_KEY_FILE: '/etc/tillback/key.pem',
        TILLBACK_TRUST_PROXY: '10.0.0.1, 10.0.0.0/24',
      },
    });
    expect(fromEnv.tls).toEqual({ certFile: '/etc/tillback/cert.pem', keyFile: '/etc/tillback/key.pem' });
    expect(fromEnv.trustProxy).toEqual(['10.0.0.1', '10.0.0.0/24']);
    expect(loadEngineConfig({ environment: { TILLBACK_TRUST_PROXY: 'true' } }).trustProxy).toBe(true);
    expect(loadEngineConfig({ environment: {} }).trustProxy).toBe(false);
    expect(() =>
      loadEngineConfig({ environment: {}, overrides: { tls: { certFile: 'c.pem' } as never } }),
    ).toThrow(/keyFile/);
  });
});
