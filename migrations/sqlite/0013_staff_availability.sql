-- Warm transfers: who at the desk takes a transferred call now, and on
-- which phone. A row per staff member who ever set it; `available_since`
-- is NULL while they are not taking transfers (the number is kept for the
-- next time). `last_rung_at` spreads transfers among those available.
CREATE TABLE staff_availability (
    staff_id TEXT PRIMARY KEY REFERENCES staff (id),
    phone TEXT NOT NULL,
    available_since TEXT,
    last_rung_at TEXT,
    updated_at TEXT NOT NULL
);
