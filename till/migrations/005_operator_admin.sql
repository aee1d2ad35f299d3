-- A manager can take an operator off the till (someone who left) without deleting their name from the
-- history: a disabled operator cannot sign in and their sessions are gone.
ALTER TABLE operators ADD COLUMN disabled_at INTEGER;
