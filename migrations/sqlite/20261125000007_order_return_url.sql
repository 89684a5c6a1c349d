-- Where the payment provider sends the customer back after 3-D Secure or approval, fixed when
-- the order is created: a hold request sent again after a restart must carry exactly the same
-- parameters, or the provider refuses its idempotency key.
ALTER TABLE orders ADD COLUMN payment_return_url TEXT;
