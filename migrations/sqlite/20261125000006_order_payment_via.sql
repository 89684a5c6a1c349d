-- The payment provider an order was created to pay through, recorded before any call, so that
-- finishing, cancelling or recovering it goes to the same provider even if the configured one
-- changed since. Orders without a payment yet default to the sandbox.
ALTER TABLE orders ADD COLUMN payment_via TEXT NOT NULL DEFAULT 'sandbox_payments';
-- An order that already has a payment says where it is.
UPDATE orders SET payment_via = payment_provider WHERE payment_provider IS NOT NULL;
