-- The till's local history: one row per operation the cashier confirmed, whatever became of it.
-- The id is the idempotency key the till generated, sent to the engine with every attempt.
-- member_ref names the member as typed or scanned (id, email or phone), never a card number.
CREATE TABLE operations (
  id TEXT PRIMARY KEY,
  type TEXT NOT NULL CHECK (type IN ('earn', 'refund', 'redeem', 'cashout')),
  amount INTEGER NOT NULL CHECK (amount > 0),
  currency TEXT NOT NULL,
  member_ref TEXT NOT NULL,
  cashier TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('queued', 'delivered', 'failed', 'voided')),
  -- The engine's answer (JSON) once delivered, or its message once it refused the operation.
  result TEXT,
  void_reason TEXT,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE INDEX operations_state ON operations (state, currency);

-- What still has to reach the engine, in the order it was confirmed (seq). A row leaves when the
-- engine accepted it or a manager voided it; a refused one stays (its operation 'failed') until
-- a manager retries or voids it.
CREATE TABLE outbox (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  operation_id TEXT NOT NULL UNIQUE REFERENCES operations (id),
  path TEXT NOT NULL,
  payload TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER NOT NULL,
  last_error TEXT
);
