/// Every command the webview may call; capabilities/main.json allows exactly these.
const COMMANDS: &[&str] = &[
    "app_info",
    "list_rubrics",
    "list_inspections",
    "create_inspection",
    "open_inspection",
    "record_answer",
    "clear_answer",
    "attach_photo",
    "photo_view",
    "finish_inspection",
    "record_amendment",
    "record_service",
    "save_signature",
    "export_bundle",
    "bundle_inbox",
    "import_bundles",
    "roster_add",
    "roster_load",
    "panel_create",
    "panel_add",
    "panel_remove",
    "panel_list",
    "report_details",
    "edit_caption",
    "withdraw_photo",
    "merge_view",
    "thumb_view",
    "make_report",
    "export_scores",
    "reevaluations_due",
    "recovery_info",
    "restore_backup",
    "rebuild_store",
    "backup_store",
    "enrollment_status",
    "enrollment_screen",
    "enrollment_request",
    "install_certificate",
];

fn main() {
    tauri_build::try_build(
        tauri_build::Attributes::new().config_path("../tauri.conf.json").app_manifest(tauri_build::AppManifest::new().commands(COMMANDS)),
    )
    .expect("failed to run tauri-build");
}
