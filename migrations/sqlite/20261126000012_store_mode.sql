-- The mode (sandbox or live) a store belongs to: sandbox plans, orders and payments must never be
-- driven with live credentials, nor live ones with test credentials.
CREATE TABLE store_mode (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    mode TEXT NOT NULL CHECK (mode IN ('sandbox', 'live'))
);

-- A store from before live mode existed holds sandbox data.
INSERT INTO store_mode (id, mode)
SELECT 1, 'sandbox'
WHERE EXISTS (SELECT 1 FROM offers)
   OR EXISTS (SELECT 1 FROM plans)
   OR EXISTS (SELECT 1 FROM orders);
