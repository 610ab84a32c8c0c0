-- hallmark store, migration 4 (issue #15, hardening).

-- The device key's public half as this database first knew it: a replaced device.key (a
-- different fingerprint) stops signing instead of silently signing as someone else.
ALTER TABLE device ADD COLUMN public_key TEXT;

-- A photo downscaled on capture keeps the hash and size of the file the camera made.
ALTER TABLE photos ADD COLUMN original_sha256 TEXT;
ALTER TABLE photos ADD COLUMN original_size INTEGER;

-- Device settings (e.g. 'photo.long_side'): one value per key.
CREATE TABLE settings (
    key    TEXT PRIMARY KEY,
    value  TEXT NOT NULL
);

-- The lead's issue date of each site's report, recorded once when the report is first made
-- (the lead's clock, never a tablet's): re-rendering the report prints the same date.
CREATE TABLE report_issues (
    site          TEXT NOT NULL,
    rubric_id     TEXT NOT NULL,
    issued_on     TEXT NOT NULL,           -- YYYY-MM-DD, the lead's local date
    recorded_at   TEXT NOT NULL,           -- RFC 3339
    PRIMARY KEY (site, rubric_id)
);
CREATE TRIGGER report_issues_append_only_update BEFORE UPDATE ON report_issues
BEGIN SELECT RAISE(ABORT, 'report issue dates are append-only'); END;
CREATE TRIGGER report_issues_append_only_delete BEFORE DELETE ON report_issues
BEGIN SELECT RAISE(ABORT, 'report issue dates are append-only'); END;
