-- What a refund or a manager needs of an operation after its outbox row is gone: the program, the
-- member as the engine knows them (the native API's member reference; a card only as its keyed hash
-- and masked number, never the PAN) and the cashier's reference, which a refund names the purchase by.
ALTER TABLE operations ADD COLUMN program_id INTEGER;
ALTER TABLE operations ADD COLUMN member TEXT;
ALTER TABLE operations ADD COLUMN reference TEXT;
CREATE INDEX operations_reference ON operations (reference) WHERE reference IS NOT NULL;
CREATE INDEX operations_created ON operations (created_at);
