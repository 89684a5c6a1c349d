-- With a payment provider that charges after booking (WeChat Pay), when the customer must have
-- paid by: fixed when the charge is first asked, so a charge sent again after a restart carries
-- the same deadline, and the bookings are cancelled once it has passed unpaid.
ALTER TABLE orders ADD COLUMN payment_due_by TEXT;
-- The payment method the router chose (a plan may say `auto`); NULL on older orders, which pay
-- with their plan's method.
ALTER TABLE orders ADD COLUMN payment_method TEXT;
-- Providers the payment was given up on, comma-separated, because they were down before any
-- money moved; the hold is then sent to the next provider of the route under a key of its own.
ALTER TABLE orders ADD COLUMN payment_failed_over TEXT NOT NULL DEFAULT '';
-- Refunded at the owner's request (refund_payment) rather than for cancelled items: kept apart
-- so a later cancellation still refunds what its policies owe, up to what is left captured.
ALTER TABLE orders ADD COLUMN goodwill_refunded TEXT NOT NULL DEFAULT '0';
