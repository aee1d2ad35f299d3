-- Foreign keys into rows every earn names. PostgreSQL checks a foreign key by locking the row it
-- points to (FOR KEY SHARE) until commit; when many transactions hold that lock on one row at once
-- (a program's row, its funding account's row) they share it through a multixact that each new
-- holder copies and extends. Measured with pg_stat_statements at 64 clients, those checks made the
-- inserts of a transfer and a transaction a third of their cost (bench/README.md, row 12). The rows
-- they point to are never deleted (programs refuse it since 005, accounts from here on) and every id
-- written comes from those tables, so the three keys are dropped here; `verify` names any transfer
-- whose account is missing. SQLite keeps them: it checks a key without taking a lock.
ALTER TABLE transfers DROP CONSTRAINT transfers_debit_account_id_fkey;
ALTER TABLE transfers DROP CONSTRAINT transfers_credit_account_id_fkey;
ALTER TABLE transactions DROP CONSTRAINT transactions_program_id_fkey;
CREATE FUNCTION refuse_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '% are never deleted', TG_TABLE_NAME USING ERRCODE = 'restrict_violation';
END $$;
CREATE TRIGGER accounts_never_deleted BEFORE DELETE ON accounts
FOR EACH ROW EXECUTE FUNCTION refuse_delete();
