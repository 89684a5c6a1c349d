-- The payment provider an order was created to pay through, recorded before any call, so that
-- finishing, cancelling or recovering it goes to the same provider even if the configured one
-- changed since. Orders before this column were all paid through the sandbox.
ALTER TABLE orders ADD COLUMN payment_via TEXT NOT NULL DEFAULT 'sandbox_payments';
