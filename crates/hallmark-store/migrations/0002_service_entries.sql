-- hallmark store, migration 2: one entry per observed service (Liaoning 服务实操).
-- An entry's effect on the scored tallies is recorded as ordinary events in the same
-- transaction; the entry keeps what was seen, when, and by whom. Append-only.

CREATE TABLE service_entries (
    id             TEXT PRIMARY KEY,       -- uuid v7
    inspection_id  TEXT NOT NULL REFERENCES inspections(id),
    item_id        TEXT NOT NULL,
    kind           TEXT NOT NULL CHECK (kind IN ('real', 'simulated')),
    observed_at    TEXT NOT NULL,
    note           TEXT NOT NULL DEFAULT '',
    occurrences    TEXT NOT NULL,          -- JSON object: tally input id → count
    author         TEXT NOT NULL,
    device_id      TEXT NOT NULL,
    recorded_at    TEXT NOT NULL
);
CREATE INDEX service_entries_by_inspection ON service_entries(inspection_id, recorded_at);
CREATE TRIGGER service_entries_append_only_update BEFORE UPDATE ON service_entries
BEGIN SELECT RAISE(ABORT, 'service entries are append-only'); END;
CREATE TRIGGER service_entries_append_only_delete BEFORE DELETE ON service_entries
BEGIN SELECT RAISE(ABORT, 'service entries are append-only'); END;
