-- The saga log: each outbound call of an order, as an intent before it and an outcome after it.

CREATE TABLE saga_steps (
    key          TEXT PRIMARY KEY,              -- the idempotency key the call is sent with
    order_id     TEXT NOT NULL REFERENCES orders (id),
    item_id      TEXT,
    operation    TEXT NOT NULL,
    state        TEXT NOT NULL CHECK (state IN ('intent', 'succeeded', 'failed', 'pending_reconciliation')),
    detail       TEXT,
    attempts     INTEGER NOT NULL DEFAULT 1,
    started_at   TEXT NOT NULL,
    finished_at  TEXT
);
CREATE INDEX saga_steps_by_order ON saga_steps (order_id, started_at);
CREATE INDEX orders_by_status ON orders (status);
