-- hallmark store, migration 6 (issue #10, trust chain): this device's certificate, the roots
-- and revocation lists this store trusts, and who signed each imported bundle as its
-- certificate says. New tables only; every one append-only.

-- This device's certificate as the bureau issued it, appended on each install: the newest row
-- for the device's current key is the one in use. A certificate for another key (the device
-- was re-keyed) is never used again; a re-installed certificate supersedes, the old row kept.
CREATE TABLE device_certificates (
    seq           INTEGER PRIMARY KEY AUTOINCREMENT,
    public_key    TEXT NOT NULL,           -- the Ed25519 key it certifies, hex
    chain_pem     TEXT NOT NULL,           -- PEM, leaf first, root excluded
    root_pem      TEXT NOT NULL,           -- the root it was checked against at install
    serial        TEXT NOT NULL,
    name          TEXT NOT NULL,
    not_after     TEXT NOT NULL,           -- RFC 3339, UTC
    installed_at  TEXT NOT NULL            -- RFC 3339, UTC
);
CREATE INDEX device_certificates_by_key ON device_certificates(public_key, seq);
CREATE TRIGGER device_certificates_append_only_update BEFORE UPDATE ON device_certificates
BEGIN SELECT RAISE(ABORT, 'device certificates are append-only'); END;
CREATE TRIGGER device_certificates_append_only_delete BEFORE DELETE ON device_certificates
BEGIN SELECT RAISE(ABORT, 'device certificates are append-only'); END;

-- The roots (bureau root certificates) and revocation lists (CRLs) this store trusts when it
-- imports bundles. A file added twice is one row.
CREATE TABLE trust_anchors (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    kind       TEXT NOT NULL CHECK (kind IN ('root', 'crl')),
    sha256     TEXT NOT NULL UNIQUE,       -- of `pem`
    pem        TEXT NOT NULL,
    name       TEXT NOT NULL,              -- the root's name, or the CRL issuer's
    detail     TEXT NOT NULL,              -- one line: validity, revocations, next update
    file_name  TEXT NOT NULL,
    added_at   TEXT NOT NULL               -- RFC 3339, UTC
);
CREATE TRIGGER trust_anchors_append_only_update BEFORE UPDATE ON trust_anchors
BEGIN SELECT RAISE(ABORT, 'trusted roots and revocation lists are append-only'); END;
CREATE TRIGGER trust_anchors_append_only_delete BEFORE DELETE ON trust_anchors
BEGIN SELECT RAISE(ABORT, 'trusted roots and revocation lists are append-only'); END;

-- Who signed an imported bundle, as its certificate chain says, checked at `checked_at` (when
-- this store first saw the bundle). 'enrolled': the chain led to a trusted root; 'unchecked':
-- the bundle carried certificates but no root was trusted yet. A bundle without certificates
-- (format 1, or an unenrolled tablet) has no row: the roster is its only assurance.
CREATE TABLE bundle_signers (
    bundle_id    TEXT PRIMARY KEY REFERENCES bundles(id),
    assurance    TEXT NOT NULL CHECK (assurance IN ('enrolled', 'unchecked')),
    name         TEXT NOT NULL,
    unit         TEXT NOT NULL,
    title        TEXT NOT NULL,
    roles        TEXT NOT NULL,            -- comma separated: assessor, lead
    serial       TEXT NOT NULL,
    issuer       TEXT NOT NULL,
    root         TEXT NOT NULL,            -- '' when unchecked
    checked_at   TEXT NOT NULL,            -- the trusted time, RFC 3339, UTC
    notes        TEXT NOT NULL             -- JSON array of what was weaker than it should be
) WITHOUT ROWID;
CREATE TRIGGER bundle_signers_append_only_update BEFORE UPDATE ON bundle_signers
BEGIN SELECT RAISE(ABORT, 'bundle signers are append-only'); END;
CREATE TRIGGER bundle_signers_append_only_delete BEFORE DELETE ON bundle_signers
BEGIN SELECT RAISE(ABORT, 'bundle signers are append-only'); END;
