//! The demo inspection a newcomer sees first: a partly filled Jiangsu inspection with photos.

use image::{Rgb, RgbImage};
use serde_json::Value;

use crate::{NewInspection, Result, Store};

pub const JIANGSU_RUBRIC: &str = hallmark_core::builtin::JIANGSU;
const JIANGSU_EXAMPLE: &str = include_str!("../../../examples/jiangsu-complete.json");

/// Adds the demo inspection unless the store already has one. Returns its id.
pub fn seed(store: &mut Store, now: &str) -> Result<String> {
    if let Some(id) = store.inspection_ids()?.into_iter().last() {
        return Ok(id);
    }
    let id = store.create_inspection(
        &NewInspection {
            rubric_text: JIANGSU_RUBRIC.to_string(),
            site_name: "南京市江宁区秣陵街道医保服务站（演示）".into(),
            site_address: "南京市江宁区秣陵街道胜太路88号".into(),
            site_level: "township".into(),
            visited_on: "2026-11-18".into(),
            assessor_name: "陈静".into(),
            assessor_unit: "南京市医疗保障局".into(),
            assessor_title: "科员".into(),
            assessor_phone: "025-00000000".into(),
            ..Default::default()
        },
        now,
    )?;
    let example: Value = serde_json::from_str(JIANGSU_EXAMPLE).expect("example is JSON");
    // The first two areas answered; the third left for the newcomer to fill in.
    let answers = example["answers"].as_object().expect("answers");
    for (key, value) in answers {
        let indicator: u32 = key.split('.').next().and_then(|n| n.parse().ok()).unwrap_or(99);
        if indicator <= 9 {
            store.record(&id, key, Some(value.clone()), "陈静", now)?;
        }
    }
    for (item, caption, hue) in [("1.2", "服务大厅全景", 0u8), ("2.1", "1号窗口办公设施", 1), ("3.1", "CHS标识（不规范处）", 2)]
    {
        store.attach_photo(&id, item, &demo_photo(hue), caption, "陈静", now)?;
    }
    Ok(id)
}

/// A small generated JPEG standing in for a camera photo.
pub fn demo_photo(variant: u8) -> Vec<u8> {
    demo_photo_seeded(variant, 0)
}

/// Like [`demo_photo`], with a marker whose place depends on `seed` (distinct files per assessor).
pub fn demo_photo_seeded(variant: u8, seed: u32) -> Vec<u8> {
    let (w, h) = (1024u32, 768u32);
    let mut img = RgbImage::new(w, h);
    for (x, y, p) in img.enumerate_pixels_mut() {
        let fx = x * 255 / w;
        let fy = y * 255 / h;
        let base = match variant % 3 {
            0 => [200 - (fy / 3) as u8, 220 - (fy / 4) as u8, 235],
            1 => [235, 225 - (fx / 5) as u8, 200],
            _ => [210, 235 - (fy / 4) as u8, 215 - (fx / 6) as u8],
        };
        // A counter, a window and a sign, drawn as blocks.
        let counter = y > h * 6 / 10 && y < h * 8 / 10 && x > w / 10 && x < w * 9 / 10;
        let window = y > h / 4 && y < h / 2 && (x / 160) % 2 == 0;
        let sign = y > h / 10 && y < h / 5 && x > w * 3 / 8 && x < w * 5 / 8;
        let marker = seed > 0 && x / 32 == 2 + seed % 24 && y / 32 == 2;
        *p = if marker {
            Rgb([200, 30, 30])
        } else if sign {
            Rgb([0, 92, 84])
        } else if counter {
            Rgb([120, 90, 60])
        } else if window {
            Rgb([90, 130, 170])
        } else {
            Rgb(base)
        };
    }
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 85).encode_image(&img).expect("encode demo photo");
    out
}

/// A generated handwritten-looking signature (PNG, dark strokes on transparent), varied by seed.
pub fn demo_signature(seed: u32) -> Vec<u8> {
    let (w, h) = (360u32, 120u32);
    let mut img = image::RgbaImage::new(w, h);
    let f1 = 0.035 + (seed % 5) as f32 * 0.006;
    let f2 = 0.11 + (seed % 3) as f32 * 0.02;
    for x in 20..(w - 20) {
        let t = x as f32;
        let y = h as f32 / 2.0 + 28.0 * (t * f1).sin() + 12.0 * (t * f2 + seed as f32).sin();
        for dy in -2i32..=2 {
            for dx in -1i32..=1 {
                let (px, py) = (x as i32 + dx, y as i32 + dy);
                if px >= 0 && py >= 0 && (px as u32) < w && (py as u32) < h {
                    img.put_pixel(px as u32, py as u32, image::Rgba([20, 30, 60, 255]));
                }
            }
        }
    }
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png).expect("encode demo signature");
    out.into_inner()
}

const LIAONING_PANEL: [&str; 5] = [
    include_str!("../../../examples/liaoning-panel/a1.json"),
    include_str!("../../../examples/liaoning-panel/a2.json"),
    include_str!("../../../examples/liaoning-panel/a3.json"),
    include_str!("../../../examples/liaoning-panel/a4.json"),
    include_str!("../../../examples/liaoning-panel/a5.json"),
];

/// What `hallmark demo DIR` wrote.
#[derive(Debug, Clone, serde::Serialize)]
pub struct DemoBundle {
    pub path: std::path::PathBuf,
    pub assessor: String,
    pub site: String,
    pub public_key: String,
    pub fingerprint: String,
}

/// Writes five signed assessor bundles for one county-level Liaoning hall (the example panel,
/// mean 90.2) and one Jiangsu inspection, each from its own simulated tablet (own key), with
/// generated photos and handwritten signatures. The tablets' stores are made under
/// `dir/.tablets` and removed afterwards.
pub fn write_bundles(dir: &std::path::Path) -> Result<Vec<DemoBundle>> {
    write_bundles_from(dir, None)
}

/// The demo bureau's CA passphrase. A demo only: a real CA's passphrase is never written down.
pub const DEMO_CA_PASSPHRASE: &str = "hallmark-demo-only";
/// The demo root as `hallmark demo` writes it: what `verify --trust` and `trust add` take.
pub const DEMO_ROOT_FILE: &str = "bureau-root.pem";
/// The demo bureau's revocation list.
pub const DEMO_CRL_FILE: &str = "bureau-crl.pem";
/// The demo bureau's CA folder (its key is encrypted with [`DEMO_CA_PASSPHRASE`]).
pub const DEMO_CA_DIR: &str = "bureau-ca";

/// Where an enrolled demo keeps its tablets' data folders (issue #11).
pub const DEMO_TABLETS_DIR: &str = "tablets";
/// Each demo device's certificate chain, in its data folder.
pub const DEMO_CERT_FILE: &str = "certificate.pem";
/// The demo's sync files (a folder of their own: the demo folder's top-level .pem files are
/// what `$HALLMARK_TRUST` trusts, and these are not roots).
pub const DEMO_SYNC_DIR: &str = "sync";
/// The demo sync server's certificate and key (for 127.0.0.1 and localhost), in `sync/`.
pub const DEMO_SERVER_CERT: &str = "sync/server.pem";
pub const DEMO_SERVER_KEY: &str = "sync/server.key";
/// The demo lead's device certificate, in `sync/` (for `hallmark assignment add --lead`).
pub const DEMO_LEAD_CERT: &str = "sync/lead-certificate.pem";

/// A demo bureau CA (issue #10): a root that enrolls the demo tablets and the demo lead.
pub struct DemoBureau {
    pub ca_dir: std::path::PathBuf,
    pub root_pem: Vec<u8>,
    /// The time certificates are issued and installed at (the caller's clock).
    pub now: chrono::DateTime<chrono::Utc>,
}

impl DemoBureau {
    /// Makes the demo bureau in `dir/bureau-ca` (replacing an earlier demo's) and writes
    /// `dir/bureau-root.pem` and `dir/bureau-crl.pem`.
    pub fn create(dir: &std::path::Path, now: chrono::DateTime<chrono::Utc>) -> Result<DemoBureau> {
        use hallmark_trust::authority;
        let ca_dir = dir.join(DEMO_CA_DIR);
        // An earlier demo's CA folder is the demo's own; a folder that is not a CA is left alone.
        if ca_dir.join(authority::KEY).exists() && ca_dir.join(authority::LEDGER).exists() {
            std::fs::remove_dir_all(&ca_dir).map_err(|e| crate::io("cannot replace the demo CA folder", e))?;
        }
        authority::init(&ca_dir, "辽宁省医疗保障局（演示）", "辽宁省医疗保障局", 10, None, DEMO_CA_PASSPHRASE, now)?;
        let root_pem = std::fs::read(ca_dir.join(authority::ROOT)).map_err(|e| crate::io("cannot read the demo root", e))?;
        let crl = std::fs::read(ca_dir.join(authority::CRL)).map_err(|e| crate::io("cannot read the demo CRL", e))?;
        crate::durable::write_replacing(&dir.join(DEMO_ROOT_FILE), &root_pem).map_err(|e| crate::io("cannot write the demo root", e))?;
        crate::durable::write_replacing(&dir.join(DEMO_CRL_FILE), &crl).map_err(|e| crate::io("cannot write the demo CRL", e))?;
        Ok(DemoBureau { ca_dir, root_pem, now })
    }

    /// Issues the demo sync server's certificate (role server, for 127.0.0.1 and localhost)
    /// into `dir/sync/server.pem` and its key into `dir/sync/server.key` (0600).
    pub fn issue_server(&self, dir: &std::path::Path) -> Result<()> {
        std::fs::create_dir_all(dir.join(DEMO_SYNC_DIR)).map_err(|e| crate::io("cannot create the demo sync folder", e))?;
        use hallmark_trust::authority::{self, IssueRequest, Subject, SubjectKey};
        let issued = authority::issue(
            &self.ca_dir,
            DEMO_CA_PASSPHRASE,
            &IssueRequest {
                subject: Subject { name: "演示同步服务器".into(), unit: "辽宁省医疗保障局".into(), ..Default::default() },
                roles: vec![hallmark_trust::Role::Server],
                key: SubjectKey::NewP256,
                days: 365,
                hosts: vec!["127.0.0.1".into(), "localhost".into()],
            },
            self.now,
        )?;
        let key = issued.key_pem.as_deref().unwrap_or_default();
        let _ = std::fs::remove_file(dir.join(DEMO_SERVER_KEY));
        hallmark_trust::keyfile::write_private(&dir.join(DEMO_SERVER_KEY), key)?;
        crate::durable::write_replacing(&dir.join(DEMO_SERVER_CERT), issued.chain_pem.as_bytes())
            .map_err(|e| crate::io("cannot write the demo server certificate", e))?;
        Ok(())
    }

    /// Enrolls a store's device as the bureau would: its request, a certificate with `roles`,
    /// installed with the root. Returns the certificate chain's PEM.
    pub fn enroll(&self, store: &Store, name: &str, unit: &str, title: &str, roles: &[hallmark_trust::Role]) -> Result<String> {
        use hallmark_trust::authority::{self, IssueRequest, SubjectKey};
        let csr = store.enrollment_request(name, unit, title)?;
        let req = authority::read_request("the demo request", csr.as_bytes())?;
        let issued = authority::issue(
            &self.ca_dir,
            DEMO_CA_PASSPHRASE,
            &IssueRequest { subject: req.subject, roles: roles.to_vec(), key: SubjectKey::Ed25519(req.public_key), days: 365, hosts: Vec::new() },
            self.now,
        )?;
        store.install_certificate(issued.chain_pem.as_bytes(), &self.root_pem, &crate::enrollment::stamp(self.now))?;
        Ok(issued.chain_pem)
    }
}

/// [`write_bundles`], each tablet enrolled by `bureau` (role assessor) when given, so every
/// bundle carries its certificate chain (bundle format 2).
pub fn write_bundles_from(dir: &std::path::Path, bureau: Option<&DemoBureau>) -> Result<Vec<DemoBundle>> {
    write_bundles_tweaked(dir, bureau, &|_, _| {})
}

/// [`write_bundles_from`], each example sheet first passed to `tweak` with its number (0–4
/// Liaoning, 5 Jiangsu): tests make a panel that answers differently (issue #13).
pub fn write_bundles_tweaked(dir: &std::path::Path, bureau: Option<&DemoBureau>, tweak: &dyn Fn(usize, &mut Value)) -> Result<Vec<DemoBundle>> {
    write_bundles_keeping(dir, bureau, tweak, bureau.is_some())
}

/// [`write_bundles_tweaked`], keeping the tablets' data folders in `dir/tablets/` when `keep`
/// (tests change a sheet afterwards, as an assessor answering a return does).
pub fn write_bundles_keeping(
    dir: &std::path::Path,
    bureau: Option<&DemoBureau>,
    tweak: &dyn Fn(usize, &mut Value),
    keep: bool,
) -> Result<Vec<DemoBundle>> {
    let work = dir.join(".tablets");
    let _ = std::fs::remove_dir_all(&work);
    let mut out = Vec::new();
    let mut sources: Vec<(&str, &str, Value)> =
        LIAONING_PANEL.iter().map(|t| ("liaoning", hallmark_core::builtin::LIAONING, serde_json::from_str(t).expect("example is JSON"))).collect();
    sources.push(("jiangsu", JIANGSU_RUBRIC, serde_json::from_str(JIANGSU_EXAMPLE).expect("example is JSON")));
    let photos: [(&str, &str, &str); 3] =
        [("layout", "1.2", "服务大厅全景"), ("equipment", "2.1", "窗口办公设施"), ("practice", "3.1", "服务实操/标识")];
    for (n, (province, rubric, mut doc)) in sources.into_iter().enumerate() {
        tweak(n, &mut doc);
        let tablet = work.join(format!("{province}-{}-{}", n + 1, doc["assessor"]["name"].as_str().unwrap_or("")));
        // Demo tablets have fixed keys, so the demo (and its report) is the same every time.
        crate::identity::install_seed(
            &tablet,
            &sha2::Digest::finalize(<sha2::Sha256 as sha2::Digest>::new_with_prefix(format!("hallmark demo tablet {n}"))).into(),
        )
        .map_err(crate::StoreError::Io)?;
        let mut store = Store::open(&tablet, "2026-11-20T08:00:00.000Z")?;
        let site = &doc["site"];
        let assessor = &doc["assessor"];
        let s = |v: &Value| v.as_str().unwrap_or("").to_string();
        let name = s(&assessor["name"]);
        let id = store.create_inspection(
            &NewInspection {
                rubric_text: rubric.to_string(),
                site_name: s(&site["name"]),
                site_address: s(&site["address"]),
                site_level: s(&site["level"]),
                visited_on: s(&doc["visited_on"]),
                assessor_name: name.clone(),
                assessor_unit: s(&assessor["unit"]),
                assessor_title: s(&assessor["title"]),
                assessor_phone: format!("{}-7{:07}", if province == "liaoning" { "024" } else { "025" }, 1000 + n),
                ..Default::default()
            },
            "2026-11-20T08:30:00.000Z",
        )?;
        let at = |minute: usize| format!("2026-11-20T{:02}:{:02}:00.000Z", 9 + minute / 60, minute % 60);
        let mut minute = 0;
        for (key, value) in doc["answers"].as_object().expect("answers") {
            minute += 2;
            store.record(&id, key, Some(value.clone()), &name, &at(minute))?;
        }
        if let Some(veto) = doc.get("veto").and_then(Value::as_object) {
            for (key, value) in veto {
                minute += 1;
                store.record(&id, &format!("veto:{key}"), Some(value.clone()), &name, &at(minute))?;
            }
        }
        let items: Vec<String> = store.rubric(&id)?.item.iter().map(|i| i.id.clone()).collect();
        for (k, (liaoning_item, jiangsu_item, caption)) in photos.iter().enumerate() {
            let item = if province == "liaoning" { liaoning_item } else { jiangsu_item };
            if items.iter().any(|i| i == item) {
                minute += 1;
                store.attach_photo(&id, item, &demo_photo_seeded(k as u8, (n * 3 + k + 1) as u32), caption, &name, &at(minute))?;
            }
        }
        minute += 1;
        store.save_signature(&id, &demo_signature(n as u32 + 1), &at(minute))?;
        store.finish(&id, &at(minute + 1))?;
        if let Some(b) = bureau {
            let chain = b.enroll(&store, &name, &s(&assessor["unit"]), &s(&assessor["title"]), &[hallmark_trust::Role::Assessor])?;
            crate::durable::write_replacing(&tablet.join(DEMO_CERT_FILE), chain.as_bytes())
                .map_err(|e| crate::io("cannot write a demo certificate", e))?;
        }
        let file = dir.join(format!("{province}-{}-{}.hallmark", n + 1, name));
        store.export_bundle(&id, &file, &at(minute + 2), &mut |_, _| {})?;
        out.push(DemoBundle {
            path: file,
            assessor: name,
            site: s(&site["name"]),
            public_key: store.device_key().public_key_hex(),
            fingerprint: store.device_key().fingerprint(),
        });
    }
    // An enrolled demo keeps its tablets (data folders, each with its certificate) for sync:
    // `hallmark sync push --db DIR/tablets/NAME`.
    let kept = dir.join(DEMO_TABLETS_DIR);
    let _ = std::fs::remove_dir_all(&kept);
    if keep {
        std::fs::rename(&work, &kept).map_err(|e| crate::io("cannot keep the demo tablets", e))?;
    }
    let _ = std::fs::remove_dir_all(&work);
    Ok(out)
}

/// A 4000x3000 JPEG with scene-like gradients and sensor-like noise (≈3.5 MB), as a tablet
/// camera makes: the benchmarks' stand-in photo.
pub fn photo_12mp(seed: u32) -> Vec<u8> {
    camera_like(4000, 3000, seed, (16, 12, 24))
}

/// A noisy JPEG whose size and thumbnail weigh like a camera's; `scale` sets the gradients.
pub fn camera_like(w: u32, h: u32, seed: u32, scale: (u32, u32, u32)) -> Vec<u8> {
    let mut state = seed.wrapping_mul(2_654_435_761).wrapping_add(1);
    let img = RgbImage::from_fn(w, h, |x, y| {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        let noise = (state % 29) as i32 - 14;
        let c = |base: i32| (base + noise).clamp(0, 255) as u8;
        Rgb([c((x / scale.0) as i32 % 256), c((y / scale.1) as i32 % 256), c(((x + y + seed) / scale.2) as i32 % 256)])
    });
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 88).encode_image(&img).expect("encode");
    out
}
