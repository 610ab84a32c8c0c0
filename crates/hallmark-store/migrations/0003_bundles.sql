-- hallmark store, migration 3: signed bundles imported from assessors' tablets, and the
-- lead's roster of known assessor keys.

-- One row per imported bundle, keyed by the SHA-256 of its signed manifest: importing the
-- same file twice finds this row and changes nothing.
CREATE TABLE bundles (
    id             TEXT PRIMARY KEY,       -- sha256 of manifest.json as signed
    inspection_id  TEXT NOT NULL REFERENCES inspections(id),
    signer_key     TEXT NOT NULL,          -- Ed25519 public key, hex
    created_at     TEXT NOT NULL,          -- when the tablet exported it
    imported_at    TEXT NOT NULL,
    file_name      TEXT NOT NULL,
    events         INTEGER NOT NULL,       -- events in the bundle
    new_events     INTEGER NOT NULL,       -- of those, new to this database
    photos         INTEGER NOT NULL
);
CREATE INDEX bundles_by_inspection ON bundles(inspection_id, imported_at);

-- Which bundle carried which event: two bundles of one inspection whose event sets are not
-- nested diverged (a tablet restored from a backup, say), and their differing keys are
-- conflicts shown to the lead.
CREATE TABLE bundle_events (
    bundle_id  TEXT NOT NULL REFERENCES bundles(id),
    event_id   TEXT NOT NULL,
    PRIMARY KEY (bundle_id, event_id)
) WITHOUT ROWID;

-- The lead's known assessor keys. A bundle signed by a key not listed here is imported but
-- flagged.
CREATE TABLE roster (
    public_key  TEXT PRIMARY KEY,          -- Ed25519 public key, hex
    name        TEXT NOT NULL,
    added_at    TEXT NOT NULL
);

-- The assessor's handwritten signature (a PNG drawn on the tablet), evidence like a photo.
CREATE TABLE signatures (
    inspection_id  TEXT PRIMARY KEY REFERENCES inspections(id),
    sha256         TEXT NOT NULL,
    size           INTEGER NOT NULL,
    signed_at      TEXT NOT NULL
);
