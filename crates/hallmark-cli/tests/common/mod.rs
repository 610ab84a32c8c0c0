//! Servers a test starts for itself, shared by the dashboard and sync tests (issue #16): a
//! PostgreSQL cluster (`scripts/postgres.sh`) and a Garage (`scripts/garage.sh`), each stopped
//! and removed when dropped; both keep their port across a restart.

// Each test binary uses its part.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn script(name: &str, what: &str, dir: &Path) -> String {
    let o = Command::new(workspace().join("scripts").join(name)).arg(what).arg(dir).output().unwrap();
    assert!(o.status.success(), "{name} {what}: {}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8(o.stdout).unwrap()
}

/// A PostgreSQL cluster of a test's own, in a folder under the system's temp folder (the
/// postgres user must reach it).
pub struct Cluster {
    pub dir: PathBuf,
    pub url: String,
}

impl Cluster {
    pub fn start(tag: &str) -> Cluster {
        let dir = std::env::temp_dir().join(format!("hallmark-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let mut c = Cluster { dir, url: String::new() };
        c.url = c.run("start").trim().trim_start_matches("export HALLMARK_PG=").to_string();
        c
    }

    /// `start` or `stop` (a restart keeps the data and the port).
    pub fn run(&self, what: &str) -> String {
        script("postgres.sh", what, &self.dir.join("cluster"))
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = Command::new(workspace().join("scripts/postgres.sh")).arg("stop").arg(self.dir.join("cluster")).output();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A single-node Garage of a test's own.
pub struct Garage {
    pub dir: PathBuf,
    pub url: String,
}

impl Garage {
    /// Whether `garage` is installed; with `HALLMARK_GARAGE` set it must be.
    pub fn installed() -> bool {
        let here = Command::new("garage").arg("--version").output().is_ok_and(|o| o.status.success());
        if !here {
            assert!(
                std::env::var_os("HALLMARK_GARAGE").is_none(),
                "HALLMARK_GARAGE is set but garage is not installed (scripts/test.sh installs it)"
            );
        }
        here
    }

    pub fn start(dir: &Path) -> Garage {
        let mut g = Garage { dir: dir.to_path_buf(), url: String::new() };
        g.url = g.run("start").trim().trim_start_matches("export HALLMARK_S3=").to_string();
        g
    }

    /// `start` or `stop` (a restart keeps the node, bucket, key, data and port).
    pub fn run(&self, what: &str) -> String {
        script("garage.sh", what, &self.dir)
    }

    /// The object names (SHA-256) in the bucket.
    pub fn objects(&self) -> std::collections::BTreeSet<String> {
        let store = hallmark_province::blobs::S3Blobs::open(&self.url).unwrap();
        store.list().unwrap().into_iter().map(|(h, _)| h).collect()
    }
}

impl Drop for Garage {
    fn drop(&mut self) {
        let _ = Command::new(workspace().join("scripts/garage.sh")).arg("stop").arg(&self.dir).output();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
