-- The transactional outbox: one notice per order event, written in the transaction that changes
-- the order, so no change is committed without its notice nor a notice sent for a change that
-- was rolled back. `seq` is the order they were committed in (one writer at a time).
CREATE TABLE outbox (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    id          TEXT NOT NULL UNIQUE,          -- evt_<uuid>: the receivers' dedupe key
    owner       TEXT NOT NULL,
    order_id    TEXT NOT NULL REFERENCES orders (id),
    body        TEXT NOT NULL,                 -- the notice, JSON
    created_at  TEXT NOT NULL,
    fanned_out  INTEGER NOT NULL DEFAULT 0     -- 1 once its deliveries are written
);
CREATE INDEX outbox_to_fan_out ON outbox (seq) WHERE fanned_out = 0;

-- Each notice's delivery to each channel (a webhook endpoint, e-mail), retried with backoff
-- until delivered or, after the last attempt, dead (the operator's dead-letter list).
CREATE TABLE deliveries (
    notice_id   TEXT NOT NULL REFERENCES outbox (id),
    channel     TEXT NOT NULL,                 -- webhook:<url> or email
    state       TEXT NOT NULL CHECK (state IN ('pending', 'delivered', 'dead', 'skipped')),
    attempts    INTEGER NOT NULL DEFAULT 0,
    next_at     TEXT NOT NULL,
    last_error  TEXT,
    updated_at  TEXT NOT NULL,
    PRIMARY KEY (notice_id, channel)
);
CREATE INDEX deliveries_due ON deliveries (next_at) WHERE state = 'pending';
CREATE INDEX deliveries_dead ON deliveries (updated_at) WHERE state = 'dead';

-- The provider each saga call went to (per split part, per provider tried before a failover),
-- for the metrics per provider; NULL on calls logged before it was recorded.
ALTER TABLE saga_steps ADD COLUMN provider TEXT;
