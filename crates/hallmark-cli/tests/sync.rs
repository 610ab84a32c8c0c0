//! Issue #11 with real processes on loopback: `hallmark serve` (TLS, the embedded backend)
//! on the demo bureau, tablets pushing with `hallmark sync push`, the lead pulling, and the
//! faults the issue names — the server killed at each failpoint, a cut upload resumed,
//! hostile requests and bundles refused with nothing stored.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use hallmark_store::identity::DeviceKey;
use hallmark_store::Store;
use hallmark_sync::client::{Client, DeviceSigner};
use hallmark_sync::httpsig;
use sha2::{Digest, Sha256};

mod common;
use common::{Cluster, Garage};

const NOW: &str = "2026-12-01T08:00:00.000Z";
const LIAONING_SITE: &str = "铁岭县医疗保障事务服务中心";

fn hallmark(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_hallmark")).args(args).env("HALLMARK_CA_PASSPHRASE", "hallmark-demo-only").output().unwrap()
}

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

fn ok(args: &[&str]) -> String {
    let o = hallmark(args);
    assert!(o.status.success(), "hallmark {args:?}: {}", text(&o));
    text(&o)
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// A running `hallmark serve`; killed (SIGKILL) when dropped.
struct Server {
    child: Child,
    url: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The demo, a server data folder with the Liaoning assignment; with `pg`, the server keeps
/// what it holds in PostgreSQL and the object store instead (issue #16).
struct Demo {
    _tmp: tempfile::TempDir,
    dir: PathBuf,
    data: PathBuf,
    pg: Option<Pg>,
}

/// A database of a test's own — on the test cluster (`HALLMARK_PG`), or on a cluster of its own
/// that the test may restart — with the bundle files in a Garage of its own when one is
/// installed (else in PostgreSQL): `hallmark serve --postgres URL [--s3 URL]`.
struct Pg {
    admin_url: String,
    name: String,
    url: String,
    garage: Option<Garage>,
    cluster: Option<Cluster>,
}

impl Pg {
    /// `None` (the test skips) only when no PostgreSQL is given and none is required.
    fn new(tag: &str, own_cluster: bool) -> Option<Pg> {
        let shared = match std::env::var("HALLMARK_PG") {
            Ok(u) => u,
            Err(_) => {
                assert!(std::env::var_os("HALLMARK_REQUIRE_PG").is_none(), "HALLMARK_REQUIRE_PG is set but HALLMARK_PG is not");
                eprintln!("skipped: HALLMARK_PG is not set (scripts/test.sh starts PostgreSQL)");
                return None;
            }
        };
        let cluster = own_cluster.then(|| Cluster::start(&format!("sync-{tag}")));
        let admin_url = cluster.as_ref().map(|c| c.url.clone()).unwrap_or(shared);
        let name = format!("hallmark_sync_{tag}_{}", std::process::id());
        let mut admin = postgres::Client::connect(&admin_url, postgres::NoTls).unwrap();
        admin.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).unwrap();
        admin.batch_execute(&format!("CREATE DATABASE {name}")).unwrap();
        let url = format!("{}/{name}", admin_url.rsplit_once('/').unwrap().0);
        let garage = Garage::installed().then(|| {
            let dir = std::env::temp_dir().join(format!("hallmark-garage-{tag}-{}", std::process::id()));
            let _ = std::fs::remove_dir_all(&dir);
            Garage::start(&dir)
        });
        eprintln!("{tag}: bundle files in {}", if garage.is_some() { "Garage" } else { "PostgreSQL (garage is not installed)" });
        Some(Pg { admin_url, name, url, garage, cluster })
    }

    fn s3(&self) -> Option<&str> {
        self.garage.as_ref().map(|g| g.url.as_str())
    }

    fn db(&self) -> postgres::Client {
        postgres::Client::connect(&self.url, postgres::NoTls).unwrap()
    }
}

impl Drop for Pg {
    fn drop(&mut self) {
        if let Ok(mut admin) = postgres::Client::connect(&self.admin_url, postgres::NoTls) {
            let _ = admin.batch_execute(&format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name));
        }
    }
}

impl Demo {
    fn new() -> Demo {
        Demo::with(None)
    }

    /// The demo with its server on PostgreSQL and the object store (`None`: skipped).
    fn on_postgres(tag: &str) -> Option<Demo> {
        Some(Demo::with(Some(Pg::new(tag, false)?)))
    }

    fn with(pg: Option<Pg>) -> Demo {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("demo");
        ok(&["demo", s(&dir), "--lead", s(&dir.join("lead.db"))]);
        let data = tmp.path().join("server");
        let place = match &pg {
            Some(pg) => ["--postgres", pg.url.as_str()],
            None => ["--data", s(&data)],
        };
        let mut args: Vec<String> =
            ["assignment", "add", place[0], place[1], "--id", "TL-2026", "--site", LIAONING_SITE, "--rubric", "liaoning-demo-window", "--lead"]
                .map(String::from)
                .to_vec();
        args.push(dir.join("sync/lead-certificate.pem").display().to_string());
        for t in Demo::liaoning_tablets(&dir) {
            args.push("--member".into());
            args.push(t.join("certificate.pem").display().to_string());
        }
        ok(&args.iter().map(String::as_str).collect::<Vec<_>>());
        Demo { _tmp: tmp, dir, data, pg }
    }

    fn liaoning_tablets(dir: &Path) -> Vec<PathBuf> {
        let mut t: Vec<PathBuf> = std::fs::read_dir(dir.join("tablets"))
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.display().to_string().contains("liaoning-"))
            .collect();
        t.sort();
        t
    }

    fn tablet(&self, n: usize) -> PathBuf {
        Demo::liaoning_tablets(&self.dir)[n].clone()
    }

    fn bundle_of(&self, tablet: &Path) -> PathBuf {
        self.dir.join(format!("{}.hallmark", tablet.file_name().unwrap().to_str().unwrap()))
    }

    fn serve(&self, failpoint: Option<&str>, extra: &[&str]) -> Server {
        self.serve_in(&self.data, failpoint, extra)
    }

    fn serve_in(&self, data: &Path, failpoint: Option<&str>, extra: &[&str]) -> Server {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_hallmark"));
        cmd.args(["serve", "--data", s(data), "--listen", "127.0.0.1:0"])
            .args(["--cert", s(&self.dir.join("sync/server.pem")), "--key", s(&self.dir.join("sync/server.key"))])
            .args(["--trust", s(&self.dir.join("bureau-root.pem")), "--trust", s(&self.dir.join("bureau-crl.pem"))])
            .args(extra)
            .env_remove("HALLMARK_S3")
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        if let Some(pg) = self.pg.as_ref().filter(|_| data == self.data) {
            cmd.args(["--postgres", &pg.url]);
            if let Some(url) = pg.s3() {
                cmd.args(["--s3", url]);
            }
        }
        match failpoint {
            Some(f) => cmd.env("HALLMARK_FAILPOINT", f),
            None => cmd.env_remove("HALLMARK_FAILPOINT"),
        };
        let mut child = cmd.spawn().unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        let url = line.split_whitespace().nth(2).unwrap_or_else(|| panic!("no listening line: {line:?}")).to_string();
        assert!(url.starts_with("https://127.0.0.1:"), "{line}");
        Server { child, url }
    }

    /// On PostgreSQL: every file a bundle row names is there — its blob row, and with the
    /// object store its object (issue #16: a row whose file is missing is never visible).
    fn every_row_has_its_file(&self, when: &str) {
        let Some(pg) = &self.pg else { return };
        let mut db = pg.db();
        let named: Vec<String> = db.query("SELECT DISTINCT sha256::text FROM sync_bundle_files", &[]).unwrap().iter().map(|r| r.get(0)).collect();
        let rows: std::collections::BTreeSet<String> = db.query("SELECT sha256::text FROM blobs", &[]).unwrap().iter().map(|r| r.get(0)).collect();
        let objects = pg.garage.as_ref().map(|g| g.objects());
        for h in &named {
            assert!(rows.contains(h), "{when}: a bundle names {h}, which has no blob row");
            if let Some(objects) = &objects {
                assert!(objects.contains(h), "{when}: a bundle names {h}, which is not in the object store");
            }
        }
    }

    /// A library client signing as a tablet's device key.
    fn client(&self, server: &Server, tablet: &Path) -> Client {
        self.client_at(&server.url, tablet).unwrap()
    }

    fn client_at(&self, url: &str, tablet: &Path) -> Result<Client, hallmark_sync::SyncError> {
        let store = Store::open(tablet, NOW).unwrap();
        let root = std::fs::read_to_string(self.dir.join("bureau-root.pem")).unwrap();
        let mut trust = hallmark_trust::TrustStore::new();
        trust.add_roots_pem("root", root.as_bytes()).unwrap();
        let c = Client::new(url, &[root], trust, DeviceSigner::of(store.device_key()))?;
        c.present(&store.device_certificates().unwrap().unwrap())?;
        Ok(c)
    }

    /// What the server holds: (bundle ids, files under the store folders with their sizes).
    fn held(&self) -> (Vec<String>, Vec<(String, u64)>) {
        if let Some(pg) = &self.pg {
            let mut db = pg.db();
            let ids = db.query("SELECT id::text FROM sync_bundles ORDER BY imported_at, id", &[]).unwrap().iter().map(|r| r.get(0)).collect();
            let files = db
                .query("SELECT sha256::text, size FROM blobs ORDER BY sha256", &[])
                .unwrap()
                .iter()
                .map(|r| (r.get(0), r.get::<_, i64>(1) as u64))
                .collect();
            return (ids, files);
        }
        let ids = if self.data.join("hallmark.sqlite3").exists() {
            let store = Store::open(&self.data, NOW).unwrap();
            store.held_bundles().unwrap().into_iter().map(|b| b.bundle_id).collect()
        } else {
            vec![]
        };
        let mut files = Vec::new();
        for sub in ["photos", "thumbs", "signatures"] {
            walk(&self.data.join(sub), &mut files);
        }
        files.sort();
        (ids, files)
    }
}

fn walk(dir: &Path, out: &mut Vec<(String, u64)>) {
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            walk(&p, out);
        } else {
            out.push((p.display().to_string(), e.metadata().unwrap().len()));
        }
    }
}

#[test]
fn tablets_push_the_lead_pulls_and_the_merge_is_the_usb_merge() {
    push_pull_merge(&Demo::new());
}

#[test]
fn on_postgres_tablets_push_the_lead_pulls_and_the_merge_is_the_usb_merge() {
    let Some(demo) = Demo::on_postgres("merge") else { return };
    push_pull_merge(&demo);
}

fn push_pull_merge(demo: &Demo) {
    let server = demo.serve(None, &[]);
    for t in Demo::liaoning_tablets(&demo.dir) {
        let out = ok(&["sync", "push", "--db", s(&t), "--server", &server.url]);
        assert!(out.contains("已同步, received by '演示同步服务器'"), "{out}");
        // Nothing changed: the second push sends nothing.
        let again = ok(&["sync", "push", "--db", s(&t), "--server", &server.url]);
        assert!(again.contains("unchanged since its last receipt"), "{again}");
    }
    // An assessor may not pull; the lead pulls its panel of five.
    let o = hallmark(&["sync", "pull", "--db", s(&demo.tablet(0)), "--server", &server.url]);
    assert!(!o.status.success() && text(&o).contains("403 not_lead"), "{}", text(&o));
    let pulled = ok(&["sync", "pull", "--db", s(&demo.dir.join("lead.db")), "--server", &server.url]);
    assert_eq!(pulled.matches("已导入 铁岭县").count(), 5, "{pulled}");
    let again = ok(&["sync", "pull", "--db", s(&demo.dir.join("lead.db")), "--server", &server.url]);
    assert_eq!(again.matches("already here").count(), 5, "{again}");

    // The same five by USB stick: the merge view's result is the same.
    let usb = demo.dir.join("usb.db");
    let mut args = vec!["import", "--db", s(&usb)];
    let files: Vec<PathBuf> = Demo::liaoning_tablets(&demo.dir).iter().map(|t| demo.bundle_of(t)).collect();
    args.extend(files.iter().map(|f| s(f)));
    ok(&args);
    let score = |db: &Path| {
        let out = ok(&["merge", "--db", s(db)]);
        out.lines().filter(|l| l.contains("最终得分") || l.contains("合计")).map(str::to_string).collect::<Vec<_>>()
    };
    let (a, b) = (score(&demo.dir.join("lead.db")), score(&usb));
    assert!(!a.is_empty(), "the merge view names a final score");
    assert_eq!(a, b);
}

#[test]
fn a_pulled_bundle_is_byte_identical_and_a_receipt_comes_back_the_same() {
    pulled_back_identical(&Demo::new());
}

#[test]
fn on_postgres_a_pulled_bundle_is_byte_identical_and_a_receipt_comes_back_the_same() {
    let Some(demo) = Demo::on_postgres("identical") else { return };
    pulled_back_identical(&demo);
}

fn pulled_back_identical(demo: &Demo) {
    let server = demo.serve(None, &[]);
    let tablet = demo.tablet(1);
    let file = demo.bundle_of(&tablet);
    let client = demo.client(&server, &tablet);
    let first = client.push_file(&file, &mut |_, _| {}).unwrap();
    assert!(!first.already_had);
    assert_eq!(first.files_sent, 7, "3 photos, 3 thumbnails, the signature image");
    // The receipt was sent but (say) never stored by the tablet: the next push gets the same
    // receipt, byte for byte, and sends nothing.
    let second = client.push_file(&file, &mut |_, _| {}).unwrap();
    assert!(second.already_had);
    assert_eq!((second.files_sent, &second.signed), (0, &first.signed));
    let r = &first.receipt.receipt;
    assert_eq!((r.events, r.photos, r.server.as_str()), (58, 3, "演示同步服务器"));
    // The tablet may fetch its own bundle back: the bytes it exported.
    let back = demo.dir.join("back.hallmark");
    client.fetch(&first.bundle_id, &back).unwrap();
    assert_eq!(std::fs::read(&back).unwrap(), std::fs::read(&file).unwrap());
    // A receipt altered in transit does not check.
    let mut forged: hallmark_sync::wire::SignedReceiptV1 = serde_json::from_str(&first.signed).unwrap();
    forged.receipt = forged.receipt.replace("\"events\":58", "\"events\":59");
    let trust = {
        let mut t = hallmark_trust::TrustStore::new();
        t.add_roots_pem("root", &std::fs::read(demo.dir.join("bureau-root.pem")).unwrap()).unwrap();
        t
    };
    let e = hallmark_sync::receipt::check(&forged, &first.bundle_id, &trust, chrono::Utc::now()).unwrap_err();
    assert!(e.contains("does not verify"), "{e}");
}

/// The server killed (abort, as `kill -9`) at each named failpoint, then restarted: the push
/// resumes and completes, the bundle is held exactly once, and files that arrived before the
/// kill are not sent again.
#[test]
fn the_server_killed_at_each_failpoint_loses_nothing_and_the_push_resumes() {
    let demo = Demo::new();
    for (n, failpoint) in ["file-stored", "committed", "receipt-kept"].into_iter().enumerate() {
        let tablet = demo.tablet(n);
        let file = demo.bundle_of(&tablet);
        let server = demo.serve(Some(failpoint), &[]);
        let client = demo.client(&server, &tablet);
        let e = client.push_file(&file, &mut |_, _| {}).unwrap_err();
        assert!(e.is_transient(), "{failpoint}: the cut push is worth retrying: {e}");
        drop(server);
        let before = demo.held();
        let server = demo.serve(None, &[]);
        let client = demo.client(&server, &tablet);
        if failpoint == "file-stored" {
            // A crash may leave a received, not yet committed file with anything in it.
            let mut waiting = Vec::new();
            walk(&demo.data, &mut waiting);
            let (path, _) = waiting.iter().find(|(p, _)| p.ends_with(".recv")).expect("one file waits for its commit");
            let mut bytes = std::fs::read(path).unwrap();
            let mid = bytes.len() / 2;
            bytes[mid] ^= 0x20;
            std::fs::write(path, bytes).unwrap();
            let e = client.push_file(&file, &mut |_, _| {}).unwrap_err().to_string();
            assert!(e.contains("is damaged") && e.contains("422 damaged"), "{e}");
        }
        let pushed = client.push_file(&file, &mut |_, _| {}).unwrap();
        match failpoint {
            // One file arrived before the kill: six are left to send. (Its waiting copy, made
            // durable only by the commit, was damaged above: the commit refused it, and this
            // push sent it again.)
            "file-stored" => assert_eq!((pushed.files_sent, pushed.already_had), (1, false), "{failpoint}"),
            // Committed before the kill: nothing is sent again, the receipt is given now.
            _ => {
                assert_eq!((pushed.files_sent, pushed.already_had), (0, true), "{failpoint}");
                assert!(before.0.contains(&pushed.bundle_id), "{failpoint}: committed before the kill");
            }
        }
        let (ids, _) = demo.held();
        assert_eq!(ids.iter().filter(|i| **i == pushed.bundle_id).count(), 1, "{failpoint}: held exactly once");
        assert_eq!(ids.len(), n + 1, "{failpoint}: nothing half-committed is visible");
    }
}

/// Issue #16: the server on PostgreSQL killed at each failpoint — an object stored but not yet
/// its row (with the object store), a file stored, the commit, the receipt kept — then
/// restarted: the push resumes, the bundle is held exactly once, a file whose row was not
/// written is asked for again, and nothing half-committed is visible.
#[test]
fn on_postgres_the_server_killed_at_each_failpoint_loses_nothing_and_the_push_resumes() {
    let Some(demo) = Demo::on_postgres("failpoints") else { return };
    let garage = demo.pg.as_ref().and_then(|p| p.garage.as_ref());
    let mut points = vec!["file-stored", "committed", "receipt-kept"];
    if garage.is_some() {
        points.insert(0, "object-stored");
    }
    for (n, failpoint) in points.into_iter().enumerate() {
        let tablet = demo.tablet(n);
        let file = demo.bundle_of(&tablet);
        let listed: Vec<String> = hallmark_bundle::verify::open(&file).unwrap().manifest.files().into_iter().map(|f| f.sha256).collect();
        let server = demo.serve(Some(failpoint), &[]);
        let e = demo.client(&server, &tablet).push_file(&file, &mut |_, _| {}).unwrap_err();
        assert!(e.is_transient(), "{failpoint}: the cut push is worth retrying: {e}");
        drop(server);
        let before = demo.held();
        let rows: std::collections::BTreeSet<&String> = before.1.iter().map(|(h, _)| h).collect();
        if let (Some(g), "object-stored") = (garage, failpoint) {
            let orphans: Vec<String> = g.objects().into_iter().filter(|o| !rows.contains(o)).collect();
            // (A push has up to three files in flight: as many objects may have been stored.)
            assert!((1..=3).contains(&orphans.len()), "the objects stored before the kill have no row: {orphans:?}");
        }
        let mut to_send = listed.iter().filter(|h| !rows.contains(h)).collect::<std::collections::BTreeSet<_>>().len();
        let server = demo.serve(None, &[]);
        if let (Some(g), "file-stored") = (garage, failpoint) {
            // The object store then loses what arrived before the kill (a bucket restored from
            // an older copy): the commit finds those objects gone, answers 503 and forgets their
            // rows; the retry sends them again.
            let store = hallmark_province::blobs::S3Blobs::open(&g.url).unwrap();
            let lost: Vec<&String> = listed.iter().filter(|h| rows.contains(h)).collect::<std::collections::BTreeSet<_>>().into_iter().collect();
            assert!(!lost.is_empty(), "a file was stored before the kill");
            for h in &lost {
                store.delete(h).unwrap();
            }
            let e = demo.client(&server, &tablet).push_file(&file, &mut |_, _| {}).unwrap_err();
            assert!(e.is_transient() && e.to_string().contains("503") && e.to_string().contains("not there"), "{e}");
            assert!(!demo.held().0.iter().any(|i| rows.contains(i)), "nothing committed without its objects");
            to_send = lost.len();
        }
        let pushed = demo.client(&server, &tablet).push_file(&file, &mut |_, _| {}).unwrap();
        match failpoint {
            // Every file without its row is sent (again): the orphan object too.
            "object-stored" | "file-stored" => {
                assert_eq!((pushed.files_sent, pushed.already_had), (to_send, false), "{failpoint}");
                if failpoint == "file-stored" {
                    assert!(to_send < listed.len(), "the file stored before the kill is kept (or, lost by the store, sent again alone)");
                }
            }
            _ => {
                assert_eq!((pushed.files_sent, pushed.already_had), (0, true), "{failpoint}");
                assert!(before.0.contains(&pushed.bundle_id), "{failpoint}: committed before the kill");
            }
        }
        let (ids, files) = demo.held();
        assert_eq!(ids.iter().filter(|i| **i == pushed.bundle_id).count(), 1, "{failpoint}: held exactly once");
        assert_eq!(ids.len(), n + 1, "{failpoint}: nothing half-committed is visible");
        demo.every_row_has_its_file(failpoint);
        if let Some(g) = garage {
            let rows: std::collections::BTreeSet<String> = files.into_iter().map(|(h, _)| h).collect();
            assert_eq!(g.objects(), rows, "{failpoint}: every object indexed once its bundle committed");
        }
        let back = demo.dir.join("back.hallmark");
        demo.client(&server, &tablet).fetch(&pushed.bundle_id, &back).unwrap();
        assert_eq!(std::fs::read(&back).unwrap(), std::fs::read(&file).unwrap(), "{failpoint}");
    }
}

/// Issue #16: tablets keep pushing while PostgreSQL is restarted and the object store (with
/// Garage) is stopped and started again under the running server. Meanwhile the server
/// answers 503 (seen by a push made during each outage), the tablets retry, and in the end
/// every bundle is held exactly once and comes back byte-identical.
#[test]
fn on_postgres_restarted_and_the_object_store_stopped_mid_run_nothing_is_lost() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let Some(pg) = Pg::new("restart", true) else { return };
    let demo = Demo::with(Some(pg));
    let tablets = growing_tablets(&demo, 5, 6);
    let (pushers, witness) = tablets.split_at(4);
    let server = demo.serve(None, &[]);
    let receipted = std::sync::Mutex::new(Vec::new());
    let retried = AtomicUsize::new(0);
    let deadline = Instant::now() + Duration::from_secs(240);
    // One push, retried while the server says to try again (bounded in time).
    let push = |dir: &Path, f: &Path| -> String {
        loop {
            match demo.client_at(&server.url, dir).and_then(|c| c.push_file(f, &mut |_, _| {})) {
                Ok(p) => return p.bundle_id,
                Err(e) if e.is_transient() => {
                    retried.fetch_add(1, Ordering::Relaxed);
                    assert!(Instant::now() < deadline, "no push got through after the faults: {e}");
                    std::thread::sleep(Duration::from_millis(200));
                }
                Err(e) => panic!("{}: {e}", f.display()),
            }
        }
    };
    // A push made while a part is down: refused with 503, nothing kept.
    let refused_while_down = |what: &str| {
        let e = demo.client_at(&server.url, &witness[0].0).and_then(|c| c.push_file(&witness[0].1[0], &mut |_, _| {})).unwrap_err();
        // (The witness's photos are its own: its first bundle needs the object store too.)
        assert!(e.is_transient() && e.to_string().contains("503"), "{what}: {e}");
    };
    let pg = demo.pg.as_ref().unwrap();
    let cluster = pg.cluster.as_ref().unwrap();
    let wait_for = |n: usize| {
        while receipted.lock().unwrap().len() < n {
            assert!(Instant::now() < deadline, "the pushes stalled");
            std::thread::sleep(Duration::from_millis(50));
        }
    };
    std::thread::scope(|s| {
        for (dir, files) in pushers {
            let (push, receipted) = (&push, &receipted);
            s.spawn(move || {
                for f in files {
                    let id = push(dir, f);
                    receipted.lock().unwrap().push(id);
                }
            });
        }
        wait_for(2);
        cluster.run("stop");
        refused_while_down("PostgreSQL stopped");
        std::thread::sleep(Duration::from_millis(800));
        cluster.run("start");
        if let Some(g) = &pg.garage {
            let so_far = receipted.lock().unwrap().len();
            wait_for(so_far + 2);
            g.run("stop");
            refused_while_down("the object store stopped");
            std::thread::sleep(Duration::from_millis(800));
            g.run("start");
        }
    });
    let mut all = receipted.into_inner().unwrap();
    for f in &witness[0].1 {
        all.push(push(&witness[0].0, f));
    }
    let retried = retried.load(Ordering::Relaxed);
    eprintln!("{retried} pushes retried after a 503 or a cut; {} bundles held", all.len());
    let (held, _) = demo.held();
    assert_eq!(held.len(), 5 * 6, "every bundle held");
    assert_eq!(held.iter().collect::<std::collections::BTreeSet<_>>().len(), held.len(), "each exactly once");
    demo.every_row_has_its_file("after the faults");
    for (dir, files) in &tablets {
        let back = demo.dir.join("back.hallmark");
        let last = files.last().unwrap();
        let id = push(dir, last);
        demo.client_at(&server.url, dir).unwrap().fetch(&id, &back).unwrap();
        assert_eq!(std::fs::read(&back).unwrap(), std::fs::read(last).unwrap());
    }
}

/// TLS that trusts only the demo bureau's root, as a tablet's client does.
fn demo_tls(demo: &Demo) -> Arc<rustls::ClientConfig> {
    let mut roots = rustls::RootCertStore::empty();
    for der in hallmark_trust::certificate::read_pem("root", &std::fs::read(demo.dir.join("bureau-root.pem")).unwrap()).unwrap() {
        roots.add(der).unwrap();
    }
    Arc::new(
        rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth(),
    )
}

/// A raw client for hostile requests: TLS trusting the demo root, signing optional.
struct Raw {
    agent: ureq::Agent,
    url: String,
    key: DeviceKey,
}

impl Raw {
    fn new(demo: &Demo, server: &Server, tablet: &Path) -> Raw {
        let agent = ureq::AgentBuilder::new().tls_config(demo_tls(demo)).build();
        let key = Store::open(tablet, NOW).unwrap().device_key().clone();
        Raw { agent, url: server.url.clone(), key }
    }

    fn signed_headers(&self, method: &str, path: &str, body: &[u8], nonce: &str) -> Vec<(String, String)> {
        self.signed_with_digest(method, path, &Sha256::digest(body), nonce)
    }

    fn signed_with_digest(&self, method: &str, path: &str, sha256: &[u8], nonce: &str) -> Vec<(String, String)> {
        let digest = httpsig::content_digest(sha256);
        let d = digest.clone();
        let header = move |n: &str| (n == "content-digest").then(|| d.clone());
        let authority = self.url.trim_start_matches("https://").to_string();
        let req = httpsig::Request { method, authority: &authority, path, query: None, header: &header };
        let (input, sig) = httpsig::sign(&req, &self.key.public_key_hex(), chrono::Utc::now().timestamp(), nonce, &|m| self.key.sign(m)).unwrap();
        vec![("content-digest".into(), digest), ("signature-input".into(), input), ("signature".into(), sig)]
    }

    /// (status, error code) of a request.
    fn send(&self, method: &str, path: &str, body: &[u8], headers: &[(String, String)]) -> (u16, String) {
        let mut r = self.agent.request(method, &format!("{}{path}", self.url));
        for (k, v) in headers {
            r = r.set(k, v);
        }
        match r.send_bytes(body) {
            Ok(resp) => (resp.status(), String::new()),
            Err(ureq::Error::Status(code, resp)) => {
                let v: serde_json::Value = resp.into_json().unwrap_or_default();
                (code, v["error"].as_str().unwrap_or("").to_string())
            }
            // The server answered early and closed while the body was still being sent.
            Err(e) => (0, e.to_string()),
        }
    }
}

/// The first two entries of a bundle as a client sends them (or, for a file that is no
/// bundle, its first bytes).
fn head_of(file: &Path) -> Vec<u8> {
    let bytes = std::fs::read(file).unwrap();
    let mut pos = 0usize;
    for _ in 0..2 {
        let Some(h) = bytes.get(pos..pos + 512) else { return bytes.iter().copied().take(1 << 20).collect() };
        let size = std::str::from_utf8(&h[124..136]).ok().and_then(|t| u64::from_str_radix(t.trim_matches(|c: char| c == '\0' || c == ' '), 8).ok());
        let Some(size) = size.filter(|s| *s < 1 << 26) else { return bytes.iter().copied().take(1 << 20).collect() };
        pos += 512 + (size as usize).div_ceil(512) * 512;
    }
    bytes[..pos.min(bytes.len())].to_vec()
}

#[test]
fn unsigned_replayed_unknown_and_hostile_requests_are_refused_and_nothing_is_stored() {
    let demo = Demo::new();
    let server = demo.serve(None, &["--idle-timeout", "2"]);
    let tablet = demo.tablet(2);
    let _ = demo.client(&server, &tablet); // presents its certificate
    let raw = Raw::new(&demo, &server, &tablet);
    let before = demo.held();

    // Unsigned, and a signature that does not match.
    assert_eq!(raw.send("GET", "/v1/pull", b"", &[]), (401, "unsigned".into()));
    let mut h = raw.signed_headers("GET", "/v1/pull", b"", "n-1");
    // One base64 character of the signature changed (always: a signature without an 'A' made
    // the earlier replacen('A', "B") a no-op once in a while, and the request went through).
    let at = h[2].1.find(":").unwrap() + 1;
    let c = h[2].1.as_bytes()[at];
    h[2].1.replace_range(at..at + 1, if c == b'B' { "C" } else { "B" });
    assert_eq!(raw.send("GET", "/v1/pull", b"", &h).1, "bad_signature");
    // A request replayed with its nonce.
    let head = head_of(&demo.bundle_of(&tablet));
    let h = raw.signed_headers("POST", "/v1/bundles", &head, "n-3");
    assert_eq!(raw.send("POST", "/v1/bundles", &head, &h).0, 200);
    assert_eq!(raw.send("POST", "/v1/bundles", &head, &h), (401, "replay".into()));
    // A body that is not the one signed.
    let h = raw.signed_headers("POST", "/v1/bundles", &head, "n-4");
    let mut other = head.clone();
    other[600] ^= 1;
    assert_eq!(raw.send("POST", "/v1/bundles", &other, &h), (400, "digest_mismatch".into()));
    // A device that never presented a certificate (the lead's database here).
    let stranger = Raw { key: DeviceKey::load(&demo.dir.join("lead.db-files"), &mut vec![]).unwrap(), ..Raw::new(&demo, &server, &tablet) };
    let h = stranger.signed_headers("GET", "/v1/pull", b"", "n-5");
    assert_eq!(stranger.send("GET", "/v1/pull", b"", &h), (401, "unknown_device".into()));
    // Another tablet's bundle, and an oversized head.
    let theirs = head_of(&demo.bundle_of(&demo.tablet(3)));
    let h = raw.signed_headers("POST", "/v1/bundles", &theirs, "n-6");
    assert_eq!(raw.send("POST", "/v1/bundles", &theirs, &h), (403, "not_yours".into()));
    let huge = vec![0u8; 65 << 20];
    let h = raw.signed_headers("POST", "/v1/bundles", &huge, "n-7");
    let (status, said) = raw.send("POST", "/v1/bundles", &huge, &h);
    assert!(status == 413 || said.contains("Broken pipe") || said.contains("reset"), "an oversized body is cut off: {status} {said}");

    // Every hostile bundle of the bundle tests: refused with the import's reason.
    let bad = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/bundles/bad");
    let mut files: Vec<PathBuf> =
        std::fs::read_dir(&bad).unwrap().flatten().map(|e| e.path()).filter(|p| p.extension().is_some_and(|x| x == "hallmark")).collect();
    files.sort();
    assert!(files.len() >= 15);
    for (i, f) in files.iter().enumerate() {
        let head = head_of(f);
        let h = raw.signed_headers("POST", "/v1/bundles", &head, &format!("bad-{i}"));
        let (status, code) = raw.send("POST", "/v1/bundles", &head, &h);
        // The head of a bundle whose damage is in its files passes the offer; its owner is
        // another device, so it is refused as not_yours before anything is kept.
        assert!((400..500).contains(&status), "{}: {status} {code}", f.display());
    }

    // A photo altered in transit: refused on arrival, and the commit refuses a bundle with a
    // file missing.
    let file = demo.bundle_of(&tablet);
    let head = head_of(&file);
    let h = raw.signed_headers("POST", "/v1/bundles", &head, "n-8");
    assert_eq!(raw.send("POST", "/v1/bundles", &head, &h).0, 200);
    let (id, photo, sha) = {
        let store = Store::open(&tablet, NOW).unwrap();
        let opened = hallmark_bundle::verify::open(&file).unwrap();
        let f = opened.manifest.files().into_iter().next().unwrap();
        let bytes = std::fs::read(hallmark_store::bundle::stored_path(store.dir(), &f)).unwrap();
        (opened.bundle_id, bytes, f.sha256)
    };
    let mut altered = photo.clone();
    altered[photo.len() / 2] ^= 0x40;
    let path = format!("/v1/bundles/{id}/files/{sha}");
    // The tablet signed the listed digest; the bytes were altered on the way.
    let h = raw.signed_with_digest("PUT", &path, &hallmark_core::hex::unhex(&sha).unwrap(), "n-9");
    let (status, code) = raw.send("PUT", &path, &altered, &h);
    assert_eq!((status, code.as_str()), (422, "altered"), "an altered file is refused on arrival");
    let commit = format!("/v1/bundles/{id}/commit");
    let h = raw.signed_headers("POST", &commit, b"", "n-10");
    assert_eq!(raw.send("POST", &commit, b"", &h).0, 422, "a commit with files missing is refused");
    assert_eq!(demo.held(), before, "nothing was stored");

    // A slow-loris body is cut off by the idle timeout; nothing is stored.
    let started = Instant::now();
    let tcp = TcpStream::connect(server.url.trim_start_matches("https://")).unwrap();
    tcp.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let mut tls = {
        let conn = rustls::ClientConnection::new(demo_tls(&demo), "127.0.0.1".try_into().unwrap()).unwrap();
        rustls::StreamOwned::new(conn, tcp)
    };
    let h = raw.signed_headers("PUT", &path, &photo, "n-11");
    let mut req = format!("PUT {path} HTTP/1.1\r\nhost: {}\r\ncontent-length: {}\r\n", server.url.trim_start_matches("https://"), photo.len());
    for (k, v) in &h {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    tls.write_all(req.as_bytes()).unwrap();
    tls.write_all(&photo[..100]).unwrap();
    tls.flush().unwrap();
    let mut answer = String::new();
    let _ = tls.read_to_string(&mut answer);
    assert!(answer.starts_with("HTTP/1.1 408") && answer.contains("too_slow"), "{answer}");
    assert!(started.elapsed() < Duration::from_secs(15), "cut within the idle timeout");
    assert_eq!(demo.held(), before, "nothing was stored");
}

#[test]
fn a_revoked_device_is_refused_at_its_next_request() {
    revoked_at_its_next_request(&Demo::new());
}

/// Issue #16: the revocation list loaded into the province server's PostgreSQL (`trust add
/// --postgres`) while it runs.
#[test]
fn on_postgres_a_revoked_device_is_refused_at_its_next_request() {
    let Some(demo) = Demo::on_postgres("revoked") else { return };
    revoked_at_its_next_request(&demo);
}

fn revoked_at_its_next_request(demo: &Demo) {
    let server = demo.serve(None, &[]);
    let tablet = demo.tablet(4);
    let client = demo.client(&server, &tablet);
    client.push_file(&demo.bundle_of(&tablet), &mut |_, _| {}).unwrap();
    let cert = tablet.join("certificate.pem");
    ok(&["ca", "revoke", "--ca", s(&demo.dir.join("bureau-ca")), "--cert", s(&cert), "--reason", "key-compromise"]);
    let crl = demo.dir.join("bureau-ca/crl.pem");
    match &demo.pg {
        Some(pg) => ok(&["trust", "add", "--postgres", &pg.url, s(&crl)]),
        None => ok(&["trust", "add", "--db", s(&demo.data.join("hallmark.sqlite3")), s(&crl)]),
    };
    let e = client.pull_list().unwrap_err().to_string();
    assert!(e.contains("403 revoked"), "{e}");
}

/// RFC 9421 interop: PyPI `http-message-signatures` (installed by scripts/setup.sh) verifies a
/// request hallmark signed, and signs requests hallmark's server accepts (an assessor is
/// authenticated and then refused the lead's pull; the lead pulls).
#[test]
fn request_signatures_interoperate_with_pypi_http_message_signatures() {
    let demo = Demo::new();
    let server = demo.serve(None, &[]);
    let tablet = demo.tablet(0);
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/interop/httpsig_interop.py");
    let raw = Raw::new(&demo, &server, &tablet);
    let body = b"{\"certificates\":[]}";
    let headers: serde_json::Map<String, serde_json::Value> =
        raw.signed_headers("PUT", "/v1/device", body, "interop-1").into_iter().map(|(k, v)| (k, v.into())).collect();
    let input = serde_json::json!({
        "method": "PUT", "url": format!("{}/v1/device", server.url), "headers": headers,
        "body_hex": hallmark_core::hex::hex(body), "public_key_hex": raw.key.public_key_hex(),
    });
    let mut child =
        Command::new("python3").arg(&script).arg("verify").stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    child.stdin.take().unwrap().write_all(input.to_string().as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "the library must verify hallmark's signature: {}", text(&out));
    // Altered, it must not.
    let mut bad = input.clone();
    bad["method"] = "POST".into();
    let mut child =
        Command::new("python3").arg(&script).arg("verify").stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    child.stdin.take().unwrap().write_all(bad.to_string().as_bytes()).unwrap();
    assert!(!child.wait_with_output().unwrap().status.success(), "an altered request must not verify");

    let run = |key: &Path, cert: &Path| {
        let o = Command::new("python3")
            .arg(&script)
            .args(["request", &server.url, s(&demo.dir.join("bureau-root.pem")), s(key), s(cert)])
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", text(&o));
        serde_json::from_slice::<serde_json::Value>(&o.stdout).unwrap()
    };
    let assessor = run(&tablet.join("device.key"), &tablet.join("certificate.pem"));
    assert_eq!(assessor, serde_json::json!({"device": [200, "王敏"], "pull": [403, "not_lead"]}));
    let lead = run(&demo.dir.join("lead.db-files/device.key"), &demo.dir.join("sync/lead-certificate.pem"));
    assert_eq!(lead["pull"][0], 200, "{lead}");
}

/// Relay: a LAN server forwards what tablets pushed to it to the province's server, signing as
/// role server; the province checks every bundle again, the lead pulls it there, and a tablet
/// pushing the same bundle to the province directly finds it already held.
#[test]
fn a_lan_server_relays_to_the_province_which_checks_every_bundle_again() {
    relay_to_the_province(&Demo::new());
}

/// Issue #16: the hall's embedded server relays to the province's server on PostgreSQL and
/// the object store.
#[test]
fn a_lan_server_relays_to_the_province_on_postgres() {
    let Some(demo) = Demo::on_postgres("relay") else { return };
    relay_to_the_province(&demo);
}

fn relay_to_the_province(demo: &Demo) {
    let province = demo.serve(None, &[]);
    let lan_data = demo.data.with_file_name("lan");
    let lan = demo.serve_in(&lan_data, None, &["--upstream", &province.url, "--relay-every", "1"]);
    let mut ids = Vec::new();
    for n in 0..5 {
        let tablet = demo.tablet(n);
        let pushed = demo.client(&lan, &tablet).push_file(&demo.bundle_of(&tablet), &mut |_, _| {}).unwrap();
        assert_eq!(pushed.receipt.receipt.server, "演示同步服务器");
        ids.push(pushed.bundle_id);
    }
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let (held, _) = demo.held();
        if ids.iter().all(|i| held.contains(i)) {
            break;
        }
        assert!(Instant::now() < deadline, "the province did not receive the relayed bundles: {held:?}");
        std::thread::sleep(Duration::from_millis(300));
    }
    // Both receipts are kept: the tablet got the hall server's (checked above), the hall's
    // server keeps the province's for each bundle it relayed (checked before it was kept).
    use hallmark_server::Backend;
    let hall = hallmark_server::embedded::Embedded::open(&lan_data, NOW).unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while !ids.iter().all(|i| hall.upstream_has(i, &province.url).unwrap()) {
        assert!(Instant::now() < deadline, "the hall's server kept no receipt from the province");
        std::thread::sleep(Duration::from_millis(200));
    }
    // The lead pulls the panel from the province.
    let pulled = ok(&["sync", "pull", "--db", s(&demo.dir.join("lead.db")), "--server", &province.url]);
    assert_eq!(pulled.matches("已导入 铁岭县").count(), 5, "{pulled}");
    // The same bundle straight from the tablet: the province has it already.
    let tablet = demo.tablet(0);
    let again = demo.client(&province, &tablet).push_file(&demo.bundle_of(&tablet), &mut |_, _| {}).unwrap();
    assert!(again.already_had);
    drop(lan);
}

/// A small deterministic generator for the fault schedule (the seed is printed).
struct Xorshift(u64);

impl Xorshift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn between(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next() % (hi - lo)
    }
}

/// `n` enrolled tablets, each with `each` bundles of one inspection that grows by an answer
/// and a photo per bundle (so uploads take long enough to be cut).
fn growing_tablets(demo: &Demo, n: usize, each: usize) -> Vec<(PathBuf, Vec<PathBuf>)> {
    growing_tablets_with(demo, n, each, &|_| 3)
}

/// [`growing_tablets`] with `photos(t)` photos per bundle step on tablet `t`.
fn growing_tablets_with(demo: &Demo, n: usize, each: usize, photos: &dyn Fn(usize) -> usize) -> Vec<(PathBuf, Vec<PathBuf>)> {
    use hallmark_store::demo::{demo_photo_seeded, DemoBureau};
    let root_pem = std::fs::read(demo.dir.join("bureau-root.pem")).unwrap();
    let base = chrono::Utc::now() - chrono::Duration::hours(2);
    let bureau = DemoBureau { ca_dir: demo.dir.join("bureau-ca"), root_pem, now: base - chrono::Duration::hours(1) };
    let at = |s: i64| (base + chrono::Duration::seconds(s)).to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let answers: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/jiangsu-complete.json")).unwrap())
            .unwrap();
    let answers: Vec<(String, serde_json::Value)> = answers["answers"].as_object().unwrap().iter().map(|(k, v)| (k.clone(), v.clone())).collect();
    (0..n)
        .map(|t| {
            let dir = demo.dir.join(format!("fault-tablet-{t}"));
            let mut store = Store::open(&dir, &at(0)).unwrap();
            let name = format!("故障{t}");
            bureau.enroll(&store, &name, "测试单位", "", &[hallmark_trust::Role::Assessor]).unwrap();
            let id = store
                .create_inspection(
                    &hallmark_store::NewInspection {
                        rubric_text: hallmark_core::builtin::JIANGSU.into(),
                        site_name: format!("故障测试服务站{t}"),
                        site_level: "township".into(),
                        visited_on: base.date_naive().to_string(),
                        assessor_name: name.clone(),
                        ..Default::default()
                    },
                    &at(1),
                )
                .unwrap();
            let item = store.rubric(&id).unwrap().item[0].id.clone();
            let files = (0..each)
                .map(|b| {
                    let (k, v) = &answers[b % answers.len()];
                    store.record(&id, k, Some(v.clone()), &name, &at(10 + 2 * b as i64)).unwrap();
                    for p in 0..photos(t) {
                        let photo = unique_photo(demo_photo_seeded(((b + p) % 3) as u8, (t * 1000 + b * 10 + p) as u32), &format!("{t}-{b}-{p}"));
                        store.attach_photo(&id, &item, &photo, "现场", &name, &at(11 + 2 * b as i64)).unwrap();
                    }
                    let f = dir.join(format!("b{b:02}.hallmark"));
                    store.export_bundle(&id, &f, &at(12 + 2 * b as i64), &mut |_, _| {}).unwrap();
                    f
                })
                .collect();
            (dir, files)
        })
        .collect()
}

/// A demo photo made unlike any other by a JPEG comment segment naming it (the demo's drawn
/// photos repeat across tablets: a push would find them held already).
fn unique_photo(jpeg: Vec<u8>, tag: &str) -> Vec<u8> {
    assert_eq!(&jpeg[..2], &[0xFF, 0xD8]);
    let text = format!("hallmark test photo {tag}");
    let len = (text.len() + 2) as u16;
    let mut out = vec![0xFF, 0xD8, 0xFF, 0xFE];
    out.extend(len.to_be_bytes());
    out.extend(text.as_bytes());
    out.extend(&jpeg[2..]);
    out
}

/// kill -9 at random moments while tablets push (`HALLMARK_FAULT_KILLS`, default 20; the seed
/// is printed, `HALLMARK_FAULT_SEED` repeats a run): after every kill each bundle that got a
/// receipt is held and the store passes its full check; then everything is pushed to the end,
/// held exactly once, and a pulled-back bundle is byte-identical.
#[test]
fn the_server_killed_at_random_moments_keeps_every_receipted_bundle() {
    killed_at_random_moments(&Demo::new(), 20);
}

/// Issue #16: the same schedule on PostgreSQL and the object store (`HALLMARK_FAULT_KILLS`,
/// default 8 here): after every kill no bundle row names a file that is not there.
#[test]
fn on_postgres_the_server_killed_at_random_moments_keeps_every_receipted_bundle() {
    let Some(demo) = Demo::on_postgres("kills") else { return };
    killed_at_random_moments(&demo, 8);
}

fn killed_at_random_moments(demo: &Demo, default_kills: usize) {
    let seed: u64 = std::env::var("HALLMARK_FAULT_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() as u64 | 1);
    let kills: usize = std::env::var("HALLMARK_FAULT_KILLS").ok().and_then(|s| s.parse().ok()).unwrap_or(default_kills);
    eprintln!("fault schedule: HALLMARK_FAULT_SEED={seed} HALLMARK_FAULT_KILLS={kills}");
    let mut rng = Xorshift(seed);
    let tablets = growing_tablets(demo, 3, 10);
    let receipted = std::sync::Mutex::new(std::collections::BTreeSet::new());
    let cut = std::sync::atomic::AtomicUsize::new(0);
    for k in 0..kills {
        let server = demo.serve(None, &[]);
        let (url, pid) = (server.url.clone(), server.child.id());
        let stop = std::sync::atomic::AtomicBool::new(false);
        let demo = &demo;
        std::thread::scope(|s| {
            for (dir, files) in &tablets {
                let (url, receipted, stop, cut) = (&url, &receipted, &stop, &cut);
                s.spawn(move || {
                    let Ok(client) = demo.client_at(url, dir) else { return };
                    for f in files {
                        if stop.load(std::sync::atomic::Ordering::Relaxed) {
                            return;
                        }
                        match client.push_file(f, &mut |_, _| {}) {
                            Ok(p) => {
                                receipted.lock().unwrap().insert(p.bundle_id);
                            }
                            Err(_) => {
                                cut.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                                return; // killed: the next round resumes
                            }
                        }
                    }
                });
            }
            std::thread::sleep(Duration::from_millis(rng.between(5, 150)));
            stop.store(true, std::sync::atomic::Ordering::Relaxed);
            Command::new("kill").args(["-9", &pid.to_string()]).status().unwrap();
        });
        drop(server);
        if demo.pg.is_none() {
            let store = Store::open(&demo.data, NOW).unwrap();
            assert_eq!(store.integrity_check().unwrap(), "ok", "kill {k}");
        }
        demo.every_row_has_its_file(&format!("kill {k} (seed {seed})"));
        let held: std::collections::BTreeSet<String> = demo.held().0.into_iter().collect();
        for id in receipted.lock().unwrap().iter() {
            assert!(held.contains(id), "kill {k} (seed {seed}): receipted bundle {id} is not held");
        }
    }
    // Then to the end: everything arrives, once.
    let server = demo.serve(None, &[]);
    let mut all = Vec::new();
    for (dir, files) in &tablets {
        let client = demo.client(&server, dir);
        for f in files {
            all.push(client.push_file(f, &mut |_, _| {}).unwrap().bundle_id);
        }
        let back = demo.dir.join("back.hallmark");
        client.fetch(all.last().unwrap(), &back).unwrap();
        assert_eq!(std::fs::read(&back).unwrap(), std::fs::read(files.last().unwrap()).unwrap(), "seed {seed}");
    }
    let (held, _) = demo.held();
    assert_eq!(held.len(), all.len(), "seed {seed}: every bundle held exactly once");
    let cut = cut.into_inner();
    eprintln!("{cut} pushes cut by a kill; {} bundles receipted before the last round, {} in all", receipted.lock().unwrap().len(), all.len());
    assert!(cut > 0, "seed {seed}: no kill landed during a push (the test exercised nothing)");
}

/// Many tablets at once (`HALLMARK_LOAD_TABLETS`, default 10; `HALLMARK_LOAD_BUNDLES` each,
/// default 5; the figure is 50 × 20): two of them carry 50 photos in their last bundle.
/// Every receipted bundle is held exactly once and comes back byte-identical.
#[test]
fn many_tablets_pushing_at_once_each_bundle_is_held_once_and_comes_back_identical() {
    many_tablets_at_once(&Demo::new());
}

#[test]
fn on_postgres_many_tablets_pushing_at_once_each_bundle_is_held_once_and_comes_back_identical() {
    let Some(demo) = Demo::on_postgres("many") else { return };
    many_tablets_at_once(&demo);
}

fn many_tablets_at_once(demo: &Demo) {
    let n: usize = std::env::var("HALLMARK_LOAD_TABLETS").ok().and_then(|s| s.parse().ok()).unwrap_or(10);
    let each: usize = std::env::var("HALLMARK_LOAD_BUNDLES").ok().and_then(|s| s.parse().ok()).unwrap_or(5);
    // Tablets 0 and 1 add 50 photos over their bundles; the others one.
    let tablets = growing_tablets_with(demo, n, each, &|t| if t < 2 { 50usize.div_ceil(each) } else { 1 });
    let server = demo.serve(None, &[]);
    let started = Instant::now();
    let pushed: Vec<(PathBuf, String)> = std::thread::scope(|s| {
        let handles: Vec<_> = tablets
            .iter()
            .map(|(dir, files)| {
                let (demo, url) = (&demo, server.url.clone());
                s.spawn(move || {
                    let client = demo.client_at(&url, dir).unwrap();
                    files.iter().map(|f| (f.clone(), client.push_file(f, &mut |_, _| {}).unwrap().bundle_id)).collect::<Vec<_>>()
                })
            })
            .collect();
        handles.into_iter().flat_map(|h| h.join().unwrap()).collect()
    });
    assert!(started.elapsed() < Duration::from_secs(300), "bounded in time");
    let (held, _) = demo.held();
    assert_eq!(held.len(), n * each, "every bundle held exactly once");
    let client = demo.client(&server, &tablets[0].0);
    let lead_view: std::collections::BTreeSet<&String> = pushed.iter().map(|(_, id)| id).collect();
    assert_eq!(lead_view.len(), n * each, "every push named a distinct bundle");
    // Each of tablet 0's bundles (up to 50 photos) comes back byte for byte.
    for (file, id) in pushed.iter().filter(|(f, _)| f.starts_with(&tablets[0].0)) {
        let back = demo.dir.join("back.hallmark");
        client.fetch(id, &back).unwrap();
        assert_eq!(std::fs::read(&back).unwrap(), std::fs::read(file).unwrap(), "{}", file.display());
    }
}

/// A remote admin verb: with the server's admin token (DIR/admin.token, 0600) `assignment add
/// --server` adds an assignment whose lead then pulls; without the token, or with a member
/// certificate from another bureau, nothing is added.
#[test]
fn assignments_are_added_over_the_network_only_with_the_admin_token() {
    let demo = Demo::new();
    let fresh = demo.data.with_file_name("fresh");
    let server = demo.serve_in(&fresh, None, &[]);
    let token = fresh.join("admin.token");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&token).unwrap().permissions().mode() & 0o777, 0o600);
    }
    let tablet = demo.tablet(1);
    let mut args: Vec<String> = [
        "assignment",
        "add",
        "--server",
        &server.url,
        "--trust",
        s(&demo.dir.join("bureau-root.pem")),
        "--id",
        "R-1",
        "--site",
        LIAONING_SITE,
        "--rubric",
        "liaoning-demo-window",
        "--lead",
    ]
    .map(String::from)
    .to_vec();
    args.push(s(&demo.dir.join("sync/lead-certificate.pem")).into());
    args.extend(["--member".into(), s(&tablet.join("certificate.pem")).into()]);
    let run = |extra: &[&str]| {
        let mut a: Vec<&str> = args.iter().map(String::as_str).collect();
        a.extend(extra);
        hallmark(&a)
    };
    let wrong = demo.dir.join("wrong.token");
    std::fs::write(&wrong, "0".repeat(64)).unwrap();
    let o = run(&["--token-file", s(&wrong)]);
    assert!(!o.status.success() && text(&o).contains("401 admin_token"), "{}", text(&o));
    // A self-made CA's certificate as a member is refused.
    let rogue = demo.dir.join("rogue-ca");
    ok(&["ca", "init", "--dir", s(&rogue), "--name", "辽宁省医疗保障局"]);
    let o = run(&["--token-file", s(&token), "--member", s(&demo.dir.join("rogue-ca/root.pem"))]);
    assert!(!o.status.success(), "{}", text(&o));
    let out = ok(&args.iter().map(String::as_str).chain(["--token-file", s(&token)]).collect::<Vec<_>>());
    assert!(out.contains("assignment R-1") && out.contains("李娜"), "{out}");
    // The member's tablet sees it (what 新建评价 offers); another tablet does not.
    let mine = ok(&["sync", "assignments", "--db", s(&tablet), "--server", &server.url]);
    assert!(mine.contains(&format!("R-1\t{LIAONING_SITE}\tliaoning-demo-window\t评价人员")), "{mine}");
    let other = ok(&["sync", "assignments", "--db", s(&demo.tablet(2)), "--server", &server.url]);
    assert!(other.contains("no assignment names this device yet"), "{other}");
    // The lead pulls the member's bundle through it.
    demo.client(&server, &tablet).push_file(&demo.bundle_of(&tablet), &mut |_, _| {}).unwrap();
    let pulled = ok(&["sync", "pull", "--db", s(&demo.dir.join("lead.db")), "--server", &server.url]);
    assert_eq!(pulled.matches("已导入 铁岭县").count(), 1, "{pulled}");
}

#[test]
fn the_hall_registry_comes_from_a_spreadsheet_and_assignments_name_its_halls() {
    use hallmark_server::halls::{write_sheet, DEMO_HALLS};
    let demo = Demo::new();
    let fresh = demo.data.with_file_name("registry");
    let server = demo.serve_in(&fresh, None, &[]);
    let token = fresh.join("admin.token");
    let root = demo.dir.join("bureau-root.pem");
    let admin = |verb: &[&str]| {
        let mut a = verb.to_vec();
        a.extend(["--server", &server.url, "--token-file", s(&token), "--trust", s(&root)]);
        hallmark(&a)
    };
    // A sheet with bad rows is refused whole, each row named with its spreadsheet number.
    let bad = demo.dir.join("bad.xlsx");
    let mut rows = DEMO_HALLS.to_vec();
    rows.push(["LN-X-1", "21122", "某县医保中心", "", "县"]);
    rows.push(["LN-X-2", "211221", "某村医保点", "", "村"]);
    rows.push(["LN-211221-01", "211221", "重复的编号", "", "县"]);
    rows.push(["LN-X-3", "991221", "不存在的省", "", "县"]);
    rows.push(["LN-X-4", "211221", "县级代码的市中心", "", "市"]);
    write_sheet(&bad, &rows).unwrap();
    let o = admin(&["hall", "import", s(&bad)]);
    let out = text(&o);
    assert!(!o.status.success(), "{out}");
    for want in [
        "nothing imported",
        "row 8: region code '21122' is not six digits",
        "row 9: level '村' is unknown",
        "row 10: hall id 'LN-211221-01' is also on row 4",
        "row 11: region code '991221': '99' is no province",
        "row 12: region code '211221' does not fit level 'city'",
    ] {
        assert!(out.contains(want), "missing {want:?} in {out}");
    }
    assert!(ok(&["hall", "list", "--data", s(&fresh)]).contains("the registry is empty"));
    // Not a spreadsheet at all.
    let o = admin(&["hall", "import", s(&root)]);
    assert!(!o.status.success() && text(&o).contains("not a spreadsheet hallmark can read"), "{}", text(&o));
    // Without the admin token nothing is imported.
    let good = demo.dir.join("sync/halls.xlsx");
    let wrong = demo.dir.join("wrong.token");
    std::fs::write(&wrong, "0".repeat(64)).unwrap();
    let o = hallmark(&["hall", "import", s(&good), "--server", &server.url, "--token-file", s(&wrong), "--trust", s(&root)]);
    assert!(!o.status.success() && text(&o).contains("401 admin_token"), "{}", text(&o));
    // The demo's registry, then the same with one hall moved: updated by id, not duplicated.
    assert!(text(&admin(&["hall", "import", s(&good)])).contains("6 added, 0 updated, 0 unchanged"));
    let moved = demo.dir.join("moved.xlsx");
    let mut rows = DEMO_HALLS.to_vec();
    rows[2][3] = "辽宁省铁岭市铁岭县新城区政务服务中心二楼";
    write_sheet(&moved, &rows).unwrap();
    assert!(text(&admin(&["hall", "import", s(&moved)])).contains("0 added, 1 updated, 5 unchanged"));
    let list = ok(&["hall", "list", "--data", s(&fresh)]);
    assert_eq!(list.lines().count(), 6, "{list}");
    assert!(list.contains("LN-211221-01\t211221\tcounty\t铁岭县医疗保障事务服务中心\t辽宁省铁岭市铁岭县新城区"), "{list}");

    // An assignment names a registry hall; an unknown id is refused.
    let tablet = demo.tablet(1);
    let assign = |hall: &str| {
        admin(&[
            "assignment",
            "add",
            "--id",
            "TL-2027",
            "--hall",
            hall,
            "--rubric",
            "liaoning-demo-window",
            "--lead",
            s(&demo.dir.join("sync/lead-certificate.pem")),
            "--member",
            s(&tablet.join("certificate.pem")),
            "--from",
            "2027-11-02",
            "--to",
            "2027-11-04",
        ])
    };
    let o = assign("LN-999999-01");
    assert!(!o.status.success() && text(&o).contains("hall 'LN-999999-01' is not in the registry"), "{}", text(&o));
    let o = assign("LN-211221-01");
    assert!(o.status.success() && text(&o).contains(&format!("assignment TL-2027: {LIAONING_SITE}")), "{}", text(&o));
    // The member's tablet gets the hall's code, address and level with it (新建评价 fills them).
    let mine = ok(&["sync", "assignments", "--db", s(&tablet), "--server", &server.url]);
    assert!(
        mine.contains(&format!("TL-2027\t{LIAONING_SITE}\tliaoning-demo-window\t评价人员\t2027-11-02..2027-11-04\t211221 辽宁省铁岭市铁岭县新城区")),
        "{mine}"
    );
    let listed = demo.client(&server, &tablet).assignments().unwrap();
    let hall = listed.assignments[0].hall.as_ref().unwrap();
    assert_eq!((hall.id.as_str(), hall.level.as_str()), ("LN-211221-01", "county"));
    // Next year the same panel evaluates the same hall again: a second assignment.
    let o = admin(&[
        "assignment",
        "add",
        "--id",
        "TL-2028",
        "--hall",
        "LN-211221-01",
        "--rubric",
        "liaoning-demo-window",
        "--lead",
        s(&demo.dir.join("sync/lead-certificate.pem")),
        "--member",
        s(&tablet.join("certificate.pem")),
    ]);
    assert!(o.status.success(), "{}", text(&o));
    // A bundle started from an assignment names it (format 3) and belongs to that panel only;
    // the demo's bundle (format 2, no assignment) goes by hall name and rubric, so to both.
    let started = {
        let mut store = Store::open(&tablet, NOW).unwrap();
        let new = hallmark_store::NewInspection {
            rubric_text: hallmark_core::builtin::LIAONING.into(),
            site_name: LIAONING_SITE.into(),
            site_level: "county".into(),
            visited_on: "2026-11-20".into(),
            assessor_name: "李娜".into(),
            assignment_id: Some("TL-2027".into()),
            hall_id: Some("LN-211221-01".into()),
            ..Default::default()
        };
        let id = store.create_inspection(&new, NOW).unwrap();
        let out = demo.dir.join("assigned.hallmark");
        store.export_bundle(&id, &out, NOW, &mut |_, _| {}).unwrap();
        out
    };
    let client = demo.client(&server, &tablet);
    client.push_file(&demo.bundle_of(&tablet), &mut |_, _| {}).unwrap();
    let pushed = client.push_file(&started, &mut |_, _| {}).unwrap();
    let lead_db = demo.dir.join("lead.db");
    let open_lead = || {
        let files = PathBuf::from(format!("{}-files", lead_db.display()));
        Store::open_with(&lead_db, &files, hallmark_store::Access::Existing, NOW).unwrap()
    };
    let lead = open_lead();
    let lead_client = {
        let root_pem = std::fs::read_to_string(&root).unwrap();
        let mut trust = hallmark_trust::TrustStore::new();
        trust.add_roots_pem("root", root_pem.as_bytes()).unwrap();
        let c = Client::new(&server.url, &[root_pem], trust, DeviceSigner::of(lead.device_key())).unwrap();
        c.present(&lead.device_certificates().unwrap().unwrap()).unwrap();
        c
    };
    let list = lead_client.pull_list().unwrap();
    let of = |bundle: &str| {
        let mut a: Vec<&str> = list.bundles.iter().filter(|b| b.bundle_id == bundle).map(|b| b.assignment.as_str()).collect();
        a.sort();
        a
    };
    assert_eq!(of(&pushed.bundle_id), ["TL-2027"], "{list:?}");
    let legacy = list.bundles.iter().find(|b| b.bundle_id != pushed.bundle_id).unwrap().bundle_id.clone();
    assert_eq!(of(&legacy), ["TL-2027", "TL-2028"], "{list:?}");
    drop(lead);
    // The lead pulls both bundles once each, and keeps the assignment with the inspection.
    let pulled = ok(&["sync", "pull", "--db", s(&demo.dir.join("lead.db")), "--server", &server.url]);
    assert_eq!(pulled.matches("已导入 铁岭县").count(), 2, "{pulled}");
    let lead = open_lead();
    let held = lead.held_bundle(&pushed.bundle_id).unwrap().unwrap();
    assert_eq!(held.assignment_id.as_deref(), Some("TL-2027"));
}

#[test]
fn a_new_tablet_enrolls_over_the_network_pinning_the_root_by_its_fingerprint() {
    let demo = Demo::new();
    let fresh = demo.data.with_file_name("enrolling");
    let server = demo.serve_in(&fresh, None, &[]);
    let token = fresh.join("admin.token");
    let root = demo.dir.join("bureau-root.pem");
    let shown = ok(&["ca", "show", s(&root)]);
    let pin = shown.lines().find_map(|l| l.trim().strip_prefix("certificate sha256 ")).unwrap().to_string();
    assert_eq!(pin.replace(' ', "").len(), 64, "{shown}");
    let admin = |verb: &[&str]| {
        let mut a = verb.to_vec();
        a.extend(["--server", &server.url, "--token-file", s(&token), "--trust", s(&root)]);
        hallmark(&a)
    };
    let tablet = demo.dir.join("new-tablet");
    let submit = |db: &Path, pin: &str, name: &str| {
        hallmark(&[
            "enroll",
            "submit",
            "--db",
            s(db),
            "--server",
            &server.url,
            "--root-fingerprint",
            pin,
            "--name",
            name,
            "--unit",
            "铁岭县医疗保障局",
        ])
    };
    // A wrong or too short fingerprint: nothing sent, nothing trusted.
    let o = submit(&tablet, "0000 1111 2222 3333 4444 5555 6666 7777", "赵敏");
    assert!(!o.status.success() && text(&o).contains("has the fingerprint 0000 1111"), "{}", text(&o));
    let o = submit(&tablet, &pin[..19], "赵敏");
    assert!(!o.status.success() && text(&o).contains("is not 32 to 64 hex digits"), "{}", text(&o));
    assert!(ok(&["trust", "list", "--db", s(&tablet)]).contains("no trusted root"));
    assert!(text(&admin(&["enroll", "pending"])).contains("no enrollment request"));
    // The request, with 40 digits of the fingerprint as typed from the notice.
    let out = text(&submit(&tablet, &pin[..49], "赵敏"));
    assert!(out.contains("enrollment request of 赵敏 (铁岭县医疗保障局)") && out.contains(": pending"), "{out}");
    assert!(ok(&["enroll", "fetch", "--db", s(&tablet), "--server", &server.url]).contains("the bureau has not decided yet"));
    let listed = text(&admin(&["enroll", "pending"]));
    assert!(listed.starts_with("pending\t") && listed.contains("赵敏\t铁岭县医疗保障局"), "{listed}");
    let fingerprint = listed.split('\t').nth(1).unwrap().to_string();

    // Hostile: unsigned, a request for another key, the admin list without the token.
    let raw = Raw::new(&demo, &server, &demo.tablet(1));
    assert_eq!(raw.send("POST", "/v1/enrollments", b"{}", &[]), (401, "unsigned".into()));
    let other = Store::open(&demo.dir.join("other-tablet"), NOW).unwrap().enrollment_request("冒名", "", "").unwrap();
    let body = serde_json::to_vec(&serde_json::json!({ "request": other })).unwrap();
    let headers = raw.signed_headers("POST", "/v1/enrollments", &body, "n-1");
    assert_eq!(raw.send("POST", "/v1/enrollments", &body, &headers), (403, "key_mismatch".into()));
    assert_eq!(raw.send("GET", "/v1/admin/enrollments", b"", &[]).0, 401);
    assert!(!text(&admin(&["enroll", "pending"])).contains("冒名"));

    // Approval: a server role is refused here; a certificate from another CA by the server.
    let ca = demo.dir.join("bureau-ca");
    let o = admin(&["enroll", "approve", &fingerprint, "--ca", s(&ca), "--role", "server"]);
    assert!(!o.status.success() && text(&o).contains("cannot get the server role"), "{}", text(&o));
    let rogue = demo.dir.join("rogue-ca");
    ok(&["ca", "init", "--dir", s(&rogue), "--name", "辽宁省医疗保障局"]);
    let o = admin(&["enroll", "approve", &fingerprint, "--ca", s(&rogue), "--role", "assessor"]);
    assert!(!o.status.success() && text(&o).contains("403"), "{}", text(&o));
    assert!(text(&admin(&["enroll", "pending"])).starts_with("pending\t"));
    let o = admin(&["enroll", "approve", &fingerprint, "--ca", s(&ca), "--role", "assessor"]);
    assert!(o.status.success() && text(&o).contains("approved: 赵敏"), "{}", text(&o));
    // Decided is decided: a refusal now is refused.
    let o = admin(&["enroll", "refuse", &fingerprint, "--reason", "x"]);
    assert!(!o.status.success() && text(&o).contains("409 decided"), "{}", text(&o));

    // The tablet installs the certificate with the root and CRL, and syncs with it.
    let out = ok(&["enroll", "fetch", "--db", s(&tablet), "--server", &server.url]);
    assert!(out.contains("enrolled: 赵敏 (铁岭县医疗保障局), roles assessor"), "{out}");
    assert!(ok(&["enroll", "fetch", "--db", s(&tablet), "--server", &server.url]).contains("installed already"));
    let trusted = ok(&["trust", "list", "--db", s(&tablet)]);
    assert!(trusted.contains("root\t") && trusted.contains("crl\t"), "{trusted}");
    assert!(ok(&["sync", "assignments", "--db", s(&tablet), "--server", &server.url]).contains("no assignment names this device yet"));

    // Another tablet refused: its fetch says why and fails.
    let second = demo.dir.join("second-tablet");
    assert!(submit(&second, &pin, "钱亮").status.success());
    let listed = text(&admin(&["enroll", "pending"]));
    let key = listed.lines().find(|l| l.contains("钱亮")).unwrap().split('\t').next_back().unwrap().to_string();
    assert!(admin(&["enroll", "refuse", &key, "--reason", "不是本局人员"]).status.success());
    let o = hallmark(&["enroll", "fetch", "--db", s(&second), "--server", &server.url]);
    assert!(!o.status.success() && text(&o).contains("was refused: 不是本局人员"), "{}", text(&o));
}

#[test]
fn published_rubrics_and_revocation_lists_reach_devices_signed_by_the_server() {
    let demo = Demo::new();
    let server = demo.serve(None, &[]);
    let token = demo.data.join("admin.token");
    let root = demo.dir.join("bureau-root.pem");
    let admin = |verb: &[&str]| {
        let mut a = verb.to_vec();
        a.extend(["--server", &server.url, "--token-file", s(&token), "--trust", s(&root)]);
        hallmark(&a)
    };
    let shipped = std::fs::read_to_string(env!("CARGO_MANIFEST_DIR").to_string() + "/../../rubrics/liaoning-demo-window.toml").unwrap();
    let write = |name: &str, text: &str| {
        let p = demo.dir.join(name);
        std::fs::write(&p, text).unwrap();
        p
    };
    // Refused: not a rubric; a built-in id and version with other content; then a changed
    // file under a version published before.
    let o = admin(&["rubric", "publish", s(&write("bad.toml", "id = \"x\"\n"))]);
    assert!(!o.status.success() && text(&o).contains("422"), "{}", text(&o));
    let o = admin(&["rubric", "publish", s(&write("same-version.toml", &shipped.replacen("示范窗口评价规范", "示范窗口评价规范（修订）", 1)))]);
    assert!(!o.status.success() && text(&o).contains("built into hallmark"), "{}", text(&o));
    let v3 = shipped.replacen("version = \"4\"", "version = \"9\"", 1).replacen("示范窗口评价规范", "示范窗口评价规范（2027年修订）", 1);
    let o = admin(&["rubric", "publish", s(&write("v9.toml", &v3))]);
    assert!(o.status.success() && text(&o).contains("published rubric 'liaoning-demo-window' v9"), "{}", text(&o));
    assert!(admin(&["rubric", "publish", s(&write("v3-again.toml", &v3))]).status.success(), "the same file again changes nothing");
    let o = admin(&["rubric", "publish", s(&write("v3-changed.toml", &v3.replacen("（2027年修订）", "（改）", 1)))]);
    assert!(!o.status.success() && text(&o).contains("kept here before"), "{}", text(&o));

    // A tablet takes it (and the CRL) with its next sync, once.
    let tablet = demo.tablet(1);
    let o = hallmark(&["sync", "assignments", "--db", s(&tablet), "--server", &server.url]);
    assert!(o.status.success() && text(&o).contains("rubric 'liaoning-demo-window' v9 fetched"), "{}", text(&o));
    let o = hallmark(&["sync", "assignments", "--db", s(&tablet), "--server", &server.url]);
    assert!(!text(&o).contains("fetched"), "{}", text(&o));
    let store = Store::open(&tablet, NOW).unwrap();
    let kept = store.published_rubrics().unwrap();
    assert_eq!((kept.len(), kept[0].version.as_str(), kept[0].content == v3), (1, "9", true));
    assert!(kept[0].signed.is_some());

    // The release is checked: altered content or signature, or a root the tablet does not trust.
    let raw = Raw::new(&demo, &server, &tablet);
    let headers = raw.signed_headers("GET", "/v1/rubrics", b"", "r-1");
    let mut r = raw.agent.get(&format!("{}/v1/rubrics", server.url));
    for (k, v) in &headers {
        r = r.set(k, v);
    }
    let got: hallmark_sync::wire::RubricListV1 = r.call().unwrap().into_json().unwrap();
    let mut trust = hallmark_trust::TrustStore::new();
    trust.add_roots_pem("root", &std::fs::read(&root).unwrap()).unwrap();
    let now = chrono::Utc::now();
    let good = &got.rubrics[0];
    assert!(hallmark_sync::receipt::check_rubric(good, &trust, now).is_ok());
    let mut altered = good.clone();
    altered.content = altered.content.replacen("2027", "2028", 1);
    assert!(hallmark_sync::receipt::check_rubric(&altered, &trust, now).unwrap_err().contains("not the one its release names"));
    let mut forged = good.clone();
    forged.release = forged.release.replacen("\"9\"", "\"8\"", 1);
    assert!(hallmark_sync::receipt::check_rubric(&forged, &trust, now).unwrap_err().contains("does not verify"));
    let rogue = demo.dir.join("rogue-ca");
    ok(&["ca", "init", "--dir", s(&rogue), "--name", "辽宁省医疗保障局"]);
    let mut other = hallmark_trust::TrustStore::new();
    other.add_roots_pem("rogue", &std::fs::read(rogue.join("root.pem")).unwrap()).unwrap();
    assert!(hallmark_sync::receipt::check_rubric(good, &other, now).unwrap_err().contains("server certificate is refused"));

    // A revoked device is known to the tablet after its next sync: the CRL comes with it.
    let before = ok(&["trust", "list", "--db", s(&tablet)]);
    let serial = {
        let shown = ok(&["ca", "show", s(&demo.tablet(2).join("certificate.pem"))]);
        shown.lines().find_map(|l| l.split("serial ").nth(1)).unwrap().trim().to_string()
    };
    ok(&["ca", "revoke", "--ca", s(&demo.dir.join("bureau-ca")), "--serial", &serial]);
    ok(&["trust", "add", "--db", s(&demo.data.join("hallmark.sqlite3")), s(&demo.dir.join("bureau-ca/crl.pem"))]);
    let o = hallmark(&["sync", "assignments", "--db", s(&tablet), "--server", &server.url]);
    assert!(text(&o).contains("1 new revocation lists loaded"), "{}", text(&o));
    let after = ok(&["trust", "list", "--db", s(&tablet)]);
    assert_eq!(after.matches("crl\t").count(), before.matches("crl\t").count() + 1, "{after}");
    assert!(after.contains("1 revoked"), "{after}");
}

/// Review over sync (issue #13): the lead's return reaches 张伟's tablet with its next sync, his
/// "keep, because …" comes back in his next bundle; an assessor cannot send reviews, an altered
/// or unsigned review file is refused and nothing is kept.
#[test]
fn a_return_travels_over_sync_and_the_assessors_answer_comes_back() {
    a_return_travels(&Demo::new());
}

#[test]
fn on_postgres_a_return_travels_over_sync_and_the_assessors_answer_comes_back() {
    let Some(demo) = Demo::on_postgres("review") else { return };
    a_return_travels(&demo);
}

fn a_return_travels(demo: &Demo) {
    let server = demo.serve(None, &[]);
    for t in Demo::liaoning_tablets(&demo.dir) {
        ok(&["sync", "push", "--db", s(&t), "--server", &server.url]);
    }
    let lead = demo.dir.join("lead.db");
    ok(&["sync", "pull", "--db", s(&lead), "--server", &server.url]);
    ok(&["review", "return", "--db", s(&lead), "--sheet", "张伟", "--item", "practice", "--comment", "服务实操比其他人低，请复核"]);
    let o = ok(&["sync", "pull", "--db", s(&lead), "--server", &server.url]);
    assert!(o.contains("复核意见 1 条新送达服务器（服务器共有本组复核意见 1 条）"), "{o}");
    let o = ok(&["sync", "pull", "--db", s(&lead), "--server", &server.url]);
    assert!(o.contains("复核意见 0 条新送达服务器（服务器共有本组复核意见 1 条）"), "{o}");

    // 张伟's next sync receives it; another assessor's does not.
    let zhang = Demo::liaoning_tablets(&demo.dir).into_iter().find(|t| t.display().to_string().contains("张伟")).unwrap();
    let other = Demo::liaoning_tablets(&demo.dir).into_iter().find(|t| !t.display().to_string().contains("张伟")).unwrap();
    let o = ok(&["sync", "push", "--db", s(&zhang), "--server", &server.url]);
    assert!(o.contains("收到组长复核意见 1 条"), "{o}");
    let o = ok(&["sync", "push", "--db", s(&other), "--server", &server.url]);
    assert!(!o.contains("收到组长复核意见"), "{o}");
    let o = ok(&["sync", "push", "--db", s(&zhang), "--server", &server.url]);
    assert!(!o.contains("收到组长复核意见"), "received once: {o}");

    // 张伟 keeps his answers with a reason; his next sync sends the bundle, the lead's next pull
    // imports it: the return is answered and the lead reads why.
    ok(&["review", "keep", "--db", s(&zhang), "--sheet", "张伟", "--item", "practice", "--reason", "复核录像，维持原分"]);
    let o = ok(&["sync", "push", "--db", s(&zhang), "--server", &server.url]);
    assert!(o.contains("已同步, received by"), "{o}");
    ok(&["sync", "pull", "--db", s(&lead), "--server", &server.url]);
    let o = ok(&["review", "list", "--db", s(&lead)]);
    assert!(o.contains("张伟 · 服务实操：退回（服务实操比其他人低，请复核），评价人员保留原答案（复核录像，维持原分），待组长接受"), "{o}");

    // Hostile: an assessor sends the lead's file; the lead sends it altered, or unsigned.
    let lead_files = {
        let mut f = lead.clone().into_os_string();
        f.push("-files");
        PathBuf::from(f)
    };
    let lead_store = Store::open_with(&lead, &lead_files, hallmark_store::Access::Existing, NOW).unwrap();
    let ids: Vec<String> = lead_store.merge().unwrap().iter().flat_map(|g| g.assessors.iter().map(|a| a.inspection_id.clone())).collect();
    let file = serde_json::to_vec(&lead_store.review_file(&ids).unwrap()).unwrap();
    let as_lead =
        Raw { agent: ureq::AgentBuilder::new().tls_config(demo_tls(demo)).build(), url: server.url.clone(), key: lead_store.device_key().clone() };
    drop(lead_store);
    let as_other = Raw::new(demo, &server, &other);
    let h = as_other.signed_headers("POST", "/v1/reviews", &file, "r-1");
    assert_eq!(as_other.send("POST", "/v1/reviews", &file, &h), (403, "not_lead".into()));
    let altered = String::from_utf8(file.clone()).unwrap().replace("请复核", "不用复核").into_bytes();
    let h = as_lead.signed_headers("POST", "/v1/reviews", &altered, "r-2");
    assert_eq!(as_lead.send("POST", "/v1/reviews", &altered, &h), (400, "bad_signature".into()));
    assert_eq!(as_lead.send("POST", "/v1/reviews", &file, &[]), (401, "unsigned".into()));
    let h = as_lead.signed_headers("POST", "/v1/reviews", b"{}", "r-3");
    assert_eq!(as_lead.send("POST", "/v1/reviews", b"{}", &h), (400, "malformed".into()));
    // A sheet the lead imported from a stick (never on the server), returned: the server
    // refuses a file with its review whole (403 not_your_panel), and the lead's own sync leaves
    // it out rather than failing every time.
    let jiangsu = std::fs::read_dir(&demo.dir).unwrap().flatten().map(|e| e.path()).find(|p| p.display().to_string().contains("jiangsu")).unwrap();
    ok(&["import", "--db", s(&lead), s(&jiangsu)]);
    let lead_store = Store::open_with(&lead, &lead_files, hallmark_store::Access::Existing, NOW).unwrap();
    let chen = lead_store.merge().unwrap().into_iter().find(|g| g.rubric_id == "jiangsu-15min").unwrap().assessors[0].inspection_id.clone();
    drop(lead_store);
    ok(&["review", "return", "--db", s(&lead), "--sheet", &chen, "--item", "5.1", "--comment", "请复核"]);
    let lead_store = Store::open_with(&lead, &lead_files, hallmark_store::Access::Existing, NOW).unwrap();
    let foreign = serde_json::to_vec(&lead_store.review_file(std::slice::from_ref(&chen)).unwrap()).unwrap();
    drop(lead_store);
    let h = as_lead.signed_headers("POST", "/v1/reviews", &foreign, "r-4");
    assert_eq!(as_lead.send("POST", "/v1/reviews", &foreign, &h), (403, "not_your_panel".into()));
    // Nothing was kept: the server still holds the one review, and the lead's sync succeeds.
    let o = ok(&["sync", "pull", "--db", s(&lead), "--server", &server.url]);
    assert!(o.contains("复核意见 0 条新送达服务器（服务器共有本组复核意见 1 条）"), "{o}");
}
