-- Tillback engine schema, version 1, in PostgreSQL's dialect: the same tables, columns, constraints and
-- meaning as ../sqlite/001_engine.sql. Money is BIGINT minor units; time is BIGINT epoch milliseconds;
-- every SQLite INTEGER is a BIGINT (the same 64-bit range); row ids are identity columns.

-- API clients. The secret is stored as SHA-256 (secrets are 256-bit random, so a slow hash adds nothing).
CREATE TABLE apps (
  id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  app_id TEXT NOT NULL UNIQUE,
  name TEXT NOT NULL,
  secret_hash TEXT NOT NULL,
  scopes TEXT NOT NULL,
  rate_limit_per_minute BIGINT NOT NULL,
  created_at BIGINT NOT NULL,
  revoked_at BIGINT
);

-- Seed 002 calls programs "cards".
CREATE TABLE programs (
  id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  unique_identifier TEXT NOT NULL UNIQUE,
  name TEXT NOT NULL,
  description TEXT NOT NULL,
  currency TEXT NOT NULL,
  cashback_bps BIGINT NOT NULL CHECK (cashback_bps BETWEEN 0 AND 10000),
  min_purchase BIGINT NOT NULL CHECK (min_purchase >= 0),
  max_cashback BIGINT CHECK (max_cashback IS NULL OR max_cashback > 0),
  allows_pin_redemption BIGINT NOT NULL,
  maturation_days BIGINT NOT NULL CHECK (maturation_days >= 0),
  expiry_days BIGINT CHECK (expiry_days IS NULL OR expiry_days > 0),
  created_at BIGINT NOT NULL
);

CREATE TABLE members (
  id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  email TEXT UNIQUE,
  phone TEXT UNIQUE,
  name TEXT,
  pin_hash TEXT,
  pin_failures BIGINT NOT NULL DEFAULT 0,
  pin_locked_until BIGINT,
  created_at BIGINT NOT NULL
);

-- Cards are known by a keyed hash (HMAC-SHA256) plus first 6 and last 4 digits; never the PAN.
CREATE TABLE member_cards (
  id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  member_id BIGINT NOT NULL REFERENCES members(id),
  card_hash TEXT NOT NULL UNIQUE,
  first6 TEXT NOT NULL,
  last4 TEXT NOT NULL,
  created_at BIGINT NOT NULL
);

CREATE TABLE pin_attempts (
  id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  member_id BIGINT NOT NULL REFERENCES members(id),
  ok BIGINT NOT NULL,
  app_id TEXT,
  created_at BIGINT NOT NULL
);
CREATE INDEX pin_attempts_member ON pin_attempts (member_id, id);

CREATE TABLE otp_challenges (
  id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  member_id BIGINT NOT NULL REFERENCES members(id),
  code_hash TEXT NOT NULL,
  attempts BIGINT NOT NULL DEFAULT 0,
  expires_at BIGINT NOT NULL,
  used_at BIGINT,
  created_at BIGINT NOT NULL
);

-- Ledger. Balances are cached on the account and recomputed from transfers by `verify`.
-- Normal side 'credit': balance = credits - debits (what we owe: member balances, deposits).
-- Normal side 'debit': balance = debits - credits (what funds them: program expense, the fund).
CREATE TABLE accounts (
  id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  code TEXT NOT NULL UNIQUE,
  kind TEXT NOT NULL,
  currency TEXT NOT NULL,
  normal_side TEXT NOT NULL CHECK (normal_side IN ('debit', 'credit')),
  may_go_negative BIGINT NOT NULL,
  debits_posted BIGINT NOT NULL DEFAULT 0,
  credits_posted BIGINT NOT NULL DEFAULT 0,
  debits_pending BIGINT NOT NULL DEFAULT 0,
  credits_pending BIGINT NOT NULL DEFAULT 0,
  created_at BIGINT NOT NULL
);

-- A business transaction (earn, redeem, refund, ...): what the APIs call a transaction id.
CREATE TABLE transactions (
  id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  type TEXT NOT NULL,
  program_id BIGINT REFERENCES programs(id),
  member_id BIGINT REFERENCES members(id),
  currency TEXT NOT NULL,
  amount BIGINT NOT NULL,
  purchase_amount BIGINT,
  related_id BIGINT REFERENCES transactions(id),
  reference TEXT,
  reason TEXT,
  metadata TEXT NOT NULL DEFAULT '{}',
  app_id TEXT,
  created_at BIGINT NOT NULL
);
CREATE INDEX transactions_member ON transactions (member_id, program_id, id);
CREATE INDEX transactions_reference ON transactions (program_id, reference);

-- Transfers are immutable. A pending transfer is resolved by exactly one post or void transfer.
CREATE TABLE transfers (
  id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  transaction_id BIGINT NOT NULL REFERENCES transactions(id),
  debit_account_id BIGINT NOT NULL REFERENCES accounts(id),
  credit_account_id BIGINT NOT NULL REFERENCES accounts(id),
  amount BIGINT NOT NULL CHECK (amount > 0),
  currency TEXT NOT NULL,
  phase TEXT NOT NULL CHECK (phase IN ('posted', 'pending', 'post_pending', 'void_pending')),
  pending_id BIGINT UNIQUE REFERENCES transfers(id),
  created_at BIGINT NOT NULL,
  CHECK (debit_account_id <> credit_account_id),
  CHECK ((phase IN ('post_pending', 'void_pending')) = (pending_id IS NOT NULL))
);
CREATE INDEX transfers_debit ON transfers (debit_account_id);
CREATE INDEX transfers_credit ON transfers (credit_account_id);
CREATE INDEX transfers_transaction ON transfers (transaction_id);
-- One function refuses a change to any table whose rows are immutable, naming the table.
CREATE FUNCTION refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '% are immutable', TG_TABLE_NAME USING ERRCODE = 'restrict_violation';
END $$;
CREATE TRIGGER transfers_immutable BEFORE UPDATE OR DELETE ON transfers
FOR EACH ROW EXECUTE FUNCTION refuse_change();

-- Earned cashback in lots, for maturation and oldest-first expiry. `remaining` is what is left of
-- the lot in the account its state names (maturing or available).
CREATE TABLE earn_lots (
  id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  transaction_id BIGINT NOT NULL REFERENCES transactions(id),
  member_id BIGINT NOT NULL REFERENCES members(id),
  program_id BIGINT NOT NULL REFERENCES programs(id),
  amount BIGINT NOT NULL,
  remaining BIGINT NOT NULL CHECK (remaining >= 0),
  state TEXT NOT NULL CHECK (state IN ('maturing', 'available', 'closed')),
  matures_at BIGINT NOT NULL,
  expires_at BIGINT,
  created_at BIGINT NOT NULL
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
  created_at BIGINT NOT NULL,
  PRIMARY KEY (app_id, scope, key)
);
CREATE INDEX idempotency_keys_age ON idempotency_keys (created_at);

-- Seed 004 partners: an app with the `partner` scope plus its cashback terms and deposit account.
CREATE TABLE partners (
  id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  app_id TEXT NOT NULL UNIQUE REFERENCES apps(app_id),
  unit TEXT NOT NULL,
  base_bps BIGINT NOT NULL CHECK (base_bps BETWEEN 0 AND 10000),
  max_partner_bps BIGINT NOT NULL CHECK (max_partner_bps BETWEEN 0 AND 10000),
  created_at BIGINT NOT NULL
);

CREATE TABLE partner_orders (
  id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  partner_id BIGINT NOT NULL REFERENCES partners(id),
  order_id TEXT NOT NULL,
  transaction_id BIGINT NOT NULL REFERENCES transactions(id),
  customer TEXT NOT NULL,
  merchant TEXT,
  address TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  UNIQUE (partner_id, order_id)
);

-- Cashback sent to an email address waits here until claimed or returned after the claim window.
CREATE TABLE textcoins (
  id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  transaction_id BIGINT NOT NULL UNIQUE REFERENCES transactions(id),
  email TEXT NOT NULL,
  claim_hash TEXT NOT NULL UNIQUE,
  state TEXT NOT NULL CHECK (state IN ('waiting', 'claimed', 'returned')),
  claim_deadline BIGINT NOT NULL,
  resolved_at BIGINT,
  created_at BIGINT NOT NULL
);
CREATE INDEX textcoins_deadline ON textcoins (state, claim_deadline);
