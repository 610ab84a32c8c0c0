//! A minimal WebDriver client over plain HTTP/1.1 on loopback, and a harness that starts
//! `tauri-driver` for the real hallmark app. No TLS, no async runtime: the driver is local.
//!
//! The e2e tests run when `HALLMARK_E2E=1` and a display is available (scripts/test.sh runs
//! them under `xvfb-run`); otherwise they say why they were skipped.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

pub fn enabled() -> Result<(), String> {
    if std::env::var_os("HALLMARK_E2E").is_none() {
        return Err("set HALLMARK_E2E=1 to run the e2e tests (scripts/test.sh does)".into());
    }
    if std::env::var_os("DISPLAY").is_none() {
        return Err("no DISPLAY: run under xvfb-run (scripts/test.sh does)".into());
    }
    Ok(())
}

pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap()
}

pub fn app_binary() -> PathBuf {
    if let Some(p) = std::env::var_os("HALLMARK_APP_BIN") {
        return p.into();
    }
    let target = std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| workspace_root().join("target"));
    let p = target.join("debug/hallmark-app");
    assert!(p.exists(), "{} is missing: run `cargo build -p hallmark-app` first", p.display());
    p
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// tauri-driver plus one WebDriver session of the app. Dropping it ends the session and
/// stops the driver with SIGTERM (SIGKILL would leave WebKitWebDriver running).
pub struct Driver {
    child: Child,
    port: u16,
}

impl Driver {
    pub fn start(data_home: &Path) -> Driver {
        Driver::start_with(data_home, &[])
    }

    /// Like [`Driver::start`], with more environment for the app (e.g. HALLMARK_BUNDLE_DIR).
    pub fn start_with(data_home: &Path, env: &[(&str, &Path)]) -> Driver {
        let port = free_port();
        let native = free_port();
        let bin = std::env::var("TAURI_DRIVER").unwrap_or_else(|_| "tauri-driver".into());
        let child = Command::new(&bin)
            .args(["--port", &port.to_string(), "--native-port", &native.to_string()])
            .env("XDG_DATA_HOME", data_home)
            .envs(env.iter().map(|(k, v)| (*k, *v)))
            .env_remove("HALLMARK_DATA_DIR")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {bin}: {e} (cargo install tauri-driver --locked --version '^2')"));
        let deadline = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "tauri-driver did not listen on {port}");
            std::thread::sleep(Duration::from_millis(100));
        }
        Driver { child, port }
    }

    pub fn session(&self, app: &Path, args: &[&str]) -> Session {
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "wry",
            "tauri:options": {"application": app.display().to_string(), "args": args}
        }}});
        let v = http(self.port, "POST", "/session", Some(&caps)).expect("new session");
        let id = v["value"]["sessionId"].as_str().unwrap_or_else(|| panic!("no session: {v}")).to_string();
        Session { port: self.port, id }
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        unsafe_sigterm(self.child.id());
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
    }
}

fn unsafe_sigterm(pid: u32) {
    let _ = Command::new("kill").args(["-TERM", &pid.to_string()]).status();
}

fn http(port: u16, method: &str, path: &str, body: Option<&Value>) -> Result<Value, String> {
    // tauri-driver now and then closes a connection without answering: send it again.
    let mut last = String::new();
    for _ in 0..6 {
        match http_once(port, method, path, body) {
            Err(e) if e.starts_with("no response") => {
                last = e;
                std::thread::sleep(Duration::from_millis(250));
            }
            other => return other,
        }
    }
    Err(last)
}

fn http_once(port: u16, method: &str, path: &str, body: Option<&Value>) -> Result<Value, String> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).map_err(|e| e.to_string())?;
    s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    let body = body.map(|b| b.to_string()).unwrap_or_default();
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .map_err(|e| e.to_string())?;
    let mut r = BufReader::new(s);
    let mut status = String::new();
    r.read_line(&mut status).map_err(|e| e.to_string())?;
    if status.trim().is_empty() {
        return Err(format!("no response to {method} {path}"));
    }
    let mut len = None;
    let mut chunked = false;
    loop {
        let mut line = String::new();
        r.read_line(&mut line).map_err(|e| e.to_string())?;
        let l = line.trim_end();
        if l.is_empty() {
            break;
        }
        let lower = l.to_ascii_lowercase();
        if let Some(v) = lower.strip_prefix("content-length:") {
            len = v.trim().parse::<usize>().ok();
        }
        if lower.starts_with("transfer-encoding:") && lower.contains("chunked") {
            chunked = true;
        }
    }
    let mut buf = Vec::new();
    if chunked {
        loop {
            let mut size = String::new();
            r.read_line(&mut size).map_err(|e| e.to_string())?;
            let n = usize::from_str_radix(size.trim(), 16).map_err(|e| e.to_string())?;
            if n == 0 {
                break;
            }
            let mut chunk = vec![0; n + 2];
            r.read_exact(&mut chunk).map_err(|e| e.to_string())?;
            buf.extend_from_slice(&chunk[..n]);
        }
    } else if let Some(n) = len {
        buf.resize(n, 0);
        r.read_exact(&mut buf).map_err(|e| e.to_string())?;
    } else {
        r.read_to_end(&mut buf).map_err(|e| e.to_string())?;
    }
    if buf.is_empty() && status.contains(" 200") {
        // tauri-driver sometimes forwards a success with no body; the command did run.
        return Ok(json!({"value": null}));
    }
    let v: Value = serde_json::from_slice(&buf).map_err(|e| format!("{status}: {e}: {}", String::from_utf8_lossy(&buf)))?;
    if !status.contains(" 200") {
        return Err(format!("{} {path}: {}", status.trim(), v["value"]));
    }
    Ok(v)
}

pub struct Session {
    port: u16,
    id: String,
}

impl Session {
    fn call(&self, method: &str, path: &str, body: Option<Value>) -> Result<Value, String> {
        http(self.port, method, &format!("/session/{}{path}", self.id), body.as_ref()).map(|v| v["value"].clone())
    }

    /// Runs JavaScript in the page and returns its result.
    pub fn js(&self, script: &str, args: Vec<Value>) -> Value {
        self.call("POST", "/execute/sync", Some(json!({"script": script, "args": args}))).unwrap_or_else(|e| panic!("script failed: {e}\n{script}"))
    }

    /// Waits until `script` (a JS expression) is truthy; returns its value.
    pub fn wait_for(&self, what: &str, expr: &str) -> Value {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Ok(v) = self.call("POST", "/execute/sync", Some(json!({"script": format!("return ({expr});"), "args": []}))) {
                if !(v.is_null() || v == json!(false) || v == json!("") || v == json!(0)) {
                    return v;
                }
            }
            assert!(Instant::now() < deadline, "timed out waiting for {what} ({expr})");
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// The text of the first element matching `css` ("" if none).
    pub fn text(&self, css: &str) -> String {
        self.js(&format!("const e = document.querySelector({css:?}); return e ? e.textContent : null;"), vec![]).as_str().unwrap_or("").to_string()
    }

    /// Waits until the first element matching `css` contains `needle`.
    pub fn wait_text(&self, css: &str, needle: &str) {
        self.wait_for(
            &format!("{css} to contain {needle}"),
            &format!("(document.querySelector({css:?}) || {{textContent: ''}}).textContent.includes({needle:?})"),
        );
    }

    pub fn find(&self, css: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Ok(v) = self.call("POST", "/element", Some(json!({"using": "css selector", "value": css}))) {
                if let Some(id) = v.as_object().and_then(|o| o.values().next()).and_then(Value::as_str) {
                    return id.to_string();
                }
            }
            assert!(Instant::now() < deadline, "no element {css}");
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    pub fn click(&self, css: &str) {
        let el = self.find(css);
        self.js("document.querySelector(arguments[0]).scrollIntoView({block:'center'});", vec![json!(css)]);
        self.call("POST", &format!("/element/{el}/click"), Some(json!({}))).unwrap_or_else(|e| panic!("click {css}: {e}"));
    }

    pub fn type_into(&self, css: &str, text: &str) {
        let el = self.find(css);
        self.call("POST", &format!("/element/{el}/clear"), Some(json!({}))).ok();
        self.call("POST", &format!("/element/{el}/value"), Some(json!({"text": text}))).unwrap_or_else(|e| panic!("type into {css}: {e}"));
    }

    pub fn set_window(&self, width: u32, height: u32) {
        self.call("POST", "/window/rect", Some(json!({"width": width, "height": height, "x": 0, "y": 0}))).ok();
    }

    pub fn screenshot(&self, path: &Path) {
        use base64::Engine;
        // WebKitWebDriver now and then answers a screenshot with an empty body: ask again.
        let mut v = self.call("GET", "/screenshot", None);
        for _ in 0..5 {
            if v.as_ref().is_ok_and(|x| x.is_string()) {
                break;
            }
            std::thread::sleep(Duration::from_millis(300));
            v = self.call("GET", "/screenshot", None);
        }
        let v = v.expect("screenshot");
        let png = base64::engine::general_purpose::STANDARD.decode(v.as_str().unwrap()).unwrap();
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, png).unwrap();
    }

    pub fn end(self) {
        let _ = self.call("DELETE", "", None);
    }
}
