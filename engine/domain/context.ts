// What every domain function needs: the store, the clock and the engine's secrets and settings.
import type { Store } from '../store/store.ts';
import type { PinBdks } from './pin-blocks.ts';

export interface Notifier {
  /** Delivers a one-time code (OTP, textcoin claim code) to a member or recipient. */
  send(message: { to: string; kind: 'otp' | 'textcoin'; code: string }): Promise<void>;
}

export interface DomainSettings {
  /** HMAC-SHA256 key for card hashes; changing it orphans every linked card. */
  cardHashKey: string;
  /** HMAC key for member tokens (JWT HS256). */
  memberTokenKey: string;
  memberTokenTtlSeconds: number;
  otpTtlSeconds: number;
  pinMaxFailures: number;
  pinLockSeconds: number;
  /** Idempotency keys are kept at least this long (as long as a till may stay offline, and more). */
  idempotencyRetentionDays: number;
  textcoinClaimDays: number;
  /** Base derivation keys for encrypted PIN blocks (domain/pin-blocks.ts); configured, never generated. */
  pinBdks: PinBdks;
  /** Key that seals card credentials at rest (domain/sealing.ts). */
  credentialsKey: string;
  /** How long a cashout claim stays open for the customer. */
  claimTtlSeconds: number;
  /** Base URL of this engine as customers' phones reach it; claim URLs start with it. */
  publicUrl: string;
  /** Exact decimal rates: major units of `to` per major unit of `from`, keyed "FROM:TO". */
  rates: Record<string, string>;
}

export interface DomainContext {
  /** The primary: every write, and every read that must see what was just written. */
  store: Store;
  /**
   * For reads that may lag behind the last commits (the chain report): a streaming read replica when
   * `db.replicaUrl` is set, else `store` itself. Never written to (its transactions are READ ONLY);
   * never for a read that must see the caller's own write (a balance after an earn, a claim's state).
   * A replica that cannot be reached fails the read (ReplicaUnavailableError, 503), it never falls back.
   */
  laggingStore: Store;
  now: () => number;
  settings: DomainSettings;
  notifier: Notifier;
}

export const DAY_MS = 86_400_000;
