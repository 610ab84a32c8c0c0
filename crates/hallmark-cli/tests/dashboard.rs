//! The bureau dashboard (issue #12) on a real `hallmark serve --postgres` over TLS, with the
//! real PostgreSQL (HALLMARK_PG; scripts/test.sh starts it): a CI-sized generated province plus
//! the demo's real signed report, loaded by `hallmark records load` (verified against its
//! bundles). Every role meets every route — pages, photos, thumbnails, PDF, sidecar, XLSX — as
//! the table says; logins, the login limit, CSRF and disabling are checked; and Debian's
//! Chromium drives the pages (screenshots in target/e2e-screenshots/dashboard-*.png).

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::Arc;

const PASSWORD: &str = "demo-password-1";
/// The demo's Liaoning hall (铁岭县, 211221) in the demo registry.
const TIELING: &str = "LN-211221-01";

fn hallmark(args: &[&str], pg: &str) -> Output {
    Command::new(env!("CARGO_BIN_EXE_hallmark")).args(args).env("HALLMARK_PG", pg).env("HALLMARK_STAFF_PASSWORD", PASSWORD).output().unwrap()
}

fn ok(args: &[&str], pg: &str) -> String {
    let o = hallmark(args, pg);
    let text = format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr));
    assert!(o.status.success(), "hallmark {args:?}: {text}");
    text
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

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

/// A province: its own database, the generated halls, the demo's signed report loaded, four
/// staff, and the server.
struct Province {
    _tmp: tempfile::TempDir,
    dir: PathBuf,
    report: PathBuf,
    report_number: String,
    pg: String,
    admin_url: String,
    name: String,
    server: Server,
}

impl Drop for Province {
    fn drop(&mut self) {
        let _ = self.server.child.kill();
        let _ = self.server.child.wait();
        if let Ok(mut admin) = postgres::Client::connect(&self.admin_url, postgres::NoTls) {
            let _ = admin.batch_execute(&format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name));
        }
    }
}

fn pg_url() -> Option<String> {
    match std::env::var("HALLMARK_PG") {
        Ok(u) => Some(u),
        Err(_) => {
            assert!(std::env::var_os("HALLMARK_REQUIRE_PG").is_none(), "HALLMARK_REQUIRE_PG is set but HALLMARK_PG is not");
            eprintln!("skipped: HALLMARK_PG is not set (scripts/test.sh starts PostgreSQL)");
            None
        }
    }
}

impl Province {
    fn new(admin_url: &str, tag: &str) -> Province {
        let name = format!("hallmark_dashboard_{tag}_{}", std::process::id());
        let mut admin = postgres::Client::connect(admin_url, postgres::NoTls).unwrap();
        admin.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).unwrap();
        admin.batch_execute(&format!("CREATE DATABASE {name}")).unwrap();
        let pg = format!("{}/{name}", admin_url.rsplit_once('/').unwrap().0);
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("demo");
        let lead = tmp.path().join("lead.db");
        ok(&["demo", s(&dir), "--lead", s(&lead)], &pg);
        let bundles: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "hallmark"))
            .map(|p| p.display().to_string())
            .collect();
        let mut import = vec!["import", "--db", s(&lead)];
        import.extend(bundles.iter().map(String::as_str));
        ok(&import, &pg);
        let report = tmp.path().join("report.pdf");
        let out = ok(
            &["report", "--db", s(&lead), "--rubric", "liaoning-demo-window", "--details", s(&dir.join("report-details.toml")), "--out", s(&report)],
            &pg,
        );
        let report_number = out.split("报告编号 ").nth(1).unwrap().split('，').next().unwrap().to_string();
        ok(&["records", "generate", "--halls", "150"], &pg);
        ok(&["records", "import-halls", s(&dir.join("sync/halls.xlsx"))], &pg);
        let root = dir.join("bureau-root.pem");
        // The demo's bundles were carried on a stick: they name no registry hall.
        let o = hallmark(&["records", "load", s(&report), "--bundles", s(&dir), "--trust", s(&root)], &pg);
        assert!(!o.status.success() && String::from_utf8_lossy(&o.stderr).contains("pass --hall ID"), "{o:?}");
        let loaded = ok(&["records", "load", s(&report), "--bundles", s(&dir), "--trust", s(&root), "--hall", TIELING], &pg);
        assert!(loaded.contains("verified and loaded (5 sheets"), "{loaded}");
        for (user, role, region, admin) in [
            ("sheng", "province", "210000", true),
            ("tieling", "city", "211200", false),
            ("shenyang", "city", "210100", false),
            ("shenji", "auditor", "210000", false),
        ] {
            let mut args = vec!["records", "staff", "add", "--username", user, "--name", user, "--role", role, "--region", region];
            if admin {
                args.push("--admin");
            }
            ok(&args, &pg);
        }
        let data = tmp.path().join("server");
        let mut child = Command::new(env!("CARGO_BIN_EXE_hallmark"))
            .args(["serve", "--data", s(&data), "--listen", "127.0.0.1:0", "--postgres", &pg])
            .args(["--cert", s(&dir.join("sync/server.pem")), "--key", s(&dir.join("sync/server.key")), "--trust", s(&root)])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        let url = line.split_whitespace().nth(2).unwrap_or_else(|| panic!("no listening line: {line:?}")).to_string();
        Province { _tmp: tmp, dir, report, report_number, pg, admin_url: admin_url.to_string(), name, server: Server { child, url } }
    }

    fn db(&self) -> postgres::Client {
        postgres::Client::connect(&self.pg, postgres::NoTls).unwrap()
    }

    fn agent(&self) -> ureq::Agent {
        let mut roots = rustls::RootCertStore::empty();
        for der in hallmark_trust::certificate::read_pem("root", &std::fs::read(self.dir.join("bureau-root.pem")).unwrap()).unwrap() {
            roots.add(der).unwrap();
        }
        let tls = rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth();
        ureq::AgentBuilder::new().tls_config(Arc::new(tls)).redirects(0).build()
    }
}

/// A browser-less visitor: a cookie, and the CSRF token of the last page.
struct Visitor {
    agent: ureq::Agent,
    base: String,
    cookie: Option<String>,
}

/// (status, body bytes, headers we look at).
struct Reply {
    status: u16,
    body: Vec<u8>,
    location: String,
    set_cookie: String,
    content_type: String,
}

impl Reply {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

impl Visitor {
    fn new(p: &Province) -> Visitor {
        Visitor { agent: p.agent(), base: p.server.url.clone(), cookie: None }
    }

    fn send(&self, method: &str, path: &str, form: Option<&[(&str, &str)]>, origin: Option<&str>) -> Reply {
        let mut r = self.agent.request(method, &format!("{}{path}", self.base));
        if let Some(c) = &self.cookie {
            r = r.set("Cookie", c);
        }
        if let Some(o) = origin {
            r = r.set("Origin", o);
        }
        let res = match form {
            Some(f) => r.send_form(f),
            None => r.call(),
        };
        let resp = match res {
            Ok(r) => r,
            Err(ureq::Error::Status(_, r)) => r,
            Err(e) => panic!("{method} {path}: {e}"),
        };
        let status = resp.status();
        let location = resp.header("location").unwrap_or("").to_string();
        let set_cookie = resp.header("set-cookie").unwrap_or("").to_string();
        let content_type = resp.header("content-type").unwrap_or("").to_string();
        let mut body = Vec::new();
        std::io::Read::read_to_end(&mut resp.into_reader(), &mut body).unwrap();
        Reply { status, body, location, set_cookie, content_type }
    }

    fn get(&self, path: &str) -> Reply {
        self.send("GET", path, None, None)
    }

    fn login(p: &Province, user: &str, password: &str) -> (Visitor, Reply) {
        let mut v = Visitor::new(p);
        let r = v.send("POST", "/login", Some(&[("username", user), ("password", password)]), None);
        if r.status == 303 {
            let c = r.set_cookie.split(';').next().unwrap().to_string();
            assert!(
                r.set_cookie.contains("HttpOnly") && r.set_cookie.contains("Secure") && r.set_cookie.contains("SameSite=Strict"),
                "{}",
                r.set_cookie
            );
            v.cookie = Some(c);
        }
        (v, r)
    }

    fn signed_in(p: &Province, user: &str) -> Visitor {
        let (v, r) = Visitor::login(p, user, PASSWORD);
        assert_eq!(r.status, 303, "{user}: {}", r.text());
        v
    }

    /// The CSRF token a page's forms carry.
    fn csrf(&self) -> String {
        let page = self.get("/halls").text();
        page.split("name=\"csrf\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_string()
    }
}

/// What the table's placeholders stand for in this province.
struct Names {
    shenyang_hall: String,
    jiangsu_hall: String,
    photo: String,
    thumb: String,
    item: String,
}

fn names(p: &Province) -> Names {
    let mut db = p.db();
    let one = |db: &mut postgres::Client, sql: &str| -> String { db.query_one(sql, &[]).unwrap().get(0) };
    Names {
        shenyang_hall: one(&mut db, "SELECT id FROM halls WHERE region_code LIKE '2101%' ORDER BY id LIMIT 1"),
        jiangsu_hall: one(&mut db, "SELECT id FROM halls WHERE region_code LIKE '32%' ORDER BY id LIMIT 1"),
        photo: one(&mut db, "SELECT sha256::text FROM evidence ORDER BY sha256 LIMIT 1"),
        thumb: one(&mut db, "SELECT thumb_sha256::text FROM evidence ORDER BY sha256 LIMIT 1"),
        item: one(&mut db, "SELECT item_id FROM evaluation_items WHERE mean_lost > 0 ORDER BY item_id LIMIT 1"),
    }
}

#[test]
fn every_role_meets_every_route_as_the_table_says() {
    let Some(admin_url) = pg_url() else { return };
    let p = Province::new(&admin_url, "roles");
    let n = names(&p);
    let r = &p.report_number;
    let routes: Vec<(String, [u16; 5])> = [
        //                                                  anonymous sheng tieling shenyang shenji
        ("/".to_string(), [303, 303, 303, 303, 303]),
        ("/halls".to_string(), [303, 200, 200, 200, 200]),
        ("/halls?city=210100&sort=score&desc=1&page=2".to_string(), [303, 200, 200, 200, 200]),
        (format!("/halls/{TIELING}"), [303, 200, 200, 403, 200]),
        (format!("/halls/{}", n.shenyang_hall), [303, 200, 403, 200, 200]),
        (format!("/halls/{}", n.jiangsu_hall), [303, 403, 403, 403, 403]),
        ("/halls/LN-NO-SUCH".to_string(), [303, 404, 404, 404, 404]),
        (format!("/halls/{TIELING}/photos/{}", n.photo), [401, 200, 200, 403, 200]),
        (format!("/halls/{TIELING}/thumbs/{}", n.thumb), [401, 200, 200, 403, 200]),
        (format!("/halls/{TIELING}/photos/{}", "0".repeat(64)), [401, 404, 404, 403, 404]),
        (format!("/halls/{}/photos/{}", n.shenyang_hall, n.photo), [401, 404, 403, 404, 404]),
        (format!("/reports/{r}/pdf"), [401, 200, 200, 403, 200]),
        (format!("/reports/{r}/sidecar"), [401, 200, 200, 403, 200]),
        ("/reports/HM-NO-SUCH/pdf".to_string(), [401, 404, 404, 404, 404]),
        ("/due".to_string(), [303, 200, 200, 200, 200]),
        ("/due?days=90&city=211200".to_string(), [303, 200, 200, 200, 200]),
        ("/due.xlsx?days=90".to_string(), [401, 200, 200, 200, 200]),
        ("/items".to_string(), [303, 200, 200, 200, 200]),
        (format!("/items/{}?city=211200", n.item), [303, 200, 200, 200, 200]),
        ("/staff".to_string(), [303, 200, 403, 403, 403]),
        ("/audit".to_string(), [303, 200, 403, 403, 200]),
        ("/assets/dashboard.css".to_string(), [200, 200, 200, 200, 200]),
    ]
    .into_iter()
    .collect();
    let visitors = [
        Visitor::new(&p),
        Visitor::signed_in(&p, "sheng"),
        Visitor::signed_in(&p, "tieling"),
        Visitor::signed_in(&p, "shenyang"),
        Visitor::signed_in(&p, "shenji"),
    ];
    let who = ["anonymous", "sheng", "tieling", "shenyang", "shenji"];
    let mut wrong = Vec::new();
    for (path, want) in &routes {
        for (k, v) in visitors.iter().enumerate() {
            let got = v.get(path);
            if got.status != want[k] {
                wrong.push(format!("{} GET {path}: {} (want {})", who[k], got.status, want[k]));
            }
            if got.status == 303 && k == 0 && path != "/" {
                assert_eq!(got.location, "/login", "{path}");
            }
            if got.status >= 400 && got.content_type.starts_with("text/html") {
                assert!(got.text().contains("<h2>"), "{path}: a refusal says why in a page");
            }
        }
    }
    // Writes: a new user (admin only, with the form's CSRF token); without the token, refused.
    for (k, v) in visitors.iter().enumerate().skip(1) {
        let csrf = v.csrf();
        let user = format!("new{k}");
        let form = [
            ("csrf", csrf.as_str()),
            ("username", user.as_str()),
            ("display_name", "新用户"),
            ("role", "city"),
            ("region_code", "211200"),
            ("password", "another-password-9"),
        ];
        let want = if who[k] == "sheng" { 200 } else { 403 };
        let got = v.send("POST", "/staff", Some(&form), None);
        if got.status != want {
            wrong.push(format!("{} POST /staff: {} (want {want})", who[k], got.status));
        }
        let no_token = [("username", "x9"), ("display_name", "x"), ("role", "city"), ("region_code", "211200"), ("password", "another-password-9")];
        let got = v.send("POST", "/staff", Some(&no_token), None);
        if got.status != 403 {
            wrong.push(format!("{} POST /staff without the CSRF token: {} (want 403)", who[k], got.status));
        }
    }
    let got = visitors[0].send("POST", "/staff", Some(&[("username", "x")]), None);
    assert!(got.status == 303 || got.status == 422, "anonymous POST /staff: {}", got.status);
    assert!(wrong.is_empty(), "{} cells differ from the table:\n{}", wrong.len(), wrong.join("\n"));

    // What the cells hold: a city sees its own halls only; the files are the files.
    let page = visitors[2].get("/halls?page=1").text();
    let codes: Vec<&str> =
        page.split("<div class=\"sub\">").skip(1).filter_map(|s| s.get(..6)).filter(|c| c.bytes().all(|b| b.is_ascii_digit())).collect();
    assert!(!codes.is_empty() && codes.iter().all(|c| c.starts_with("2112")), "{codes:?}");
    let pdf = visitors[2].get(&format!("/reports/{r}/pdf"));
    assert_eq!(pdf.body, std::fs::read(&p.report).unwrap());
    let side = visitors[2].get(&format!("/reports/{r}/sidecar"));
    assert_eq!(side.body, std::fs::read(format!("{}.sig.json", p.report.display())).unwrap());
    let xlsx = visitors[1].get("/due.xlsx?days=90");
    assert!(xlsx.body.starts_with(b"PK") && xlsx.content_type.contains("spreadsheetml"), "{}", xlsx.content_type);
    let hall = visitors[1].get(&format!("/halls/{TIELING}")).text();
    for want in ["历次评价", "<svg", "评价组评分", "σ", "现场照片", "核验通过", "下载报告 PDF", "90.2"] {
        assert!(hall.contains(want), "the hall page lacks {want}");
    }
    // The audit log says who downloaded and exported what.
    let audit = visitors[4].get("/audit").text();
    for want in [format!("下载报告PDF</td><td>{r}"), "导出到期清单".to_string(), "查看服务大厅".to_string(), "创建用户</td><td>new1".to_string()]
    {
        assert!(audit.contains(&want), "the audit log lacks {want}");
    }
}

#[test]
fn logins_are_limited_sessions_end_and_forms_need_their_token() {
    let Some(admin_url) = pg_url() else { return };
    let p = Province::new(&admin_url, "logins");
    let (_, r) = Visitor::login(&p, "tieling", "wrong-password-1");
    assert_eq!(r.status, 401);
    assert!(r.text().contains("用户名或密码错误"), "{}", r.text());
    let (_, r) = Visitor::login(&p, "nobody", PASSWORD);
    assert_eq!(r.status, 401, "an unknown user reads as a wrong password");
    // Another site's form cannot log anyone in.
    let r = Visitor::new(&p).send("POST", "/login", Some(&[("username", "tieling"), ("password", PASSWORD)]), Some("https://evil.example"));
    assert_eq!(r.status, 403);
    // Five failures lock the username, even for the right password; another user is unaffected.
    for _ in 0..5 {
        assert_eq!(Visitor::login(&p, "shenyang", "wrong-password-1").1.status, 401);
    }
    let (_, r) = Visitor::login(&p, "shenyang", PASSWORD);
    assert_eq!(r.status, 429, "{}", r.text());
    assert!(r.text().contains("已暂时锁定"), "{}", r.text());
    let city = Visitor::signed_in(&p, "tieling");
    // Logging out needs the page's token; a forged form is refused and the session lives.
    let r = city.send("POST", "/logout", Some(&[("csrf", "forged")]), None);
    assert_eq!(r.status, 403);
    assert_eq!(city.get("/halls").status, 200);
    // Disabling ends the session at once; enabling lets the user log in again.
    let admin = Visitor::signed_in(&p, "sheng");
    let csrf = admin.csrf();
    assert_eq!(admin.send("POST", "/staff/tieling/disable", Some(&[("csrf", &csrf)]), None).status, 200);
    assert_eq!(city.get("/halls").status, 303);
    assert_eq!(Visitor::login(&p, "tieling", PASSWORD).1.status, 401);
    assert_eq!(admin.send("POST", "/staff/tieling/enable", Some(&[("csrf", &csrf)]), None).status, 200);
    // A reset shows the new password once; the old one stops working.
    let reset = admin.send("POST", "/staff/tieling/reset", Some(&[("csrf", &csrf)]), None).text();
    let new = reset.split("新密码：").nth(1).unwrap().split('（').next().unwrap().to_string();
    assert_eq!(Visitor::login(&p, "tieling", PASSWORD).1.status, 401);
    assert_eq!(Visitor::login(&p, "tieling", &new).1.status, 303);
    // A bad new user is refused in Chinese, naming the field.
    let bad = admin.send(
        "POST",
        "/staff",
        Some(&[
            ("csrf", &csrf),
            ("username", "x"),
            ("display_name", "x"),
            ("role", "city"),
            ("region_code", "210000"),
            ("password", "long-enough-1"),
        ]),
        None,
    );
    assert_eq!(bad.status, 422);
    assert!(bad.text().contains("管辖区域代码与角色不符"), "{}", bad.text());
    // Nothing of a session is stored but its hash.
    let mut db = p.db();
    let stored: Vec<String> = db.query("SELECT token_sha256::text FROM staff_sessions", &[]).unwrap().iter().map(|r| r.get(0)).collect();
    let token = city.cookie.as_ref().unwrap().split('=').nth(1).unwrap().to_string();
    assert!(!stored.contains(&token) && !stored.is_empty());
}

#[test]
fn a_report_that_does_not_verify_loads_nothing() {
    let Some(admin_url) = pg_url() else { return };
    let p = Province::new(&admin_url, "intake");
    let mut db = p.db();
    let count = |db: &mut postgres::Client| -> (i64, i64, i64) {
        let r = db.query_one("SELECT (SELECT count(*) FROM evaluations), (SELECT count(*) FROM sheets), (SELECT count(*) FROM blobs)", &[]).unwrap();
        (r.get(0), r.get(1), r.get(2))
    };
    let before = count(&mut db);
    let root = p.dir.join("bureau-root.pem");
    // A changed PDF.
    let tmp = tempfile::tempdir().unwrap();
    let forged = tmp.path().join("forged.pdf");
    let mut bytes = std::fs::read(&p.report).unwrap();
    let at = bytes.len() / 2;
    bytes[at] ^= 1;
    std::fs::write(&forged, bytes).unwrap();
    std::fs::copy(format!("{}.sig.json", p.report.display()), format!("{}.sig.json", forged.display())).unwrap();
    let o = hallmark(&["records", "load", s(&forged), "--bundles", s(&p.dir), "--trust", s(&root), "--hall", TIELING], &p.pg);
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert!(!o.status.success() && err.contains("does not verify, nothing was loaded") && err.contains("the PDF was changed"), "{err}");
    // The right report against a bundle folder missing one assessor.
    let partial = tmp.path().join("bundles");
    std::fs::create_dir(&partial).unwrap();
    for e in std::fs::read_dir(&p.dir).unwrap().flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if name.ends_with(".hallmark") && !name.contains("liaoning-3") {
            std::fs::copy(e.path(), partial.join(&name)).unwrap();
        }
    }
    let o = hallmark(&["records", "load", s(&p.report), "--bundles", s(&partial), "--trust", s(&root), "--hall", TIELING], &p.pg);
    assert!(!o.status.success() && String::from_utf8_lossy(&o.stderr).contains("no bundle in"), "{o:?}");
    // Another bureau's root: the signer is not trusted.
    let other = tmp.path().join("other-ca");
    let o = Command::new(env!("CARGO_BIN_EXE_hallmark"))
        .args(["ca", "init", "--dir", s(&other), "--name", "别的医保局"])
        .env("HALLMARK_CA_PASSPHRASE", "a passphrase for the test")
        .output()
        .unwrap();
    assert!(o.status.success(), "{o:?}");
    let o = hallmark(&["records", "load", s(&p.report), "--bundles", s(&p.dir), "--trust", s(&other.join("root.pem")), "--hall", TIELING], &p.pg);
    assert!(!o.status.success() && String::from_utf8_lossy(&o.stderr).contains("not trusted"), "{o:?}");
    assert_eq!(count(&mut db), before, "a refused report wrote rows or blobs");
}
