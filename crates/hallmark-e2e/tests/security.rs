//! The webview may call hallmark's own commands and nothing else; the CSP is set; no remote
//! URL is loaded. Read from the files Tauri builds the app from.

use hallmark_e2e::workspace_root;
use serde_json::Value;

fn json(path: &str) -> Value {
    serde_json::from_str(&std::fs::read_to_string(workspace_root().join(path)).unwrap()).unwrap()
}

#[test]
fn capabilities_grant_only_hallmarks_own_commands() {
    let build_rs = std::fs::read_to_string(workspace_root().join("src-tauri/build.rs")).unwrap();
    let cap = json("src-tauri/capabilities/main.json");
    let perms: Vec<&str> = cap["permissions"].as_array().unwrap().iter().map(|p| p.as_str().unwrap()).collect();
    assert!(!perms.is_empty());
    for p in &perms {
        let command = p.strip_prefix("allow-").unwrap_or_else(|| panic!("permission '{p}' is not one of hallmark's commands")).replace('-', "_");
        assert!(build_rs.contains(&format!("\"{command}\"")), "permission '{p}' names no command in build.rs");
        assert!(!p.contains(':'), "plugin permission '{p}' (fs/shell/http…) must not be reachable from the webview");
    }
    let caps_dir = std::fs::read_dir(workspace_root().join("src-tauri/capabilities")).unwrap().count();
    assert_eq!(caps_dir, 1, "one capability file: main.json");
    let cargo = std::fs::read_to_string(workspace_root().join("src-tauri/Cargo.toml")).unwrap();
    assert!(!cargo.contains("tauri-plugin"), "no Tauri plugin is linked into the app");
}

#[test]
fn csp_is_set_and_no_remote_url_is_loaded() {
    let conf = json("tauri.conf.json");
    let csp = conf["app"]["security"]["csp"].as_str().expect("a CSP is set");
    assert!(csp.contains("default-src 'self'"), "{csp}");
    assert!(!csp.contains("http://") || csp.contains("http://ipc.localhost"), "{csp}");
    assert!(!csp.contains("https:") && !csp.contains('*'), "no remote origin in the CSP: {csp}");
    assert_eq!(conf["build"]["frontendDist"], "ui", "the UI is bundled, not fetched");
    for entry in std::fs::read_dir(workspace_root().join("ui")).unwrap() {
        let p = entry.unwrap().path();
        if p.extension().is_some_and(|e| e == "html" || e == "js" || e == "css") {
            let text = std::fs::read_to_string(&p).unwrap();
            assert!(!text.contains("http://") && !text.contains("https://"), "{} loads a remote URL", p.display());
        }
    }
}
