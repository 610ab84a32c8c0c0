//! A bare Tauri window: one static page that reports its first painted frame. scripts/
//! bench-startup.sh starts it next to hallmark in the same run, so hallmark's cold start is
//! read as a ratio to what any Tauri app on this machine costs.

use std::sync::OnceLock;
use std::time::Instant;

static STARTED: OnceLock<Instant> = OnceLock::new();

#[tauri::command]
fn painted() {
    let ms = STARTED.get().map(|t| t.elapsed().as_millis()).unwrap_or_default();
    eprintln!("bare window: first paint after {ms} ms");
}

fn main() {
    STARTED.get_or_init(Instant::now);
    tauri::Builder::default()
        .invoke_handler(tauri::generate_handler![painted])
        .run(tauri::generate_context!("tauri.conf.json"))
        .expect("error while running the bare window");
}
