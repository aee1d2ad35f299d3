-- The transactional outbox: every state change of a claim, withdrawal or cashout writes an event in
-- the same transaction as the change; webhook deliveries are made from these rows, never inline.
CREATE TABLE events (
  id TEXT PRIMARY KEY,
  type TEXT NOT NULL,
  subject_kind TEXT NOT NULL CHECK (subject_kind IN ('claim', 'withdrawal', 'cashout')),
  subject_id TEXT NOT NULL,
  data TEXT NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE INDEX events_subject ON events (subject_kind, subject_id, created_at);
