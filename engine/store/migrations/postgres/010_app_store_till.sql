-- A chain's dimensions: the store and the till an app (one per till, its own revocable key) belongs to.
-- Every transaction already names its app, so a report groups transactions by store and till through
-- the app; a till whose key is replaced (a new app, the old one revoked) keeps its store and till.
ALTER TABLE apps ADD COLUMN store TEXT;
ALTER TABLE apps ADD COLUMN till TEXT;
-- Reports read transactions by time.
CREATE INDEX transactions_created ON transactions (created_at);
