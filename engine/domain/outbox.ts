// The transactional outbox. A domain function that changes the state of a claim, withdrawal or
// cashout calls `recordEvent` with its own `tx`, so the event and its deliveries exist if and only if
// the change committed. The webhook worker (engine/webhooks/worker.ts) sends them later; nothing is
// sent from inside a transaction.
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { WebhookUrl } from '../webhooks/address-policy.ts';
import { renderBody, type WebhookFormat } from '../webhooks/bodies.ts';
import type { Tx } from '../store/store.ts';

export type EventSubjectKind = 'claim' | 'withdrawal' | 'cashout';

/** Where and in which body shape an event is delivered, besides the configured native subscribers. */
export interface EventTarget {
  url: string;
  /** Sent with every attempt, e.g. seed 001's `authorization_headers` as `Authorization`. */
  headers?: Record<string, string>;
  /**
   * Seed 000's body for noebs-style providers, seed 001's for withdrawals, ours otherwise. The seed
   * formats need their fields in `data` (engine/webhooks/bodies.ts: Seed000Data, Seed001Data).
   */
  format: WebhookFormat;
}

export interface NewEvent {
  /** Dotted name, e.g. "claim.paid". */
  type: string;
  subject: { kind: EventSubjectKind; id: string };
  /** The subject's state after the change; no card data, ever. */
  data: Record<string, unknown>;
  targets?: readonly EventTarget[];
}

/**
 * Writes the event and one delivery per target and per configured native subscriber, in the caller's
 * transaction; returns the event id. Throws (rolling the caller back) when a target's URL is not an
 * http(s) URL or its format needs data the event lacks: callers validate what they accept first.
 */
export async function recordEvent(tx: Tx, event: NewEvent, now: number): Promise<string> {
  const id = `evt_${randomUUID()}`;
  await tx.run(
    'INSERT INTO events (id, type, subject_kind, subject_id, data, created_at) VALUES (?, ?, ?, ?, ?, ?)',
    [id, event.type, event.subject.kind, event.subject.id, JSON.stringify(event.data), now],
  );
  const rendered = { id, type: event.type, subject: event.subject, data: event.data, createdAt: now };
  const subscribers = await tx.all<{ url: string }>('SELECT url FROM webhook_subscribers ORDER BY url');
  const targets = [
    ...(event.targets ?? []),
    ...subscribers.map((s): EventTarget => ({ url: s.url, format: 'native' })),
  ];
  for (const target of targets) {
    if (!WebhookUrl.safeParse(target.url).success) {
      throw new Error(
        `event ${event.type}: target ${JSON.stringify(target.url)} is not an absolute http(s) URL`,
      );
    }
    const headers = target.headers ?? {};
    await tx.run(
      `INSERT INTO webhook_deliveries (id, event_id, url, format, headers, body, status, attempts,
         next_attempt_at, retry_from, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, 'pending', 0, ?, ?, ?, ?)`,
      [
        `dlv_${randomUUID()}`,
        id,
        target.url,
        target.format,
        JSON.stringify(headers),
        renderBody(target.format, rendered, { url: target.url, headers }),
        now,
        now,
        now,
        now,
      ],
    );
  }
  if (targets.length > 0) outboxSignal.emit('recorded');
  return id;
}

/**
 * Fired when deliveries were written, so a worker in this process looks now instead of at its next
 * poll. Only a hint: the worker's own claim (a later transaction) sees the rows once they commit, and
 * a worker in another process finds them by polling.
 */
export const outboxSignal = new EventEmitter().setMaxListeners(0);

/** Replaces the native subscribers with the configured ones (at engine start). */
export async function setSubscribers(tx: Tx, urls: readonly string[]): Promise<void> {
  await tx.run('DELETE FROM webhook_subscribers');
  for (const url of new Set(urls)) await tx.run('INSERT INTO webhook_subscribers (url) VALUES (?)', [url]);
}
