// The demo customer of browser mode with simulated terminals: a member the simulator's `visa` card is
// linked to, with the PIN the simulated PIN pad types by default, so a newcomer can earn by swipe and
// then redeem with a PIN at once. Made once, in the embedded engine only, and only when the till may
// run simulated terminals; a till with real terminals gets no such member.
import { cardHash } from '../contract/card-hash.ts';
import { DEFAULT_PIN } from '../drivers/simulate/simulation.ts';
import { TEST_CARDS } from '../drivers/simulate/cards.ts';
import { hashPin } from '../engine/domain/member-auth.ts';
import { createMember, findMember, linkCard } from '../engine/domain/members.ts';
import type { Store } from '../engine/store/store.ts';

export interface DemoCustomer {
  email: string;
  /** The simulator's card name: `swipe visa`. */
  card: 'visa';
  pin: string;
}

export const DEMO_CUSTOMER: DemoCustomer = { email: 'demo@tillback.example', card: 'visa', pin: DEFAULT_PIN };

/** Creates the demo customer unless they exist (a later start, or a member the manager made). */
export async function ensureDemoCustomer(
  store: Store,
  cardHashKey: string,
  now: number,
): Promise<DemoCustomer> {
  const pan = TEST_CARDS.visa.pan;
  const pinHash = await hashPin(DEMO_CUSTOMER.pin); // slow: outside the transaction
  const hash = cardHash(pan, cardHashKey);
  await store.transact(async (tx) => {
    // Made before, or the card is someone's now: leave them be.
    if (await findMember(tx, { email: DEMO_CUSTOMER.email })) return;
    if (await findMember(tx, { cardHash: hash })) return;
    const member = await createMember(tx, { email: DEMO_CUSTOMER.email, name: 'Demo Customer' }, now);
    await linkCard(tx, member.id, { hash, first6: pan.slice(0, 6), last4: pan.slice(-4) }, now);
    await tx.run('UPDATE members SET pin_hash = ? WHERE id = ?', [pinHash, member.id]);
  });
  return DEMO_CUSTOMER;
}
