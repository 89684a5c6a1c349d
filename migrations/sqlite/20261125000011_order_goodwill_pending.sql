-- A refund the owner asked for (refund_payment) that was sent but not answered: recorded before
-- it is sent, so money returned without an answer is never lost from the order; NULL when none.
ALTER TABLE orders ADD COLUMN goodwill_pending TEXT;
