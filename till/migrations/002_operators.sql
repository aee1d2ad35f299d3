-- The people who use the till, for the local API: a cashier runs sales, a manager also manages
-- operators and the queue. The PIN is kept only as an scrypt hash; 5 wrong PINs lock for 15 minutes.
CREATE TABLE operators (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  name TEXT NOT NULL UNIQUE,
  role TEXT NOT NULL CHECK (role IN ('cashier', 'manager')),
  pin_hash TEXT NOT NULL,
  pin_failures INTEGER NOT NULL DEFAULT 0,
  pin_locked_until INTEGER,
  created_at INTEGER NOT NULL
);

-- A signed-in operator's session. Only the SHA-256 of the opaque token is kept, so a copy of this
-- file cannot act as anyone; a row past expires_at is refused and removed at the next sign-in.
CREATE TABLE operator_sessions (
  token_hash TEXT PRIMARY KEY,
  operator_id INTEGER NOT NULL REFERENCES operators (id),
  expires_at INTEGER NOT NULL
);

-- Customer displays paired by a short code (a manager shows it, the display sends it back once). A
-- display's token, kept here only as its SHA-256, opens the event stream and nothing else; it lasts
-- across restarts so a display need not be paired again after each launch.
CREATE TABLE paired_displays (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  name TEXT NOT NULL,
  token_hash TEXT NOT NULL UNIQUE,
  created_at INTEGER NOT NULL
);
