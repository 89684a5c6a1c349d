-- The sandbox provider's own ledger: what a remote provider would hold.

CREATE TABLE offers (
    id    TEXT PRIMARY KEY,
    body  TEXT NOT NULL
);

CREATE TABLE bookings (
    reference     TEXT PRIMARY KEY,
    offer_id      TEXT NOT NULL,
    kind          TEXT NOT NULL,
    confirmation  TEXT NOT NULL,
    status        TEXT NOT NULL CHECK (status IN ('booked', 'cancelled')),
    price         TEXT NOT NULL,
    currency      TEXT NOT NULL,
    refund        TEXT,
    created_at    TEXT NOT NULL,
    cancelled_at  TEXT
);

CREATE TABLE payments (
    id          TEXT PRIMARY KEY,
    method      TEXT NOT NULL,
    status      TEXT NOT NULL CHECK (status IN ('requires_action', 'authorized', 'captured', 'voided', 'failed')),
    amount      TEXT NOT NULL,
    captured    TEXT NOT NULL,
    refunded    TEXT NOT NULL,
    currency    TEXT NOT NULL,
    failure     TEXT,
    created_at  TEXT NOT NULL
);

CREATE TABLE movements (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    payment_id  TEXT NOT NULL REFERENCES payments (id),
    kind        TEXT NOT NULL CHECK (kind IN ('hold', 'capture', 'void', 'refund')),
    amount      TEXT NOT NULL,
    currency    TEXT NOT NULL,
    at          TEXT NOT NULL
);

CREATE TABLE idempotency (
    key           TEXT PRIMARY KEY,
    operation     TEXT NOT NULL,
    request_hash  TEXT NOT NULL,
    response      TEXT NOT NULL,
    created_at    TEXT NOT NULL
);
