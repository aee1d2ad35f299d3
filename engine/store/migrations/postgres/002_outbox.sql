-- The transactional outbox: every state change of a claim, withdrawal or cashout writes an event in
-- the same transaction as the change; webhook deliveries are made from these rows, never inline.
CREATE TABLE events (
  id TEXT PRIMARY KEY,
  type TEXT NOT NULL,
  subject_kind TEXT NOT NULL CHECK (subject_kind IN ('claim', 'withdrawal', 'cashout')),
  subject_id TEXT NOT NULL,
  data TEXT NOT NULL,
  created_at BIGINT NOT NULL
);
CREATE INDEX events_subject ON events (subject_kind, subject_id, created_at);

-- The native subscribers of the configuration (engine/config.ts `webhooks.subscribers`), written at
-- engine start so `recordEvent` can add their deliveries inside the caller's transaction. Their
-- signing secrets stay in the configuration, never here.
CREATE TABLE webhook_subscribers (
  url TEXT PRIMARY KEY
);

-- One row per (event, endpoint): the body is rendered once, in the event's transaction, so every
-- attempt and every re-send carries the same bytes and the same event id. `headers` holds a caller's
-- own headers (seed 001's authorization_headers): sent, never listed. A worker leases due rows by
-- setting `claimed_until` (on PostgreSQL: SELECT ... FOR UPDATE SKIP LOCKED, several engines at once);
-- a lease that runs out (crash mid-delivery) makes the row due again.
CREATE TABLE webhook_deliveries (
  id TEXT PRIMARY KEY,
  event_id TEXT NOT NULL REFERENCES events(id),
  url TEXT NOT NULL,
  format TEXT NOT NULL CHECK (format IN ('native', 'seed000', 'seed001')),
  headers TEXT NOT NULL,
  body TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
  attempts BIGINT NOT NULL DEFAULT 0,
  next_attempt_at BIGINT NOT NULL,
  claimed_until BIGINT,
  -- Start of the retry window (creation, or the last re-send); retries stop once it is over.
  retry_from BIGINT NOT NULL,
  last_status_code BIGINT,
  last_error TEXT,
  delivered_at BIGINT,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_event ON webhook_deliveries (event_id);
CREATE INDEX webhook_deliveries_recent ON webhook_deliveries (created_at, id);

-- Every attempt: the HTTP status or the network error, how long it took, and the start of the
-- response (truncated, with signing secrets and the delivery's own header values blanked out).
CREATE TABLE webhook_attempts (
  id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  delivery_id TEXT NOT NULL REFERENCES webhook_deliveries(id),
  attempt BIGINT NOT NULL,
  started_at BIGINT NOT NULL,
  status_code BIGINT,
  error TEXT,
  latency_ms BIGINT NOT NULL,
  response_excerpt TEXT
);
CREATE INDEX webhook_attempts_delivery ON webhook_attempts (delivery_id, attempt);
