-- Itinera order store (SQLite). Amounts are decimal strings with their currency; times are RFC 3339.

CREATE TABLE offers (
    owner      TEXT NOT NULL,
    id         TEXT NOT NULL,
    body       TEXT NOT NULL,
    stored_at  TEXT NOT NULL,
    PRIMARY KEY (owner, id)
);

CREATE TABLE plans (
    id          TEXT PRIMARY KEY,
    owner       TEXT NOT NULL,
    body        TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);
CREATE INDEX plans_by_owner ON plans (owner, created_at);

CREATE TABLE approvals (
    id          TEXT PRIMARY KEY,
    plan_id     TEXT NOT NULL REFERENCES plans (id),
    owner       TEXT NOT NULL,
    digest      TEXT NOT NULL,
    cap_amount  TEXT NOT NULL,
    currency    TEXT NOT NULL,
    expires_at  TEXT NOT NULL,
    status      TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'declined')),
    method      TEXT,
    decided_at  TEXT,
    created_at  TEXT NOT NULL
);
CREATE INDEX approvals_by_plan ON approvals (owner, plan_id, created_at);

CREATE TABLE orders (
    id                  TEXT PRIMARY KEY,
    owner               TEXT NOT NULL,
    plan_id             TEXT NOT NULL REFERENCES plans (id),
    -- One approval pays for at most one order: a second execute finds the first order.
    approval_id         TEXT NOT NULL UNIQUE REFERENCES approvals (id),
    status              TEXT NOT NULL,
    currency            TEXT NOT NULL,
    authorized          TEXT NOT NULL,
    captured            TEXT NOT NULL,
    refunded            TEXT NOT NULL,
    payment_provider    TEXT,
    payment_reference   TEXT,
    payment_action_url  TEXT,
    failure             TEXT,
    created_at          TEXT NOT NULL,
    updated_at          TEXT NOT NULL
);
CREATE INDEX orders_by_owner ON orders (owner, created_at);

CREATE TABLE order_items (
    order_id      TEXT NOT NULL REFERENCES orders (id),
    position      INTEGER NOT NULL,
    item_id       TEXT NOT NULL,
    kind          TEXT NOT NULL,
    title         TEXT NOT NULL,
    provider      TEXT NOT NULL,
    offer_id      TEXT NOT NULL,
    priority      TEXT NOT NULL,
    price         TEXT NOT NULL,
    cancellation  TEXT NOT NULL,
    status        TEXT NOT NULL,
    reference     TEXT,
    confirmation  TEXT,
    failure       TEXT,
    refunded      TEXT,
    PRIMARY KEY (order_id, item_id)
);

CREATE TABLE order_events (
    seq       INTEGER PRIMARY KEY AUTOINCREMENT,
    order_id  TEXT NOT NULL REFERENCES orders (id),
    at        TEXT NOT NULL,
    status    TEXT NOT NULL,
    message   TEXT NOT NULL
);
CREATE INDEX order_events_by_order ON order_events (order_id, seq);
