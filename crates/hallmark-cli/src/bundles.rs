//! Signed bundles between assessors and the lead: `export`, `import`, `demo`.

use std::path::{Path, PathBuf};

use hallmark_store::Store;

use hallmark_store::Access;

use crate::{json, now, open_db, Db};

pub(crate) fn find_inspection(store: &Store, id: &str) -> Result<String, String> {
    let ids = store.inspection_ids().map_err(|e| e.to_string())?;
    let hits: Vec<&String> = ids.iter().filter(|i| i.starts_with(id)).collect();
    match hits.as_slice() {
        [one] => Ok(one.to_string()),
        [] => Err(format!("no inspection '{id}' in this database (see `hallmark list --db DB`)")),
        _ => Err(format!("'{id}' matches {} inspections (give more of the id)", hits.len())),
    }
}

/// A progress bar on stderr when it is a terminal; silent otherwise.
fn progress_bar(label: &'static str) -> impl FnMut(u64, u64) {
    use std::io::{IsTerminal, Write};
    let tty = std::io::stderr().is_terminal();
    let mut last = u64::MAX;
    move |done, total| {
        if !tty || total == 0 {
            return;
        }
        let pct = done * 100 / total;
        if pct == last {
            return;
        }
        last = pct;
        let filled = (pct / 4) as usize;
        eprint!("\r{label} [{}{}] {pct:>3}%  {} / {} MB", "#".repeat(filled), " ".repeat(25 - filled), done >> 20, total >> 20);
        if done >= total {
            eprintln!();
        }
        let _ = std::io::stderr().flush();
    }
}

/// `hallmark export --db DB --inspection ID --out FILE`
pub(crate) fn export(db: &Db, inspection: &str, out: &Path) -> Result<(), String> {
    let store = open_db(db, Access::Existing)?;
    let id = find_inspection(&store, inspection)?;
    let done = store.export_bundle(&id, out, &now(), &mut progress_bar("导出")).map_err(|e| e.to_string())?;
    outln!("{}: {} 条事件，{} 张照片，{} 字节；签名者 {}", done.path.display(), done.events, done.photos, done.bytes, done.fingerprint);
    Ok(())
}

/// `hallmark import --db DB [--json] FILE...`: each bundle all-or-nothing; a refused one
/// does not stop the others.
pub(crate) fn import(db: &Db, files: &[PathBuf], as_json: bool) -> Result<(), String> {
    let mut store = open_db(db, Access::Create)?;
    let mut refused = Vec::new();
    let mut results = Vec::new();
    for f in files {
        let name = f.display().to_string();
        match store.import_bundle(f, &now(), &mut progress_bar("校验导入")) {
            Ok(r) => {
                if !as_json {
                    outln!("{}", r.line(&name));
                }
                results.push(serde_json::json!({"file": name, "result": r}));
            }
            Err(e) => {
                eprintln!("error: {e}");
                results.push(serde_json::json!({"file": name, "error": e.to_string(), "code": e.code()}));
                refused.push(name);
            }
        }
    }
    if as_json {
        outln!("{}", json(&results));
    }
    if refused.is_empty() {
        Ok(())
    } else {
        Err(format!("{} of {} bundles refused (nothing of them was imported): {}", refused.len(), files.len(), refused.join(", ")))
    }
}

/// `hallmark demo DIR`: demo bundles, the roster of their keys and the report's details.
/// With `--lead DB`, that database is enrolled as the demo lead and trusts the demo root.
pub(crate) fn demo(dir: &Path, lead: Option<&Db>) -> Result<(), String> {
    use hallmark_store::demo::{DemoBureau, DEMO_CA_DIR, DEMO_CA_PASSPHRASE, DEMO_CRL_FILE, DEMO_ROOT_FILE};
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: cannot create: {e}", dir.display()))?;
    let bureau = DemoBureau::create(dir, chrono::Utc::now()).map_err(|e| e.to_string())?;
    outln!(
        "{}  演示医保局根证书（CA 目录 {}，口令 {DEMO_CA_PASSPHRASE}：仅供演示）；{}  吊销列表",
        dir.join(DEMO_ROOT_FILE).display(),
        dir.join(DEMO_CA_DIR).display(),
        dir.join(DEMO_CRL_FILE).display()
    );
    let root_pem = std::fs::read_to_string(dir.join(DEMO_ROOT_FILE)).map_err(|e| format!("{}: cannot read: {e}", dir.display()))?;
    let pin = hallmark_sync::enroll::certificate_sha256("the demo root", &root_pem).map_err(|e| e.to_string())?;
    outln!("  根证书指纹（SHA-256，新平板通过服务器登记时核对）：{}", hallmark_sync::enroll::grouped(&pin));
    let bundles = hallmark_store::demo::write_bundles_from(dir, Some(&bureau)).map_err(|e| e.to_string())?;
    let mut roster = String::from("# public key\tname — `hallmark roster add --db DB --file THIS`\n");
    for b in &bundles {
        outln!("{}  {} · {}  签名者 {}", b.path.display(), b.site, b.assessor, b.fingerprint);
        roster.push_str(&format!("{}\t{}\n", b.public_key, b.assessor));
    }
    let details = "# 受评单位联系信息与评价组长：`hallmark report --details 本文件`\nsite_head = \"赵立新\"\nsite_phone = \"024-72345678\"\nsite_email = \"tlxyb@example.cn\"\nleader = \"王敏\"\n";
    std::fs::write(dir.join("report-details.toml"), details).map_err(|e| format!("{}: cannot write: {e}", dir.display()))?;
    let roster_file = dir.join("roster.tsv");
    std::fs::write(&roster_file, roster).map_err(|e| format!("{}: cannot write: {e}", roster_file.display()))?;
    outln!("{}  评价人员密钥名册", roster_file.display());
    if let Some(db) = lead {
        let store = open_db(db, Access::Create)?;
        let leader = "王敏";
        let chain = bureau
            .enroll(&store, leader, "辽宁省医疗保障局", "评价组长", &[hallmark_trust::Role::Lead, hallmark_trust::Role::Assessor])
            .map_err(|e| format!("{}: {e}", db.db.display()))?;
        let crl = dir.join(DEMO_CRL_FILE);
        let crl_pem = std::fs::read(&crl).map_err(|e| format!("{}: cannot read: {e}", crl.display()))?;
        store.add_trust(&crl.display().to_string(), &crl_pem, &now()).map_err(|e| e.to_string())?;
        outln!("{}  已登记为评价组长 {leader}（密钥 {}），并信任演示根证书", db.db.display(), store.device_key().fingerprint());
        let lead_cert = dir.join(hallmark_store::demo::DEMO_LEAD_CERT);
        std::fs::create_dir_all(dir.join(hallmark_store::demo::DEMO_SYNC_DIR)).map_err(|e| format!("{}: cannot create: {e}", dir.display()))?;
        std::fs::write(&lead_cert, chain).map_err(|e| format!("{}: cannot write: {e}", lead_cert.display()))?;
        outln!("{}  评价组长的设备证书（hallmark assignment add --lead）", lead_cert.display());
    }
    bureau.issue_server(dir).map_err(|e| e.to_string())?;
    outln!(
        "{}、{}  演示同步服务器证书与密钥（127.0.0.1、localhost）；{}/*/{}  各评价人员平板的数据目录与证书（hallmark sync push --db）",
        dir.join(hallmark_store::demo::DEMO_SERVER_CERT).display(),
        dir.join(hallmark_store::demo::DEMO_SERVER_KEY).display(),
        dir.join(hallmark_store::demo::DEMO_TABLETS_DIR).display(),
        hallmark_store::demo::DEMO_CERT_FILE
    );
    let halls = dir.join(hallmark_store::demo::DEMO_SYNC_DIR).join("halls.xlsx");
    hallmark_server::halls::write_sheet(&halls, &hallmark_server::halls::DEMO_HALLS)?;
    outln!("{}  演示服务大厅名册（hallmark hall import）", halls.display());
    Ok(())
}
