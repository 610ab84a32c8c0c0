//! This device's enrollment (issue #10): who the bureau certified it as, and what the 设备登记
//! screen shows (the device key as text and as a QR code, the certificate files to import).

use super::*;

/// Who this device is enrolled as (`hallmark_store::enrollment::Enrollment`, field by field).
#[derive(Debug, Serialize)]
pub struct Enrollment {
    pub name: String,
    pub unit: String,
    pub title: String,
    /// "assessor", "lead" (the UI shows 评估人员, 评价组长).
    pub roles: Vec<String>,
    pub serial: String,
    /// The issuing CA's name.
    pub issuer: String,
    /// The root's name (the bureau).
    pub root: String,
    /// RFC 3339, UTC: the UI shows the local day and says 证书已过期 once it has passed.
    pub not_after: String,
    /// Whole days until `not_after` (negative once expired).
    pub days_left: i64,
    pub fingerprint: String,
    pub device_id: Option<String>,
    /// Within 30 days of `not_after`: the UI warns 证书将于 N 天后到期.
    pub expiring_soon: bool,
}

impl From<&hallmark_store::enrollment::Enrollment> for Enrollment {
    fn from(e: &hallmark_store::enrollment::Enrollment) -> Self {
        Enrollment {
            name: e.name.clone(),
            unit: e.unit.clone(),
            title: e.title.clone(),
            roles: e.roles.clone(),
            serial: e.serial.clone(),
            issuer: e.issuer.clone(),
            root: e.root.clone(),
            not_after: e.not_after.clone(),
            days_left: e.days_left,
            fingerprint: e.fingerprint.clone(),
            device_id: e.device_id.clone(),
            expiring_soon: e.expiring_soon,
        }
    }
}

/// The 设备登记 screen: the device's key for the bureau, its enrollment, and the `.pem` files
/// in the bundle folder it can import (enrollment requests left out).
#[derive(Debug, Serialize)]
pub struct EnrollmentScreen {
    pub device_id: String,
    /// The device key's fingerprint in groups ("3f9a 07c2 …").
    pub fingerprint: String,
    /// The full Ed25519 public key, hex: what the QR code carries.
    pub public_key: String,
    /// The public key as a QR code: a standalone SVG document drawn here, shown by the UI as an
    /// image (never inserted as markup).
    pub qr_svg: String,
    /// Where the request is written and certificates are read from.
    pub bundle_dir: String,
    /// `None`: not enrolled (the tablet records as before).
    pub enrollment: Option<Enrollment>,
    /// `.pem` files in the bundle folder, by name: the certificate and the bureau's root.
    pub certificate_files: Vec<InboxFile>,
}

impl EnrollmentScreen {
    pub fn of(store: &Store, enrollment: Option<Enrollment>, bundle_dir: &std::path::Path, certificate_files: Vec<InboxFile>) -> EnrollmentScreen {
        let public_key = store.device_key().public_key_hex();
        EnrollmentScreen {
            device_id: store.device_id().into(),
            fingerprint: store.device_key().fingerprint(),
            qr_svg: qr_svg(&public_key),
            public_key,
            bundle_dir: bundle_dir.display().to_string(),
            enrollment,
            certificate_files,
        }
    }
}

/// An enrollment request written into the bundle folder.
#[derive(Debug, Serialize)]
pub struct RequestWritten {
    pub path: String,
    /// The file's name, as the UI tells the inspector.
    pub name: String,
    pub dir: String,
}

/// `text` as a QR code (error correction M, 4-module quiet zone), black on white, as an SVG
/// document at least 264 px square.
pub fn qr_svg(text: &str) -> String {
    use qrcode::render::svg;
    match qrcode::QrCode::with_error_correction_level(text.as_bytes(), qrcode::EcLevel::M) {
        Ok(code) => code
            .render::<svg::Color<'_>>()
            .min_dimensions(264, 264)
            .quiet_zone(true)
            .dark_color(svg::Color("#000000"))
            .light_color(svg::Color("#ffffff"))
            .build(),
        // A 64-character key always fits (version 40 holds 2331 bytes at level M).
        Err(_) => String::new(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_key_becomes_a_square_svg() {
        let svg = super::qr_svg(&"ab".repeat(32));
        assert!(svg.contains("<svg"), "{svg}");
        let dims = |attr: &str| -> u32 {
            let at = svg.find(&format!(" {attr}=\"")).unwrap() + attr.len() + 3;
            svg[at..].split('"').next().unwrap().parse().unwrap()
        };
        assert_eq!(dims("width"), dims("height"));
        assert!(dims("width") >= 264);
        assert!(!svg.contains("<script"), "no markup beyond the code itself");
    }
}

/// Enrollment over the network (issue #11): the request this device sent to the sync server
/// and what became of it.
#[derive(Debug, Serialize)]
pub struct ServerEnrollment {
    /// "pending", "approved" or "refused".
    pub state: String,
    pub name: String,
    pub unit: String,
    /// This device key's fingerprint, as the admin sees it in the list.
    pub fingerprint: String,
    pub received_at: String,
    /// Why it was refused.
    pub reason: Option<String>,
    /// The certificate installed by this very call (approved just now).
    pub installed: Option<Enrollment>,
}

impl ServerEnrollment {
    pub fn of(e: &hallmark_sync::wire::EnrollmentV1, installed: Option<&hallmark_store::enrollment::Enrollment>) -> ServerEnrollment {
        ServerEnrollment {
            state: e.state.clone(),
            name: e.name.clone(),
            unit: e.unit.clone(),
            fingerprint: e.fingerprint.clone(),
            received_at: e.received_at.clone(),
            reason: e.reason.clone(),
            installed: installed.map(Enrollment::from),
        }
    }
}
