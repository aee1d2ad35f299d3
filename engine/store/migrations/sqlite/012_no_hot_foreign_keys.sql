-- Accounts are never deleted: a transfer names its accounts for good, and on PostgreSQL that is no
-- longer checked by a foreign key (see postgres/012: those checks lock the rows every earn names).
-- SQLite keeps its foreign keys, which take no lock; the rule is here so both stores refuse alike.
CREATE TRIGGER accounts_never_deleted BEFORE DELETE ON accounts
BEGIN SELECT RAISE(ABORT, 'accounts are never deleted'); END;
