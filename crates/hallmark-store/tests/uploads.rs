//! A bundle that arrives in parts (sync, issue #11): its head checked, only the missing files
//! asked for, each received by its SHA-256, then the commit — on real files.

use hallmark_store::{demo, NewInspection, Store};

const NOW: &str = "2026-11-20T09:00:00.000Z";

/// A demo photo with a JPEG comment segment: other bytes, the same pixels (so the same
/// thumbnail).
fn with_comment(jpeg: &[u8], text: &str) -> Vec<u8> {
    let mut out = vec![0xFF, 0xD8, 0xFF, 0xFE];
    out.extend(((text.len() + 2) as u16).to_be_bytes());
    out.extend(text.as_bytes());
    out.extend(&jpeg[2..]);
    out
}

/// Two photos whose thumbnails are byte-identical: the server asks for that SHA-256 once and
/// the commit applies (before the fix, the second thumbnail "had not arrived" and the tablet
/// could never push the bundle).
#[test]
fn two_photos_with_one_thumbnail_are_received_once_and_commit() {
    let tmp = tempfile::tempdir().unwrap();
    let mut tablet = Store::open(&tmp.path().join("tablet"), NOW).unwrap();
    let id = tablet
        .create_inspection(
            &NewInspection {
                rubric_text: hallmark_core::builtin::JIANGSU.into(),
                site_name: "测试服务站".into(),
                site_level: "township".into(),
                visited_on: "2026-11-20".into(),
                assessor_name: "王敏".into(),
                ..Default::default()
            },
            NOW,
        )
        .unwrap();
    let item = tablet.rubric(&id).unwrap().item[0].id.clone();
    let photo = demo::demo_photo_seeded(0, 7);
    tablet.attach_photo(&id, &item, &photo, "大厅", "王敏", "2026-11-20T09:01:00.000Z").unwrap();
    tablet.attach_photo(&id, &item, &with_comment(&photo, "again"), "大厅", "王敏", "2026-11-20T09:02:00.000Z").unwrap();
    let file = tmp.path().join("b.hallmark");
    tablet.export_bundle(&id, &file, "2026-11-20T09:03:00.000Z", &mut |_, _| {}).unwrap();

    let entries = hallmark_bundle::ustar::read_all(&mut std::fs::File::open(&file).unwrap(), 1 << 26).unwrap();
    let mut head = Vec::new();
    {
        let mut w = hallmark_bundle::ustar::Writer::new(&mut head);
        for (name, bytes) in &entries[..2] {
            w.append(name, bytes.len() as u64, &mut bytes.as_slice()).unwrap();
        }
    }
    let server_dir = tmp.path().join("server");
    let mut server = Store::open(&server_dir, NOW).unwrap();
    let (m, _) = server.check_uploaded("the pushed manifest", &head, NOW).unwrap();
    let listed = m.files();
    let thumbs: Vec<&String> = listed.iter().filter(|f| f.entry.starts_with("thumbs/")).map(|f| &f.sha256).collect();
    assert_eq!((thumbs.len(), thumbs[0] == thumbs[1]), (2, true), "the two thumbnails are the same bytes");
    let missing = server.missing_files(&m);
    assert_eq!(missing.len(), listed.len() - 1, "each SHA-256 asked for once");
    for f in &missing {
        let bytes = &entries.iter().find(|(n, _)| *n == f.entry).unwrap().1;
        hallmark_store::bundle::receive_file(&server_dir, f, &mut bytes.as_slice()).unwrap();
    }
    assert!(server.missing_files(&m).is_empty());
    let imported = server.import_uploaded("bundle", &head, NOW, &|_| false).unwrap();
    assert!(matches!(imported, hallmark_store::bundle::Imported::Applied { photos: 2, .. }), "{imported:?}");
    // Both photos and both thumbnails are in place.
    for f in &listed {
        assert!(hallmark_store::bundle::is_stored(&server_dir, f), "{} is in place", f.entry);
    }
}
