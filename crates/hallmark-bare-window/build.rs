fn main() {
    tauri_build::try_build(
        tauri_build::Attributes::new().config_path("tauri.conf.json").app_manifest(tauri_build::AppManifest::new().commands(&["painted"])),
    )
    .expect("failed to run tauri-build");
}
