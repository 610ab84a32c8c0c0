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

mod common;
use common::{workspace, Cluster, Garage};

const PASSWORD: &str = "demo-password-1";
/// The demo's Liaoning hall (铁岭县, 211221) in the demo registry.
const TIELING: &str = "LN-211221-01";

/// The CLI on `pg`; the evidence in PostgreSQL unless a test names an object store.
fn hallmark(args: &[&str], pg: &str) -> Output {
    hallmark_s3(args, pg, None)
}

fn hallmark_s3(args: &[&str], pg: &str, s3: Option<&str>) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_hallmark"));
    c.args(args).env("HALLMARK_PG", pg).env("HALLMARK_STAFF_PASSWORD", PASSWORD).env_remove("HALLMARK_S3");
    if let Some(url) = s3 {
        c.env("HALLMARK_S3", url);
    }
    c.output().unwrap()
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
        Province::with(admin_url, tag, true, None)
    }

    /// `load`: the demo's report loaded with `hallmark records load` (else it is not in the
    /// records); `s3`: the evidence in this object store (else in PostgreSQL).
    fn with(admin_url: &str, tag: &str, load: bool, s3: Option<&str>) -> Province {
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
        if load {
            let o = hallmark_s3(&["records", "load", s(&report), "--bundles", s(&dir), "--trust", s(&root), "--hall", TIELING], &pg, s3);
            let loaded = String::from_utf8_lossy(&o.stdout).into_owned();
            assert!(o.status.success() && loaded.contains("verified and loaded (5 sheets"), "{loaded}{}", String::from_utf8_lossy(&o.stderr));
        }
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
        // The panel as the sync server knows it (in the same PostgreSQL, whose halls are the
        // registry): the demo lead leads the five Liaoning tablets.
        let mut add: Vec<String> =
            ["assignment", "add", "--postgres", &pg, "--id", "TL-2026", "--site", "铁岭县医疗保障事务服务中心", "--rubric", "liaoning-demo-window"]
                .map(String::from)
                .to_vec();
        add.extend(["--lead".to_string(), dir.join("sync/lead-certificate.pem").display().to_string()]);
        for e in std::fs::read_dir(dir.join("tablets")).unwrap().flatten().filter(|e| e.file_name().to_string_lossy().starts_with("liaoning-")) {
            add.extend(["--member".to_string(), e.path().join("certificate.pem").display().to_string()]);
        }
        ok(&add.iter().map(String::as_str).collect::<Vec<_>>(), &pg);
        let mut serve = Command::new(env!("CARGO_BIN_EXE_hallmark"));
        serve.env_remove("HALLMARK_S3").args(["serve", "--data", s(&data), "--listen", "127.0.0.1:0", "--postgres", &pg]);
        if let Some(url) = s3 {
            serve.args(["--s3", url]);
        }
        let mut child = serve
            .args(["--cert", s(&dir.join("sync/server.pem")), "--key", s(&dir.join("sync/server.key")), "--trust", s(&root)])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        let url = line.split_whitespace().nth(2).unwrap_or_else(|| panic!("no listening line: {line:?}")).to_string();
        let p = Province { _tmp: tmp, dir, report, report_number, pg, admin_url: admin_url.to_string(), name, server: Server { child, url } };
        // The lead's and the tablets' devices present their certificates (a sync does), so the
        // bureau can put them on a panel.
        let mut devices: Vec<PathBuf> = std::fs::read_dir(p.dir.join("tablets")).unwrap().flatten().map(|e| e.path()).collect();
        devices.push(lead);
        for d in &devices {
            ok(&["sync", "assignments", "--db", s(d), "--server", &p.server.url, "--trust", s(&root)], &p.pg);
        }
        p
    }

    /// The devices' keys by name, with their roles as the server's page offers them.
    fn device_keys(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        for e in std::fs::read_dir(self.dir.join("tablets")).unwrap().flatten() {
            let pem = std::fs::read_to_string(e.path().join("certificate.pem")).unwrap();
            let (_, key, name) = hallmark_server::device_certificate("t", &pem).unwrap();
            out.push((name, key));
        }
        out
    }

    /// The lead's correction (更正) of the demo's report: (its PDF, its number).
    fn correction(&self) -> (PathBuf, String) {
        let lead = self._tmp.path().join("lead.db");
        let r1 = self._tmp.path().join("report-R1.pdf");
        let details = self.dir.join("report-details.toml");
        let args = ["report", "--db", s(&lead), "--rubric", "liaoning-demo-window", "--details", s(&details), "--out", s(&r1)];
        let out = ok(&[&args[..], &["--supersedes", s(&self.report), "--reason", "受评单位负责人电话有误"]].concat(), &self.pg);
        let number = out.split("报告编号 ").nth(1).unwrap().split('，').next().unwrap().to_string();
        (r1, number)
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
    // An assignment on the demo's hall (铁岭县), commissioned by the province.
    let sheng = Visitor::signed_in(&p, "sheng");
    let made = commission(&p, &sheng, "TL-2027", TIELING, 5);
    assert!(made.status == 200 && made.text().contains("已创建评价任务 TL-2027"), "{}", made.text());
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
        (format!("/reports/{r}/verification"), [303, 200, 200, 403, 200]),
        ("/reports/HM-NO-SUCH/pdf".to_string(), [401, 404, 404, 404, 404]),
        ("/due".to_string(), [303, 200, 200, 200, 200]),
        ("/due?days=90&city=211200".to_string(), [303, 200, 200, 200, 200]),
        ("/due.xlsx?days=90".to_string(), [401, 200, 200, 200, 200]),
        ("/items".to_string(), [303, 200, 200, 200, 200]),
        (format!("/items/{}?city=211200", n.item), [303, 200, 200, 200, 200]),
        ("/staff".to_string(), [303, 200, 403, 403, 403]),
        ("/audit".to_string(), [303, 200, 403, 403, 200]),
        ("/assets/dashboard.css".to_string(), [200, 200, 200, 200, 200]),
        ("/assignments".to_string(), [303, 200, 200, 200, 200]),
        ("/assignments/TL-2027".to_string(), [303, 200, 200, 403, 200]),
        ("/assignments/NO-SUCH".to_string(), [303, 404, 404, 404, 404]),
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
    // A new assignment on the Tieling hall: the province and Tieling may, Shenyang and the auditor not.
    for (k, v) in visitors.iter().enumerate().skip(1) {
        let want = match who[k] {
            "sheng" | "tieling" => 200,
            _ => 403,
        };
        let got = commission(&p, v, &format!("TL-{k}"), TIELING, 5);
        if got.status != want {
            wrong.push(format!("{} POST /assignments: {} (want {want})", who[k], got.status));
        }
    }
    let got = visitors[0].send("POST", "/staff", Some(&[("username", "x")]), None);
    assert!(got.status == 303 || got.status == 422, "anonymous POST /staff: {}", got.status);
    assert!(wrong.is_empty(), "{} cells differ from the table:\n{}", wrong.len(), wrong.join("\n"));

    // Scores sort as numbers: a hall scored 100 comes before every 9x (as text it would not).
    p.db().execute("UPDATE evaluations SET final_score = 100 WHERE hall_id = $1", &[&n.shenyang_hall]).unwrap();
    let page = visitors[1].get("/halls?sort=score&desc=1").text();
    let first = page.split("<tbody>").nth(1).unwrap().split("</tr>").next().unwrap();
    assert!(first.contains(&n.shenyang_hall) && first.contains(">100<"), "{first}");
    // A page far past the end is an empty page that still counts the halls, not an error.
    let past = visitors[1].get("/halls?page=9223372036854775807");
    assert!(past.status == 200 && past.text().contains("共 154 家"), "{}", past.status);

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
    let again = visitors[2].get(&format!("/reports/{r}/verification")).text();
    assert!(again.contains("核验通过") && again.contains("verified: the report is intact and signed by"), "{again}");
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

/// Debian's Chromium through chromedriver (W3C WebDriver over loopback HTTP), headless, with
/// the bureau root trusted in its own certificate store (certutil into `home`'s NSS database):
/// the pages are met as a bureau's browser meets them, TLS included.
struct Chrome {
    child: Child,
    agent: ureq::Agent,
    base: String,
    session: String,
}

impl Drop for Chrome {
    fn drop(&mut self) {
        let _ = self.agent.delete(&format!("{}/session/{}", self.base, self.session)).call();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

impl Chrome {
    /// `None` when chromedriver is not installed and the e2e tests were not asked for.
    fn start(home: &Path, root: &Path, downloads: &Path) -> Option<Chrome> {
        if !Path::new("/usr/bin/chromedriver").exists() {
            assert!(std::env::var_os("HALLMARK_E2E").is_none(), "HALLMARK_E2E is set but chromedriver is missing: run scripts/setup.sh --app");
            eprintln!("skipped: no /usr/bin/chromedriver (scripts/setup.sh --app installs it)");
            return None;
        }
        let nss = home.join(".pki/nssdb");
        std::fs::create_dir_all(&nss).unwrap();
        let db = format!("sql:{}", nss.display());
        let run = |args: &[&str]| {
            let o = Command::new("certutil").args(args).output().unwrap();
            assert!(o.status.success(), "certutil {args:?}: {o:?}");
        };
        run(&["-N", "-d", &db, "--empty-password"]);
        run(&["-A", "-d", &db, "-n", "hallmark bureau root", "-t", "C,,", "-i", s(root)]);
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let child = Command::new("/usr/bin/chromedriver")
            .arg(format!("--port={port}"))
            .env("HOME", home)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let base = format!("http://127.0.0.1:{port}");
        let agent = ureq::AgentBuilder::new().timeout(std::time::Duration::from_secs(60)).build();
        let started = std::time::Instant::now();
        while agent.get(&format!("{base}/status")).call().is_err() {
            assert!(started.elapsed().as_secs() < 20, "chromedriver did not start");
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        let caps = serde_json::json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": "/usr/bin/chromium",
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--lang=zh-CN", "--window-size=1920,1080"],
                "prefs": {"download.default_directory": downloads.display().to_string(), "download.prompt_for_download": false}
            }
        }}});
        let v: serde_json::Value = agent.post(&format!("{base}/session")).send_json(caps).unwrap().into_json().unwrap();
        let session = v["value"]["sessionId"].as_str().unwrap_or_else(|| panic!("no session: {v}")).to_string();
        Some(Chrome { child, agent, base, session })
    }

    fn cmd(&self, method: &str, path: &str, body: Option<serde_json::Value>) -> serde_json::Value {
        let url = format!("{}/session/{}{path}", self.base, self.session);
        let r = match body {
            Some(b) => self.agent.request(method, &url).send_json(b),
            None => self.agent.request(method, &url).call(),
        };
        match r {
            Ok(r) => r.into_json::<serde_json::Value>().unwrap()["value"].clone(),
            Err(ureq::Error::Status(code, r)) => panic!("webdriver {method} {path}: {code} {}", r.into_string().unwrap_or_default()),
            Err(e) => panic!("webdriver {method} {path}: {e}"),
        }
    }

    fn go(&self, url: &str) {
        self.cmd("POST", "/url", Some(serde_json::json!({ "url": url })));
    }

    fn js(&self, script: &str) -> serde_json::Value {
        self.cmd("POST", "/execute/sync", Some(serde_json::json!({ "script": script, "args": [] })))
    }

    fn find(&self, css: &str) -> String {
        let v = self.cmd("POST", "/element", Some(serde_json::json!({"using": "css selector", "value": css})));
        v[ELEMENT].as_str().unwrap_or_else(|| panic!("no element {css}: {v}")).to_string()
    }

    /// Waits (up to 10 s) until `css` matches: after a click that navigates.
    fn wait(&self, css: &str) {
        let started = std::time::Instant::now();
        loop {
            let found = self.js(&format!("return document.readyState === 'complete' && document.querySelector({}) !== null", serde_json::json!(css)));
            if found.as_bool() == Some(true) {
                return;
            }
            assert!(started.elapsed().as_secs() < 10, "nothing matches {css} on {}", self.body_text());
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
    }

    fn click(&self, css: &str) {
        self.wait(css);
        let e = self.find(css);
        self.cmd("POST", &format!("/element/{e}/click"), Some(serde_json::json!({})));
    }

    /// Clicks something that loads another page, and waits until the new page has loaded.
    fn click_nav(&self, css: &str) {
        self.js("window.__hallmark_old_page = true");
        self.click(css);
        let started = std::time::Instant::now();
        while self.js("return window.__hallmark_old_page !== true && document.readyState === 'complete'").as_bool() != Some(true) {
            assert!(started.elapsed().as_secs() < 10, "clicking {css} loaded no new page");
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
    }

    fn type_into(&self, css: &str, text: &str) {
        self.wait(css);
        let e = self.find(css);
        self.cmd("POST", &format!("/element/{e}/value"), Some(serde_json::json!({ "text": text })));
    }

    fn body_text(&self) -> String {
        self.js("return document.body.innerText").as_str().unwrap_or("").to_string()
    }

    fn size(&self, width: u32, height: u32) {
        self.cmd("POST", "/window/rect", Some(serde_json::json!({"width": width, "height": height})));
    }

    fn screenshot(&self, name: &str) {
        use base64::Engine;
        let png = base64::engine::general_purpose::STANDARD.decode(self.cmd("GET", "/screenshot", None).as_str().unwrap()).unwrap();
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/e2e-screenshots");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(format!("dashboard-{name}.png")), png).unwrap();
    }
}

#[test]
fn a_bureau_uses_the_dashboard_in_chromium() {
    let Some(admin_url) = pg_url() else { return };
    let p = Province::new(&admin_url, "browser");
    let tmp = tempfile::tempdir().unwrap();
    let downloads = tmp.path().join("downloads");
    std::fs::create_dir_all(&downloads).unwrap();
    let Some(c) = Chrome::start(&tmp.path().join("home"), &p.dir.join("bureau-root.pem"), &downloads) else { return };
    let url = |path: &str| format!("{}{path}", p.server.url);
    for (w, h) in [(1920, 1080), (1280, 800)] {
        c.size(w, h);
        c.go(&url("/halls"));
        assert!(c.body_text().contains("工作人员登录"), "an anonymous visit goes to 登录: {}", c.body_text());
        c.screenshot(&format!("01-login-{w}"));
        c.type_into("input[name=username]", "sheng");
        c.type_into("input[name=password]", PASSWORD);
        c.click_nav("form[action='/login'] button");
        let text = c.body_text();
        // The 150 generated halls and the demo registry's 4 Liaoning ones; its 2 Jiangsu halls are another province's.
        assert!(text.contains("共 154 家，第 1 / 4 页"), "{text}");
        c.screenshot(&format!("02-halls-{w}"));
        // Filter to 铁岭市, sort by score, highest first.
        c.js("document.querySelector('select[name=city]').value = '211200'; document.querySelector('select[name=result]').value = 'pass';");
        c.click_nav("form.filters button[type=submit]");
        c.click_nav("th a[href*='sort=score']");
        c.click_nav("th a[href*='sort=score']");
        let text = c.body_text();
        assert!(text.contains("最近得分 ▼"), "{text}");
        let cities = c.js("return [...document.querySelectorAll('table.halls tbody tr td:nth-child(2)')].map(td => td.innerText)");
        assert!(cities.as_array().unwrap().iter().all(|v| v.as_str().unwrap().starts_with("铁岭市")), "{cities}");
        let scores: Vec<String> = c
            .js("return [...document.querySelectorAll('table.halls tbody tr td:nth-child(5)')].map(td => td.innerText)")
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap().to_string())
            .collect();
        let mut sorted = scores.clone();
        sorted.sort_by(|a, b| b.parse::<f64>().unwrap().partial_cmp(&a.parse::<f64>().unwrap()).unwrap());
        assert!(!scores.is_empty() && scores == sorted, "{scores:?}");
        c.screenshot(&format!("03-halls-tieling-by-score-{w}"));
        // The demo's hall: its history, the panel, photos, the signed report.
        c.click_nav(&format!("a[href='/halls/{TIELING}']"));
        let text = c.body_text();
        for want in ["铁岭县医疗保障事务服务中心", "历次评价", "90.2", "评价组评分", "现场照片", "核验通过", "下载报告 PDF"]
        {
            assert!(text.contains(want), "the hall page lacks {want}: {text}");
        }
        c.screenshot(&format!("04-hall-{w}"));
        c.js("document.querySelector('table.panel').scrollIntoView()");
        c.screenshot(&format!("05-hall-panel-{w}"));
        c.js("document.querySelector('.photos').scrollIntoView()");
        // Thumbnails load lazily: once in view, every one arrives (a JPEG the browser decodes).
        let started = std::time::Instant::now();
        loop {
            let pending = c.js("return [...document.images].filter(i => !i.complete || i.naturalWidth === 0).length").as_i64().unwrap();
            let total = c.js("return document.images.length").as_i64().unwrap();
            if pending == 0 && total == 15 {
                break;
            }
            assert!(started.elapsed().as_secs() < 15, "{pending} of {total} thumbnails did not load");
            c.js("window.scrollBy(0, 400)");
            std::thread::sleep(std::time::Duration::from_millis(200));
        }
        c.js("document.querySelector('.photos').scrollIntoView()");
        c.screenshot(&format!("06-hall-photos-{w}"));
        c.go(&url("/items?city=211200"));
        assert!(c.body_text().contains("扣分项分析"));
        c.screenshot(&format!("07-items-{w}"));
        c.go(&url("/due?days=365"));
        assert!(c.body_text().contains("天后到期") || c.body_text().contains("已过期"));
        c.screenshot(&format!("08-due-{w}"));
        c.go(&url("/staff"));
        c.screenshot(&format!("09-staff-{w}"));
        if w == 1920 {
            let made = commission(&p, &Visitor::signed_in(&p, "sheng"), "TL-2027", TIELING, 5);
            assert_eq!(made.status, 200, "{}", made.text());
        }
        c.go(&url("/assignments"));
        assert!(c.body_text().contains("TL-2027"), "{}", c.body_text());
        c.screenshot(&format!("10-assignments-{w}"));
        c.click_nav("nav form button");
        assert!(c.body_text().contains("工作人员登录"), "logged out");
    }
    // Download the report and its sidecar in the browser, then verify them as anyone would.
    c.size(1920, 1080);
    c.go(&url("/login"));
    c.type_into("input[name=username]", "tieling");
    c.type_into("input[name=password]", PASSWORD);
    c.click_nav("form[action='/login'] button");
    c.go(&url(&format!("/halls/{TIELING}")));
    c.click("a[href$='/pdf']");
    c.click("a[href$='/sidecar']");
    let ascii: String = p.report_number.chars().filter(|c| c.is_ascii_alphanumeric() || *c == '-').collect();
    let pdf = downloads.join(format!("{ascii}.pdf"));
    let side = downloads.join(format!("{ascii}.pdf.sig.json"));
    let started = std::time::Instant::now();
    while !(pdf.exists() && side.exists()) {
        assert!(
            started.elapsed().as_secs() < 30,
            "the downloads did not arrive: {:?}",
            std::fs::read_dir(&downloads).unwrap().flatten().map(|e| e.path()).collect::<Vec<_>>()
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    std::thread::sleep(std::time::Duration::from_millis(500));
    let o = Command::new(env!("CARGO_BIN_EXE_hallmark")).args(["verify", s(&pdf), "--trust", s(&p.dir.join("bureau-root.pem"))]).output().unwrap();
    assert!(o.status.success() && String::from_utf8_lossy(&o.stdout).contains("verified: the report is intact and signed by"), "{o:?}");
    // Another city's user cannot open the hall (403, said in Chinese).
    c.click_nav("nav form button");
    c.type_into("input[name=username]", "shenyang");
    c.type_into("input[name=password]", PASSWORD);
    c.click_nav("form[action='/login'] button");
    c.go(&url(&format!("/halls/{TIELING}")));
    let text = c.body_text();
    assert!(text.contains("无权查看") && text.contains("不在您的管辖区域内") && !text.contains("90.2"), "{text}");
    c.screenshot("11-other-city-refused-1920");
}

/// Commissions an evaluation of `hall` with the first `members` Liaoning assessors, the demo
/// lead leading, through the page's form.
fn commission(p: &Province, v: &Visitor, id: &str, hall: &str, members: usize) -> Reply {
    let csrf = v.csrf();
    let lead = hallmark_server::device_certificate("lead", &std::fs::read_to_string(p.dir.join("sync/lead-certificate.pem")).unwrap()).unwrap().1;
    let mut keys = p.device_keys();
    keys.sort();
    let member_fields: Vec<String> = keys.iter().take(members).map(|(_, k)| format!("member_{k}")).collect();
    let mut form: Vec<(&str, &str)> = vec![
        ("csrf", csrf.as_str()),
        ("id", id),
        ("hall", hall),
        ("rubric", "liaoning-demo-window"),
        ("lead", lead.as_str()),
        ("from", "2027-11-02"),
        ("to", "2027-11-04"),
    ];
    for f in &member_fields {
        form.push((f.as_str(), "1"));
    }
    v.send("POST", "/assignments", Some(&form), None)
}

#[test]
fn a_bureau_commissions_and_edits_an_evaluation() {
    let Some(admin_url) = pg_url() else { return };
    let p = Province::new(&admin_url, "assign");
    let city = Visitor::signed_in(&p, "tieling");
    // Four assessors are too few for the Liaoning rubric (at least five), said in Chinese.
    let few = commission(&p, &city, "TL-A", TIELING, 4);
    assert_eq!(few.status, 422);
    assert!(few.text().contains("至少 5 名评价人员，当前选择了 4 名"), "{}", few.text());
    let made = commission(&p, &city, "TL-A", TIELING, 5);
    assert_eq!(made.status, 200, "{}", made.text());
    let again = commission(&p, &city, "TL-A", TIELING, 5);
    assert!(again.status == 422 && again.text().contains("已被使用"), "{}", again.text());
    // Another city's hall is refused to Tieling.
    let other = commission(&p, &city, "TL-B", "JS-320115-01", 5);
    assert_eq!(other.status, 403, "{}", other.text());
    // The lead's device sees it as a tablet would (the sync protocol's assignments).
    let lead_list = ok(
        &["sync", "assignments", "--db", s(&p._tmp.path().join("lead.db")), "--server", &p.server.url, "--trust", s(&p.dir.join("bureau-root.pem"))],
        &p.pg,
    );
    assert!(lead_list.contains("TL-A"), "{lead_list}");
    // Edit the days and the panel: bad days are refused, good ones kept.
    let csrf = city.csrf();
    let page = city.get("/assignments/TL-A").text();
    assert!(page.contains("修改评价任务") && page.contains("2027-11-02"), "{page}");
    let lead = hallmark_server::device_certificate("lead", &std::fs::read_to_string(p.dir.join("sync/lead-certificate.pem")).unwrap()).unwrap().1;
    let mut keys = p.device_keys();
    keys.sort();
    let members: Vec<String> = keys.iter().map(|(_, k)| format!("member_{k}")).collect();
    let mut form: Vec<(&str, &str)> = vec![("csrf", csrf.as_str()), ("lead", lead.as_str()), ("from", "2027-12-05"), ("to", "2027-12-01")];
    form.extend(members.iter().map(|m| (m.as_str(), "1")));
    let bad = city.send("POST", "/assignments/TL-A", Some(&form), None);
    assert!(bad.status == 422 && bad.text().contains("开始日期晚于结束日期"), "{}", bad.text());
    form[3] = ("to", "2027-12-07");
    let good = city.send("POST", "/assignments/TL-A", Some(&form), None);
    assert!(good.status == 200 && good.text().contains("已保存评价任务 TL-A") && good.text().contains("2027-12-05 至 2027-12-07"), "{}", good.text());
    // The auditor reads, and cannot change.
    let auditor = Visitor::signed_in(&p, "shenji");
    assert!(auditor.get("/assignments/TL-A").text().contains("评价任务 TL-A"));
    let csrf = auditor.csrf();
    form[0] = ("csrf", csrf.as_str());
    assert_eq!(auditor.send("POST", "/assignments/TL-A", Some(&form), None).status, 403);
    let audit = auditor.get("/audit").text();
    assert!(audit.contains("创建评价任务</td><td>TL-A") && audit.contains("修改评价任务</td><td>TL-A"), "the audit log names both");
}

#[test]
fn a_lead_sends_the_signed_report_and_the_province_checks_it_against_the_bundles() {
    let Some(admin_url) = pg_url() else { return };
    let p = Province::with(&admin_url, "upload", false, None);
    let root = p.dir.join("bureau-root.pem");
    let lead = p._tmp.path().join("lead.db");
    let send = |db: &Path, pdf: &Path| {
        hallmark(&["sync", "report", "--db", s(db), "--server", &p.server.url, "--trust", s(&root), "--hall", TIELING, s(pdf)], &p.pg)
    };
    let text = |o: &Output| format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr));
    // Before the tablets push, the server cannot check the report: it says whose bundles it lacks.
    let o = send(&lead, &p.report);
    assert!(!o.status.success() && text(&o).contains("409 missing_bundles") && text(&o).contains("张伟"), "{}", text(&o));
    let tablets: Vec<PathBuf> = std::fs::read_dir(p.dir.join("tablets"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|t| t.file_name().unwrap().to_string_lossy().starts_with("liaoning-"))
        .collect();
    for t in &tablets {
        ok(&["sync", "push", "--db", s(t), "--server", &p.server.url, "--trust", s(&root)], &p.pg);
    }
    // An assessor's tablet cannot send a report; an altered PDF is refused, nothing kept.
    let o = send(&tablets[0], &p.report);
    assert!(!o.status.success() && text(&o).contains("403 not_lead"), "{}", text(&o));
    let tmp = tempfile::tempdir().unwrap();
    let forged = tmp.path().join("forged.pdf");
    let mut bytes = std::fs::read(&p.report).unwrap();
    let at = bytes.len() / 3;
    bytes[at] ^= 1;
    std::fs::write(&forged, bytes).unwrap();
    std::fs::copy(format!("{}.sig.json", p.report.display()), format!("{}.sig.json", forged.display())).unwrap();
    let o = send(&lead, &forged);
    assert!(!o.status.success() && text(&o).contains("422 refused") && text(&o).contains("the PDF was changed"), "{}", text(&o));
    let mut db = p.db();
    let held: i64 = db.query_one("SELECT count(*) FROM reports", &[]).unwrap().get(0);
    assert_eq!(held, 0);
    // Filed under another hall than the panel's assignment: refused.
    let shenyang: String = p.db().query_one("SELECT id FROM halls WHERE region_code LIKE '2101%' ORDER BY id LIMIT 1", &[]).unwrap().get(0);
    let o = hallmark(&["sync", "report", "--db", s(&lead), "--server", &p.server.url, "--trust", s(&root), "--hall", &shenyang, s(&p.report)], &p.pg);
    assert!(!o.status.success() && text(&o).contains("422 hall_mismatch"), "{}", text(&o));
    // The lead's real report: verified against the pushed bundles and kept; again, nothing new.
    let o = send(&lead, &p.report);
    assert!(o.status.success() && text(&o).contains("kept in the province records"), "{}", text(&o));
    let o = send(&lead, &p.report);
    assert!(o.status.success() && text(&o).contains("held it already"), "{}", text(&o));
    let loaded_by: String = db.query_one("SELECT loaded_by FROM reports", &[]).unwrap().get(0);
    assert_eq!(loaded_by, "sync: 王敏");
    // The bureau sees it.
    let page = Visitor::signed_in(&p, "tieling").get(&format!("/halls/{TIELING}")).text();
    assert!(page.contains("核验通过") && page.contains(&p.report_number) && page.contains("90.2"), "{page}");
}

#[test]
fn every_report_verifies_again_from_the_records_alone_and_after_a_restore() {
    let Some(admin_url) = pg_url() else { return };
    let p = Province::new(&admin_url, "reverify");
    let root = p.dir.join("bureau-root.pem");
    let reverify = |pg: &str| hallmark(&["records", "reverify", "--postgres", pg, "--trust", s(&root)], pg);
    let text = |o: &Output| format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr));
    let o = reverify(&p.pg);
    assert!(
        o.status.success() && text(&o).contains(&format!("ok    {}", p.report_number)) && text(&o).contains("1 reports verified again"),
        "{}",
        text(&o)
    );

    // Backed up with the project's script, restored into a fresh cluster: the report verifies
    // there too, its bundles put together from the restored blobs.
    let cluster = Cluster::start("dashboard-restore");
    let script = |args: &[&str]| Command::new(workspace().join("scripts/province-backup.sh")).args(args).output().unwrap();
    let dump = cluster.dir.join("province.dump");
    let o = script(&["backup", &p.pg, s(&dump)]);
    assert!(o.status.success(), "{}", text(&o));
    let fresh = cluster.url.clone();
    let o = script(&["restore", &fresh, s(&dump)]);
    assert!(o.status.success(), "{}", text(&o));
    let o = reverify(&fresh);
    assert!(o.status.success() && text(&o).contains(&format!("ok    {}", p.report_number)), "{}", text(&o));

    // A photo lost from the restored blobs: the report no longer verifies, and says which file.
    let mut db = postgres::Client::connect(&fresh, postgres::NoTls).unwrap();
    let photo: String = db.query_one("SELECT sha256::text FROM evidence ORDER BY sha256 LIMIT 1", &[]).unwrap().get(0);
    db.batch_execute(&format!("ALTER TABLE evidence DROP CONSTRAINT evidence_sha256_fkey; DELETE FROM blobs WHERE sha256 = '{photo}'")).unwrap();
    let o = reverify(&fresh);
    assert!(!o.status.success() && text(&o).contains(&photo) && text(&o).contains("is not in the records' blobs"), "{}", text(&o));
}

#[test]
fn a_correction_takes_the_place_of_the_report_it_corrects() {
    let Some(admin_url) = pg_url() else { return };
    let p = Province::new(&admin_url, "correction");
    let root = p.dir.join("bureau-root.pem");
    let (r1, r1_number) = p.correction();
    assert!(r1_number.ends_with("-R1"), "{r1_number}");
    let loaded = ok(&["records", "load", s(&r1), "--bundles", s(&p.dir), "--trust", s(&root), "--hall", TIELING], &p.pg);
    assert!(loaded.contains("verified and loaded (5 sheets"), "{loaded}");
    let mut db = p.db();
    let sheets: Vec<String> = db
        .query("SELECT DISTINCT report_number FROM sheets s JOIN evaluations e USING (report_number) WHERE e.hall_id = $1", &[&TIELING])
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(sheets, vec![r1_number.clone()], "the panel's sheets now belong to the correction");
    let page = Visitor::signed_in(&p, "tieling").get(&format!("/halls/{TIELING}")).text();
    assert!(page.contains(&format!("更正 {}", p.report_number)) && page.contains(&format!("已被 {r1_number} 更正")), "{page}");
    let latest = hallmark_province::dashboard::latest_results(&mut db, "211221", 10, 0).unwrap();
    assert_eq!(latest.iter().find(|h| h.hall_id == TIELING).unwrap().report_number.as_deref(), Some(r1_number.as_str()));
    // Both reports still verify from the records.
    let o = hallmark(&["records", "reverify", "--trust", s(&root)], &p.pg);
    assert!(o.status.success() && String::from_utf8_lossy(&o.stdout).contains("2 reports verified again"), "{o:?}");
}

#[test]
fn the_evidence_lives_in_the_object_store_and_nothing_is_lost_when_it_stops() {
    let Some(admin_url) = pg_url() else { return };
    if !Garage::installed() {
        eprintln!("skipped: garage is not installed (HALLMARK_GARAGE=1 scripts/test.sh installs it)");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let garage = Garage::start(&tmp.path().join("garage"));
    let p = Province::with(&admin_url, "s3", true, Some(&garage.url));
    let mut db = p.db();
    let places = |db: &mut postgres::Client| -> (i64, i64) {
        let r = db
            .query_one("SELECT count(*) FILTER (WHERE place = 'postgres'), count(*) FILTER (WHERE place = 's3' AND bytes IS NULL) FROM blobs", &[])
            .unwrap();
        (r.get(0), r.get(1))
    };
    let (here, there) = places(&mut db);
    assert!(here == 0 && there > 20, "every blob in the object store, none in PostgreSQL: {here} / {there}");
    // The pages read the photos from the object store; the report verifies again from it.
    let city = Visitor::signed_in(&p, "tieling");
    let thumb: String = db.query_one("SELECT thumb_sha256::text FROM evidence ORDER BY sha256 LIMIT 1", &[]).unwrap().get(0);
    let got = city.get(&format!("/halls/{TIELING}/thumbs/{thumb}"));
    use sha2::Digest;
    assert!(got.status == 200 && hallmark_core::hex::hex(&sha2::Sha256::digest(&got.body)) == thumb, "{}", got.status);
    let root = p.dir.join("bureau-root.pem");
    let text = |o: &Output| format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr));
    let o = hallmark_s3(&["records", "reverify", "--trust", s(&root)], &p.pg, Some(&garage.url));
    assert!(o.status.success() && text(&o).contains("1 reports verified again"), "{}", text(&o));
    let o = hallmark(&["records", "reverify", "--trust", s(&root)], &p.pg);
    assert!(!o.status.success() && text(&o).contains("kept in the object store: give its URL"), "{}", text(&o));

    // The object store stops: a new report (a correction) is refused with the reason and
    // records nothing; the pages say the evidence is unavailable; started again, it loads.
    garage.run("stop");
    let (r1, _) = p.correction();
    let before: (i64, i64) = {
        let r = db.query_one("SELECT (SELECT count(*) FROM evaluations), (SELECT count(*) FROM blobs)", &[]).unwrap();
        (r.get(0), r.get(1))
    };
    let load =
        |url: &str| hallmark_s3(&["records", "load", s(&r1), "--bundles", s(&p.dir), "--trust", s(&root), "--hall", TIELING], &p.pg, Some(url));
    let o = load(&garage.url);
    assert!(!o.status.success() && text(&o).contains("cannot store"), "{}", text(&o));
    let after: (i64, i64) = {
        let r = db.query_one("SELECT (SELECT count(*) FROM evaluations), (SELECT count(*) FROM blobs)", &[]).unwrap();
        (r.get(0), r.get(1))
    };
    assert_eq!(before, after, "a refused load records nothing");
    let down = city.get(&format!("/halls/{TIELING}/thumbs/{thumb}"));
    assert_eq!(down.status, 503, "{}", down.text());
    assert!(down.text().contains("证据存储暂时不可用"), "{}", down.text());
    let garage = Garage::start(&tmp.path().join("garage"));
    let o = load(&garage.url);
    assert!(o.status.success() && text(&o).contains("verified and loaded"), "{}", text(&o));
    let o = hallmark_s3(&["records", "reverify", "--trust", s(&root)], &p.pg, Some(&garage.url));
    assert!(o.status.success() && text(&o).contains("2 reports verified again"), "{}", text(&o));

    // An object stored but never recorded (a load killed between the two writes): invisible,
    // and swept once old enough; every recorded object stays.
    let orphan = b"a photo whose row was never written".to_vec();
    let orphan_sha = hallmark_core::hex::sha256_hex(&orphan);
    hallmark_province::blobs::S3Blobs::open(&garage.url).unwrap().put(&orphan_sha, &orphan).unwrap();
    let sweep = |minutes: &str| hallmark_s3(&["records", "sweep-evidence", "--older-than-minutes", minutes], &p.pg, Some(&garage.url));
    let o = sweep("60");
    assert!(o.status.success() && text(&o).contains("0 objects no record names deleted"), "{}", text(&o));
    let o = sweep("0");
    assert!(o.status.success() && text(&o).contains("1 objects no record names deleted"), "{}", text(&o));
    let o = hallmark_s3(&["records", "reverify", "--trust", s(&root)], &p.pg, Some(&garage.url));
    assert!(o.status.success() && text(&o).contains("2 reports verified again"), "{}", text(&o));

    // Backup with the evidence (the dump and every object by hash), restored into a fresh
    // cluster and a fresh bucket: both reports verify there.
    let cluster = Cluster::start("s3-restore");
    let dump = cluster.dir.join("province.dump");
    let script = |args: &[&str], s3: &str| {
        Command::new(workspace().join("scripts/province-backup.sh"))
            .args(args)
            .env("HALLMARK_S3", s3)
            .env("HALLMARK", env!("CARGO_BIN_EXE_hallmark"))
            .output()
            .unwrap()
    };
    let o = script(&["backup", &p.pg, s(&dump)], &garage.url);
    assert!(o.status.success() && text(&o).contains("objects copied"), "{}", text(&o));
    let fresh_bucket = Garage::start(&tmp.path().join("garage-2"));
    let fresh = cluster.url.clone();
    let o = script(&["restore", &fresh, s(&dump)], &fresh_bucket.url);
    assert!(o.status.success() && text(&o).contains("objects put into the object store"), "{}", text(&o));
    let o = hallmark_s3(&["records", "reverify", "--trust", s(&root)], &fresh, Some(&fresh_bucket.url));
    assert!(o.status.success() && text(&o).contains("2 reports verified again"), "{}", text(&o));
}
