//! hallmark-report: the signed evaluation report (Liaoning DB21/T appendix B form).
//!
//! - [`model`]: the report as data, built from the lead's merged inspections (no clock).
//! - [`text`]: its plain-text form (the golden test compares this).
//! - [`pdf`]: A4 PDF through typst, with a subset CJK font embedded; byte-identical for
//!   identical input.
//! - [`seal`]: the Ed25519 signature of the PDF and the sidecar `FILE.pdf.sig.json`, and
//!   `verify` (with `--bundles`: every score and the Merkle root recomputed from raw bundles).
//! - [`previous`]: a re-evaluation compared with the report before it, and its validity.
//! - [`rectify`]: 整改 — the findings a signed report opens, closing them by a re-evaluation,
//!   the ledger as XLSX.
//! - [`lifecycle`]: a signed report withdrawn (撤销) or superseded by a corrected one (更正):
//!   the signer's statement beside the PDF, which `verify` honours.
//! - [`table`]: per-item scores of every assessor as CSV and XLSX for officials.
//! - [`issue`]: the use cases start to finish, [`make`] (the signed report) and [`scores`]
//!   (the score table): one pipeline each, which the app and the CLI both call.
//!
//! Never depends on Tauri: the app and the CLI call the same functions.

pub mod issue;
pub mod lifecycle;
pub mod model;
pub mod pdf;
pub mod previous;
pub mod printable;
pub mod rectify;
pub mod seal;
pub mod table;
pub mod text;

pub use issue::{make, scores, Group, Made, Out, Request, Scores};

#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("{0}")]
    Store(#[from] hallmark_store::StoreError),
    /// The request cannot be met as asked; the message says what to change.
    #[error("{0}")]
    Input(String),
    /// The panel cannot conclude (too few assessors, or an incomplete sheet) and no draft was
    /// asked for; the message names what is missing.
    #[error("{0}")]
    PanelIncomplete(String),
    /// Returned sheets or items are not answered yet and the lead did not override (issue #13):
    /// each open return in words ("张伟 · 服务实操：退回（…），待评价人员修改").
    #[error("{message}")]
    ReviewsOpen { message: String, open: Vec<String> },
    #[error("{0}")]
    Font(String),
    #[error("report layout failed: {0}")]
    Layout(String),
    #[error("{0}")]
    Io(String),
}

impl ReportError {
    pub fn code(&self) -> &'static str {
        match self {
            ReportError::Store(e) => e.code(),
            ReportError::Input(_) => "invalid",
            ReportError::PanelIncomplete(_) => "panel_incomplete",
            ReportError::ReviewsOpen { .. } => "reviews_open",
            ReportError::Font(_) => "font",
            ReportError::Layout(_) => "layout",
            ReportError::Io(_) => "io",
        }
    }
}
