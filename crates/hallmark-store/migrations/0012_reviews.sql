-- hallmark store, migration 12 (issue #13 part 1, review): the lead's review of each assessor's
-- sheet or item — accepted, or returned with a comment — as signed statements
-- (hallmark-review/1, kept whole), append-only. `events_seen` is the inspection's last event
-- (seq) when the review was recorded: a later event on the item (an imported bundle with the
-- assessor's change) answers a return.
CREATE TABLE reviews (
    seq            INTEGER PRIMARY KEY AUTOINCREMENT,
    inspection_id  TEXT NOT NULL REFERENCES inspections (id),
    item_id        TEXT,                    -- NULL: the whole sheet
    action         TEXT NOT NULL CHECK (action IN ('accepted', 'returned')),
    events_seen    INTEGER NOT NULL,
    statement      TEXT NOT NULL,
    at             TEXT NOT NULL
);
CREATE TRIGGER reviews_append_only_update BEFORE UPDATE ON reviews
BEGIN SELECT RAISE(ABORT, 'reviews are append-only'); END;
CREATE TRIGGER reviews_append_only_delete BEFORE DELETE ON reviews
BEGIN SELECT RAISE(ABORT, 'reviews are append-only'); END;
