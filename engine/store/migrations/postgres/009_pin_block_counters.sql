-- The newest DUKPT transaction counter seen from each PIN pad (the KSN without its counter). A PIN pad
-- never uses a counter twice, so a block whose counter is not newer is a copy being replayed: refused
-- before its PIN is checked.
CREATE TABLE pin_block_counters (
  device TEXT PRIMARY KEY,
  counter BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);
