-- Cashout claims (native and seed 000), their payouts, seed 000 cashout providers, and the sandbox
-- payout provider's own memory. Card data is kept only as AES-256-GCM ciphertext (domain/sealing.ts).

-- Seed 000 cashout providers: a named profile an app registers, with its card sealed.
CREATE TABLE cashout_providers (
  id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  app_id TEXT NOT NULL REFERENCES apps(app_id),
  card_sealed TEXT NOT NULL,
  card_first6 TEXT NOT NULL,
  card_last4 TEXT NOT NULL,
  endpoint TEXT NOT NULL,
  currency TEXT NOT NULL,
  consent_at BIGINT NOT NULL,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);

-- One row per claim. `state` follows domain/claim-states.ts; the amount never changes after insert.
CREATE TABLE claims (
  id TEXT PRIMARY KEY,
  app_id TEXT NOT NULL,
  funding TEXT NOT NULL CHECK (funding IN ('store', 'member', 'provider')),
  provider_id BIGINT REFERENCES cashout_providers(id),
  member_id BIGINT REFERENCES members(id),
  program_id BIGINT REFERENCES programs(id),
  reference TEXT,
  store_name TEXT NOT NULL,
  amount BIGINT NOT NULL CHECK (amount > 0),
  currency TEXT NOT NULL,
  methods TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('created', 'opened', 'submitted', 'processing', 'paid', 'failed', 'expired', 'cancelled')),
  -- The member-funded hold: the cashout transaction and its pending transfer.
  transaction_id BIGINT REFERENCES transactions(id),
  hold_transfer_id BIGINT REFERENCES transfers(id),
  -- The payout method the customer chose: its kind and a masked label in clear, the rest sealed
  -- until the payout is final, then erased.
  method_kind TEXT,
  method_label TEXT,
  method_sealed TEXT,
  failure_code TEXT,
  failure_message TEXT,
  expires_at BIGINT NOT NULL,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  CHECK ((funding = 'member') = (member_id IS NOT NULL AND program_id IS NOT NULL)),
  CHECK ((funding = 'provider') = (provider_id IS NOT NULL))
);
CREATE INDEX claims_state ON claims (state, expires_at);
CREATE UNIQUE INDEX claims_provider_reference ON claims (provider_id, reference) WHERE provider_id IS NOT NULL;

-- A claim's payout. UNIQUE (claim_id): one claim, one payout, whatever races the submissions run.
-- The row and its id are committed before the provider is called, so a crash is recovered by asking
-- the provider about (or resubmitting) the same payout id.
CREATE TABLE payouts (
  id TEXT PRIMARY KEY,
  claim_id TEXT NOT NULL UNIQUE REFERENCES claims(id),
  provider TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('processing', 'paid', 'failed')),
  provider_status TEXT,
  provider_reference TEXT,
  submitted_at BIGINT,
  -- Calls in a row the provider did not answer (the retry backoff's exponent); 0 after any answer.
  attempts BIGINT NOT NULL DEFAULT 0,
  next_attempt_at BIGINT NOT NULL,
  last_error TEXT,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);
CREATE INDEX payouts_due ON payouts (state, next_attempt_at);

-- The sandbox payout provider's side: what it was asked to pay, so a resubmission after a crash
-- gets the first outcome. Stands for the books of a real provider; no card data.
CREATE TABLE sandbox_payouts (
  payout_id TEXT PRIMARY KEY,
  amount BIGINT NOT NULL,
  currency TEXT NOT NULL,
  method_kind TEXT NOT NULL,
  status TEXT NOT NULL,
  reference TEXT NOT NULL,
  failure_code TEXT,
  failure_message TEXT,
  submissions BIGINT NOT NULL,
  created_at BIGINT NOT NULL
);
