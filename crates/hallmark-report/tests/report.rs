//! The report end to end on real files: demo bundles → lead database → model (golden text),
//! PDF (deterministic, text extractable, page 1 rendered), signature and verification.
//!
//! `UPDATE_EXPECT=1 cargo test -p hallmark-report` rewrites tests/report/*.expected.txt.

use std::path::{Path, PathBuf};
use std::process::Command;

use hallmark_report::{model, pdf, seal, text};
use hallmark_store::{demo, Store};
use serde_json::Value;

const NOW: &str = "2026-11-21T09:00:00.000Z";
/// The lead's issue date the committed expectations print (报告日期).
const ISSUED_ON: &str = "2026-11-20";

fn cases() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/report")
}

/// The demo bundles imported into a lead database whose key is fixed (so the report is too).
fn lead(dir: &Path) -> (Store, Vec<demo::DemoBundle>) {
    let bundles = demo::write_bundles(&dir.join("bundles")).unwrap();
    let lead_dir = dir.join("lead");
    hallmark_store::identity::install_seed(&lead_dir, &[7u8; 32]).unwrap();
    let mut store = Store::open(&lead_dir, NOW).unwrap();
    for b in &bundles[..4] {
        store.roster_add(&b.public_key, &b.assessor, NOW).unwrap();
    }
    for b in &bundles {
        store.import_bundle(&b.path, NOW, &mut |_, _| {}).unwrap();
    }
    (store, bundles)
}

fn details() -> model::Details {
    model::Details {
        site_head: "赵立新".into(),
        site_phone: "024-72345678".into(),
        site_email: "tlxyb@example.cn".into(),
        leader: Some("王敏".into()),
    }
}

fn make_pdf(store: &Store, report: &model::Report) -> Vec<u8> {
    let assets = pdf::Assets::collect(report, |s| store.thumb_path(s), |s| store.signature_path(s)).unwrap();
    pdf::render(report, assets, pdf::load_fonts().unwrap()).unwrap()
}

fn golden(name: &str, actual: &str) {
    let path = cases().join(name);
    if std::env::var_os("UPDATE_EXPECT").is_some() {
        std::fs::create_dir_all(cases()).unwrap();
        std::fs::write(&path, actual).unwrap();
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(expected == actual, "{} differs (UPDATE_EXPECT=1 to accept):\n{}", path.display(), actual);
}

fn pdftotext(pdf: &Path) -> String {
    let out = Command::new("pdftotext").args(["-layout"]).arg(pdf).arg("-").output().expect("pdftotext (apt-get install poppler-utils)");
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn liaoning_report_reads_like_appendix_b_and_verifies() {
    let t = tempfile::tempdir().unwrap();
    let (store, _) = lead(t.path());
    let group = model::pick_group(&store, None, Some("liaoning-demo-window")).unwrap();
    let report = model::build(&store, &group, &details(), ISSUED_ON).unwrap();
    golden("liaoning-demo.expected.txt", &text::render(&report));

    // Deterministic: the same inputs give the same bytes.
    let pdf_bytes = make_pdf(&store, &report);
    assert_eq!(pdf_bytes, make_pdf(&store, &report), "two renderings differ");
    let out = t.path().join("out/report.pdf");
    let sidecar = seal::seal(&report, &pdf_bytes, store.device_key(), chrono::Utc::now());
    seal::write(&out, &pdf_bytes, &sidecar).unwrap();

    // The PDF's text: appendix B's headings, the deductions, the conclusion, the seal.
    let txt = pdftotext(&out);
    let squeezed: String = txt.split_whitespace().collect();
    for needle in [
        "报告编号",
        "医疗保障经办机构示范窗口评价报告",
        "受评单位信息",
        "单位名称",
        "负责人",
        "电子邮箱",
        "评价人员",
        "工作单位",
        "职务/职称",
        "签名",
        "组长",
        "组员",
        "评价依据",
        "评价流程",
        "否决项核查",
        "指标计分",
        "扣分说明",
        "评价结论",
        "整改建议",
        "符合医疗保障经办服务示范窗口要求",
        "90.2",
        "有效期至",
        "2027-11-20",
        "2号窗口缺少高拍仪",
        "缺少母婴休息",
        "第1页/共",
        &report.number,
        &report.merkle_root,
        &report.signer_fingerprint.replace(' ', ""),
    ] {
        assert!(squeezed.contains(&needle.replace(' ', "")), "the PDF text lacks '{needle}'");
    }
    let fonts = Command::new("pdffonts").arg(&out).output().unwrap();
    let fonts = String::from_utf8_lossy(&fonts.stdout);
    assert!(fonts.contains("NotoSansCJK") && fonts.contains(" yes yes "), "CJK font (Noto Sans CJK, issue #14) embedded as a subset:\n{fonts}");

    // Page 1 rendered to PNG (for eyes: target/report-pages/).
    let pages = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/report-pages");
    std::fs::create_dir_all(&pages).unwrap();
    let status = Command::new("pdftoppm").args(["-r", "80", "-png", "-f", "1", "-l", "3"]).arg(&out).arg(pages.join("liaoning")).status().unwrap();
    assert!(status.success());
    assert!(std::fs::metadata(pages.join("liaoning-1.png")).unwrap().len() > 10_000);

    let v = seal::verify(&out, None).unwrap();
    assert!(v.ok, "{}", v.text());

    // One changed byte: refused.
    let tampered = t.path().join("out/tampered.pdf");
    let mut bytes = pdf_bytes.clone();
    let k = bytes.len() / 2;
    bytes[k] ^= 0x20;
    std::fs::write(&tampered, &bytes).unwrap();
    std::fs::copy(seal::sidecar_path(&out), seal::sidecar_path(&tampered)).unwrap();
    let v = seal::verify(&tampered, None).unwrap();
    assert!(!v.ok && v.text().contains("the PDF was changed"), "{}", v.text());

    // A changed claim in the sidecar: refused.
    let mut side: Value = serde_json::from_slice(&std::fs::read(seal::sidecar_path(&out)).unwrap()).unwrap();
    side["final_score"] = "95".into();
    let forged = t.path().join("out/forged.pdf");
    std::fs::copy(&out, &forged).unwrap();
    std::fs::write(seal::sidecar_path(&forged), serde_json::to_vec(&side).unwrap()).unwrap();
    assert!(seal::verify(&forged, None).unwrap().text().contains("sidecar's own signature does not verify"));
}

#[test]
fn verify_with_bundles_names_the_item_whose_observation_changed() {
    let t = tempfile::tempdir().unwrap();
    let (store, bundles) = lead(t.path());
    let group = model::pick_group(&store, None, Some("liaoning-demo-window")).unwrap();
    let report = model::build(&store, &group, &details(), ISSUED_ON).unwrap();
    let pdf_bytes = make_pdf(&store, &report);
    let out = t.path().join("report.pdf");
    seal::write(&out, &pdf_bytes, &seal::seal(&report, &pdf_bytes, store.device_key(), chrono::Utc::now())).unwrap();
    let dir = bundles[0].path.parent().unwrap();
    let v = seal::verify(&out, Some(dir)).unwrap();
    assert!(v.ok, "{}", v.text());

    // 王敏's bundle: the hall's floor area in the manifest raised to 2100 m² (re-packed).
    let path = &bundles[0].path;
    let bytes = std::fs::read(path).unwrap();
    let size = usize::from_str_radix(std::str::from_utf8(&bytes[124..135]).unwrap(), 8).unwrap();
    let mut manifest: Value = serde_json::from_slice(&bytes[512..512 + size]).unwrap();
    let ev = manifest["events"].as_array_mut().unwrap().iter_mut().find(|e| e["key"] == "layout.floor_area").unwrap();
    ev["value"]["value"] = 2100.into();
    let new_manifest = serde_json::to_vec_pretty(&manifest).unwrap();
    let rest_at = 512 + size.div_ceil(512) * 512;
    let mut header = bytes[..512].to_vec();
    header[124..135].copy_from_slice(format!("{:011o}", new_manifest.len()).as_bytes());
    header[148..156].copy_from_slice(b"        ");
    let sum: u32 = header.iter().map(|&b| b as u32).sum();
    header[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
    let mut out_bytes = header;
    out_bytes.extend_from_slice(&new_manifest);
    out_bytes.resize(out_bytes.len().div_ceil(512) * 512, 0);
    out_bytes.extend_from_slice(&bytes[rest_at..]);
    std::fs::write(path, out_bytes).unwrap();

    let v = seal::verify(&out, Some(dir)).unwrap();
    let text = v.text();
    assert!(!v.ok);
    assert!(text.contains("王敏 · layout 场所布局: the report says 4, the bundle's observations give 5"), "{text}");
    assert!(text.contains("manifest signature does not verify"), "{text}");
    assert!(text.contains("Merkle root recomputed as"), "{text}");
}

#[test]
fn jiangsu_report_has_its_areas_and_no_invented_pass_line() {
    let t = tempfile::tempdir().unwrap();
    let (store, _) = lead(t.path());
    let group = model::pick_group(&store, None, Some("jiangsu-15min")).unwrap();
    let report = model::build(&store, &group, &model::Details::default(), ISSUED_ON).unwrap();
    golden("jiangsu-demo.expected.txt", &text::render(&report));
    assert_eq!(report.outcome, "no_pass_line");
    assert!(report.valid_until.is_none() && report.pass_at.is_none());
    let pdf_bytes = make_pdf(&store, &report);
    let out = t.path().join("js.pdf");
    std::fs::write(&out, &pdf_bytes).unwrap();
    let txt: String = pdftotext(&out).split_whitespace().collect();
    assert!(txt.contains("本评分细则未规定合格分数线") && !txt.contains("符合医疗保障经办服务示范窗口要求"));
}

#[test]
fn several_groups_need_a_choice_and_csv_xlsx_hold_every_assessor() {
    let t = tempfile::tempdir().unwrap();
    let (store, _) = lead(t.path());
    let err = model::pick_group(&store, None, None).unwrap_err().to_string();
    assert!(err.contains("--rubric liaoning-demo-window") && err.contains("--rubric jiangsu-15min"), "{err}");
    let group = model::pick_group(&store, Some("铁岭"), None).unwrap();
    let report = model::build(&store, &group, &details(), ISSUED_ON).unwrap();
    let csv = String::from_utf8(hallmark_report::table::csv(&report)).unwrap();
    assert_eq!(csv.lines().count(), 1 + 5 * (19 + 1));
    assert!(csv.contains("王敏,铁岭市医疗保障局,layout,场所布局,8,4,"));
    let xlsx = hallmark_report::table::xlsx(&report).unwrap();
    assert_eq!(&xlsx[..2], b"PK");
    let bad = model::build(&store, &group, &model::Details { leader: Some("无名".into()), ..details() }, ISSUED_ON).unwrap_err().to_string();
    assert!(bad.contains("leader '无名' is not one of the assessors"), "{bad}");
}

#[test]
fn a_passing_hall_is_due_for_re_evaluation_in_the_month_before_its_conclusion_lapses() {
    let t = tempfile::tempdir().unwrap();
    let (store, _) = lead(t.path());
    assert!(model::due(&store, "2027-11-01").unwrap().is_empty(), "no report made here: nothing is due");
    let site = model::pick_group(&store, None, Some("liaoning-demo-window")).unwrap().site;
    store.report_issued_on(&site, "liaoning-demo-window", ISSUED_ON, NOW).unwrap();
    assert!(model::due(&store, "2027-10-19").unwrap().is_empty(), "more than a month left");
    let due = model::due(&store, "2027-10-25").unwrap();
    assert_eq!(due.len(), 1, "only the passing Liaoning hall has a validity: {due:?}");
    assert_eq!((due[0].valid_until.as_str(), due[0].days_left), ("2027-11-20", 26));
    assert_eq!(model::due(&store, "2027-12-01").unwrap()[0].days_left, -11, "a lapsed one stays listed");
}
