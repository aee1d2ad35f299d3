// Test material for the noebs client: an RSA key pair in EBS's format and Luhn-valid card numbers.
import { generateKeyPairSync } from 'node:crypto';

export function ebsKeyPair() {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 1024 });
  return {
    privateKey,
    /** As EBS's getPublicKey serves it: bare base64 of the DER SubjectPublicKeyInfo. */
    publicKeyBase64: publicKey.export({ type: 'spki', format: 'der' }).toString('base64'),
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
}

/** Appends the Luhn check digit. */
export function luhn(body: string): string {
  let sum = 0;
  for (let i = 0; i < body.length; i++) {
    let d = Number(body[body.length - 1 - i]);
    if (i % 2 === 0) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return body + String((10 - (sum % 10)) % 10);
}

/** The funding card (a provider's registered card) and two customer cards; never real numbers. */
export const SOURCE = { pan: luhn('639186000000012'), expDate: '3012', ipin: '7391' };
export const CUSTOMER_CARD = luhn('639256000000034');
export const OTHER_CARD = luhn('639184000000056');
