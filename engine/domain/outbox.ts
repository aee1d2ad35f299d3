// The transactional outbox. A domain function that changes the state of a claim, withdrawal or
// cashout calls `recordEvent` with its own `tx`, so the event exists if and only if the change
// committed. Webhook delivery reads these rows later; nothing is sent from inside a transaction.
import { randomUUID } from 'node:crypto';
import type { Tx } from '../store/store.ts';

export type EventSubjectKind = 'claim' | 'withdrawal' | 'cashout';

/** Where and in which body shape an event is delivered, besides the configured native subscribers. */
export interface EventTarget {
  url: string;
  /** Sent with every attempt, e.g. seed 001's `authorization_headers`. */
  headers?: Record<string, string>;
  /** Seed 000's body for noebs-style providers, seed 001's for withdrawals, ours otherwise. */
  format: 'native' | 'seed000' | 'seed001';
}

export interface NewEvent {
  /** Dotted name, e.g. "claim.paid". */
  type: string;
  subject: { kind: EventSubjectKind; id: string };
  /** The subject's state after the change; no card data, ever. */
  data: Record<string, unknown>;
  targets?: readonly EventTarget[];
}

/** Writes the event (and its deliveries) in the caller's transaction; returns the event id. */
export async function recordEvent(tx: Tx, event: NewEvent, now: number): Promise<string> {
  const id = `evt_${randomUUID()}`;
  await tx.run(
    'INSERT INTO events (id, type, subject_kind, subject_id, data, created_at) VALUES (?, ?, ?, ?, ?, ?)',
    [id, event.type, event.subject.kind, event.subject.id, JSON.stringify(event.data), now],
  );
  return id;
}
