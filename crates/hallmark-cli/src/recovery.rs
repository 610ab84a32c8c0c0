//! A damaged or lost database: `check`, `backup`, `restore`, `rebuild` (hallmark-store's
//! [`hallmark_store::recovery`], as the app's 备份 and recovery screen use it).

use std::path::Path;

use hallmark_store::recovery;
use hallmark_store::Access;

use crate::{db_paths, json, now, open_db, Db};

/// `hallmark check --db DB [--json]`: exits non-zero unless the database is sound.
pub(crate) fn check(db: &Db, as_json: bool) -> Result<(), String> {
    let store = open_db(db, Access::ReadOnly)?;
    let h = store.health().map_err(|e| e.to_string())?;
    if as_json {
        outln!("{}", json(&h));
    } else {
        outln!("{}: {} 项检查，{} 次评价，{} 条事件，{} 张照片", h.file, 4, h.inspections, h.events, h.photos);
        outln!("  数据库完整性（integrity_check）：{}", if h.integrity == "ok" { "通过".to_string() } else { format!("失败：{}", h.integrity) });
        outln!("  作答与事件日志一致：{}", if h.answers.is_empty() { "通过".to_string() } else { format!("失败：{}", h.answers.join("；")) });
        outln!("  照片、缩略图与签名文件：{}", if h.files.is_empty() { "通过".to_string() } else { format!("失败：{}", h.files.join("；")) });
        outln!("  设备密钥：{}", h.key.as_deref().map(|k| format!("失败：{k}")).unwrap_or_else(|| "通过".into()));
    }
    if h.is_sound() {
        Ok(())
    } else {
        Err(format!(
            "{}: the check failed: restore a backup (`hallmark restore --from BACKUP --db DB --replace`) or rebuild from the bundles (`hallmark rebuild --from DIR --db NEW`)",
            h.file
        ))
    }
}

/// `hallmark backup --db DB --out FILE [--with-key]`
pub(crate) fn backup(db: &Db, out: &Path, with_key: bool) -> Result<(), String> {
    let store = open_db(db, Access::ReadOnly)?;
    let b = store.backup(out, with_key, &now()).map_err(|e| e.to_string())?;
    outln!(
        "{}: {} 个文件，{} 字节{}",
        b.path.display(),
        b.files,
        b.bytes,
        if b.with_key { "（含设备密钥，请妥善保管）" } else { "（不含设备密钥）" }
    );
    Ok(())
}

/// `hallmark restore --from FILE --db DB [--replace]`
pub(crate) fn restore(db: &Db, from: &Path, replace: bool) -> Result<(), String> {
    let (file, dir) = db_paths(db);
    let r = recovery::restore(from, &file, &dir, replace, &now()).map_err(|e| e.to_string())?;
    if let Some(aside) = &r.moved_aside {
        outln!("原数据库已移至 {}", aside.display());
    }
    outln!("{}: 已恢复 {} 次评价、{} 个文件，逐一校验 SHA-256 通过", r.db.display(), r.inspections, r.files);
    Ok(())
}

/// `hallmark rebuild --from DIR --db NEW`
pub(crate) fn rebuild(db: &Db, from: &Path) -> Result<(), String> {
    let (file, dir) = db_paths(db);
    let r = recovery::rebuild(from, &file, &dir, &now()).map_err(|e| e.to_string())?;
    for (b, why) in &r.refused {
        eprintln!("refused: {b}: {why}");
    }
    outln!("{}: 从 {} 个数据包重建（{} 个重复）", file.display(), r.imported, r.already);
    if r.refused.is_empty() {
        Ok(())
    } else {
        Err(format!("{} bundles were refused (listed above); the others were imported", r.refused.len()))
    }
}
