-- The queue's totals count only what goes through the queue: earns and refunds. A redeem or cashout is
-- never queued (it needs the engine at once) but its history row can be `failed` (a wrong PIN, a
-- refused claim), and counting those made the cashier's status bar and the manager's queue say
-- "failed" for operations no one can retry or void.
DELETE FROM queue_totals;
INSERT INTO queue_totals (state, currency, count, amount)
SELECT state, currency, COUNT(*), SUM(amount) FROM operations
 WHERE type IN ('earn', 'refund') GROUP BY state, currency;

DROP TRIGGER queue_totals_insert;
DROP TRIGGER queue_totals_update;
DROP TRIGGER queue_totals_delete;

CREATE TRIGGER queue_totals_insert AFTER INSERT ON operations WHEN NEW.type IN ('earn', 'refund') BEGIN
  INSERT INTO queue_totals (state, currency, count, amount) VALUES (NEW.state, NEW.currency, 1, NEW.amount)
    ON CONFLICT (state, currency) DO UPDATE SET count = count + 1, amount = amount + excluded.amount;
END;

CREATE TRIGGER queue_totals_update AFTER UPDATE OF state, currency, amount ON operations
  WHEN OLD.type IN ('earn', 'refund') BEGIN
  UPDATE queue_totals SET count = count - 1, amount = amount - OLD.amount
   WHERE state = OLD.state AND currency = OLD.currency;
  INSERT INTO queue_totals (state, currency, count, amount) VALUES (NEW.state, NEW.currency, 1, NEW.amount)
    ON CONFLICT (state, currency) DO UPDATE SET count = count + 1, amount = amount + excluded.amount;
END;

CREATE TRIGGER queue_totals_delete AFTER DELETE ON operations WHEN OLD.type IN ('earn', 'refund') BEGIN
  UPDATE queue_totals SET count = count - 1, amount = amount - OLD.amount
   WHERE state = OLD.state AND currency = OLD.currency;
END;
