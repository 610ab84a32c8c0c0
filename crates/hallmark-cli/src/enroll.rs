//! `hallmark trust` (a lead's trusted roots and CRLs) and `hallmark enroll` (this device's
//! certificate). Thin wrappers over hallmark-store's enrollment.

use std::path::{Path, PathBuf};

use crate::Db;

pub(crate) fn trust_add(_db: &Db, _files: &[PathBuf]) -> Result<(), String> {
    Err("not yet".into())
}

pub(crate) fn trust_list(_db: &Db) -> Result<(), String> {
    Err("not yet".into())
}

pub(crate) fn request(_db: &Db, _name: &str, _unit: &str, _title: &str, _out: &Path) -> Result<(), String> {
    Err("not yet".into())
}

pub(crate) fn install(_db: &Db, _cert: &Path, _root: &Path) -> Result<(), String> {
    Err("not yet".into())
}

pub(crate) fn show(_db: &Db) -> Result<(), String> {
    Err("not yet".into())
}
