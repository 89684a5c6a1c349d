-- A payment split over several methods (a voucher and a card, two cards): its parts as JSON,
-- [{provider, method, amount}], in the order they are held and captured; '[]' when one method
-- pays, as every earlier order did.
ALTER TABLE orders ADD COLUMN payment_parts TEXT NOT NULL DEFAULT '[]';
