-- Balance shards of shared accounts (engine/domain/ledger.ts: a program's funding, redeemed and
-- expired accounts, the seed-004 fund). On PostgreSQL a transaction adds its change of such an account
-- at commit to one of a few rows here instead of the account's own row, so concurrent earns of one
-- program need not wait for each other's commit. An account's cached balance is its row plus its
-- shards. SQLite (one writer) never writes here.
CREATE TABLE account_shards (
  account_id BIGINT NOT NULL REFERENCES accounts(id),
  shard BIGINT NOT NULL,
  debits_posted BIGINT NOT NULL DEFAULT 0,
  credits_posted BIGINT NOT NULL DEFAULT 0,
  debits_pending BIGINT NOT NULL DEFAULT 0,
  credits_pending BIGINT NOT NULL DEFAULT 0,
  PRIMARY KEY (account_id, shard)
);
