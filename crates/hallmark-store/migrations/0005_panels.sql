-- hallmark store, migration 5 (issue #14): the lead's explicit panels, photo caption events,
-- report details remembered per site. New tables only.

-- A panel: the inspections the lead merges into one report, chosen by the lead (never matched
-- by typed site names). `site` is the name the report prints.
CREATE TABLE panels (
    id          TEXT PRIMARY KEY,          -- uuid v7
    site        TEXT NOT NULL,
    author      TEXT NOT NULL,
    created_at  TEXT NOT NULL              -- RFC 3339, UTC
);
CREATE TRIGGER panels_append_only_update BEFORE UPDATE ON panels
BEGIN SELECT RAISE(ABORT, 'panels are append-only'); END;
CREATE TRIGGER panels_append_only_delete BEFORE DELETE ON panels
BEGIN SELECT RAISE(ABORT, 'panels are append-only'); END;

-- Membership as events: the last event per (panel, inspection) says whether it is in; an
-- exclusion carries its reason, printed in the report. Never updated, never deleted.
CREATE TABLE panel_members (
    seq            INTEGER PRIMARY KEY AUTOINCREMENT,
    panel_id       TEXT NOT NULL REFERENCES panels(id),
    inspection_id  TEXT NOT NULL REFERENCES inspections(id),
    included       INTEGER NOT NULL CHECK (included IN (0, 1)),
    reason         TEXT NOT NULL DEFAULT '',
    author         TEXT NOT NULL,
    recorded_at    TEXT NOT NULL           -- RFC 3339, UTC
);
CREATE INDEX panel_members_by_panel ON panel_members(panel_id, seq);
CREATE TRIGGER panel_members_append_only_update BEFORE UPDATE ON panel_members
BEGIN SELECT RAISE(ABORT, 'panel membership is append-only'); END;
CREATE TRIGGER panel_members_append_only_delete BEFORE DELETE ON panel_members
BEGIN SELECT RAISE(ABORT, 'panel membership is append-only'); END;

-- A photo's caption changed, or the photo withdrawn, after it was attached: the evidence row
-- keeps the original; the last event per evidence id is current. Local only: bundle V1 does
-- not carry these (docs/bundles.md).
CREATE TABLE caption_events (
    seq           INTEGER PRIMARY KEY AUTOINCREMENT,
    id            TEXT NOT NULL UNIQUE,    -- uuid v7
    evidence_id   TEXT NOT NULL REFERENCES evidence(id),
    caption       TEXT,                    -- the new caption; NULL for a withdrawal
    withdrawn     INTEGER NOT NULL CHECK (withdrawn IN (0, 1)),
    reason        TEXT NOT NULL DEFAULT '',
    author        TEXT NOT NULL,
    device_id     TEXT NOT NULL,
    recorded_at   TEXT NOT NULL            -- RFC 3339, UTC
);
CREATE INDEX caption_events_by_evidence ON caption_events(evidence_id, seq);
CREATE TRIGGER caption_events_append_only_update BEFORE UPDATE ON caption_events
BEGIN SELECT RAISE(ABORT, 'caption events are append-only'); END;
CREATE TRIGGER caption_events_append_only_delete BEFORE DELETE ON caption_events
BEGIN SELECT RAISE(ABORT, 'caption events are append-only'); END;

-- What the lead last entered for a site's report (负责人, 电话, 电子邮箱, 组长): remembered
-- between visits, replaced by the next report made.
CREATE TABLE report_details (
    site      TEXT PRIMARY KEY,
    details   TEXT NOT NULL,               -- JSON: site_head, site_phone, site_email, leader
    saved_at  TEXT NOT NULL
);
