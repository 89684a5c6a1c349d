-- What a provider would keep of the travellers of a booking. The sandbox keeps only a fingerprint
-- (SHA-256 of their JSON): tests can check the full details arrived, and its file holds none.

ALTER TABLE bookings ADD COLUMN travellers TEXT NOT NULL DEFAULT '';
