-- The sandbox's card page (add_payment_method): each page opened, and the cards saved from it.
-- A saved card is a fresh token that behaves like one of the magic test tokens; no card number is
-- ever typed or kept.

CREATE TABLE card_setups (
    id          TEXT PRIMARY KEY,
    status      TEXT NOT NULL CHECK (status IN ('open', 'complete', 'cancelled')),
    created_at  TEXT NOT NULL,
    expires_at  TEXT NOT NULL
);

CREATE TABLE saved_cards (
    token       TEXT PRIMARY KEY,
    behaves_as  TEXT NOT NULL,
    label       TEXT NOT NULL,
    setup_id    TEXT NOT NULL UNIQUE REFERENCES card_setups (id),
    created_at  TEXT NOT NULL
);
