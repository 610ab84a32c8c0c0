//! The hallmark tablet app. Every command is a thin wrapper: take the state and plain
//! arguments, call hallmark-store / hallmark-core, map the error to `{ code, message }`.
//! No SQL, no scoring and no business rules live here. Commands run off the main thread
//! (`async`), so SQLite work never freezes the UI. What they return is the IPC's own types
//! ([`view`]), never a library struct.

pub mod outbox;
pub mod view;

use std::path::PathBuf;
use std::sync::Mutex;

use hallmark_core::rubric::Rubric;
use hallmark_store::{demo, Store};
use serde_json::Value;
use tauri::ipc::Channel;
use tauri::{Manager, State};
use view::{
    invalid, AppInfo, CommandError, CreateInspection, Exported, ImportOutcome, Inbox, InboxFile, InspectionSummary, InspectionView, Progress,
    ReviewsReceived, RubricChoice,
};

pub struct AppState {
    /// `None` when the store could not be opened: every command but the recovery ones then
    /// answers with the reason, and the UI shows its recovery screen.
    store: Mutex<Option<Store>>,
    /// Why the store could not be opened.
    broken: Mutex<Option<CommandError>>,
    /// The data folder.
    dir: PathBuf,
    /// Sync with the server (issue #11): the background outbox.
    outbox: outbox::Outbox,
}

/// The open store, while the lock is held.
struct StoreGuard<'a>(std::sync::MutexGuard<'a, Option<Store>>);

impl std::ops::Deref for StoreGuard<'_> {
    type Target = Store;
    fn deref(&self) -> &Store {
        self.0.as_ref().expect("lock() hands out only an open store")
    }
}

impl std::ops::DerefMut for StoreGuard<'_> {
    fn deref_mut(&mut self) -> &mut Store {
        self.0.as_mut().expect("lock() hands out only an open store")
    }
}

type Result<T> = std::result::Result<T, CommandError>;

fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

fn lock<'a>(state: &'a State<'_, AppState>) -> Result<StoreGuard<'a>> {
    // A panic while holding the lock cannot leave SQLite half-written (transactions), so the
    // store is still usable: take it back rather than refusing every later command.
    let guard = state.store.lock().unwrap_or_else(|p| p.into_inner());
    if guard.is_none() {
        let broken = state.broken.lock().unwrap_or_else(|p| p.into_inner());
        let e = broken.as_ref().cloned();
        return Err(e.unwrap_or_else(|| invalid("the store is not open")));
    }
    Ok(StoreGuard(guard))
}

static STARTED: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();

/// `first_screen` is sent once by the UI after its first render: with HALLMARK_STARTUP_PROBE
/// set, the app then prints how long the cold start took (scripts/bench-startup.sh reads it).
#[tauri::command(async)]
fn app_info(state: State<'_, AppState>, first_screen: Option<bool>) -> Result<AppInfo> {
    if first_screen == Some(true) && std::env::var_os("HALLMARK_STARTUP_PROBE").is_some() {
        let ms = STARTED.get().map(|t| t.elapsed().as_millis()).unwrap_or_default();
        eprintln!("hallmark: first screen after {ms} ms");
    }
    Ok(AppInfo::of(&*lock(&state)?, &bundle_dir()))
}

/// The rubrics 新建评价 offers: those built into the app, then those fetched from the sync
/// server (published by the bureau, each checked before it was kept).
#[tauri::command(async)]
fn list_rubrics(state: State<'_, AppState>) -> Result<Vec<RubricChoice>> {
    let mut out: Vec<(String, RubricChoice)> = Vec::new();
    for (name, text) in rubric_texts(&state)? {
        let r = Rubric::load(&name, &text).map_err(|e| CommandError::new("rubric", e.to_string()))?;
        // One choice per id: the newest (what create_inspection then uses).
        match out.iter_mut().find(|(id, _)| *id == r.id) {
            Some(slot) => slot.1 = RubricChoice::from(&r),
            None => out.push((r.id.clone(), RubricChoice::from(&r))),
        }
    }
    Ok(out.into_iter().map(|(_, c)| c).collect())
}

/// (file name, text) of every rubric this device can start an inspection with; a fetched
/// one with the id of a built-in one comes after it (newer version).
fn rubric_texts(state: &State<'_, AppState>) -> Result<Vec<(String, String)>> {
    let mut out: Vec<(String, String)> = hallmark_core::builtin::ALL.iter().map(|(n, t)| (n.to_string(), t.to_string())).collect();
    if let Ok(store) = lock(state) {
        for p in store.published_rubrics()? {
            out.push((format!("{}-v{}.toml", p.rubric_id, p.version), p.content));
        }
    }
    Ok(out)
}

#[tauri::command(async)]
fn list_inspections(state: State<'_, AppState>) -> Result<Vec<InspectionSummary>> {
    Ok(lock(&state)?.summaries()?.iter().map(InspectionSummary::from).collect())
}

#[tauri::command(async)]
fn create_inspection(state: State<'_, AppState>, new: CreateInspection) -> Result<String> {
    // The newest version of the chosen id: a published one over the built-in one.
    let mut text = None;
    for (name, t) in rubric_texts(&state)? {
        if Rubric::load(&name, &t).is_ok_and(|r| r.id == new.rubric_id) {
            text = Some(t);
        }
    }
    let text = text.ok_or_else(|| invalid(format!("rubric '{}' is not known to this app", new.rubric_id)))?;
    let id = lock(&state)?.create_inspection(&new.into_new(text), &now())?;
    Ok(id)
}

#[tauri::command(async)]
fn open_inspection(state: State<'_, AppState>, id: String) -> Result<InspectionView> {
    InspectionView::load(&*lock(&state)?, &id)
}

/// Records one answer; returns the recomputed view once the change is durable.
#[tauri::command(async)]
fn record_answer(state: State<'_, AppState>, id: String, key: String, value: Value) -> Result<InspectionView> {
    // Test-only: the e2e typing test makes saves slow so a race with typing is certain.
    if let Some(ms) = std::env::var("HALLMARK_TEST_SAVE_DELAY_MS").ok().and_then(|v| v.parse::<u64>().ok()) {
        std::thread::sleep(std::time::Duration::from_millis(ms));
    }
    let mut store = lock(&state)?;
    let author = store.inspection(&id)?.assessor_name;
    store.record(&id, &key, Some(value), &author, &now())?;
    InspectionView::load(&store, &id)
}

#[tauri::command(async)]
fn clear_answer(state: State<'_, AppState>, id: String, key: String) -> Result<InspectionView> {
    let mut store = lock(&state)?;
    let author = store.inspection(&id)?.assessor_name;
    store.record(&id, &key, None, &author, &now())?;
    InspectionView::load(&store, &id)
}

#[tauri::command(async)]
fn record_amendment(state: State<'_, AppState>, id: String, key: String, value: Value, reason: String) -> Result<InspectionView> {
    let mut store = lock(&state)?;
    let author = store.inspection(&id)?.assessor_name;
    store.amend(&id, &key, Some(value), &author, &now(), &reason)?;
    InspectionView::load(&store, &id)
}

/// The assessor answers a returned item by keeping its answers, with the reason (issue #13).
#[tauri::command(async)]
fn keep_answers(state: State<'_, AppState>, id: String, item: String, reason: String) -> Result<InspectionView> {
    let mut store = lock(&state)?;
    store.keep_answers(&id, &item, &reason, &now())?;
    InspectionView::load(&store, &id)
}

/// Logs one observed service; its occurrences are added to the item's tallies.
#[tauri::command(async)]
fn record_service(state: State<'_, AppState>, id: String, item: String, entry: view::NewService) -> Result<InspectionView> {
    let mut store = lock(&state)?;
    let author = store.inspection(&id)?.assessor_name;
    store.record_service(&id, &item, &entry.into(), &author, &now())?;
    InspectionView::load(&store, &id)
}

fn header(request: &tauri::ipc::Request<'_>, name: &str) -> Result<String> {
    let raw = request.headers().get(name).and_then(|v| v.to_str().ok()).ok_or_else(|| invalid(format!("missing header '{name}'")))?;
    // The UI sends encodeURIComponent(value): UTF-8, percent-encoded.
    percent_encoding::percent_decode_str(raw)
        .decode_utf8()
        .map(|s| s.into_owned())
        .map_err(|_| invalid(format!("header '{name}' is not percent-encoded UTF-8")))
}

/// The photo's bytes travel as the raw request body (no JSON array of numbers);
/// inspection, item and caption travel in percent-encoded headers.
#[tauri::command(async)]
fn attach_photo(state: State<'_, AppState>, request: tauri::ipc::Request<'_>) -> Result<InspectionView> {
    let tauri::ipc::InvokeBody::Raw(bytes) = request.body() else {
        return Err(invalid("the photo must be sent as raw bytes"));
    };
    let id = header(&request, "x-inspection")?;
    let item = header(&request, "x-item")?;
    let caption = header(&request, "x-caption").unwrap_or_default();
    let mut store = lock(&state)?;
    let author = store.inspection(&id)?.assessor_name;
    store.attach_photo(&id, &item, bytes, &caption, &author, &now()).map_err(photo_refused)?;
    InspectionView::load(&store, &id)
}

/// A refused photo (not a JPEG, damaged, too large: `invalid` with no facts of its own) is
/// marked `fields.kind = "photo"`, so the UI words it without reading the English message.
fn photo_refused(e: hallmark_store::StoreError) -> CommandError {
    let mut c = CommandError::from(e);
    if c.code == "invalid" && c.fields.get("kind").is_none() {
        c.fields = serde_json::json!({ "kind": "photo" });
    }
    c
}

/// A stored JPEG (photo or thumbnail) by its photo's hash, as a data URL.
fn stored_jpeg(state: &State<'_, AppState>, sha256: &str, what: &str, path: fn(&Store, &str) -> PathBuf) -> Result<String> {
    if !hallmark_core::hex::is_sha256(sha256) {
        return Err(invalid(format!("'{sha256}' is not a photo hash")));
    }
    let store = lock(state)?;
    let bytes = std::fs::read(path(&store, sha256)).map_err(|e| invalid(format!("{what} {sha256}: {e}")))?;
    Ok(view::data_url("image/jpeg", &bytes))
}

#[tauri::command(async)]
fn photo_view(state: State<'_, AppState>, sha256: String) -> Result<String> {
    stored_jpeg(&state, &sha256, "photo", Store::photo_path)
}

#[tauri::command(async)]
fn finish_inspection(state: State<'_, AppState>, id: String) -> Result<InspectionView> {
    let mut store = lock(&state)?;
    store.finish(&id, &now())?;
    InspectionView::load(&store, &id)
}

/// The assessor's handwritten signature: a PNG drawn on the canvas, sent as the raw body.
#[tauri::command(async)]
fn save_signature(state: State<'_, AppState>, request: tauri::ipc::Request<'_>) -> Result<InspectionView> {
    let tauri::ipc::InvokeBody::Raw(bytes) = request.body() else {
        return Err(invalid("the signature must be sent as raw PNG bytes"));
    };
    let id = header(&request, "x-inspection")?;
    let mut store = lock(&state)?;
    store.save_signature(&id, bytes, &now())?;
    InspectionView::load(&store, &id)
}

// ---------- bundles (inspector → lead) ----------

fn bundle_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("HALLMARK_BUNDLE_DIR") {
        return d.into();
    }
    std::env::var_os("HOME").map(PathBuf::from).unwrap_or_else(|| PathBuf::from(".")).join("hallmark-bundles")
}

fn file_part(s: &str) -> String {
    s.chars().map(|c| if c.is_alphanumeric() || c == '-' { c } else { '_' }).collect()
}

/// Exports the inspection as a signed bundle into the bundle folder; progress on the channel.
#[tauri::command(async)]
fn export_bundle(state: State<'_, AppState>, id: String, on_progress: Channel<Progress>) -> Result<Exported> {
    let store = lock(&state)?;
    let insp = store.inspection(&id)?;
    let stamp = now();
    let name = format!("{}-{}-{}.hallmark", file_part(&insp.site_name), file_part(&insp.assessor_name), stamp[..19].replace([':', '-'], ""));
    let out = bundle_dir().join(name);
    let exported = store.export_bundle(&id, &out, &stamp, &mut |done, total| {
        let _ = on_progress.send(Progress { done, total });
    })?;
    Ok(Exported::from(&exported))
}

/// Receives the lead's review files (`*.review.json`) lying in the bundle folder (issue #13):
/// the reviews of this tablet's sheets, each checked. A file that is refused is named.
#[tauri::command(async)]
fn receive_reviews(state: State<'_, AppState>) -> Result<ReviewsReceived> {
    let mut store = lock(&state)?;
    let mut out = ReviewsReceived { received: 0, refused: Vec::new() };
    let mut files: Vec<std::path::PathBuf> = std::fs::read_dir(bundle_dir())
        .map(|rd| rd.flatten().map(|e| e.path()).filter(|p| p.to_string_lossy().ends_with(".review.json")).collect())
        .unwrap_or_default();
    files.sort();
    for f in files {
        let name = f.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        match std::fs::read(&f).map_err(|e| e.to_string()).and_then(|b| store.receive_reviews(&b, &now()).map_err(|e| e.to_string())) {
            Ok(n) => out.received += n,
            Err(e) => {
                eprintln!("hallmark: review file {name} refused: {e}");
                out.refused.push(name);
            }
        }
    }
    Ok(out)
}

/// The `.hallmark` files in the bundle folder (the lead's inbox).
#[tauri::command(async)]
fn bundle_inbox() -> Result<Inbox> {
    let dir = bundle_dir();
    Ok(Inbox { dir: dir.display().to_string(), files: files_in(&dir, hallmark_store::bundle::EXTENSION) })
}

/// The files in `dir` whose extension is `ext`, by name (none if the folder cannot be read).
fn files_in(dir: &std::path::Path, ext: &str) -> Vec<InboxFile> {
    let mut files: Vec<InboxFile> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == ext))
                .map(|p| InboxFile {
                    name: p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default(),
                    size: std::fs::metadata(&p).map(|m| m.len()).unwrap_or(0),
                    path: p.display().to_string(),
                })
                .collect()
        })
        .unwrap_or_default();
    files.sort_by(|a, b| a.name.cmp(&b.name));
    files
}

/// Imports bundles one by one, each all-or-nothing; a refused one does not stop the others.
#[tauri::command(async)]
fn import_bundles(state: State<'_, AppState>, paths: Vec<String>, on_progress: Channel<Progress>) -> Result<Vec<ImportOutcome>> {
    let mut store = lock(&state)?;
    let mut out = Vec::new();
    for p in paths {
        let name = std::path::Path::new(&p).file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| p.clone());
        let result = store.import_bundle(std::path::Path::new(&p), &now(), &mut |done, total| {
            let _ = on_progress.send(Progress { done, total });
        });
        out.push(ImportOutcome::of(name, result));
    }
    Ok(out)
}

#[tauri::command(async)]
fn roster_add(state: State<'_, AppState>, public_key: String, name: String) -> Result<String> {
    Ok(lock(&state)?.roster_add(&public_key, &name, &now())?)
}

/// Adds every assessor of a roster file ("key<TAB>name" lines, the demo's roster.tsv).
#[tauri::command(async)]
fn roster_load(state: State<'_, AppState>, path: String) -> Result<Vec<view::RosterLoaded>> {
    let loaded = lock(&state)?.roster_load(std::path::Path::new(&path), &now())?;
    Ok(loaded.into_iter().map(|(name, fingerprint)| view::RosterLoaded { name, fingerprint }).collect())
}

// ---------- the lead's panels (issue #14) ----------

/// Who records a panel change in the app: this device, by its key's fingerprint.
fn lead_author(store: &Store) -> String {
    format!("本机 {}", store.device_key().fingerprint())
}

/// Makes a panel for `site` with these inspections (the lead's choice, never matched by name).
#[tauri::command(async)]
fn panel_create(state: State<'_, AppState>, site: String, members: Vec<String>) -> Result<view::PanelMembership> {
    let mut store = lock(&state)?;
    let author = lead_author(&store);
    let id = store.create_panel(&site, &author, &now())?;
    for m in &members {
        store.panel_add(&id, m, &author, &now())?;
    }
    Ok((&store.panel(&id)?).into())
}

#[tauri::command(async)]
fn panel_add(state: State<'_, AppState>, panel_id: String, inspection_id: String) -> Result<view::PanelMembership> {
    let mut store = lock(&state)?;
    let author = lead_author(&store);
    store.panel_add(&panel_id, &inspection_id, &author, &now())?;
    Ok((&store.panel(&panel_id)?).into())
}

/// Takes a member out, with the reason the report prints.
#[tauri::command(async)]
fn panel_remove(state: State<'_, AppState>, panel_id: String, inspection_id: String, reason: String) -> Result<view::PanelMembership> {
    let mut store = lock(&state)?;
    let author = lead_author(&store);
    store.panel_remove(&panel_id, &inspection_id, &reason, &author, &now())?;
    Ok((&store.panel(&panel_id)?).into())
}

#[tauri::command(async)]
fn panel_list(state: State<'_, AppState>) -> Result<Vec<view::PanelMembership>> {
    Ok(lock(&state)?.panels()?.iter().map(view::PanelMembership::from).collect())
}

/// The report details last used for `site` (None before the first report).
#[tauri::command(async)]
fn report_details(state: State<'_, AppState>, site: String) -> Result<Option<view::ReportDetails>> {
    Ok(lock(&state)?.report_details(&site)?.as_ref().map(view::ReportDetails::from))
}

/// A photo's caption changed (the original stays in the log).
#[tauri::command(async)]
fn edit_caption(state: State<'_, AppState>, id: String, evidence_id: String, caption: String) -> Result<InspectionView> {
    let mut store = lock(&state)?;
    let author = store.inspection(&id)?.assessor_name;
    store.edit_caption(&evidence_id, &caption, &author, &now())?;
    InspectionView::load(&store, &id)
}

/// A photo withdrawn with a reason (kept in the log, no longer shown).
#[tauri::command(async)]
fn withdraw_photo(state: State<'_, AppState>, id: String, evidence_id: String, reason: String) -> Result<InspectionView> {
    let mut store = lock(&state)?;
    let author = store.inspection(&id)?.assessor_name;
    store.withdraw_photo(&evidence_id, &reason, &author, &now())?;
    InspectionView::load(&store, &id)
}

/// The lead's reviews of these sheets (issue #13), the latest per sheet and item.
#[tauri::command(async)]
fn panel_reviews(state: State<'_, AppState>, inspection_ids: Vec<String>) -> Result<Vec<view::PanelReview>> {
    Ok(lock(&state)?.reviews(&inspection_ids)?.iter().map(view::PanelReview::from).collect())
}

/// The lead returns (with a comment) or accepts a sheet or an item (issue #13), signed.
#[tauri::command(async)]
fn review_sheet(
    state: State<'_, AppState>,
    inspection_id: String,
    item_id: Option<String>,
    returned: bool,
    comment: String,
) -> Result<view::PanelReview> {
    let mut store = lock(&state)?;
    Ok(view::PanelReview::from(&store.review(&inspection_id, item_id.as_deref(), returned, &comment, &now())?))
}

#[tauri::command(async)]
fn merge_view(state: State<'_, AppState>) -> Result<Vec<view::MergeGroup>> {
    Ok(lock(&state)?.merge()?.iter().map(view::MergeGroup::from).collect())
}

#[tauri::command(async)]
fn thumb_view(state: State<'_, AppState>, sha256: String) -> Result<String> {
    stored_jpeg(&state, &sha256, "thumbnail", Store::thumb_path)
}

/// Writes the signed report (PDF + sidecar) for one merged site into the bundle folder.
#[tauri::command(async)]
/// `draft`: 草稿 on every page, not signed — the only report of a panel that cannot conclude
/// (refused otherwise with code `panel_incomplete`).
fn make_report(
    state: State<'_, AppState>,
    site: String,
    rubric_id: String,
    details: view::ReportDetails,
    draft: Option<bool>,
    override_reviews: Option<String>,
) -> Result<view::ReportMade> {
    let dir = bundle_dir();
    let remembered = hallmark_store::site_details::SiteDetails::from(&details);
    let details = details.into();
    // 报告日期: the lead's local date, recorded by the first make (later makes print that one).
    let (today, now) = (chrono::Local::now().date_naive().to_string(), now());
    let request = hallmark_report::Request {
        group: hallmark_report::Group::Named { site: &site, rubric: &rubric_id },
        details: &details,
        out: hallmark_report::Out::Folder(&dir),
        today: &today,
        now: &now,
        draft: draft.unwrap_or(false),
    };
    let store = lock(&state)?;
    // Returned items not answered yet stop the report unless the lead gives a reason (issue #13).
    let lifecycle = hallmark_report::issue::Lifecycle { override_reviews: override_reviews.as_deref(), ..Default::default() };
    let made = hallmark_report::issue::make_as(&store, &request, &lifecycle)?;
    // Remembered for the next visit to this site (issue #14).
    store.save_report_details(&site, &remembered, &now)?;
    Ok(view::ReportMade::from(&made))
}

/// Per-item scores of every assessor for officials, as CSV or XLSX, into the bundle folder.
#[tauri::command(async)]
fn export_scores(state: State<'_, AppState>, site: String, rubric_id: String, format: String) -> Result<String> {
    let dir = bundle_dir();
    let (today, now) = (chrono::Local::now().date_naive().to_string(), now());
    let request = hallmark_report::Request {
        group: hallmark_report::Group::Named { site: &site, rubric: &rubric_id },
        details: &Default::default(),
        out: hallmark_report::Out::Folder(&dir),
        today: &today,
        now: &now,
        draft: false,
    };
    Ok(hallmark_report::scores(&*lock(&state)?, &request, Some(&format))?.path.display().to_string())
}

// ---------- 整改 (issue #13): the items of the signed reports, followed to closure ----------

/// Every 整改 item this lead's database holds, by hall.
#[tauri::command(async)]
fn rectifications(state: State<'_, AppState>) -> Result<Vec<view::RectificationView>> {
    Ok(lock(&state)?.rectifications(None)?.iter().map(view::RectificationView::from).collect())
}

/// One step of a 整改 item, signed by this device: assign (owner, due date), progress, reopen.
#[tauri::command(async)]
fn rectify_step(
    state: State<'_, AppState>,
    id: String,
    kind: String,
    owner: Option<String>,
    due_on: Option<String>,
    note: Option<String>,
) -> Result<view::RectificationView> {
    use hallmark_store::rectifications::Change;
    let note = note.unwrap_or_default();
    let change = match kind.as_str() {
        "assign" => Change::Assign { owner: owner.unwrap_or_default(), due_on: due_on.unwrap_or_default() },
        "progress" => Change::Progress { note },
        "reopen" => Change::Reopen { note },
        other => return Err(invalid(format!("unknown step '{other}' (assign, progress, reopen; done sends a photo)"))),
    };
    let mut store = lock(&state)?;
    Ok(view::RectificationView::from(&store.record_rectification(&id, &change, &now())?))
}

/// 已整改: the evidence photo's bytes as the raw body; the item and the note in headers.
#[tauri::command(async)]
fn rectify_done(state: State<'_, AppState>, request: tauri::ipc::Request<'_>) -> Result<view::RectificationView> {
    let tauri::ipc::InvokeBody::Raw(bytes) = request.body() else {
        return Err(invalid("the photo must be sent as raw bytes"));
    };
    let id = header(&request, "x-rectification")?;
    let note = header(&request, "x-note")?;
    let change = hallmark_store::rectifications::Change::Done { note, photo: bytes.clone() };
    let mut store = lock(&state)?;
    Ok(view::RectificationView::from(&store.record_rectification(&id, &change, &now()).map_err(photo_refused)?))
}

/// 整改台账 as XLSX into the bundle folder; returns the file's path.
#[tauri::command(async)]
fn rectify_export(state: State<'_, AppState>) -> Result<String> {
    let items = lock(&state)?.rectifications(None)?;
    let bytes = hallmark_report::rectify::xlsx(&items)?;
    let path = bundle_dir().join(format!("整改台账-{}.xlsx", chrono::Local::now().date_naive()));
    hallmark_store::durable::write_replacing(&path, &bytes).map_err(|e| invalid(format!("cannot write {}: {e}", path.display())))?;
    Ok(path.display().to_string())
}

/// Halls whose conclusion expires within a month (spec 12: re-evaluate before it lapses).
#[tauri::command(async)]
fn reevaluations_due(state: State<'_, AppState>) -> Result<Vec<view::Due>> {
    let today = chrono::Local::now().date_naive().to_string();
    Ok(hallmark_report::model::due(&*lock(&state)?, &today)?.iter().map(view::Due::from).collect())
}

// ---------- a damaged store: recovery, and backups ----------

/// Why the store could not be opened, with what the recovery screen can offer: the backups
/// and bundles in the bundle folder. `None` when the store is open.
#[tauri::command(async)]
fn recovery_info(state: State<'_, AppState>) -> Result<Option<view::Recovery>> {
    let broken = state.broken.lock().unwrap_or_else(|p| p.into_inner());
    let Some(b) = broken.as_ref() else { return Ok(None) };
    let dir = bundle_dir();
    let mut backups = files_in(&dir, hallmark_store::recovery::BACKUP_EXTENSION);
    backups.reverse(); // newest first: names carry the time
    Ok(Some(view::Recovery {
        code: b.code,
        message: b.message.clone(),
        fields: b.fields.clone(),
        data_dir: state.dir.display().to_string(),
        bundle_dir: dir.display().to_string(),
        backups,
        bundles: files_in(&dir, hallmark_store::bundle::EXTENSION).len(),
    }))
}

/// Runs a restore or rebuild while holding the store lock (so two taps never run two), only
/// while the store is broken, then opens the store again and clears the recovery state.
fn recover(state: &State<'_, AppState>, run: impl FnOnce(&std::path::Path) -> Result<view::Recovered>) -> Result<view::Recovered> {
    let mut store = state.store.lock().unwrap_or_else(|p| p.into_inner());
    if store.is_some() {
        return Err(invalid("the store is open: nothing to recover"));
    }
    let done = run(&state.dir.join(hallmark_store::DB_FILE))?;
    *store = Some(Store::open(&state.dir, &now())?);
    *state.broken.lock().unwrap_or_else(|p| p.into_inner()) = None;
    Ok(done)
}

/// Restores a backup over the damaged store (which is kept as `…damaged-STAMP`).
#[tauri::command(async)]
fn restore_backup(state: State<'_, AppState>, path: String) -> Result<view::Recovered> {
    recover(&state, |db| {
        let r = hallmark_store::recovery::restore(std::path::Path::new(&path), db, &state.dir, true, &now())?;
        Ok(view::Recovered { inspections: r.inspections, moved_aside: r.moved_aside.map(|p| p.display().to_string()) })
    })
}

/// Rebuilds the store from the bundles in the bundle folder (the damaged one is kept aside).
#[tauri::command(async)]
fn rebuild_store(state: State<'_, AppState>) -> Result<view::Recovered> {
    recover(&state, |db| {
        let (r, moved_aside) = hallmark_store::recovery::rebuild_in_place(&bundle_dir(), db, &state.dir, &now())?;
        Ok(view::Recovered { inspections: r.imported, moved_aside: moved_aside.map(|p| p.display().to_string()) })
    })
}

/// 备份: the store and its photos into one file in the bundle folder (no device key).
#[tauri::command(async)]
fn backup_store(state: State<'_, AppState>) -> Result<String> {
    let stamp = now();
    let out = bundle_dir().join(format!("hallmark-备份-{}.{}", stamp[..19].replace([':', '-'], ""), hallmark_store::recovery::BACKUP_EXTENSION));
    let b = lock(&state)?.backup(&out, false, &stamp)?;
    Ok(b.path.display().to_string())
}

// ---------- this device's enrollment (issue #10) ----------

/// How an enrollment request file ends: left out of the certificate files to import.
const REQUEST_SUFFIX: &str = ".csr.pem";

/// Who this device is enrolled as (`None`: not enrolled; recording works the same).
#[tauri::command(async)]
fn enrollment_status(state: State<'_, AppState>) -> Result<Option<view::Enrollment>> {
    Ok(lock(&state)?.enrollment(&now())?.as_ref().map(view::Enrollment::from))
}

/// The 设备登记 screen: the device key (text and QR code), the enrollment, and the `.pem` files
/// in the bundle folder.
#[tauri::command(async)]
fn enrollment_screen(state: State<'_, AppState>) -> Result<view::EnrollmentScreen> {
    let store = lock(&state)?;
    let enrollment = store.enrollment(&now())?.as_ref().map(view::Enrollment::from);
    let dir = bundle_dir();
    let files = files_in(&dir, "pem").into_iter().filter(|f| !f.name.ends_with(REQUEST_SUFFIX)).collect();
    Ok(view::EnrollmentScreen::of(&store, enrollment, &dir, files))
}

/// A file the app could not read or write, with its name for the UI (`fields.file`).
fn file_error(path: &std::path::Path, e: std::io::Error) -> CommandError {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let mut c = CommandError::new("io", format!("{}: {e}", path.display()));
    c.fields = serde_json::json!({ "file": name });
    c
}

/// Writes this device's enrollment request (a CSR signed by the device key) into the bundle
/// folder, for the bureau's `hallmark ca issue --request FILE`.
#[tauri::command(async)]
fn enrollment_request(state: State<'_, AppState>, name: String, unit: String, title: String) -> Result<view::RequestWritten> {
    let pem = lock(&state)?.enrollment_request(&name, &unit, &title)?;
    let dir = bundle_dir();
    let stamp = now();
    let file = format!("登记申请-{}-{}{REQUEST_SUFFIX}", file_part(name.trim()), stamp[..19].replace([':', '-'], ""));
    let path = dir.join(&file);
    std::fs::create_dir_all(&dir).map_err(|e| file_error(&dir, e))?;
    hallmark_store::durable::write_replacing(&path, pem.as_bytes()).map_err(|e| file_error(&path, e))?;
    Ok(view::RequestWritten { path: path.display().to_string(), name: file, dir: dir.display().to_string() })
}

/// Installs the certificate the bureau issued (`certificate`: its file, chain included) with
/// the bureau's root (`root`): refused, with nothing stored, unless it checks out for this
/// device's key.
#[tauri::command(async)]
fn install_certificate(state: State<'_, AppState>, certificate: String, root: String) -> Result<view::Enrollment> {
    let (cert_path, root_path) = (PathBuf::from(&certificate), PathBuf::from(&root));
    let chain = std::fs::read(&cert_path).map_err(|e| file_error(&cert_path, e))?;
    let root_pem = std::fs::read(&root_path).map_err(|e| file_error(&root_path, e))?;
    let name = |p: &std::path::Path| p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let store = lock(&state)?;
    let enrolled = store.install_certificate_files(&name(&cert_path), &chain, &name(&root_path), &root_pem, &now())?;
    Ok(view::Enrollment::from(&enrolled))
}

/// 向服务器申请登记 (issue #11): sets the sync server, pins the bureau root by the fingerprint
/// the bureau gave, and sends this device's enrollment request signed with its key. Runs on
/// its own connection: the UI's store is not held while the network answers.
#[tauri::command(async)]
fn enrollment_submit(
    state: State<'_, AppState>,
    server: String,
    fingerprint: String,
    name: String,
    unit: String,
    title: String,
) -> Result<view::ServerEnrollment> {
    let dir = state.dir.clone();
    let store = Store::open_with(&dir.join(hallmark_store::DB_FILE), &dir, hallmark_store::Access::Existing, &now())?;
    let server = server.trim().trim_end_matches('/').to_string();
    let e = hallmark_sync::enroll::submit(&store, &server, &fingerprint, &name, &unit, &title, &now()).map_err(|e| outbox::sync_error(&e))?;
    store.set_sync_server(&server)?;
    Ok(view::ServerEnrollment::of(&e, None))
}

/// 检查审批结果: what became of this device's request; approved, the certificate, root and
/// revocation lists are installed now (the outbox also does it by itself).
#[tauri::command(async)]
fn enrollment_check(state: State<'_, AppState>) -> Result<view::ServerEnrollment> {
    let dir = state.dir.clone();
    let store = Store::open_with(&dir.join(hallmark_store::DB_FILE), &dir, hallmark_store::Access::Existing, &now())?;
    let server = store.sync_server()?.ok_or_else(|| CommandError::new("sync", "no sync server is set"))?;
    let f = hallmark_sync::enroll::fetch(&store, &server, &now()).map_err(|e| outbox::sync_error(&e))?;
    if f.installed.is_some() {
        state.outbox.wake();
    }
    Ok(view::ServerEnrollment::of(&f.enrollment, f.installed.as_ref()))
}

/// The outbox (issue #11): the server, and per inspection 未同步 / 同步中 / 已同步.
#[tauri::command(async)]
fn sync_status(state: State<'_, AppState>) -> Result<view::SyncStatus> {
    Ok(state.outbox.status(&*lock(&state)?)?)
}

/// Sets the sync server (`https://HOST:PORT`; empty: none) and tries at once.
#[tauri::command(async)]
fn sync_set_server(state: State<'_, AppState>, server: String) -> Result<view::SyncStatus> {
    let status = {
        let store = lock(&state)?;
        store.set_sync_server(&server)?;
        state.outbox.status(&store)?
    };
    state.outbox.wake();
    Ok(status)
}

/// 立即同步: try now instead of after the backoff.
#[tauri::command(async)]
fn sync_now(state: State<'_, AppState>) -> Result<()> {
    state.outbox.wake();
    Ok(())
}

/// The assignments the server names this device in, for 新建评价. No server set: none.
#[tauri::command(async)]
fn server_assignments(state: State<'_, AppState>) -> Result<Vec<view::ServerAssignment>> {
    let dir = state.dir.clone();
    let store = Store::open_with(&dir.join(hallmark_store::DB_FILE), &dir, hallmark_store::Access::Existing, &now())?;
    let Some(server) = store.sync_server()? else { return Ok(Vec::new()) };
    let (client, _) = hallmark_sync::client::connect_store(&store, &server, &[]).map_err(|e| outbox::sync_error(&e))?;
    let list = client.assignments().map_err(|e| outbox::sync_error(&e))?;
    Ok(list
        .assignments
        .into_iter()
        .map(|a| {
            let (hall_id, region_code, address, level) = a
                .hall
                .map(|h| (h.id, h.region_code, h.address, h.level))
                .map_or((None, None, None, None), |(i, r, ad, l)| (Some(i), Some(r), Some(ad), Some(l)));
            view::ServerAssignment {
                id: a.id,
                site: a.site,
                rubric_id: a.rubric_id,
                role: a.role,
                hall_id,
                region_code,
                address,
                level,
                planned_from: a.planned_from,
                planned_to: a.planned_to,
            }
        })
        .collect())
}

/// 从服务器获取 (the lead): fetch the bundles of the assignments this device leads and import
/// each (verified again), on a connection of its own so the app stays responsive.
#[tauri::command(async)]
fn pull_from_server(state: State<'_, AppState>) -> Result<view::Pulled> {
    let server = lock(&state)?.sync_server()?.ok_or_else(|| CommandError::new("sync", "no sync server is set"))?;
    let dir = state.dir.clone();
    let mut store = Store::open_with(&dir.join(hallmark_store::DB_FILE), &dir, hallmark_store::Access::Existing, &now())?;
    let (client, _) = hallmark_sync::client::connect_store(&store, &server, &[]).map_err(|e| outbox::sync_error(&e))?;
    let work = tempfile::Builder::new().prefix(".pull-").tempdir_in(&dir).map_err(|e| invalid(format!("cannot make a work folder: {e}")))?;
    let pulled = client.pull_into(&mut store, work.path(), &now).map_err(|e| outbox::sync_error(&e))?;
    let (mut lines, mut imported, mut failed) = (Vec::new(), 0, 0);
    for p in pulled {
        match p.result {
            Ok(None) => lines.push(format!("{} · {}：已在本机", p.site, p.assessor)),
            Ok(Some(i)) => {
                imported += 1;
                lines.push(i.line(&format!("{} · {}", p.site, p.assessor)));
            }
            Err(e) => {
                failed += 1;
                lines.push(format!("{} · {}：未能获取（{}）", p.site, p.assessor, e.code()));
            }
        }
    }
    // The lead's reviews travel the other way on the same connection (issue #13).
    let mut reviews_failed = false;
    match client.push_reviews(&store) {
        Ok(Some(r)) if r.stored > 0 => lines.push(format!("复核意见 {} 条已送达服务器，评价人员同步时接收", r.stored)),
        Ok(_) => {}
        Err(e) => {
            reviews_failed = true;
            eprintln!("hallmark: reviews not sent: {e}");
            lines.push("复核意见未能送达服务器，下次获取时将重试（数据包已导入）".into());
        }
    }
    Ok(view::Pulled { lines, imported, failed, reviews_failed })
}

/// Where the app keeps its data: `$HALLMARK_DATA_DIR`, else the platform's app data folder
/// (`$XDG_DATA_HOME/cn.hallmark.inspector` on Linux).
fn data_dir(app: &tauri::App) -> std::result::Result<PathBuf, String> {
    if let Some(d) = std::env::var_os("HALLMARK_DATA_DIR") {
        return Ok(d.into());
    }
    app.path().app_data_dir().map_err(|e| format!("the platform gives no app data folder: {e}"))
}

/// On a screen smaller than the configured 1280x800 (a portrait tablet, say), fill the screen
/// instead of running off its edge.
fn fit_to_screen(app: &tauri::App) {
    let Some(window) = app.get_webview_window("main") else { return };
    let monitor = window
        .current_monitor()
        .ok()
        .flatten()
        .or_else(|| window.primary_monitor().ok().flatten())
        .or_else(|| window.available_monitors().ok().and_then(|m| m.into_iter().next()));
    let Some(monitor) = monitor else { return };
    let screen = monitor.size();
    let scale = monitor.scale_factor();
    let (w, h) = ((1280.0 * scale) as u32, (800.0 * scale) as u32);
    if w > screen.width || h > screen.height {
        let _ = window.set_position(tauri::PhysicalPosition::new(0, 0));
        // A tablet-sized screen: the app takes all of it.
        let _ = window.set_size(tauri::PhysicalSize::new(screen.width, screen.height));
    }
    if std::env::var_os("HALLMARK_DEBUG_WINDOW").is_some() {
        eprintln!("hallmark: screen {}x{} scale {scale}, window {:?}", screen.width, screen.height, window.outer_size());
    }
}

#[cfg_attr(mobile, tauri::mobile_entry_point)]
pub fn run() {
    STARTED.get_or_init(std::time::Instant::now);
    let demo_requested = std::env::args().any(|a| a == "--demo") || std::env::var_os("HALLMARK_DEMO").is_some();
    tauri::Builder::default()
        .setup(move |app| {
            let dir = data_dir(app)?;
            let (store, broken) = match Store::open(&dir, &now()) {
                Ok(mut store) => {
                    for n in store.notices() {
                        eprintln!("hallmark: {n}");
                    }
                    if demo_requested {
                        if let Err(e) = demo::seed(&mut store, &now()) {
                            eprintln!("hallmark: cannot add the demo inspection: {e}");
                        }
                    }
                    (Some(store), None)
                }
                Err(e) => {
                    // Never a panic or a black window: the UI shows the recovery screen.
                    eprintln!("hallmark: cannot open the store in {}: {e}", dir.display());
                    (None, Some(CommandError::from(e)))
                }
            };
            let outbox = outbox::Outbox::default();
            if store.is_some() {
                outbox.start(dir.clone());
            }
            app.manage(AppState { store: Mutex::new(store), broken: Mutex::new(broken), dir, outbox });
            fit_to_screen(app);
            Ok(())
        })
        .invoke_handler(tauri::generate_handler![
            app_info,
            list_rubrics,
            list_inspections,
            create_inspection,
            open_inspection,
            record_answer,
            clear_answer,
            attach_photo,
            photo_view,
            finish_inspection,
            record_amendment,
            record_service,
            save_signature,
            export_bundle,
            bundle_inbox,
            receive_reviews,
            keep_answers,
            rectifications,
            rectify_step,
            rectify_done,
            rectify_export,
            panel_reviews,
            review_sheet,
            import_bundles,
            roster_add,
            roster_load,
            panel_create,
            panel_add,
            panel_remove,
            panel_list,
            report_details,
            edit_caption,
            withdraw_photo,
            merge_view,
            thumb_view,
            make_report,
            export_scores,
            reevaluations_due,
            recovery_info,
            restore_backup,
            rebuild_store,
            backup_store,
            enrollment_status,
            enrollment_screen,
            enrollment_request,
            install_certificate,
            sync_status,
            sync_set_server,
            sync_now,
            pull_from_server,
            server_assignments,
            enrollment_submit,
            enrollment_check
        ])
        .run(tauri::generate_context!("../tauri.conf.json"))
        .expect("error while running hallmark");
}
