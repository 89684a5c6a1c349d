-- With a payment provider that charges after booking (WeChat Pay), when the customer must have
-- paid by: fixed when the charge is first asked, so a charge sent again after a restart carries
-- the same deadline, and the bookings are cancelled once it has passed unpaid.
ALTER TABLE orders ADD COLUMN payment_due_by TEXT;
