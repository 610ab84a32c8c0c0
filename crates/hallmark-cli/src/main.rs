//! `hallmark`: the command line over hallmark-core and hallmark-store.
//!
//! This crate does the IO: it reads files, resolves rubric ids, prints, and maps errors to
//! exit codes. Every rule about scores lives in hallmark-core.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use hallmark_store::{Access, Store};

/// Output that ends quietly when the reader goes away (`hallmark merge | head`).
macro_rules! out {
    ($($t:tt)*) => {{
        use std::io::Write as _;
        let _ = write!(std::io::stdout(), $($t)*);
    }};
}
macro_rules! outln {
    ($($t:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout(), $($t)*);
    }};
}

mod bundles;
mod ca;
mod enroll;
mod lead;
mod panels;
mod records;
mod recovery;
mod rectify;
mod report;
mod rubric;
mod settings;
mod sync;

#[derive(Parser)]
#[command(name = "hallmark", version, about = "Score medical-insurance service halls against official rubrics")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Rubric files: validate them or show their tree
    Rubric {
        #[command(subcommand)]
        command: RubricCommand,
    },
    /// Score one assessor's observation file
    Score {
        /// Rubric id (e.g. jiangsu-15min) or path to a rubric file; default: the file's "rubric"
        #[arg(long)]
        rubric: Option<String>,
        /// Print the score sheet as JSON
        #[arg(long)]
        json: bool,
        file: PathBuf,
    },
    /// Aggregate several assessors' observation files for one site
    Aggregate {
        #[arg(long)]
        rubric: Option<String>,
        #[arg(long)]
        json: bool,
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Write one inspection as a signed bundle (.hallmark)
    Export {
        #[command(flatten)]
        db: Db,
        /// Inspection id (or a unique prefix of it)
        #[arg(long)]
        inspection: String,
        #[arg(long)]
        out: PathBuf,
    },
    /// Run the sync server tablets push bundles to and leads pull panels from (TLS)
    Serve {
        /// The data folder (created): SQLite and content-addressed files
        #[arg(long)]
        data: PathBuf,
        /// Address to listen on (port 0: any free port, printed)
        #[arg(long, default_value = "127.0.0.1:8443")]
        listen: String,
        /// The server's certificate chain (hallmark ca issue --role server --name NAME --host HOST --out FILE)
        #[arg(long)]
        cert: PathBuf,
        /// Its private key (the FILE.key written beside it)
        #[arg(long)]
        key: PathBuf,
        /// Bureau root certificates and revocation lists to trust (kept in the data folder)
        #[arg(long)]
        trust: Vec<PathBuf>,
        /// Seconds a request body may stall before the connection is cut
        #[arg(long, default_value_t = 30)]
        idle_timeout: u64,
        /// Relay: forward every bundle held here to this server (https://HOST:PORT), as role server
        #[arg(long)]
        upstream: Option<String>,
        /// Seconds between relay passes
        #[arg(long, default_value_t = 30)]
        relay_every: u64,
        /// The province records, postgres://USER@HOST:PORT/DB: also serve the bureau dashboard's pages
        #[arg(long)]
        postgres: Option<String>,
        /// The records' evidence in an S3-compatible object store, http://KEY:SECRET@HOST:PORT/BUCKET
        /// (default: HALLMARK_S3; without either, PostgreSQL keeps it)
        #[arg(long)]
        s3: Option<String>,
    },
    /// Evaluation assignments on a server: who leads which hall's panel, and its members
    Assignment {
        #[command(subcommand)]
        command: AssignmentCommand,
    },
    /// The hall registry on a server: every hall with its 行政区划代码, address and level
    Hall {
        #[command(subcommand)]
        command: HallCommand,
    },
    /// Push this device's bundles to a server, or pull a lead's panels from it
    Sync {
        #[command(subcommand)]
        command: SyncCommand,
    },
    /// The province's records in PostgreSQL (issue #16): migrate, generate a province, query
    Records {
        #[command(subcommand)]
        command: RecordsCommand,
    },
    /// Verify and import assessors' bundles (each all-or-nothing)
    Import {
        #[command(flatten)]
        db: Db,
        #[arg(long)]
        json: bool,
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// The lead's view: every assessor side by side per site and rubric
    Merge {
        #[command(flatten)]
        db: Db,
        #[arg(long)]
        json: bool,
    },
    /// The lead's roster of known assessor keys
    Roster {
        #[command(subcommand)]
        command: RosterCommand,
    },
    /// The lead's panels: which inspections one report merges (never matched by site names)
    Panel {
        #[command(subcommand)]
        command: PanelCommand,
    },
    /// List the inspections in a database
    List {
        #[command(flatten)]
        db: Db,
    },
    /// Write demo bundles: five assessors of one Liaoning hall and one Jiangsu inspection, from
    /// tablets enrolled by a demo bureau CA (DIR/bureau-root.pem is its root)
    Demo {
        dir: PathBuf,
        /// Also enroll this database (made if missing) as the demo team lead (roles lead and
        /// assessor) and trust the demo root in it
        #[arg(long, value_name = "DB")]
        lead: Option<PathBuf>,
    },
    /// Write the signed evaluation report (PDF + FILE.pdf.sig.json) for a merged site
    Report {
        #[command(flatten)]
        which: Which,
        #[arg(long)]
        out: PathBuf,
        /// Also print the report's text form
        #[arg(long)]
        text: bool,
        /// A draft: 草稿 on every page, not signed (the only report of a panel that cannot conclude)
        #[arg(long)]
        draft: bool,
        /// A correction (更正): the signed report this one replaces (marked superseded beside it)
        #[arg(long, requires = "reason", conflicts_with = "draft")]
        supersedes: Option<PathBuf>,
        /// Why the report is corrected (printed on its cover)
        #[arg(long, requires = "supersedes")]
        reason: Option<String>,
        /// A re-evaluation (复评): the signed report of the evaluation before, compared item by item
        #[arg(long)]
        previous: Option<PathBuf>,
        /// Sign although returned items are not answered yet: the reason, printed in the report
        #[arg(long, value_name = "REASON")]
        override_reviews: Option<String>,
    },
    /// Check a report: its signatures, the signer's certificate against the bureau's root, and with
    /// --bundles every score recomputed from the raw bundles
    Verify {
        pdf: PathBuf,
        #[arg(long)]
        bundles: Option<PathBuf>,
        #[command(flatten)]
        trust: TrustArgs,
        #[arg(long)]
        json: bool,
    },
    /// Withdraw a signed report (撤销): the signing lead's statement, written beside the PDF; verify then fails it
    Withdraw {
        #[command(flatten)]
        db: Db,
        pdf: PathBuf,
        /// Why (printed wherever the report is verified)
        #[arg(long)]
        reason: String,
    },
    /// The lead's review of the panel's sheets: accept, or return an item with a comment
    Review {
        #[command(subcommand)]
        command: ReviewCommand,
    },
    /// 整改: the deductions of a signed report as items followed to closure (assign, progress, done
    /// with a photo, closed by a re-evaluation), exported as XLSX
    Rectify {
        #[command(subcommand)]
        command: RectifyCommand,
    },
    /// The bureau's certificate authority (kept offline): make it, issue and revoke certificates
    Ca {
        #[command(subcommand)]
        command: CaCommand,
    },
    /// The roots and revocation lists a lead's database trusts when it imports bundles
    Trust {
        #[command(subcommand)]
        command: TrustCommand,
    },
    /// This device's enrollment: the request for the bureau, and the certificate it issued
    Enroll {
        #[command(subcommand)]
        command: EnrollCommand,
    },
    /// Per-item scores of every assessor for officials: FILE.csv or FILE.xlsx
    Scores {
        #[command(flatten)]
        which: Which,
        #[arg(long)]
        out: PathBuf,
    },
    /// Downscale photos on capture to a long side of PX pixels (640-3072), or `off`; no value shows it
    PhotoSize {
        #[command(flatten)]
        db: Db,
        value: Option<String>,
    },
    /// Check a database fully: SQLite integrity, answers against the event log, stored files, key
    Check {
        #[command(flatten)]
        db: Db,
        #[arg(long)]
        json: bool,
    },
    /// Write a backup of a database and its photos to one file (restore with `hallmark restore`)
    Backup {
        #[command(flatten)]
        db: Db,
        #[arg(long)]
        out: PathBuf,
        /// Also back up device.key (keep such a backup as safe as the device itself)
        #[arg(long)]
        with_key: bool,
    },
    /// Restore a backup: every file checked before the database is put in place
    Restore {
        #[command(flatten)]
        db: Db,
        #[arg(long)]
        from: PathBuf,
        /// Move an existing database aside (DB.damaged-STAMP) instead of refusing
        #[arg(long)]
        replace: bool,
    },
    /// Make a new database from every .hallmark bundle in a folder
    Rebuild {
        #[command(flatten)]
        db: Db,
        #[arg(long)]
        from: PathBuf,
    },
}

/// Where an admin verb acts: a server's data folder, or a running server with its admin token.
#[derive(clap::Args)]
struct Place {
    /// The server's data folder (on the server's machine)
    #[arg(long, required_unless_present_any = ["server", "postgres"], conflicts_with_all = ["server", "postgres"])]
    data: Option<PathBuf>,
    /// Or a server's PostgreSQL (`hallmark serve --postgres URL`, issue #16)
    #[arg(long, conflicts_with = "server")]
    postgres: Option<String>,
    /// Or a running server, https://HOST:PORT (needs --token-file and --trust)
    #[arg(long, requires = "token_file")]
    server: Option<String>,
    /// The server's admin token (its DIR/admin.token, copied over a safe channel)
    #[arg(long)]
    token_file: Option<PathBuf>,
    /// The bureau root the server's certificate chains to
    #[arg(long)]
    trust: Vec<PathBuf>,
}

impl Place {
    fn place(self) -> Result<sync::AdminPlace, String> {
        if let Some(url) = self.postgres {
            return Ok(sync::AdminPlace::Postgres(url));
        }
        match (self.data, self.server) {
            (Some(d), _) => Ok(sync::AdminPlace::Data(d)),
            (None, Some(url)) => Ok(sync::AdminPlace::Server { url, token_file: self.token_file.unwrap_or_default(), trust: self.trust }),
            (None, None) => Err("pass --data DIR or --postgres URL (on the server) or --server URL --token-file FILE".into()),
        }
    }
}

#[derive(Subcommand)]
enum AssignmentCommand {
    /// Add an assignment: a hall and rubric, the lead and the members by their certificates
    Add {
        #[command(flatten)]
        place: Place,
        #[arg(long)]
        id: String,
        /// The hall's id in the registry (hallmark hall list)
        #[arg(long, required_unless_present = "site", conflicts_with = "site")]
        hall: Option<String>,
        /// Or, without a registry, the hall's name as the tablets record it
        #[arg(long)]
        site: Option<String>,
        /// Rubric id (e.g. liaoning-window)
        #[arg(long)]
        rubric: String,
        /// The lead's device certificate
        #[arg(long)]
        lead: PathBuf,
        /// Each member's device certificate
        #[arg(long = "member", required = true)]
        members: Vec<PathBuf>,
        /// The first planned visit day, YYYY-MM-DD (with --to)
        #[arg(long, requires = "to")]
        from: Option<String>,
        /// The last planned visit day, YYYY-MM-DD (with --from)
        #[arg(long, requires = "from")]
        to: Option<String>,
    },
}

#[derive(Args)]
struct Postgres {
    /// postgres://USER@HOST:PORT/DB (default: the HALLMARK_PG environment variable)
    #[arg(long)]
    postgres: Option<String>,
    /// The records' evidence in an S3-compatible object store, http://KEY:SECRET@HOST:PORT/BUCKET
    /// (default: HALLMARK_S3; without either, PostgreSQL keeps it)
    #[arg(long)]
    s3: Option<String>,
}

impl Postgres {
    fn url(&self) -> Result<String, String> {
        self.postgres
            .clone()
            .or_else(|| std::env::var("HALLMARK_PG").ok())
            .ok_or_else(|| "no database: give --postgres postgres://USER@HOST:PORT/DB (or set HALLMARK_PG)".to_string())
    }

    fn blobs(&self) -> Result<hallmark_province::blobs::BlobStore, String> {
        let url = self.s3.clone().or_else(|| std::env::var("HALLMARK_S3").ok());
        hallmark_province::blobs::BlobStore::open(url.as_deref()).map_err(|e| e.to_string())
    }
}

#[derive(Subcommand)]
enum RecordsCommand {
    /// Bring the schema to the newest version
    Migrate {
        #[command(flatten)]
        pg: Postgres,
    },
    /// Fill an empty database with a generated province (1,500 halls × 5 years × 5 assessors; --halls for fewer)
    Generate {
        #[command(flatten)]
        pg: Postgres,
        #[arg(long, default_value_t = 1500)]
        halls: u32,
    },
    /// Halls under a 行政区划 prefix with their latest result
    Halls {
        #[command(flatten)]
        pg: Postgres,
        #[arg(long, default_value = "")]
        region: String,
        #[arg(long, default_value_t = 50)]
        limit: i64,
        #[arg(long, default_value_t = 0)]
        offset: i64,
    },
    /// Halls whose result expires within DAYS of TODAY, or has lapsed
    Due {
        #[command(flatten)]
        pg: Postgres,
        #[arg(long, default_value = "")]
        region: String,
        #[arg(long)]
        today: String,
        #[arg(long, default_value_t = 30)]
        days: i32,
    },
    /// Per item across a region: the mean deduction and the halls losing points
    Items {
        #[command(flatten)]
        pg: Postgres,
        #[arg(long, default_value = "")]
        region: String,
    },
    /// Add or update the records' halls from the registry spreadsheet (.xlsx, as `hallmark hall import`)
    ImportHalls {
        #[command(flatten)]
        pg: Postgres,
        file: PathBuf,
    },
    /// Verify a signed report against its bundles and the bureau root, then keep it in the records
    /// (scores as recomputed from the bundles, the photos, the PDF and its sidecar)
    Load {
        #[command(flatten)]
        pg: Postgres,
        /// The report PDF (its .sig.json beside it)
        report: PathBuf,
        /// The folder holding the panel's bundles
        #[arg(long)]
        bundles: PathBuf,
        /// The bureau root certificate(s)
        #[arg(long, required = true)]
        trust: Vec<PathBuf>,
        /// Revocation lists
        #[arg(long)]
        crl: Vec<PathBuf>,
        /// The registry hall, when the bundles name none (not made from an assignment)
        #[arg(long)]
        hall: Option<String>,
    },
    /// Verify every held report again from the records alone (its bundles put together from
    /// the kept heads and blobs): after a restore, or any time
    Reverify {
        #[command(flatten)]
        pg: Postgres,
        /// The bureau root certificate(s)
        #[arg(long, required = true)]
        trust: Vec<PathBuf>,
        /// Revocation lists
        #[arg(long)]
        crl: Vec<PathBuf>,
        /// Only this report
        #[arg(long)]
        report: Option<String>,
    },
    /// Copy every object-store blob into a folder by hash (the backup's evidence half)
    ExportEvidence {
        #[command(flatten)]
        pg: Postgres,
        dir: PathBuf,
    },
    /// Put every object-store blob the records name into the object store from such a folder
    /// (a restore into a fresh bucket)
    ImportEvidence {
        #[command(flatten)]
        pg: Postgres,
        dir: PathBuf,
    },
    /// Delete objects of the object store that no record names (left by a load stopped between
    /// storing an object and recording it), older than the given minutes
    SweepEvidence {
        #[command(flatten)]
        pg: Postgres,
        #[arg(long, default_value_t = 60)]
        older_than_minutes: i64,
    },
    /// Bureau staff who log in to the dashboard
    Staff {
        #[command(subcommand)]
        command: StaffCommand,
    },
}

#[derive(Subcommand)]
enum StaffCommand {
    /// Add a user; the password is read from HALLMARK_STAFF_PASSWORD or asked for
    Add {
        #[command(flatten)]
        pg: Postgres,
        #[arg(long)]
        username: String,
        /// The name shown (e.g. 王敏)
        #[arg(long)]
        name: String,
        /// province, city or auditor
        #[arg(long)]
        role: String,
        /// The 行政区划代码 the user sees: a province's (210000) or a city's (211200)
        #[arg(long)]
        region: String,
        /// May manage users (province role only)
        #[arg(long)]
        admin: bool,
    },
    /// Every user
    List {
        #[command(flatten)]
        pg: Postgres,
    },
    /// Disable a user (their sessions end)
    Disable {
        #[command(flatten)]
        pg: Postgres,
        username: String,
    },
    /// Enable a disabled user
    Enable {
        #[command(flatten)]
        pg: Postgres,
        username: String,
    },
    /// Set a new password (from HALLMARK_STAFF_PASSWORD or asked for); their sessions end
    Reset {
        #[command(flatten)]
        pg: Postgres,
        username: String,
    },
}

#[derive(Subcommand)]
enum HallCommand {
    /// Add or update the registry's halls from a spreadsheet (.xlsx; columns 编号, 行政区划代码, 名称, 地址, 级别)
    Import {
        #[command(flatten)]
        place: Place,
        file: PathBuf,
    },
    /// The registry's halls (on the server's machine)
    List {
        /// The server's data folder
        #[arg(long)]
        data: PathBuf,
    },
}

#[derive(Subcommand)]
enum SyncCommand {
    /// Push bundle files, or (with none given) every inspection of this device that changed since its last receipt
    Push {
        #[command(flatten)]
        db: Db,
        /// The server, https://HOST:PORT
        #[arg(long)]
        server: String,
        /// Bureau roots (and CRLs) to trust besides the database's own
        #[arg(long)]
        trust: Vec<PathBuf>,
        files: Vec<PathBuf>,
    },
    /// List the assignments this device is a member or the lead of
    Assignments {
        #[command(flatten)]
        db: Db,
        #[arg(long)]
        server: String,
        #[arg(long)]
        trust: Vec<PathBuf>,
    },
    /// Send this lead's signed report to the province server (verified there against the
    /// panel's bundles, then shown on the bureau dashboard)
    Report {
        #[command(flatten)]
        db: Db,
        #[arg(long)]
        server: String,
        #[arg(long)]
        trust: Vec<PathBuf>,
        /// The registry hall, when the panel's bundles name none (not made from an assignment)
        #[arg(long)]
        hall: Option<String>,
        /// The report PDF (its .sig.json beside it)
        report: PathBuf,
    },
    /// Fetch and import the bundles of the assignments this lead device leads
    Pull {
        #[command(flatten)]
        db: Db,
        #[arg(long)]
        server: String,
        #[arg(long)]
        trust: Vec<PathBuf>,
    },
}

#[derive(Args)]
struct Db {
    /// The database: a SQLite file (its photos go in FILE-files/) or a data folder (as the app's)
    #[arg(long)]
    db: PathBuf,
}

/// Which merged site a report is about, and what the lead adds to it.
#[derive(Args)]
struct Which {
    #[command(flatten)]
    db: Db,
    /// The hall's contact details and the leader (TOML: site_head, site_phone, site_email, leader)
    #[arg(long)]
    details: Option<PathBuf>,
    /// Which site (part of its name), when the database holds several
    #[arg(long)]
    site: Option<String>,
    /// Which rubric id, when the database holds several
    #[arg(long)]
    rubric: Option<String>,
}

/// What `verify` trusts: the bureau's roots and current revocation lists.
#[derive(Args, Clone, Default)]
pub(crate) struct TrustArgs {
    /// A trusted root certificate (the bureau's root.pem); repeat for several bureaus or a
    /// rolled-over root. Default: the files in $HALLMARK_TRUST (a folder of .pem and .crl.pem)
    #[arg(long = "trust", value_name = "ROOT.pem")]
    pub roots: Vec<PathBuf>,
    /// A revocation list (crl.pem) of a CA in the chain; repeat for each CA
    #[arg(long = "crl", value_name = "CRL.pem")]
    pub crls: Vec<PathBuf>,
    /// For a report signed before certificates (sidecar v1): the lead's device certificate
    /// whose key must be the report's signer
    #[arg(long = "signer-cert", value_name = "CERT.pem")]
    pub signer_cert: Option<PathBuf>,
}

#[derive(Subcommand)]
enum CaCommand {
    /// Make a CA in a new folder: a root, or with --parent an intermediate (a city under the province).
    /// The passphrase comes from $HALLMARK_CA_PASSPHRASE or a prompt (never an argument)
    Init {
        #[arg(long)]
        dir: PathBuf,
        /// The CA's name, e.g. 辽宁省医疗保障局
        #[arg(long)]
        name: String,
        #[arg(long, default_value = "")]
        unit: String,
        #[arg(long, default_value_t = 10)]
        years: i64,
        /// The parent CA's folder (its passphrase: $HALLMARK_PARENT_CA_PASSPHRASE or a prompt)
        #[arg(long)]
        parent: Option<PathBuf>,
    },
    /// Issue a certificate: for a device from its enrollment request (--request), or for a server (a new key)
    Issue {
        #[arg(long)]
        ca: PathBuf,
        /// assessor, lead or server; repeat or comma-separate for several
        #[arg(long, value_delimiter = ',', required = true)]
        role: Vec<String>,
        /// The device's enrollment request (written by the app or `hallmark enroll request`)
        #[arg(long, conflicts_with = "name")]
        request: Option<PathBuf>,
        /// A server's name (with --role server; a new key is written beside --out)
        #[arg(long)]
        name: Option<String>,
        /// Host names or IP addresses a server answers on (for browsers)
        #[arg(long = "host")]
        hosts: Vec<String>,
        #[arg(long, default_value_t = 365)]
        days: i64,
        #[arg(long)]
        out: PathBuf,
    },
    /// Revoke a certificate this CA issued and sign a new revocation list (crl.pem)
    Revoke {
        #[arg(long)]
        ca: PathBuf,
        /// The certificate's serial (hex), or --cert
        #[arg(long, required_unless_present = "cert")]
        serial: Option<String>,
        #[arg(long, conflicts_with = "serial")]
        cert: Option<PathBuf>,
        /// unspecified, key-compromise, superseded, affiliation-changed, cessation-of-operation
        #[arg(long, default_value = "unspecified")]
        reason: String,
        /// Untrusted from this time on (RFC 3339), e.g. when a tablet was lost; default now
        #[arg(long)]
        since: Option<String>,
    },
    /// Sign a fresh revocation list (before the current one's next-update date)
    Crl {
        #[arg(long)]
        ca: PathBuf,
        #[arg(long, default_value_t = 30)]
        days: i64,
    },
    /// Show a certificate file: who, roles, validity, issuer, key fingerprint
    Show { cert: PathBuf },
}

#[derive(Subcommand)]
enum ReviewCommand {
    /// Return a sheet or an item to its assessor with a comment
    Return {
        #[command(flatten)]
        db: Db,
        /// The assessor's name or the inspection id (`hallmark list`)
        #[arg(long)]
        sheet: String,
        /// A rubric item id; without it, the whole sheet
        #[arg(long)]
        item: Option<String>,
        #[arg(long)]
        comment: String,
    },
    /// Accept a sheet or an item (after a return: the assessor's change or reply)
    Accept {
        #[command(flatten)]
        db: Db,
        #[arg(long)]
        sheet: String,
        #[arg(long)]
        item: Option<String>,
        #[arg(long, default_value = "")]
        comment: String,
    },
    /// Every reviewed sheet and item and where it stands
    List {
        #[command(flatten)]
        db: Db,
    },
    /// Write the reviews for the assessors' tablets (FILE.review.json: put it in the tablets' bundle folder)
    Export {
        #[command(flatten)]
        db: Db,
        #[arg(long)]
        out: PathBuf,
    },
    /// On a tablet's data folder: receive the lead's review file
    Receive {
        #[command(flatten)]
        db: Db,
        file: PathBuf,
    },
    /// On a tablet's data folder: answer a returned item by keeping its answers, with the reason
    Keep {
        #[command(flatten)]
        db: Db,
        /// The assessor's name or the inspection id
        #[arg(long)]
        sheet: String,
        #[arg(long)]
        item: String,
        #[arg(long)]
        reason: String,
    },
}

#[derive(Subcommand)]
enum RectifyCommand {
    /// Every 整改 item and where it stands
    List {
        #[command(flatten)]
        db: Db,
        /// Only a site (part of its name)
        #[arg(long)]
        site: Option<String>,
    },
    /// Name the owner at the hall and the due date
    Assign {
        #[command(flatten)]
        db: Db,
        /// The item: its rubric item id (e.g. layout) or the item's id from `list`
        item: String,
        #[arg(long)]
        site: Option<String>,
        #[arg(long)]
        owner: String,
        /// YYYY-MM-DD
        #[arg(long)]
        due: String,
    },
    /// Record progress
    Progress {
        #[command(flatten)]
        db: Db,
        item: String,
        #[arg(long)]
        site: Option<String>,
        #[arg(long)]
        note: String,
    },
    /// Record it done, with an evidence photo (JPEG)
    Done {
        #[command(flatten)]
        db: Db,
        item: String,
        #[arg(long)]
        site: Option<String>,
        #[arg(long)]
        note: String,
        #[arg(long)]
        photo: PathBuf,
    },
    /// Reopen an item recorded done
    Reopen {
        #[command(flatten)]
        db: Db,
        item: String,
        #[arg(long)]
        site: Option<String>,
        #[arg(long)]
        note: String,
    },
    /// Close the items a re-evaluation shows rectified: its signed report (made with --previous),
    /// trusted like `verify --trust`
    Close {
        #[command(flatten)]
        db: Db,
        #[arg(long = "by", value_name = "REEVALUATION.pdf")]
        by: PathBuf,
        #[command(flatten)]
        trust: TrustArgs,
    },
    /// The 整改台账 as XLSX
    Export {
        #[command(flatten)]
        db: Db,
        #[arg(long)]
        out: PathBuf,
        #[arg(long)]
        site: Option<String>,
    },
}

#[derive(Subcommand)]
enum TrustCommand {
    /// Trust a bureau root (root.pem) or load a revocation list (crl.pem) into a lead's database
    /// (--db), or into a province server's PostgreSQL (--postgres; the running server reads it at
    /// its next request)
    Add {
        /// The database: a SQLite file (its photos go in FILE-files/) or a data folder (as the app's)
        #[arg(long, required_unless_present = "postgres", conflicts_with = "postgres")]
        db: Option<PathBuf>,
        /// A server's PostgreSQL (`hallmark serve --postgres URL`, issue #16)
        #[arg(long)]
        postgres: Option<String>,
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// List the trusted roots and revocation lists
    List {
        #[command(flatten)]
        db: Db,
    },
}

#[derive(Subcommand)]
enum EnrollCommand {
    /// Write this device's enrollment request (a CSR signed by its key) for the bureau
    Request {
        #[command(flatten)]
        db: Db,
        #[arg(long)]
        name: String,
        #[arg(long, default_value = "")]
        unit: String,
        #[arg(long, default_value = "")]
        title: String,
        #[arg(long)]
        out: PathBuf,
    },
    /// Install the certificate the bureau issued (and the bureau's root) on this device
    Install {
        #[command(flatten)]
        db: Db,
        #[arg(long)]
        cert: PathBuf,
        #[arg(long)]
        root: PathBuf,
    },
    /// Show who this device is enrolled as, until when
    Show {
        #[command(flatten)]
        db: Db,
    },
    /// Over the network: send this device's enrollment request to a server
    Submit {
        #[command(flatten)]
        db: Db,
        /// The server, https://HOST:PORT
        #[arg(long)]
        server: String,
        /// The bureau root's SHA-256 as the bureau printed it (at least 32 hex digits; hallmark ca show ROOT.pem)
        #[arg(long)]
        root_fingerprint: String,
        #[arg(long)]
        name: String,
        #[arg(long, default_value = "")]
        unit: String,
        #[arg(long, default_value = "")]
        title: String,
    },
    /// Over the network: ask whether the request was approved, and install the certificate if so
    Fetch {
        #[command(flatten)]
        db: Db,
        #[arg(long)]
        server: String,
    },
    /// Admin: the enrollment requests a server holds, pending first
    Pending {
        #[command(flatten)]
        place: Place,
    },
    /// Admin: issue the certificate for a pending request with the bureau's CA, and hand it to the server
    Approve {
        #[command(flatten)]
        place: Place,
        /// The device key (64 hex digits) or its fingerprint as the tablet shows it
        key: String,
        /// The CA folder (hallmark ca init); its passphrase from $HALLMARK_CA_PASSPHRASE or a prompt
        #[arg(long)]
        ca: PathBuf,
        /// assessor or lead (repeat for both)
        #[arg(long = "role", required = true)]
        roles: Vec<String>,
        #[arg(long, default_value_t = 365)]
        days: i64,
    },
    /// Admin: refuse a pending request (the tablet shows the reason)
    Refuse {
        #[command(flatten)]
        place: Place,
        key: String,
        #[arg(long)]
        reason: String,
    },
}

#[derive(Subcommand)]
enum RosterCommand {
    /// Add an assessor's key (64 hex digits, shown on their tablet) with their name
    Add {
        #[command(flatten)]
        db: Db,
        /// The public key, or with --file a roster file of "key<TAB>name" lines
        #[arg(required_unless_present = "file")]
        key: Option<String>,
        #[arg(required_unless_present = "file")]
        name: Option<String>,
        #[arg(long, conflicts_with_all = ["key", "name"])]
        file: Option<PathBuf>,
    },
    /// List the known keys
    List {
        #[command(flatten)]
        db: Db,
    },
}

#[derive(Subcommand)]
enum PanelCommand {
    /// Make a panel for a site (the name the report prints) with these inspections
    Create {
        #[command(flatten)]
        db: Db,
        #[arg(long)]
        site: String,
        /// Who makes the change (kept with it)
        #[arg(long, default_value = "组长")]
        author: String,
        /// Inspection ids (or unique prefixes), as `hallmark list` shows them
        members: Vec<String>,
    },
    /// Add inspections to a panel
    Add {
        #[command(flatten)]
        db: Db,
        #[arg(long, default_value = "组长")]
        author: String,
        panel: String,
        #[arg(required = true)]
        members: Vec<String>,
    },
    /// Take an inspection out of a panel, with the reason the report prints
    Remove {
        #[command(flatten)]
        db: Db,
        #[arg(long)]
        reason: String,
        #[arg(long, default_value = "组长")]
        author: String,
        panel: String,
        member: String,
    },
    /// List the panels and their members
    List {
        #[command(flatten)]
        db: Db,
    },
}

#[derive(Subcommand)]
enum RubricCommand {
    /// Validate rubric files and list the seed findings each answers
    Check {
        #[arg(required = true)]
        files: Vec<String>,
    },
    /// Print a rubric's tree with points, inputs and rules
    Show { rubric: String },
    /// Publish a rubric file on a server: every device fetches it at its next sync (signed by the server)
    Publish {
        #[command(flatten)]
        place: Place,
        file: PathBuf,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            for line in message.lines() {
                eprintln!("error: {line}");
            }
            ExitCode::FAILURE
        }
    }
}

/// One function per subcommand.
fn run(cli: Cli) -> Result<(), String> {
    match cli.command {
        Command::Rubric { command: RubricCommand::Check { files } } => rubric::check(&files),
        Command::Rubric { command: RubricCommand::Show { rubric } } => rubric::show(&rubric),
        Command::Score { rubric, json, file } => rubric::score(&file, rubric.as_deref(), json),
        Command::Aggregate { rubric, json, files } => rubric::aggregate(&files, rubric.as_deref(), json),
        Command::Serve { data, listen, cert, key, trust, idle_timeout, upstream, relay_every, postgres, s3 } => sync::serve(
            &data,
            &listen,
            &cert,
            &key,
            &trust,
            idle_timeout,
            upstream,
            relay_every,
            postgres,
            s3.or_else(|| std::env::var("HALLMARK_S3").ok()),
        ),
        Command::Assignment { command: AssignmentCommand::Add { place, id, hall, site, rubric, lead, members, from, to } } => {
            let hall = match (hall, site) {
                (Some(h), _) => sync::HallNamed::Registry(h),
                (None, Some(s)) => sync::HallNamed::Typed(s),
                (None, None) => return Err("pass --hall ID (from the registry) or --site NAME".into()),
            };
            sync::assignment_add(&place.place()?, &id, &hall, &rubric, &lead, &members, from.zip(to))
        }
        Command::Hall { command: HallCommand::Import { place, file } } => sync::hall_import(&place.place()?, &file),
        Command::Hall { command: HallCommand::List { data } } => sync::hall_list(&data),
        Command::Records { command } => records::run(command),
        Command::Sync { command: SyncCommand::Push { db, server, trust, files } } => sync::push(&db, &server, &trust, &files),
        Command::Sync { command: SyncCommand::Pull { db, server, trust } } => sync::pull(&db, &server, &trust),
        Command::Sync { command: SyncCommand::Assignments { db, server, trust } } => sync::assignments(&db, &server, &trust),
        Command::Sync { command: SyncCommand::Report { db, server, trust, hall, report } } => {
            sync::report(&db, &server, &trust, hall.as_deref(), &report)
        }
        Command::Rubric { command: RubricCommand::Publish { place, file } } => sync::rubric_publish(&place.place()?, &file),
        Command::Export { db, inspection, out } => bundles::export(&db, &inspection, &out),
        Command::Import { db, json, files } => bundles::import(&db, &files, json),
        Command::Demo { dir, lead } => bundles::demo(&dir, lead.map(|db| Db { db }).as_ref()),
        Command::Merge { db, json } => lead::merge(&db, json),
        Command::Roster { command: RosterCommand::Add { db, key, name, file } } => lead::roster_add(&db, key, name, file.as_deref()),
        Command::Roster { command: RosterCommand::List { db } } => lead::roster_list(&db),
        Command::Panel { command: PanelCommand::Create { db, site, author, members } } => panels::create(&db, &site, &author, &members),
        Command::Panel { command: PanelCommand::Add { db, author, panel, members } } => panels::add(&db, &panel, &author, &members),
        Command::Panel { command: PanelCommand::Remove { db, reason, author, panel, member } } => {
            panels::remove(&db, &panel, &member, &reason, &author)
        }
        Command::Panel { command: PanelCommand::List { db } } => panels::list(&db),
        Command::List { db } => lead::list(&db),
        Command::Report { which, out, text, draft, supersedes, reason, previous, override_reviews } => {
            let lifecycle = hallmark_report::issue::Lifecycle {
                supersedes: supersedes.as_deref().zip(reason.as_deref()),
                previous: previous.as_deref(),
                override_reviews: override_reviews.as_deref(),
            };
            report::report(&which, &out, text, draft, &lifecycle)
        }
        Command::Verify { pdf, bundles, trust, json } => report::verify(&pdf, bundles.as_deref(), &trust, json),
        Command::Withdraw { db, pdf, reason } => report::withdraw(&db, &pdf, &reason),
        Command::Review { command } => match command {
            ReviewCommand::Return { db, sheet, item, comment } => rectify::review(&db, &sheet, item.as_deref(), true, &comment),
            ReviewCommand::Accept { db, sheet, item, comment } => rectify::review(&db, &sheet, item.as_deref(), false, &comment),
            ReviewCommand::List { db } => rectify::reviews(&db),
            ReviewCommand::Export { db, out } => rectify::review_export(&db, &out),
            ReviewCommand::Receive { db, file } => rectify::review_receive(&db, &file),
            ReviewCommand::Keep { db, sheet, item, reason } => rectify::review_keep(&db, &sheet, &item, &reason),
        },
        Command::Rectify { command } => match command {
            RectifyCommand::List { db, site } => rectify::list(&db, site.as_deref()),
            RectifyCommand::Assign { db, item, site, owner, due } => {
                rectify::record(&db, &item, site.as_deref(), hallmark_store::rectifications::Change::Assign { owner, due_on: due })
            }
            RectifyCommand::Progress { db, item, site, note } => {
                rectify::record(&db, &item, site.as_deref(), hallmark_store::rectifications::Change::Progress { note })
            }
            RectifyCommand::Done { db, item, site, note, photo } => {
                let photo = rectify::photo(&photo)?;
                rectify::record(&db, &item, site.as_deref(), hallmark_store::rectifications::Change::Done { note, photo })
            }
            RectifyCommand::Reopen { db, item, site, note } => {
                rectify::record(&db, &item, site.as_deref(), hallmark_store::rectifications::Change::Reopen { note })
            }
            RectifyCommand::Close { db, by, trust } => rectify::close(&db, &by, &trust),
            RectifyCommand::Export { db, out, site } => rectify::export(&db, &out, site.as_deref()),
        },
        Command::Ca { command: CaCommand::Init { dir, name, unit, years, parent } } => ca::init(&dir, &name, &unit, years, parent.as_deref()),
        Command::Ca { command: CaCommand::Issue { ca, role, request, name, hosts, days, out } } => {
            ca::issue(&ca, &role, request.as_deref(), name.as_deref(), &hosts, days, &out)
        }
        Command::Ca { command: CaCommand::Revoke { ca, serial, cert, reason, since } } => {
            ca::revoke(&ca, serial.as_deref(), cert.as_deref(), &reason, since.as_deref())
        }
        Command::Ca { command: CaCommand::Crl { ca, days } } => ca::crl(&ca, days),
        Command::Ca { command: CaCommand::Show { cert } } => ca::show(&cert),
        Command::Trust { command: TrustCommand::Add { db, postgres, files } } => match (db, postgres) {
            (_, Some(url)) => enroll::trust_add_postgres(&url, &files),
            (Some(db), None) => enroll::trust_add(&Db { db }, &files),
            (None, None) => Err("pass --db DB or --postgres URL".into()),
        },
        Command::Trust { command: TrustCommand::List { db } } => enroll::trust_list(&db),
        Command::Enroll { command: EnrollCommand::Request { db, name, unit, title, out } } => enroll::request(&db, &name, &unit, &title, &out),
        Command::Enroll { command: EnrollCommand::Install { db, cert, root } } => enroll::install(&db, &cert, &root),
        Command::Enroll { command: EnrollCommand::Show { db } } => enroll::show(&db),
        Command::Enroll { command: EnrollCommand::Submit { db, server, root_fingerprint, name, unit, title } } => {
            enroll::submit(&db, &server, &root_fingerprint, &name, &unit, &title)
        }
        Command::Enroll { command: EnrollCommand::Fetch { db, server } } => enroll::fetch(&db, &server),
        Command::Enroll { command: EnrollCommand::Pending { place } } => enroll::pending(&place.place()?),
        Command::Enroll { command: EnrollCommand::Approve { place, key, ca, roles, days } } => {
            enroll::approve(&place.place()?, &key, &ca, &roles, days)
        }
        Command::Enroll { command: EnrollCommand::Refuse { place, key, reason } } => enroll::refuse(&place.place()?, &key, &reason),
        Command::Scores { which, out } => report::scores(&which, &out),
        Command::PhotoSize { db, value } => settings::photo_size(&db, value.as_deref()),
        Command::Check { db, json } => recovery::check(&db, json),
        Command::Backup { db, out, with_key } => recovery::backup(&db, &out, with_key),
        Command::Restore { db, from, replace } => recovery::restore(&db, &from, replace),
        Command::Rebuild { db, from } => recovery::rebuild(&db, &from),
    }
}

fn read(path: &Path) -> Result<String, String> {
    std::fs::read_to_string(path).map_err(|e| format!("{}: cannot read: {} (check the path)", path.display(), lower(&e.to_string())))
}

/// Reads a file of at most `max` bytes: a larger one is refused before it is read, with
/// `too_big`'s message.
fn read_at_most(path: &Path, max: usize, too_big: fn(usize) -> String) -> Result<String, String> {
    if let Ok(m) = std::fs::metadata(path) {
        if m.len() > max as u64 {
            return Err(format!("{}: {}", path.display(), too_big(m.len() as usize)));
        }
    }
    read(path)
}

fn lower(s: &str) -> String {
    let mut c = s.chars();
    c.next().map(|f| f.to_lowercase().collect::<String>() + c.as_str()).unwrap_or_default()
}

fn json<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string_pretty(v).expect("score types serialize")
}

fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// `--db X`: a folder is a data folder (like the app's); anything else is the SQLite file,
/// with its photos and key in `X-files/`.
fn db_paths(db: &Db) -> (PathBuf, PathBuf) {
    if db.db.is_dir() {
        (db.db.join(hallmark_store::DB_FILE), db.db.clone())
    } else {
        let mut files = db.db.clone().into_os_string();
        files.push("-files");
        (db.db.clone(), PathBuf::from(files))
    }
}

/// Opens `--db` as `access` says: only the commands that create (`import`, `roster add`) make
/// a new database; the others refuse a missing or empty file instead of creating it (a typo'd
/// `--db` must not leave a fresh empty database, and an empty file is a damaged one), and the
/// read-only ones (`list`, `merge`, `scores`, `check`, `backup`) never write. Notices (a key
/// file made private, say) go to stderr.
fn open_db(db: &Db, access: Access) -> Result<Store, String> {
    let (file, dir) = db_paths(db);
    let store = Store::open_with(&file, &dir, access, &now()).map_err(|e| match e {
        hallmark_store::StoreError::Missing(_) => {
            format!("{}: no hallmark database here (a typo? `hallmark import --db {} FILE.hallmark` makes one)", db.db.display(), db.db.display())
        }
        hallmark_store::StoreError::Damaged { .. } => e.to_string(),
        e => format!("{}: {e}", db.db.display()),
    })?;
    for n in store.notices() {
        eprintln!("warning: {n}");
    }
    Ok(store)
}
