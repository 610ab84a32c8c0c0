//! `hallmark rectify` on the demo (issue #13 part 2): the report's deductions listed as 整改
//! items, an item followed through assign, progress and done with a photo, refused steps named,
//! the ledger exported; closing needs a re-evaluation (the library test
//! `rectifications.rs` closes one with a certified lead's report a year later).

use std::path::Path;
use std::process::{Command, Output};

fn hallmark(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_hallmark")).args(args).env_remove("HALLMARK_TRUST").output().unwrap()
}

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

fn ok(args: &[&str]) -> String {
    let o = hallmark(args);
    assert!(o.status.success(), "hallmark {args:?}: {}", text(&o));
    text(&o)
}

fn refused(args: &[&str], says: &str) {
    let o = hallmark(args);
    assert!(!o.status.success(), "hallmark {args:?} must be refused: {}", text(&o));
    assert!(text(&o).contains(says), "hallmark {args:?} must say {says:?}:\n{}", text(&o));
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn the_reports_deductions_are_followed_as_rectification_items() {
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let (d, lead) = (t.join("demo"), t.join("lead.db"));
    ok(&["demo", s(&d), "--lead", s(&lead)]);
    let db = s(&lead);
    assert!(ok(&["rectify", "list", "--db", db]).contains("没有整改项"), "no report signed yet: no items");
    let mut import = vec!["import", "--db", db];
    let bundles: Vec<String> =
        std::fs::read_dir(&d).unwrap().flatten().map(|e| e.path().display().to_string()).filter(|p| p.ends_with(".hallmark")).collect();
    import.extend(bundles.iter().map(String::as_str));
    ok(&import);
    let pdf = t.join("report.pdf");
    ok(&["report", "--db", db, "--rubric", "liaoning-demo-window", "--details", s(&d.join("report-details.toml")), "--out", s(&pdf)]);

    // The demo report deducts layout 场所布局 (and others): each is an item, 待整改.
    let list = ok(&["rectify", "list", "--db", db]);
    assert!(list.contains("铁岭县医疗保障事务服务中心（报告 HM-LN-"), "{list}");
    assert!(list.lines().any(|l| l.starts_with("待整改  layout 场所布局  扣 3.6 分  场所面积：1850m²")), "{list}");

    // Followed: assign, progress, done with a photo; refused steps named.
    refused(&["rectify", "assign", "--db", db, "nosuch", "--owner", "张科长", "--due", "2027-01-31"], "no 整改 item 'nosuch'");
    refused(&["rectify", "assign", "--db", db, "layout", "--owner", "张科长", "--due", "2027-13-01"], "the due date '2027-13-01' is not a date");
    let o = ok(&["rectify", "assign", "--db", db, "layout", "--owner", "张科长", "--due", "2027-01-31"]);
    assert!(o.contains("待整改  layout 场所布局") && o.contains("责任人 张科长，期限 2027-01-31"), "{o}");
    ok(&["rectify", "progress", "--db", db, "layout", "--note", "功能分区标识已订制"]);
    let photo = t.join("after.jpg");
    std::fs::write(&photo, hallmark_store::demo::demo_photo(2)).unwrap();
    refused(
        &["rectify", "done", "--db", db, "layout", "--note", "已完成", "--photo", s(&t.join("missing.jpg"))],
        "missing.jpg: cannot read the photo",
    );
    std::fs::write(t.join("bad.jpg"), b"not a jpeg").unwrap();
    let o = hallmark(&["rectify", "done", "--db", db, "layout", "--note", "已完成", "--photo", s(&t.join("bad.jpg"))]);
    assert!(!o.status.success(), "{}", text(&o));
    assert!(ok(&["rectify", "list", "--db", db]).contains("整改中  layout"), "the refused photo recorded nothing");
    let o = ok(&["rectify", "done", "--db", db, "layout", "--note", "功能分区标识已安装", "--photo", s(&photo)]);
    assert!(o.contains("已整改（待核验）  layout"), "{o}");
    refused(&["rectify", "progress", "--db", db, "layout", "--note", "x"], "reopen it first");

    // The ledger.
    let xlsx = t.join("整改台账.xlsx");
    let o = ok(&["rectify", "export", "--db", db, "--out", s(&xlsx)]);
    assert!(o.contains("整改台账") && std::fs::metadata(&xlsx).unwrap().len() > 1000, "{o}");

    // Closing needs a re-evaluation: the report itself is not one.
    refused(&["rectify", "close", "--db", db, "--by", s(&pdf), "--trust", s(&d.join("bureau-root.pem"))], "is not a re-evaluation");
}

/// Issue #13 part 1 from the command line: a returned item stops the signed report until it is
/// answered or accepted, or the lead overrides with a reason the report prints; `merge` shows
/// the review state.
#[test]
fn a_returned_item_stops_the_report_unless_the_lead_overrides() {
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let (d, lead) = (t.join("demo"), t.join("lead.db"));
    ok(&["demo", s(&d), "--lead", s(&lead)]);
    let db = s(&lead);
    let mut import = vec!["import", "--db", db];
    let bundles: Vec<String> =
        std::fs::read_dir(&d).unwrap().flatten().map(|e| e.path().display().to_string()).filter(|p| p.ends_with(".hallmark")).collect();
    import.extend(bundles.iter().map(String::as_str));
    ok(&import);
    assert!(ok(&["review", "list", "--db", db]).contains("尚无复核记录"));
    refused(&["review", "return", "--db", db, "--sheet", "赵六", "--item", "practice", "--comment", "x"], "no sheet of '赵六'");
    refused(&["review", "return", "--db", db, "--sheet", "张伟", "--item", "practice", "--comment", " "], "a return needs a comment");
    let o = ok(&["review", "return", "--db", db, "--sheet", "张伟", "--item", "practice", "--comment", "服务实操比其他人低，请复核"]);
    assert!(o.contains("张伟 · 服务实操：退回（服务实操比其他人低，请复核），待评价人员修改"), "{o}");
    // The return travels to 张伟's tablet as the lead's signed review file; the tablet (enrolled,
    // trusting the bureau root) checks the lead's certificate and keeps it once.
    let file = t.join("复核意见.review.json");
    assert!(ok(&["review", "export", "--db", db, "--out", s(&file)]).contains("复核意见 1 条"));
    let tablet = d.join("tablets").join("liaoning-3-张伟");
    assert!(ok(&["review", "receive", "--db", s(&tablet), s(&file)]).contains("收到组长复核意见 1 条"));
    assert!(ok(&["review", "receive", "--db", s(&tablet), s(&file)]).contains("收到组长复核意见 0 条"));
    let altered = t.join("altered.review.json");
    std::fs::write(&altered, std::fs::read_to_string(&file).unwrap().replace("请复核", "不用复核")).unwrap();
    refused(&["review", "receive", "--db", s(&tablet), s(&altered)], "does not verify (altered): nothing received");
    let mut unsigned: serde_json::Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    unsigned["lead_certificates"] = serde_json::json!([]);
    std::fs::write(&altered, serde_json::to_vec(&unsigned).unwrap()).unwrap();
    refused(&["review", "receive", "--db", s(&tablet), s(&altered)], "the signer is not enrolled");
    // 张伟 can answer by keeping the answers, with a reason (the next bundle carries it).
    refused(&["review", "keep", "--db", s(&tablet), "--sheet", "张伟", "--item", "practice", "--reason", " "], "needs a reason");
    refused(&["review", "keep", "--db", s(&tablet), "--sheet", "张伟", "--item", "layout", "--reason", "x"], "no open return");
    let merged = ok(&["merge", "--db", db]);
    assert!(merged.contains("复核（铁岭县医疗保障事务服务中心）：\n  张伟 · 服务实操：退回"), "{merged}");

    let details = d.join("report-details.toml");
    let pdf = t.join("report.pdf");
    let base = ["report", "--db", db, "--rubric", "liaoning-demo-window", "--details", s(&details), "--out", s(&pdf)];
    refused(&base, "has returned items not answered yet: 张伟 · 服务实操");
    assert!(!pdf.exists(), "nothing written");
    // A draft shows the state and is not stopped.
    let draft = t.join("draft.pdf");
    let o = ok(&["report", "--db", db, "--rubric", "liaoning-demo-window", "--out", s(&draft), "--draft", "--text"]);
    assert!(o.contains("复核：张伟 · 服务实操：退回"), "{o}");
    // Overridden: signed, the reason printed.
    let o = ok(&[&base[..], &["--text", "--override-reviews", "评价人员已调离，无法复核"]].concat());
    assert!(o.contains("组长在复核未完成时签发本报告（1项退回待修改），原因：评价人员已调离，无法复核"), "{o}");
    // Accepted: no override needed; the report prints the state.
    ok(&["review", "accept", "--db", db, "--sheet", "张伟", "--item", "practice", "--comment", "电话核实，维持原分"]);
    let o = ok(&[&base[..], &["--text"]].concat());
    assert!(o.contains("复核：张伟 · 服务实操：已接受（电话核实，维持原分）") && !o.contains("组长在复核未完成时签发"), "{o}");
}
