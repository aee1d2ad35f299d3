-- The queue's counts and amounts per state and currency, kept by triggers, and an index for the age
-- of the oldest waiting operation: the offline limits are checked at every enqueue and the queue state
-- is sent after every delivery, and counting the rows each time cost 60 ms at 100,000 waiting (a
-- drain of a long outage would spend its time counting). Triggers keep the totals right whatever
-- writes the table (the outbox, a manager's retry or void, a test's fixture).
CREATE TABLE queue_totals (
  state TEXT NOT NULL,
  currency TEXT NOT NULL,
  count INTEGER NOT NULL,
  amount INTEGER NOT NULL,
  PRIMARY KEY (state, currency)
) WITHOUT ROWID;

INSERT INTO queue_totals (state, currency, count, amount)
SELECT state, currency, COUNT(*), SUM(amount) FROM operations GROUP BY state, currency;

CREATE TRIGGER queue_totals_insert AFTER INSERT ON operations BEGIN
  INSERT INTO queue_totals (state, currency, count, amount) VALUES (NEW.state, NEW.currency, 1, NEW.amount)
    ON CONFLICT (state, currency) DO UPDATE SET count = count + 1, amount = amount + excluded.amount;
END;

CREATE TRIGGER queue_totals_update AFTER UPDATE OF state, currency, amount ON operations BEGIN
  UPDATE queue_totals SET count = count - 1, amount = amount - OLD.amount
   WHERE state = OLD.state AND currency = OLD.currency;
  INSERT INTO queue_totals (state, currency, count, amount) VALUES (NEW.state, NEW.currency, 1, NEW.amount)
    ON CONFLICT (state, currency) DO UPDATE SET count = count + 1, amount = amount + excluded.amount;
END;

CREATE TRIGGER queue_totals_delete AFTER DELETE ON operations BEGIN
  UPDATE queue_totals SET count = count - 1, amount = amount - OLD.amount
   WHERE state = OLD.state AND currency = OLD.currency;
END;

CREATE INDEX operations_state_created ON operations (state, created_at);
