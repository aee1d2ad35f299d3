-- The manager's history: listing newest first by (created_at, id), the keyset its pages continue
-- from, and by cashier. The (created_at, id) index replaces 003's (created_at) one, which it covers.
DROP INDEX operations_created;
CREATE INDEX operations_history ON operations (created_at, id);
CREATE INDEX operations_cashier ON operations (cashier, created_at, id);

-- The device manager's events (already redacted by it: masked PANs, never a PIN or a PIN block) and
-- its notices (device_id NULL), newest kept: the oldest beyond the configured cap are pruned in batches.
-- seq orders them (events are written in the order they happened) and is the listing's keyset.
CREATE TABLE device_events (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  device_id TEXT,
  type TEXT NOT NULL,
  summary TEXT NOT NULL,
  at INTEGER NOT NULL
);
CREATE INDEX device_events_device ON device_events (device_id, seq);

-- What happened to each operation in the outbox (queued, delivered, refused, attempt_failed, retried,
-- voided), with the engine's answer, its refusal, the network error or the void reason; capped likewise.
CREATE TABLE queue_events (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  operation_id TEXT NOT NULL,
  kind TEXT NOT NULL,
  message TEXT,
  at INTEGER NOT NULL
);
CREATE INDEX queue_events_operation ON queue_events (operation_id, seq);
