-- hallmark store, migration 11 (issue #13 part 2, 整改): every deduction of a signed report is a
-- rectification item, opened once when the site's report is first signed; its progress is a log
-- of signed events (hallmark-rectification-event/1, the whole statement kept). Both append-only.
CREATE TABLE rectifications (
    id             TEXT PRIMARY KEY,        -- UUID v7
    site           TEXT NOT NULL,
    rubric_id      TEXT NOT NULL,
    report_number  TEXT NOT NULL,           -- the report that found it
    item_id        TEXT NOT NULL,
    item_name      TEXT NOT NULL,
    max_points     TEXT NOT NULL,           -- decimal
    points_lost    TEXT NOT NULL,           -- decimal: the panel's mean deduction
    finding        TEXT NOT NULL,           -- 扣分说明 as the report prints it
    photo_sha256   TEXT,                    -- one of the panel's photos of the item
    opened_at      TEXT NOT NULL,           -- RFC 3339
    UNIQUE (site, rubric_id, item_id)
);
CREATE TABLE rectification_events (
    seq               INTEGER PRIMARY KEY AUTOINCREMENT,
    rectification_id  TEXT NOT NULL REFERENCES rectifications (id),
    kind              TEXT NOT NULL CHECK (kind IN ('assigned', 'progress', 'done', 'reopened', 'verified')),
    statement         TEXT NOT NULL,        -- the signed event, JSON
    at                TEXT NOT NULL
);
CREATE TRIGGER rectifications_append_only_update BEFORE UPDATE ON rectifications
BEGIN SELECT RAISE(ABORT, 'rectification items are append-only'); END;
CREATE TRIGGER rectifications_append_only_delete BEFORE DELETE ON rectifications
BEGIN SELECT RAISE(ABORT, 'rectification items are append-only'); END;
CREATE TRIGGER rectification_events_append_only_update BEFORE UPDATE ON rectification_events
BEGIN SELECT RAISE(ABORT, 'rectification events are append-only'); END;
CREATE TRIGGER rectification_events_append_only_delete BEFORE DELETE ON rectification_events
BEGIN SELECT RAISE(ABORT, 'rectification events are append-only'); END;
