-- "Log in with PayPal" for seed 003's /cashout/link: the OAuth2 `state` of a member's pending PayPal
-- sign-in (random, single use: cleared when PayPal's callback presents it) and when it stops being
-- accepted. Once PayPal confirms the sign-in the link is `linked` and `details_sealed` holds the
-- account's confirmed email ({"email"}), sealed to the member and provider like a Tipalti payee.
ALTER TABLE linked_payout_accounts ADD COLUMN oauth_state TEXT;
ALTER TABLE linked_payout_accounts ADD COLUMN oauth_state_expires_at BIGINT;
CREATE UNIQUE INDEX linked_payout_accounts_oauth_state ON linked_payout_accounts (oauth_state);
