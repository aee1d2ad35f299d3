-- Transfers are not looked up by account: balances are cached on the account, and only `verify`
-- reads transfers by account, in one full pass. The two indexes by debit and by credit account cost
-- every earn a random page write in a large ledger (one per member account), which at 1M transfers
-- was most of the write-ahead log an earn wrote; without them an earn writes the same pages at 10k
-- and at 1M transfers, except for the member's history index (transactions_member).
DROP INDEX transfers_debit;
DROP INDEX transfers_credit;
