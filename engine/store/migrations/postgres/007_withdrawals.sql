-- Seed 001 withdrawals, and the caller's own id for a member that seed 001's user_id names.

-- The id the merchant's systems know a member by (seed 001's user_id, e.g. "8GAVZZKTI3"). Never all
-- digits, so it cannot be mistaken for our member id, which user_id may also name.
ALTER TABLE members ADD COLUMN external_id TEXT;
CREATE UNIQUE INDEX members_external_id ON members (external_id) WHERE external_id IS NOT NULL;

-- A withdrawal is a member-funded claim created already submitted (claims.ts holds the cashback,
-- the payout worker pays it, paid posts the hold, failed voids it); this row keeps what seed 001
-- adds: the caller's ids and names, the method as the document names it, and where the callback
-- goes. Its status is the claim's (processing until paid -> settled or failed).
CREATE TABLE withdrawals (
  id TEXT PRIMARY KEY,
  app_id TEXT NOT NULL,
  client_transaction_id TEXT NOT NULL,
  claim_id TEXT NOT NULL UNIQUE REFERENCES claims(id),
  customer_id TEXT NOT NULL,
  merchant_name TEXT NOT NULL,
  site_name TEXT NOT NULL,
  payment_description TEXT,
  method_name TEXT NOT NULL CHECK (method_name IN ('au_bank_npp_aud', 'au_payid_npp_aud')),
  -- The payout_method_params as accepted (JSON): echoed in the response and the callback, as documented.
  method_params TEXT NOT NULL,
  endpoint_url TEXT NOT NULL,
  authorization_header TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  UNIQUE (app_id, client_transaction_id)
);
