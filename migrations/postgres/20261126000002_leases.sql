-- Leases: which Itinera instance works on an order (or admits a person's next order) right now,
-- until when. An instance renews its leases while it works and deletes them when done; one that
-- died leaves them to expire, and another takes the work over.
CREATE TABLE leases (
    key         TEXT PRIMARY KEY,               -- order:<id> or admit:<owner>
    holder      TEXT NOT NULL,                  -- the instance: inst_<uuid>
    expires_at  TEXT COLLATE "C" NOT NULL
);
