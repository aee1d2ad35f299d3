// A member following seed 003's "Log in with PayPal" URL to the local PayPal (test/fakes), which signs
// them in and sends the browser back to the engine's callback: the steps a phone's browser takes.
import type { Harness } from './harness.ts';

/** Follows `link` to the fake's authorize page and its redirect back; the engine's callback answer. */
export async function signInWithPayPal(h: Harness, link: string) {
  const signIn = await fetch(link, { redirect: 'manual' });
  const location = signIn.headers.get('location');
  if (signIn.status !== 302 || location === null) {
    throw new Error(`PayPal's sign-in answered ${signIn.status}: ${await signIn.text()}`);
  }
  const back = new URL(location);
  return h.request({ method: 'GET', url: `${back.pathname}${back.search}` });
}

/** Links the member's PayPal account (POST /cashout/link, then the sign-in); throws unless it worked. */
export async function linkPayPal(h: Harness, headers: Record<string, string>): Promise<void> {
  const res = await h.request({
    method: 'POST',
    url: '/cashout/link',
    headers,
    body: { provider: 'paypal' },
  });
  if (res.status !== 200) throw new Error(`/cashout/link answered ${res.status}: ${res.text}`);
  const back = await signInWithPayPal(h, res.body.data.link);
  if (back.status !== 200) throw new Error(`the callback answered ${back.status}: ${back.text}`);
}
