-- Pages opened for a person to save a payment method at a provider (add_payment_method), and the
-- methods saved from them. Card details are never here: only the provider's token, a label such
-- as "Visa •••• 4242", and the provider-side customer the method is attached to.

CREATE TABLE payment_method_setups (
    id          TEXT PRIMARY KEY,
    owner       TEXT NOT NULL,
    provider    TEXT NOT NULL,
    session_id  TEXT NOT NULL,
    url         TEXT NOT NULL,
    customer    TEXT,
    status      TEXT NOT NULL CHECK (status IN ('pending', 'saved', 'abandoned')),
    -- Why nothing was saved, for an abandoned setup.
    reason      TEXT,
    created_at  TEXT NOT NULL,
    expires_at  TEXT NOT NULL,
    UNIQUE (provider, session_id)
);
CREATE INDEX payment_method_setups_by_owner ON payment_method_setups (owner, created_at);

-- One row per token: a token belongs to the person who saved it, and to nobody else.
CREATE TABLE saved_payment_methods (
    token     TEXT PRIMARY KEY,
    owner     TEXT NOT NULL,
    provider  TEXT NOT NULL,
    label     TEXT NOT NULL,
    customer  TEXT,
    setup_id  TEXT NOT NULL UNIQUE REFERENCES payment_method_setups (id),
    added_at  TEXT NOT NULL
);
CREATE INDEX saved_payment_methods_by_owner ON saved_payment_methods (owner, added_at);
