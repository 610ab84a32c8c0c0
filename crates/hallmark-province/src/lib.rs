//! The province's records in PostgreSQL (issue #16): the schema as numbered migrations, the
//! bureau dashboard's queries (latest result per hall, halls due for re-evaluation, per-item
//! deductions across a city, a hall's history), and the province-scale dataset they are
//! measured on, generated in SQL (`generate_series`).
//!
//! Scores here are copies of what signed reports computed — never typed, never recomputed
//! from these rows: a report's evaluation row is written when its bundles and report arrive
//! (the server's PostgreSQL backend, to come), and every figure a page shows can be traced to
//! its report number.

pub mod blobs;
pub mod dashboard;
pub mod dataset;
pub mod load;
pub mod pool;
pub mod staff;

use postgres::Client;

/// Why a records operation failed.
#[derive(Debug, thiserror::Error)]
pub enum RecordsError {
    #[error("postgresql: {0}")]
    Db(#[from] postgres::Error),
    #[error("{0}")]
    Invalid(String),
    /// The object store did not answer (stopped, unreachable): nothing was recorded; worth
    /// trying again.
    #[error("{0}")]
    Unavailable(String),
}

impl RecordsError {
    /// Whether trying again later may succeed: the database or the object store did not
    /// answer (a restart, a network cut), as opposed to a refusal or a bug.
    pub fn is_transient(&self) -> bool {
        match self {
            RecordsError::Db(e) => {
                let io = std::error::Error::source(e).is_some_and(|s| s.is::<std::io::Error>());
                e.is_closed()
                    || io
                    || e.as_db_error().is_some_and(|d| {
                        let c = d.code().code();
                        c.starts_with("08") || c.starts_with("57P") || c == "53300"
                    })
            }
            RecordsError::Unavailable(_) => true,
            RecordsError::Invalid(_) => false,
        }
    }
}

pub type Result<T> = std::result::Result<T, RecordsError>;

/// Numbered changes to the schema; each runs once, in its own transaction, recorded in
/// `hallmark_migrations`. A database written by an earlier hallmark migrates (tested with a
/// saved copy of version 1). Never edit one that shipped: add the next.
pub const MIGRATIONS: &[&str] = &[
    // 1 (issue #16): halls, signed evaluations, the assessors' sheets, item scores, events.
    "CREATE TABLE halls (
        id           text PRIMARY KEY,
        region_code  char(6) NOT NULL,              -- GB/T 2260
        name         text NOT NULL,
        address      text NOT NULL DEFAULT '',
        level        text NOT NULL CHECK (level IN ('province', 'city', 'county', 'township'))
    );
    CREATE TABLE evaluations (                      -- one signed report: a panel's result
        report_number  text PRIMARY KEY,
        hall_id        text NOT NULL REFERENCES halls(id),
        rubric_id      text NOT NULL,
        rubric_version text NOT NULL,
        visited_on     date NOT NULL,
        signed_at      timestamptz NOT NULL,
        final_score    numeric(6,2),                -- null: fewer assessors than the rubric asks
        outcome        text NOT NULL CHECK (outcome IN ('pass', 'fail', 'vetoed', 'insufficient', 'no_pass_line')),
        valid_until    date,
        assessors      int NOT NULL CHECK (assessors >= 0)
    );
    CREATE TABLE sheets (                           -- one assessor's inspection of a panel
        inspection_id  uuid PRIMARY KEY,
        report_number  text NOT NULL REFERENCES evaluations(report_number),
        assessor       text NOT NULL,
        device_key     text NOT NULL,
        total          numeric(6,2) NOT NULL
    );
    CREATE TABLE item_scores (
        inspection_id  uuid NOT NULL REFERENCES sheets(inspection_id),
        item_id        text NOT NULL,
        max_points     numeric(5,2) NOT NULL,
        points         numeric(5,2) NOT NULL CHECK (points >= 0 AND points <= max_points),
        PRIMARY KEY (inspection_id, item_id)
    );
    CREATE TABLE events (                           -- every event of every sheet, as recorded
        id             uuid PRIMARY KEY,
        inspection_id  uuid NOT NULL REFERENCES sheets(inspection_id),
        key            text NOT NULL,
        value          jsonb,
        recorded_at    timestamptz NOT NULL
    );",
    // 2 (issue #16): the dashboard's indexes — the latest report of a hall, halls by 行政区划
    // prefix, a report's sheets, a sheet's events, expiry.
    "CREATE INDEX evaluations_latest ON evaluations (hall_id, signed_at DESC);
    CREATE INDEX evaluations_valid_until ON evaluations (valid_until);
    CREATE INDEX halls_by_region ON halls (region_code bpchar_pattern_ops);
    CREATE INDEX sheets_by_report ON sheets (report_number);
    CREATE INDEX events_by_sheet ON events (inspection_id, recorded_at);",
    // 3 (issue #16): each report's per-item panel means, as the report computes them — the
    // per-item deductions across a province read 19 rows a hall instead of 95 (measured:
    // p99 200 ms → see docs/deploy.md). Filled from the item scores already held.
    "CREATE TABLE evaluation_items (
        report_number  text NOT NULL REFERENCES evaluations(report_number),
        item_id        text NOT NULL,
        max_points     numeric(5,2) NOT NULL,
        mean_lost      numeric NOT NULL CHECK (mean_lost >= 0),   -- the panel's mean deduction
        PRIMARY KEY (report_number, item_id)
    );
    INSERT INTO evaluation_items (report_number, item_id, max_points, mean_lost)
    SELECT s.report_number, i.item_id, max(i.max_points), avg(i.max_points - i.points)
    FROM sheets s JOIN item_scores i ON i.inspection_id = s.inspection_id
    GROUP BY s.report_number, i.item_id;",
    // 4 (issue #12): what the bureau dashboard serves beside the figures — each verified
    // report's PDF and sidecar with its verification, the evidence photos per item (blobs by
    // SHA-256, as ODK Central keeps them in PostgreSQL until an object store is configured),
    // the bureau staff who log in, their sessions and the audit log of what they viewed or
    // exported.
    "ALTER TABLE evaluations ADD COLUMN replaces text;       -- 更正: the report number this one corrects
    ALTER TABLE evaluations DROP CONSTRAINT evaluations_outcome_check;
    ALTER TABLE evaluations ADD CONSTRAINT evaluations_outcome_check
        CHECK (outcome IN ('pass', 'fail', 'vetoed', 'insufficient', 'incomplete', 'no_pass_line'));
    CREATE TABLE blobs (
        sha256  char(64) PRIMARY KEY,
        size    bigint NOT NULL CHECK (size >= 0),
        bytes   bytea NOT NULL
    );
    CREATE TABLE reports (
        report_number  text PRIMARY KEY REFERENCES evaluations(report_number),
        pdf_sha256     char(64) NOT NULL REFERENCES blobs(sha256),
        sidecar        bytea NOT NULL,
        signer         text NOT NULL,
        verified_at    timestamptz NOT NULL,
        verification   text NOT NULL,               -- `hallmark verify`'s lines, as checked on loading
        loaded_by      text NOT NULL
    );
    CREATE TABLE evidence (
        inspection_id  uuid NOT NULL REFERENCES sheets(inspection_id),
        item_id        text NOT NULL,
        sha256         char(64) NOT NULL REFERENCES blobs(sha256),
        thumb_sha256   char(64) REFERENCES blobs(sha256),
        caption        text NOT NULL DEFAULT '',
        PRIMARY KEY (inspection_id, item_id, sha256)
    );
    CREATE INDEX evidence_by_blob ON evidence (sha256);
    CREATE INDEX evidence_by_thumb ON evidence (thumb_sha256);
    CREATE TABLE staff (
        username       text PRIMARY KEY CHECK (username ~ '^[a-z0-9._-]{2,40}$'),
        display_name   text NOT NULL,
        password_hash  text NOT NULL,               -- argon2id, PHC string
        role           text NOT NULL CHECK (role IN ('province', 'city', 'auditor')),
        region_code    char(6) NOT NULL,            -- what the user sees: a province's or a city's code
        admin          boolean NOT NULL DEFAULT false,
        disabled       boolean NOT NULL DEFAULT false,
        created_at     timestamptz NOT NULL DEFAULT now()
    );
    CREATE TABLE staff_sessions (
        token_sha256   char(64) PRIMARY KEY,        -- the cookie's token is never stored
        username       text NOT NULL REFERENCES staff(username),
        csrf           text NOT NULL,
        created_at     timestamptz NOT NULL DEFAULT now(),
        expires_at     timestamptz NOT NULL
    );
    CREATE TABLE audit_log (
        id        bigserial PRIMARY KEY,
        at        timestamptz NOT NULL DEFAULT now(),
        username  text NOT NULL,
        action    text NOT NULL,
        target    text NOT NULL
    );
    CREATE INDEX audit_log_at ON audit_log (at DESC);",
    // 5 (issue #12/#16): each report's bundles by their heads (manifest and signature, a blob),
    // so every report can be verified again from the records alone — after a restore, say:
    // a bundle is its head and the photo, thumbnail and signature-image blobs it lists.
    "CREATE TABLE report_bundles (
        report_number  text NOT NULL REFERENCES reports(report_number),
        bundle_id      char(64) NOT NULL,
        head_sha256    char(64) NOT NULL REFERENCES blobs(sha256),
        PRIMARY KEY (report_number, bundle_id)
    );",
    // 6 (issue #16): blobs in an S3-compatible object store. A row is the index of an object,
    // written after it; its bytes stay here only for the PostgreSQL store.
    "ALTER TABLE blobs ALTER COLUMN bytes DROP NOT NULL;
    ALTER TABLE blobs ADD COLUMN place text NOT NULL DEFAULT 'postgres' CHECK (place IN ('postgres', 's3'));
    ALTER TABLE blobs ADD CONSTRAINT blobs_bytes_here CHECK ((place = 'postgres') = (bytes IS NOT NULL));",
    // 7 (issue #16): the sync server's own records when it runs on PostgreSQL (`hallmark serve
    // --postgres`): what the embedded server keeps in `sync.sqlite3` and its store. The hall
    // registry is `halls` above; a bundle's files are blobs (a bundle row names only blobs that
    // are there: `sync_bundle_files` references them). Times are the server's RFC 3339 text.
    "CREATE TABLE sync_trust (                      -- the bureau roots and CRLs this server trusts
        seq        bigserial PRIMARY KEY,
        kind       text NOT NULL CHECK (kind IN ('root', 'crl')),
        sha256     char(64) NOT NULL UNIQUE,
        pem        text NOT NULL,
        name       text NOT NULL,
        detail     text NOT NULL,
        file_name  text NOT NULL,
        added_at   text NOT NULL
    );
    CREATE TABLE sync_devices (
        public_key    text PRIMARY KEY,
        chain         jsonb NOT NULL,               -- PEM blocks, leaf first
        name          text NOT NULL,
        presented_at  text NOT NULL
    );
    CREATE TABLE sync_nonces (
        public_key  text NOT NULL,
        nonce       text NOT NULL,
        created     bigint NOT NULL,
        PRIMARY KEY (public_key, nonce)
    );
    CREATE INDEX sync_nonces_created ON sync_nonces (created);
    CREATE TABLE sync_heads (                       -- offered heads (manifest + signature, ustar)
        bundle_id      char(64) PRIMARY KEY,
        inspection_id  text NOT NULL,
        signer_key     text NOT NULL,
        head           bytea NOT NULL,
        offered_at     text NOT NULL
    );
    CREATE TABLE sync_rubrics (
        sha256        char(64) PRIMARY KEY,
        rubric_id     text NOT NULL,
        version       text NOT NULL,
        content       text NOT NULL,
        published_at  text NOT NULL,
        UNIQUE (rubric_id, version)
    );
    CREATE TABLE sync_inspections (                 -- as the first committed bundle said
        id              text PRIMARY KEY,
        rubric_id       text NOT NULL,
        rubric_version  text NOT NULL,
        rubric_hash     char(64) NOT NULL,
        site_name       text NOT NULL,
        assessor_name   text NOT NULL,
        device_id       text NOT NULL,
        assignment_id   text,
        hall_id         text
    );
    CREATE TABLE sync_bundles (
        id             char(64) PRIMARY KEY,        -- SHA-256 of the signed manifest
        inspection_id  text NOT NULL REFERENCES sync_inspections(id),
        signer_key     text NOT NULL,
        created_at     text NOT NULL,
        imported_at    text NOT NULL,
        events         int NOT NULL,
        new_events     int NOT NULL,
        photos         int NOT NULL,
        signer         jsonb                        -- the certificate's signer when first seen
    );
    CREATE INDEX sync_bundles_by_inspection ON sync_bundles (inspection_id, imported_at);
    CREATE INDEX sync_bundles_by_signer ON sync_bundles (signer_key);
    CREATE TABLE sync_bundle_files (
        bundle_id  char(64) NOT NULL REFERENCES sync_bundles(id),
        sha256     char(64) NOT NULL REFERENCES blobs(sha256),
        PRIMARY KEY (bundle_id, sha256)
    );
    CREATE INDEX sync_bundle_files_by_blob ON sync_bundle_files (sha256);
    CREATE TABLE sync_events (                      -- every event as its tablet recorded it
        id             text PRIMARY KEY,
        inspection_id  text NOT NULL REFERENCES sync_inspections(id),
        key            text NOT NULL,
        value          text,                        -- JSON as recorded (compared, never parsed by SQL)
        recorded_at    text NOT NULL,
        device_id      text NOT NULL
    );
    CREATE INDEX sync_events_by_inspection ON sync_events (inspection_id);
    CREATE TABLE sync_receipts (
        bundle_id  char(64) PRIMARY KEY,
        signed     text NOT NULL,                   -- SignedReceiptV1 JSON, sent byte-identical every time
        issued_at  text NOT NULL
    );
    CREATE TABLE sync_upstream_receipts (
        bundle_id  char(64) NOT NULL,
        upstream   text NOT NULL,
        signed     text NOT NULL,
        kept_at    text NOT NULL,
        PRIMARY KEY (bundle_id, upstream)
    );
    CREATE TABLE sync_assignments (
        id            text PRIMARY KEY,
        site          text NOT NULL,
        rubric_id     text NOT NULL,
        lead_key      text NOT NULL,
        created_at    text NOT NULL,
        hall_id       text REFERENCES halls(id),
        planned_from  text,
        planned_to    text
    );
    CREATE TABLE sync_assignment_members (
        assignment_id  text NOT NULL REFERENCES sync_assignments(id),
        member_key     text NOT NULL,
        name           text NOT NULL,
        PRIMARY KEY (assignment_id, member_key)
    );
    CREATE INDEX sync_assignment_members_by_key ON sync_assignment_members (member_key);
    CREATE TABLE sync_enrollments (
        public_key   text PRIMARY KEY,
        request      text NOT NULL,
        name         text NOT NULL,
        unit         text NOT NULL,
        title        text NOT NULL,
        device_id    text,
        state        text NOT NULL CHECK (state IN ('pending', 'approved', 'refused')),
        received_at  text NOT NULL,
        decided_at   text,
        reason       text,
        chain        jsonb
    );
    CREATE TABLE sync_reviews (
        seq            bigserial PRIMARY KEY,
        statement      text NOT NULL UNIQUE,        -- hallmark-review/1 JSON as signed
        inspection_id  text NOT NULL,
        lead_key       text NOT NULL,
        chain          jsonb NOT NULL,
        received_at    text NOT NULL
    );
    CREATE INDEX sync_reviews_by_inspection ON sync_reviews (inspection_id);",
];

/// Brings the schema to the newest version; returns the version it is at. Safe to run from
/// several processes at once (an advisory lock serializes them).
pub fn migrate(db: &mut Client) -> Result<u32> {
    db.batch_execute("CREATE TABLE IF NOT EXISTS hallmark_migrations (version int PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())")?;
    for (i, sql) in MIGRATIONS.iter().enumerate() {
        let version = i as i32 + 1;
        let mut tx = db.transaction()?;
        tx.execute("SELECT pg_advisory_xact_lock(7431)", &[])?;
        let done: bool = tx.query_one("SELECT EXISTS (SELECT 1 FROM hallmark_migrations WHERE version = $1)", &[&version])?.get(0);
        if !done {
            tx.batch_execute(sql)?;
            tx.execute("INSERT INTO hallmark_migrations (version) VALUES ($1)", &[&version])?;
        }
        tx.commit()?;
    }
    version(db)
}

/// The schema version a database is at (0: none).
pub fn version(db: &mut Client) -> Result<u32> {
    let row = db.query_one("SELECT coalesce(max(version), 0) FROM hallmark_migrations", &[])?;
    Ok(row.get::<_, i32>(0) as u32)
}

/// Connects to `url` (`postgres://user@host:port/db`), without TLS: the database is on the
/// server's own machine or its private network (docs/deploy.md).
pub fn connect(url: &str) -> Result<Client> {
    Client::connect(url, postgres::NoTls).map_err(|e| RecordsError::Invalid(format!("cannot connect to '{}': {e}", redact(url))))
}

/// A URL with its password replaced, for messages.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            match creds.find(':') {
                Some(c) => format!("{}{}:***{}", &url[..s + 3], &creds[..c], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn passwords_never_reach_a_message() {
        assert_eq!(super::redact("postgres://hallmark:secret@127.0.0.1:5432/x"), "postgres://hallmark:***@127.0.0.1:5432/x");
        assert_eq!(super::redact("postgres://hallmark@127.0.0.1:5432/x"), "postgres://hallmark@127.0.0.1:5432/x");
    }
}
