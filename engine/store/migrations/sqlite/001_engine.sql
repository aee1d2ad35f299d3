-- Tillback engine schema, version 1. Money is INTEGER minor units; time is INTEGER epoch milliseconds.

-- API clients. The secret is stored as SHA-256 (secrets are 256-bit random, so a slow hash adds nothing).
CREATE TABLE apps (
  id INTEGER PRIMARY KEY,
  app_id TEXT NOT NULL UNIQUE,
  name TEXT NOT NULL,
  secret_hash TEXT NOT NULL,
  scopes TEXT NOT NULL,
  rate_limit_per_minute INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  revoked_at INTEGER
);

-- Seed 002 calls programs "cards".
CREATE TABLE programs (
  id INTEGER PRIMARY KEY,
  unique_identifier TEXT NOT NULL UNIQUE,
  name TEXT NOT NULL,
  description TEXT NOT NULL,
  currency TEXT NOT NULL,
  cashback_bps INTEGER NOT NULL CHECK (cashback_bps BETWEEN 0 AND 10000),
  min_purchase INTEGER NOT NULL CHECK (min_purchase >= 0),
  max_cashback INTEGER CHECK (max_cashback IS NULL OR max_cashback > 0),
  allows_pin_redemption INTEGER NOT NULL,
  maturation_days INTEGER NOT NULL CHECK (maturation_days >= 0),
  expiry_days INTEGER CHECK (expiry_days IS NULL OR expiry_days > 0),
  created_at INTEGER NOT NULL
);

CREATE TABLE members (
  id INTEGER PRIMARY KEY,
  email TEXT UNIQUE,
  phone TEXT UNIQUE,
  name TEXT,
  pin_hash TEXT,
  pin_failures INTEGER NOT NULL DEFAULT 0,
  pin_locked_until INTEGER,
  created_at INTEGER NOT NULL
);

-- Cards are known by a keyed hash (HMAC-SHA256) plus first 6 and last 4 digits; never the PAN.
CREATE TABLE member_cards (
  id INTEGER PRIMARY KEY,
  member_id INTEGER NOT NULL REFERENCES members(id),
  card_hash TEXT NOT NULL UNIQUE,
  first6 TEXT NOT NULL,
  last4 TEXT NOT NULL,
  created_at INTEGER NOT NULL
);

CREATE TABLE pin_attempts (
  id INTEGER PRIMARY KEY,
  member_id INTEGER NOT NULL REFERENCES members(id),
  ok INTEGER NOT NULL,
  app_id TEXT,
  created_at INTEGER NOT NULL
);
CREATE INDEX pin_attempts_member ON pin_attempts (member_id, id);

CREATE TABLE otp_challenges (
  id INTEGER PRIMARY KEY,
  member_id INTEGER NOT NULL REFERENCES members(id),
  code_hash TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  expires_at INTEGER NOT NULL,
  used_at INTEGER,
  created_at INTEGER NOT NULL
);

-- Ledger. Balances are cached on the account and recomputed from transfers by `verify`.
-- Normal side 'credit': balance = credits - debits (what we owe: member balances, deposits).
-- Normal side 'debit': balance = debits - credits (what funds them: program expense, the fund).
CREATE TABLE accounts (
  id INTEGER PRIMARY KEY,
  code TEXT NOT NULL UNIQUE,
  kind TEXT NOT NULL,
  currency TEXT NOT NULL,
  normal_side TEXT NOT NULL CHECK (normal_side IN ('debit', 'credit')),
  may_go_negative INTEGER NOT NULL,
  debits_posted INTEGER NOT NULL DEFAULT 0,
  credits_posted INTEGER NOT NULL DEFAULT 0,
  debits_pending INTEGER NOT NULL DEFAULT 0,
  credits_pending INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL
);

-- A business transaction (earn, redeem, refund, ...): what the APIs call a transaction id.
CREATE TABLE transactions (
  id INTEGER PRIMARY KEY,
  type TEXT NOT NULL,
  program_id INTEGER REFERENCES programs(id),
  member_id INTEGER REFERENCES members(id),
  currency TEXT NOT NULL,
  amount INTEGER NOT NULL,
  purchase_amount INTEGER,
  related_id INTEGER REFERENCES transactions(id),
  reference TEXT,
  reason TEXT,
  metadata TEXT NOT NULL DEFAULT '{}',
  app_id TEXT,
  created_at INTEGER NOT NULL
);
CREATE INDEX transactions_member ON transactions (member_id, program_id, id);
CREATE INDEX transactions_reference ON transactions (program_id, reference);

-- Transfers are immutable. A pending transfer is resolved by exactly one post or void transfer.
CREATE TABLE transfers (
  id INTEGER PRIMARY KEY,
  transaction_id INTEGER NOT NULL REFERENCES transactions(id),
  debit_account_id INTEGER NOT NULL REFERENCES accounts(id),
  credit_account_id INTEGER NOT NULL REFERENCES accounts(id),
  amount INTEGER NOT NULL CHECK (amount > 0),
  currency TEXT NOT NULL,
  phase TEXT NOT NULL CHECK (phase IN ('posted', 'pending', 'post_pending', 'void_pending')),
  pending_id INTEGER UNIQUE REFERENCES transfers(id),
  created_at INTEGER NOT NULL,
  CHECK (debit_account_id <> credit_account_id),
  CHECK ((phase IN ('post_pending', 'void_pending')) = (pending_id IS NOT NULL))
);
CREATE INDEX transfers_debit ON transfers (debit_account_id);
CREATE INDEX transfers_credit ON transfers (credit_account_id);
CREATE INDEX transfers_transaction ON transfers (transaction_id);
CREATE TRIGGER transfers_immutable_update BEFORE UPDATE ON transfers
BEGIN SELECT RAISE(ABORT, 'transfers are immutable'); END;
CREATE TRIGGER transfers_immutable_delete BEFORE DELETE ON transfers
BEGIN SELECT RAISE(ABORT, 'transfers are immutable'); END;

-- Earned cashback in lots, for maturation and oldest-first expiry. `remaining` is what is left of
-- the lot in the account its state names (maturing or available).
CREATE TABLE earn_lots (
  id INTEGER PRIMARY KEY,
  transaction_id INTEGER NOT NULL REFERENCES transactions(id),
  member_id INTEGER NOT NULL REFERENCES members(id),
  program_id INTEGER NOT NULL REFERENCES programs(id),
  amount INTEGER NOT NULL,
  remaining INTEGER NOT NULL CHECK (remaining >= 0),
  state TEXT NOT NULL CHECK (state IN ('maturing', 'available', 'closed')),
  matures_at INTEGER NOT NULL,
  expires_at INTEGER,
  created_at INTEGER NOT NULL
);
CREATE INDEX earn_lots_member ON earn_lots (member_id, program_id, state, id);
CREATE INDEX earn_lots_maturing ON earn_lots (state, matures_at);
CREATE INDEX earn_lots_expiring ON earn_lots (state, expires_at);

-- Idempotency: one stored result per (app, namespace, key) with the hash of the request it answered.
CREATE TABLE idempotency_keys (
  app_id TEXT NOT NULL,
  scope TEXT NOT NULL,
  key TEXT NOT NULL,
  request_hash TEXT NOT NULL,
  result TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (app_id, scope, key)
);
CREATE INDEX idempotency_keys_age ON idempotency_keys (created_at);

-- Seed 004 partners: an app with the `partner` scope plus its cashback terms and deposit account.
CREATE TABLE partners (
  id INTEGER PRIMARY KEY,
  app_id TEXT NOT NULL UNIQUE REFERENCES apps(app_id),
  unit TEXT NOT NULL,
  base_bps INTEGER NOT NULL CHECK (base_bps BETWEEN 0 AND 10000),
  max_partner_bps INTEGER NOT NULL CHECK (max_partner_bps BETWEEN 0 AND 10000),
  created_at INTEGER NOT NULL
);

CREATE TABLE partner_orders (
  id INTEGER PRIMARY KEY,
  partner_id INTEGER NOT NULL REFERENCES partners(id),
  order_id TEXT NOT NULL,
  transaction_id INTEGER NOT NULL REFERENCES transactions(id),
  customer TEXT NOT NULL,
  merchant TEXT,
  address TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  UNIQUE (partner_id, order_id)
);

-- Cashback sent to an email address waits here until claimed or returned after the claim window.
CREATE TABLE textcoins (
  id INTEGER PRIMARY KEY,
  transaction_id INTEGER NOT NULL UNIQUE REFERENCES transactions(id),
  email TEXT NOT NULL,
  claim_hash TEXT NOT NULL UNIQUE,
  state TEXT NOT NULL CHECK (state IN ('waiting', 'claimed', 'returned')),
  claim_deadline INTEGER NOT NULL,
  resolved_at INTEGER,
  created_at INTEGER NOT NULL
);
CREATE INDEX textcoins_deadline ON textcoins (state, claim_deadline);
