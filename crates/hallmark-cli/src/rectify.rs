//! `hallmark review` (the lead's review of the sheets, issue #13 part 1) and `hallmark rectify`: 整改 items (issue #13 part 2) — list, assign, progress, done, reopen,
//! close by a re-evaluation, export. The library is hallmark-store's rectifications and
//! hallmark-report's `rectify`.

use std::path::Path;

use hallmark_report::seal::{Trust, TrustFiles};
use hallmark_store::rectifications::{Change, Rectification};
use hallmark_store::{Access, Store};

use crate::{open_db, Db};

/// The item `which` names: its id, or an item id (`layout`) of one site (`--site`, part of its
/// name, when several sites have it).
fn pick(store: &Store, which: &str, site: Option<&str>) -> Result<Rectification, String> {
    let all = store.rectifications(None).map_err(|e| e.to_string())?;
    let found: Vec<&Rectification> =
        all.iter().filter(|r| r.id == which || (r.item_id == which && site.is_none_or(|s| r.site.contains(s)))).collect();
    match found.as_slice() {
        [one] => Ok((*one).clone()),
        [] => Err(format!(
            "no 整改 item '{which}'{} (`hallmark rectify list` shows them)",
            site.map(|s| format!(" at a site matching '{s}'")).unwrap_or_default()
        )),
        many => Err(format!(
            "'{which}' names {} items, at {}: add --site",
            many.len(),
            many.iter().map(|r| format!("'{}'", r.site)).collect::<Vec<_>>().join(", ")
        )),
    }
}

fn show(r: &Rectification) {
    let who = match (&r.owner, &r.due_on) {
        (Some(o), Some(d)) => format!("，责任人 {o}，期限 {d}"),
        _ => String::new(),
    };
    outln!("{}  {} {}  扣 {} 分  {}{who}  [{}]", r.status.label(), r.item_id, r.item_name, r.points_lost, r.finding, r.id);
}

/// `hallmark rectify list --db DB [--site S]`
pub(crate) fn list(db: &Db, site: Option<&str>) -> Result<(), String> {
    let store = open_db(db, Access::ReadOnly)?;
    let items: Vec<Rectification> =
        store.rectifications(None).map_err(|e| e.to_string())?.into_iter().filter(|r| site.is_none_or(|s| r.site.contains(s))).collect();
    if items.is_empty() {
        outln!("没有整改项（签发的报告中无扣分项，或尚未签发报告）");
    }
    let mut last = None;
    for r in &items {
        if last != Some((&r.site, &r.report_number)) {
            outln!("{}（报告 {}）", r.site, r.report_number);
            last = Some((&r.site, &r.report_number));
        }
        show(r);
    }
    Ok(())
}

/// `hallmark rectify assign|progress|done|reopen --db DB ITEM …`
pub(crate) fn record(db: &Db, which: &str, site: Option<&str>, change: Change) -> Result<(), String> {
    let mut store = open_db(db, Access::Existing)?;
    let r = pick(&store, which, site)?;
    let r = store.record_rectification(&r.id, &change, &crate::now()).map_err(|e| e.to_string())?;
    show(&r);
    Ok(())
}

/// The photo of `done`, read.
pub(crate) fn photo(path: &Path) -> Result<Vec<u8>, String> {
    std::fs::read(path).map_err(|e| format!("{}: cannot read the photo: {e}", path.display()))
}

/// `hallmark rectify close --db DB --by REEVALUATION.pdf [--trust ROOT.pem] [--crl CRL.pem]`
pub(crate) fn close(db: &Db, pdf: &Path, trust: &crate::TrustArgs) -> Result<(), String> {
    let mut store = open_db(db, Access::Existing)?;
    let folder = std::env::var_os("HALLMARK_TRUST").filter(|v| !v.is_empty()).map(std::path::PathBuf::from);
    let files = TrustFiles { roots: &trust.roots, crls: &trust.crls, signer_cert: None, folder: folder.as_deref() };
    let trust = Trust::load(&files, chrono::Utc::now()).map_err(|e| e.to_string())?;
    let closed = hallmark_report::rectify::close_by(&mut store, pdf, &trust, &crate::now()).map_err(|e| e.to_string())?;
    for c in &closed {
        let how = if c.verified { "已核验：复评满分，扣分已消除" } else { "仍有扣分，保持原状态" };
        outln!("{} {}：{}（复评各评价人员：{}）", c.item_id, c.item_name, how, c.points.join(" "));
    }
    outln!("{} 项中 {} 项经复评核验关闭", closed.len(), closed.iter().filter(|c| c.verified).count());
    Ok(())
}

/// `hallmark rectify export --db DB --out FILE.xlsx [--site S]`
pub(crate) fn export(db: &Db, out: &Path, site: Option<&str>) -> Result<(), String> {
    let store = open_db(db, Access::ReadOnly)?;
    let items: Vec<Rectification> =
        store.rectifications(None).map_err(|e| e.to_string())?.into_iter().filter(|r| site.is_none_or(|s| r.site.contains(s))).collect();
    let bytes = hallmark_report::rectify::xlsx(&items).map_err(|e| e.to_string())?;
    hallmark_store::durable::write_replacing(out, &bytes).map_err(|e| format!("cannot write {}: {e}", out.display()))?;
    outln!("{}: 整改台账 {} 项", out.display(), items.len());
    Ok(())
}

/// The sheet `which` names: an inspection id, or the one assessor of that name.
fn sheet(store: &Store, which: &str) -> Result<String, String> {
    let groups = store.merge().map_err(|e| e.to_string())?;
    let found: Vec<(String, String)> = groups
        .iter()
        .flat_map(|g| g.assessors.iter().map(move |a| (a.inspection_id.clone(), format!("{} ({})", a.name, g.site))))
        .filter(|(id, name)| id == which || name.split(" (").next() == Some(which))
        .collect();
    match found.as_slice() {
        [(id, _)] => Ok(id.clone()),
        [] => Err(format!("no sheet of '{which}' in the merged panels (name the assessor as `hallmark merge` shows, or the inspection id)")),
        many => Err(format!(
            "'{which}' names {} sheets: {}; give the inspection id",
            many.len(),
            many.iter().map(|(id, n)| format!("{n} {id}")).collect::<Vec<_>>().join(", ")
        )),
    }
}

/// Every sheet of the merged panels (inspection ids).
fn merged_sheets(store: &Store) -> Result<Vec<String>, String> {
    Ok(store.merge().map_err(|e| e.to_string())?.iter().flat_map(|g| g.assessors.iter().map(|a| a.inspection_id.clone())).collect())
}

/// `hallmark review return|accept --db DB --sheet NAME|ID [--item ITEM] --comment C`
pub(crate) fn review(db: &Db, which: &str, item: Option<&str>, returned: bool, comment: &str) -> Result<(), String> {
    let mut store = open_db(db, Access::Existing)?;
    let id = sheet(&store, which)?;
    let r = store.review(&id, item, returned, comment, &crate::now()).map_err(|e| e.to_string())?;
    outln!("{}", r.text());
    Ok(())
}

/// `hallmark review list --db DB`
pub(crate) fn reviews(db: &Db) -> Result<(), String> {
    let store = open_db(db, Access::ReadOnly)?;
    let ids = merged_sheets(&store)?;
    let all = store.reviews(&ids).map_err(|e| e.to_string())?;
    if all.is_empty() {
        outln!("尚无复核记录");
    }
    for r in &all {
        outln!("{}", r.text());
    }
    Ok(())
}

/// `hallmark review export --db LEAD --out FILE.review.json`
pub(crate) fn review_export(db: &Db, out: &Path) -> Result<(), String> {
    let store = open_db(db, Access::ReadOnly)?;
    let ids = merged_sheets(&store)?;
    let file = store.review_file(&ids).map_err(|e| e.to_string())?;
    let bytes = serde_json::to_vec_pretty(&file).expect("review file serializes");
    hallmark_store::durable::write_replacing(out, &bytes).map_err(|e| format!("cannot write {}: {e}", out.display()))?;
    outln!("{}: 复核意见 {} 条（放入评价人员平板的数据包文件夹，平板打开时接收）", out.display(), file.reviews.len());
    Ok(())
}

/// `hallmark review keep --db TABLET --sheet NAME --item ITEM --reason R`
pub(crate) fn review_keep(db: &Db, which: &str, item: &str, reason: &str) -> Result<(), String> {
    let mut store = open_db(db, Access::Existing)?;
    let id = sheet(&store, which)?;
    let n = store.keep_answers(&id, item, reason, &crate::now()).map_err(|e| e.to_string())?;
    outln!("已答复：保留原答案（{n} 项记录，原因：{}）；重新导出数据包交组长", reason.trim());
    Ok(())
}

/// `hallmark review receive --db TABLET FILE.review.json`
pub(crate) fn review_receive(db: &Db, file: &Path) -> Result<(), String> {
    let mut store = open_db(db, Access::Existing)?;
    let bytes = std::fs::read(file).map_err(|e| format!("{}: cannot read: {e}", file.display()))?;
    let n = store.receive_reviews(&bytes, &crate::now()).map_err(|e| format!("{}: {e}", file.display()))?;
    outln!("收到组长复核意见 {n} 条");
    Ok(())
}
