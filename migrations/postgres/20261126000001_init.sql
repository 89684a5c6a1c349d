-- Itinera order store (PostgreSQL): the schema the SQLite migrations arrive at, for a store
-- several instances share. The same queries run on both databases, so the types are kept alike:
-- amounts are decimal strings with their currency, JSON is text, and times are RFC 3339 text
-- compared byte by byte (COLLATE "C"), which orders them as time does. `rowid` columns stand for
-- SQLite's implicit one where queries order by insertion.

CREATE TABLE offers (
    owner      TEXT NOT NULL,
    id         TEXT NOT NULL,
    body       TEXT NOT NULL,
    stored_at  TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (owner, id)
);

CREATE TABLE plans (
    id          TEXT PRIMARY KEY,
    owner       TEXT NOT NULL,
    body        TEXT NOT NULL,
    created_at  TEXT COLLATE "C" NOT NULL,
    updated_at  TEXT COLLATE "C" NOT NULL,
    rowid       BIGINT GENERATED ALWAYS AS IDENTITY
);
CREATE INDEX plans_by_owner ON plans (owner, created_at);

-- The risks a person was shown when asked to approve (comma-separated codes).
CREATE TABLE approvals (
    id          TEXT PRIMARY KEY,
    plan_id     TEXT NOT NULL REFERENCES plans (id),
    owner       TEXT NOT NULL,
    digest      TEXT NOT NULL,
    cap_amount  TEXT NOT NULL,
    currency    TEXT NOT NULL,
    expires_at  TEXT COLLATE "C" NOT NULL,
    status      TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'declined')),
    method      TEXT,
    decided_at  TEXT COLLATE "C",
    created_at  TEXT COLLATE "C" NOT NULL,
    risks       TEXT NOT NULL DEFAULT '',
    rowid       BIGINT GENERATED ALWAYS AS IDENTITY
);
CREATE INDEX approvals_by_plan ON approvals (owner, plan_id, created_at);

-- See the SQLite migrations for what each payment column records.
CREATE TABLE orders (
    id                   TEXT PRIMARY KEY,
    owner                TEXT NOT NULL,
    plan_id              TEXT NOT NULL REFERENCES plans (id),
    -- One approval pays for at most one order: a second execute finds the first order.
    approval_id          TEXT NOT NULL UNIQUE REFERENCES approvals (id),
    status               TEXT NOT NULL,
    currency             TEXT NOT NULL,
    authorized           TEXT NOT NULL,
    captured             TEXT NOT NULL,
    refunded             TEXT NOT NULL,
    payment_provider     TEXT,
    payment_reference    TEXT,
    payment_action_url   TEXT,
    failure              TEXT,
    created_at           TEXT COLLATE "C" NOT NULL,
    updated_at           TEXT COLLATE "C" NOT NULL,
    payment_via          TEXT NOT NULL DEFAULT 'sandbox_payments',
    payment_return_url   TEXT,
    payment_due_by       TEXT COLLATE "C",
    payment_method       TEXT,
    payment_failed_over  TEXT NOT NULL DEFAULT '',
    goodwill_refunded    TEXT NOT NULL DEFAULT '0',
    payment_parts        TEXT NOT NULL DEFAULT '[]',
    goodwill_pending     TEXT,
    rowid                BIGINT GENERATED ALWAYS AS IDENTITY
);
CREATE INDEX orders_by_owner ON orders (owner, created_at);
CREATE INDEX orders_by_status ON orders (status);
CREATE INDEX orders_by_payment ON orders (payment_provider, payment_reference);

CREATE TABLE order_items (
    order_id      TEXT NOT NULL REFERENCES orders (id),
    position      BIGINT NOT NULL,
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
    seq       BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    order_id  TEXT NOT NULL REFERENCES orders (id),
    at        TEXT COLLATE "C" NOT NULL,
    status    TEXT NOT NULL,
    message   TEXT NOT NULL
);
CREATE INDEX order_events_by_order ON order_events (order_id, seq);

-- The saga log: each outbound call of an order, as an intent before it and an outcome after it.
CREATE TABLE saga_steps (
    key          TEXT PRIMARY KEY,
    order_id     TEXT NOT NULL REFERENCES orders (id),
    item_id      TEXT,
    operation    TEXT NOT NULL,
    state        TEXT NOT NULL CHECK (state IN ('intent', 'succeeded', 'failed', 'pending_reconciliation')),
    detail       TEXT,
    attempts     BIGINT NOT NULL DEFAULT 1,
    started_at   TEXT COLLATE "C" NOT NULL,
    finished_at  TEXT COLLATE "C",
    rowid        BIGINT GENERATED ALWAYS AS IDENTITY
);
CREATE INDEX saga_steps_by_order ON saga_steps (order_id, started_at);

-- The audit log: append-only, each entry hash-chained to the one before it.
CREATE TABLE audit_log (
    seq        BIGINT PRIMARY KEY,
    owner      TEXT NOT NULL,
    at         TEXT COLLATE "C" NOT NULL,
    action     TEXT NOT NULL,
    subject    TEXT NOT NULL,
    detail     TEXT NOT NULL,
    prev_hash  TEXT NOT NULL,
    hash       TEXT NOT NULL
);
CREATE INDEX audit_log_by_owner ON audit_log (owner, seq);

CREATE TABLE webhook_events (
    provider     TEXT NOT NULL,
    event_id     TEXT NOT NULL,
    received_at  TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (provider, event_id)
);

CREATE TABLE payment_method_setups (
    id          TEXT PRIMARY KEY,
    owner       TEXT NOT NULL,
    provider    TEXT NOT NULL,
    session_id  TEXT NOT NULL,
    url         TEXT NOT NULL,
    customer    TEXT,
    status      TEXT NOT NULL CHECK (status IN ('pending', 'saved', 'abandoned')),
    reason      TEXT,
    created_at  TEXT COLLATE "C" NOT NULL,
    expires_at  TEXT COLLATE "C" NOT NULL,
    rowid       BIGINT GENERATED ALWAYS AS IDENTITY,
    UNIQUE (provider, session_id)
);
CREATE INDEX payment_method_setups_by_owner ON payment_method_setups (owner, created_at);

CREATE TABLE saved_payment_methods (
    token     TEXT PRIMARY KEY,
    owner     TEXT NOT NULL,
    provider  TEXT NOT NULL,
    label     TEXT NOT NULL,
    customer  TEXT,
    setup_id  TEXT NOT NULL UNIQUE REFERENCES payment_method_setups (id),
    added_at  TEXT COLLATE "C" NOT NULL,
    rowid     BIGINT GENERATED ALWAYS AS IDENTITY
);
CREATE INDEX saved_payment_methods_by_owner ON saved_payment_methods (owner, added_at);

CREATE TABLE store_mode (
    id    BIGINT PRIMARY KEY CHECK (id = 1),
    mode  TEXT NOT NULL CHECK (mode IN ('sandbox', 'live'))
);

-- Tokens sealed in one AES-256-GCM envelope bound to the person and the platform.
CREATE TABLE platform_accounts (
    owner         TEXT NOT NULL,
    platform      TEXT NOT NULL,
    tokens        TEXT NOT NULL,
    scopes        TEXT NOT NULL,
    expires_at    TEXT COLLATE "C",
    connected_at  TEXT COLLATE "C" NOT NULL,
    refreshed_at  TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (owner, platform)
);
