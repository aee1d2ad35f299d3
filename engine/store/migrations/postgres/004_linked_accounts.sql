-- Seed 003's linked cashout accounts (/cashout/link, /cashout/unlink): the payout account a member
-- links at PayPal, Payoneer or Tipalti. There is no PayPal, Payoneer or Tipalti account-linking client
-- here: a PayPal or Payoneer link stays `pending` behind a link URL this engine serves, and a Tipalti
-- payee is kept here (its personal fields sealed) under a payee id this engine makes up.
-- (Version 005: 004 is left to the seed 001 withdrawal work running alongside.)
CREATE TABLE linked_payout_accounts (
  id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  app_id TEXT NOT NULL REFERENCES apps(app_id),
  member_id BIGINT NOT NULL REFERENCES members(id),
  provider TEXT NOT NULL CHECK (provider IN ('paypal', 'payoneer', 'tipalti')),
  state TEXT NOT NULL CHECK (state IN ('pending', 'linked')),
  -- PayPal and Payoneer: the random token of the link URL.
  link_token TEXT UNIQUE,
  -- Tipalti: the payee id answered, and the payee's fields (names, email, address, phone, tax
  -- details) as AES-256-GCM ciphertext bound to the row's member and provider.
  payee_id TEXT UNIQUE,
  details_sealed TEXT,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  UNIQUE (member_id, provider),
  CHECK ((provider = 'tipalti') = (payee_id IS NOT NULL AND details_sealed IS NOT NULL)),
  CHECK ((provider = 'tipalti') = (link_token IS NULL))
);
