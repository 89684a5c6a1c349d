-- Provider events already handled, so a delivery repeated (or replayed) changes nothing.
CREATE TABLE webhook_events (
    provider     TEXT NOT NULL,
    event_id     TEXT NOT NULL,
    received_at  TEXT NOT NULL,
    PRIMARY KEY (provider, event_id)
);

CREATE INDEX orders_by_payment ON orders (payment_provider, payment_reference);
