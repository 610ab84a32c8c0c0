-- hallmark store, migration 1. A shipped migration is never edited: add 0002_… instead.

CREATE TABLE device (
    id          TEXT PRIMARY KEY,          -- uuid, made on first open
    created_at  TEXT NOT NULL
);

CREATE TABLE inspections (
    id               TEXT PRIMARY KEY,     -- uuid v7
    rubric_id        TEXT NOT NULL,
    rubric_version   TEXT NOT NULL,
    rubric_hash      TEXT NOT NULL,        -- sha256 of rubric_content
    rubric_content   TEXT NOT NULL,        -- the pinned copy: a later rubric edit never changes this inspection
    site_name        TEXT NOT NULL,
    site_address     TEXT NOT NULL DEFAULT '',
    site_level       TEXT NOT NULL,        -- province | city | county | township
    visited_on       TEXT NOT NULL,        -- YYYY-MM-DD
    assessor_name    TEXT NOT NULL,
    assessor_unit    TEXT NOT NULL DEFAULT '',
    assessor_title   TEXT NOT NULL DEFAULT '',
    assessor_phone   TEXT NOT NULL DEFAULT '',
    device_id        TEXT NOT NULL,
    created_at       TEXT NOT NULL,
    finished_at      TEXT                  -- NULL while a draft; set once, never cleared
);

-- The truth: every change to an answer, in order. Never updated, never deleted.
CREATE TABLE events (
    seq            INTEGER PRIMARY KEY AUTOINCREMENT,
    id             TEXT NOT NULL UNIQUE,   -- uuid v7
    inspection_id  TEXT NOT NULL REFERENCES inspections(id),
    key            TEXT NOT NULL,          -- an input id, or 'veto:<id>'
    value          TEXT,                   -- JSON; NULL = answer cleared
    previous       TEXT,                   -- JSON of the value this replaced (NULL if none)
    author         TEXT NOT NULL,
    device_id      TEXT NOT NULL,
    recorded_at    TEXT NOT NULL,          -- RFC 3339, UTC
    amendment      TEXT                    -- reason, for a change after the inspection was finished
);
CREATE INDEX events_by_inspection ON events(inspection_id, seq);

CREATE TRIGGER events_append_only_update BEFORE UPDATE ON events
BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;
CREATE TRIGGER events_append_only_delete BEFORE DELETE ON events
BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;

-- A cache derived from events (rebuilt by Store::rebuild_answers); never the truth.
CREATE TABLE answers (
    inspection_id  TEXT NOT NULL,
    key            TEXT NOT NULL,
    value          TEXT NOT NULL,
    event_id       TEXT NOT NULL,
    PRIMARY KEY (inspection_id, key)
);

-- Photo files are stored once by content hash under photos/; this table describes them.
CREATE TABLE photos (
    sha256       TEXT PRIMARY KEY,
    size         INTEGER NOT NULL,
    width        INTEGER NOT NULL,
    height       INTEGER NOT NULL,
    orientation  INTEGER NOT NULL,         -- EXIF orientation 1..8 (1 when absent)
    taken_at     TEXT                      -- EXIF DateTimeOriginal, as written by the camera
);

-- Evidence: a photo linked to an item of an inspection. Append-only, like events.
CREATE TABLE evidence (
    id             TEXT PRIMARY KEY,       -- uuid v7
    inspection_id  TEXT NOT NULL REFERENCES inspections(id),
    item_id        TEXT NOT NULL,
    sha256         TEXT NOT NULL REFERENCES photos(sha256),
    caption        TEXT NOT NULL DEFAULT '',
    author         TEXT NOT NULL,
    device_id      TEXT NOT NULL,
    attached_at    TEXT NOT NULL
);
CREATE INDEX evidence_by_inspection ON evidence(inspection_id, item_id);
CREATE TRIGGER evidence_append_only_update BEFORE UPDATE ON evidence
BEGIN SELECT RAISE(ABORT, 'evidence is append-only'); END;
CREATE TRIGGER evidence_append_only_delete BEFORE DELETE ON evidence
BEGIN SELECT RAISE(ABORT, 'evidence is append-only'); END;
