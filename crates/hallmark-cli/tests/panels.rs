//! `hallmark panel` end to end (issue #14): the lead picks the panel's inspections by id and
//! takes one out with a reason; `merge` shows the panel first, with the exclusion.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn hallmark(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_hallmark")).args(args).current_dir(root()).output().unwrap()
}

fn ok(args: &[&str]) -> String {
    let o = hallmark(args);
    assert!(o.status.success(), "{args:?}: {}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn panel_create_remove_list_and_merge() {
    let t = tempfile::tempdir().unwrap();
    let dir = t.path().join("bundles");
    let db = t.path().join("lead.db");
    let (d, db) = (dir.to_str().unwrap(), db.to_str().unwrap());
    ok(&["demo", d]);
    let mut files: Vec<String> =
        std::fs::read_dir(&dir).unwrap().flatten().map(|e| e.path().display().to_string()).filter(|p| p.contains("liaoning-")).collect();
    files.sort();
    let mut args = vec!["import", "--db", db];
    args.extend(files.iter().map(String::as_str));
    ok(&args);
    // `list`: "<id>  <rubric>  <site>  <assessor>  ..."
    let listed = ok(&["list", "--db", db]);
    let ids: Vec<(&str, &str)> = listed.lines().map(|l| l.split("  ").collect::<Vec<_>>()).map(|c| (c[0], c[3])).collect();
    assert_eq!(ids.len(), 5, "{listed}");
    let mut create = vec!["panel", "create", "--db", db, "--site", "铁岭县医疗保障事务服务中心"];
    create.extend(ids.iter().map(|(id, _)| &id[..13]));
    let panel = ok(&create).trim().to_string();
    let (out_id, out_name) = ids[0];
    ok(&["panel", "remove", "--db", db, &panel[..13], out_id, "--reason", "评分表未签名"]);

    let refused = hallmark(&["panel", "remove", "--db", db, &panel, ids[1].0, "--reason", " "]);
    assert!(!refused.status.success());
    assert_eq!(String::from_utf8_lossy(&refused.stderr), "error: taking an inspection out of a panel needs a reason (the report prints it)\n");

    let list = ok(&["panel", "list", "--db", db]);
    assert!(list.starts_with(&format!("{panel}  铁岭县医疗保障事务服务中心  （组长，")), "{list}");
    assert!(list.contains(&format!("  - {out_id}  {out_name}  已排除：评分表未签名（组长，")), "{list}");
    assert_eq!(list.matches("\n  + ").count(), 4, "{list}");

    let groups: serde_json::Value = serde_json::from_str(&ok(&["merge", "--db", db, "--json"])).unwrap();
    let g = &groups[0];
    assert_eq!(g["panel_id"], panel.as_str());
    assert_eq!(g["assessors"].as_array().unwrap().len(), 4);
    assert_eq!(g["excluded"][0]["reason"], "评分表未签名");
    assert_eq!(g["panel"]["conclusion"]["text"], "评价人员不足5名，不能形成评价结论");
    assert_eq!(groups.as_array().unwrap().len(), 1, "a removed member joins no other group");
    let text = ok(&["merge", "--db", db]);
    assert!(text.contains(&format!("已排除 {out_name}：评分表未签名")), "{text}");
}
