//! Durable file writes, the one implementation: a file is either absent (or the old one) or
//! complete, never partial. Photos, thumbnails, signatures, device keys, bundles and reports
//! all go through here.
//!
//! The recipe: write a temp file `.NAME.tmp-UUID` in the destination folder, fsync it, rename
//! it over the destination, fsync the folder. A killed writer leaves at most a temp file,
//! which [`sweep_temp_files`] removes.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// The folder a path lives in ("." for a bare file name).
fn folder_of(path: &Path) -> PathBuf {
    match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// A temp name beside `path`, in the form [`sweep_temp_files`] recognises.
pub fn temp_path_for(path: &Path) -> PathBuf {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    folder_of(path).join(format!(".{name}.tmp-{}", uuid::Uuid::now_v7()))
}

/// Writes `bytes` to `path` unless a file of the same size is there (content-addressed files:
/// same name, same bytes). Creates the folder.
pub fn write_durably(path: &Path, bytes: &[u8]) -> io::Result<()> {
    if fs::metadata(path).map(|m| m.len() == bytes.len() as u64).unwrap_or(false) {
        return Ok(());
    }
    fs::create_dir_all(folder_of(path))?;
    write_replacing(path, bytes)
}

/// Writes `bytes` to `path`, replacing what is there: `path` is always the old or the new
/// complete file.
pub fn write_replacing(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut file = NewFile::create(path)?;
    file.write_all(bytes)?;
    file.commit().map(|_| ())
}

/// Writes a secret (a key) to `path` only if nothing is there: `Ok(false)` when another
/// writer got there first (its file is kept, never replaced). Mode 0600 from the first byte,
/// never half-written.
pub fn write_private_new(path: &Path, bytes: &[u8]) -> io::Result<bool> {
    let mut options = fs::OpenOptions::new();
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = NewFile::create_with(path, &options)?;
    file.write_all(bytes)?;
    file.commit_new()
}

/// A file being written in place of `path`: a temp file until [`NewFile::commit`] makes it
/// durable and renames it; dropped uncommitted, the temp file is removed.
pub struct NewFile {
    tmp: PathBuf,
    dest: PathBuf,
    file: Option<Writeback>,
}

impl NewFile {
    pub fn create(path: &Path) -> io::Result<NewFile> {
        Self::create_with(path, &fs::OpenOptions::new())
    }

    fn create_with(path: &Path, options: &fs::OpenOptions) -> io::Result<NewFile> {
        let tmp = temp_path_for(path);
        let file = options.clone().write(true).create_new(true).open(&tmp)?;
        Ok(NewFile { tmp, dest: path.to_path_buf(), file: Some(Writeback::new(file)) })
    }

    /// fsyncs the temp file; returns its length.
    fn sync(&mut self) -> io::Result<u64> {
        let file = self.file.as_mut().expect("not yet committed");
        file.flush()?;
        let file = &file.file;
        file.sync_all()?;
        Ok(file.metadata()?.len())
    }

    /// Asks the kernel to start writing what was written so far (Linux `sync_file_range`), so
    /// work done before [`NewFile::commit`] overlaps the disk write its fsync would wait for.
    pub fn start_writeback(&mut self) -> io::Result<()> {
        let file = self.file.as_mut().ok_or_else(|| io::Error::other("already committed"))?;
        file.flush()?;
        file.start_writeback();
        Ok(())
    }

    /// fsync, rename over the destination, fsync the folder. Returns the file's length.
    pub fn commit(mut self) -> io::Result<u64> {
        let len = self.sync()?;
        fs::rename(&self.tmp, &self.dest)?;
        self.file = None;
        fs::File::open(folder_of(&self.dest))?.sync_all()?;
        Ok(len)
    }

    /// Like [`NewFile::commit`], but never replaces: a hard link to the destination, so of two
    /// racing writers exactly one wins. `Ok(false)` when the destination already existed.
    pub fn commit_new(mut self) -> io::Result<bool> {
        self.sync()?;
        match fs::hard_link(&self.tmp, &self.dest) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => return Ok(false),
            Err(e) => return Err(e),
        }
        fs::File::open(folder_of(&self.dest))?.sync_all()?;
        Ok(true)
    }
}

impl Write for NewFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.file.as_mut().expect("not yet committed").write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.as_mut().expect("not yet committed").flush()
    }
}

impl Drop for NewFile {
    /// Removes the temp file unless it was renamed into place (a hard-linked one goes too: the
    /// destination keeps the data).
    fn drop(&mut self) {
        if self.file.is_some() {
            let _ = fs::remove_file(&self.tmp);
        }
    }
}

/// Commits new files so that none appears unless every one was written in full: all are
/// fsynced first (a full disk fails here, before any rename), then renamed in order. A crash
/// between two renames leaves only the earlier ones: order them so that is harmless (a
/// report's sidecar before its PDF: a PDF never appears without its sidecar).
pub fn commit_together(mut files: Vec<NewFile>) -> io::Result<()> {
    for f in &mut files {
        f.sync()?;
    }
    for f in files {
        f.commit()?;
    }
    Ok(())
}

/// Removes temp files in `dir` (not below it) that nobody has written to for `idle`: in a
/// folder others write too (the bundle folder), a live writer's temp file is never taken.
pub fn sweep_stale_temp_files(dir: &Path, idle: std::time::Duration) {
    let Ok(entries) = fs::read_dir(dir) else { return };
    for e in entries.flatten() {
        let is_temp = e.file_name().to_str().is_some_and(|n| n.starts_with('.') && n.contains(".tmp-"));
        let stale = e.metadata().ok().and_then(|m| m.modified().ok()).and_then(|t| t.elapsed().ok()).is_some_and(|age| age >= idle);
        if is_temp && stale && e.file_type().is_ok_and(|t| t.is_file()) {
            let _ = fs::remove_file(e.path());
        }
    }
}

/// How long a temp file in a shared folder must be untouched before a sweep removes it.
pub const STALE_TEMP: std::time::Duration = std::time::Duration::from_secs(600);

/// Removes temp files a killed writer may have left under `dir` (recursively).
pub fn sweep_temp_files(dir: &Path) {
    let Ok(entries) = fs::read_dir(dir) else { return };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            sweep_temp_files(&p);
        } else if p.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with('.') && n.contains(".tmp-")) {
            let _ = fs::remove_file(p);
        }
    }
}

/// A file writer that asks the kernel to start writing each 16 MiB to disk as soon as it is
/// written (Linux `sync_file_range`), instead of letting gigabytes of dirty pages wait for the
/// final fsync: the disk works while the rest is still being hashed. Durability still comes
/// from the fsync at the end.
pub struct Writeback {
    file: fs::File,
    written: u64,
    flushed: u64,
}

const WRITEBACK_STEP: u64 = 16 << 20;

impl Writeback {
    pub fn new(file: fs::File) -> Writeback {
        Writeback { file, written: 0, flushed: 0 }
    }

    /// Starts writing what is not yet on its way to disk.
    pub fn start_writeback(&mut self) {
        #[cfg(target_os = "linux")]
        {
            use std::os::fd::AsRawFd;
            // SAFETY: a plain syscall on an open file descriptor we own; it only starts I/O.
            unsafe {
                libc::sync_file_range(
                    self.file.as_raw_fd(),
                    self.flushed as libc::off64_t,
                    (self.written - self.flushed) as libc::off64_t,
                    libc::SYNC_FILE_RANGE_WRITE,
                );
            }
        }
        self.flushed = self.written;
    }
}

impl Write for Writeback {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.file.write(buf)?;
        self.written += n as u64;
        if self.written - self.flushed >= WRITEBACK_STEP {
            self.start_writeback();
        }
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }
}

/// Flushes everything written under `dir`: `syncfs` on Linux (one journal commit for many
/// files), else an fsync of each of `files`.
pub fn sync_filesystem(dir: &Path, files: &[PathBuf]) -> io::Result<()> {
    #[cfg(target_os = "linux")]
    {
        use std::os::fd::AsRawFd;
        let _ = files;
        let d = fs::File::open(dir)?;
        // SAFETY: syncfs on a descriptor we own.
        if unsafe { libc::syncfs(d.as_raw_fd()) } != 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = dir;
        for f in files {
            fs::File::open(f)?.sync_all()?;
        }
        Ok(())
    }
}

/// A file's SHA-256 (hex) and length, read in 1 MiB chunks.
pub fn hash_file(path: &Path) -> io::Result<(String, u64)> {
    use sha2::{Digest, Sha256};
    let mut f = fs::File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut size = 0u64;
    loop {
        let n = io::Read::read(&mut f, &mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        size += n as u64;
    }
    Ok((hallmark_core::hex::hex(&hasher.finalize()), size))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dropped_new_file_leaves_nothing_and_a_committed_one_replaces() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("report.pdf");
        write_replacing(&path, b"old").unwrap();
        {
            let mut f = NewFile::create(&path).unwrap();
            f.write_all(b"half").unwrap();
        }
        assert_eq!(fs::read(&path).unwrap(), b"old");
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1, "the temp file was removed");
        let mut f = NewFile::create(&path).unwrap();
        f.write_all(b"new").unwrap();
        f.commit().unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"new");
    }

    #[cfg(unix)]
    #[test]
    fn private_files_are_0600() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("device.key");
        assert!(write_private_new(&path, &[1; 32]).unwrap());
        assert_eq!(fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        assert!(!write_private_new(&path, &[2; 32]).unwrap(), "an existing key is never replaced");
        assert_eq!(fs::read(&path).unwrap(), [1; 32]);
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1, "no temp file is left");
    }

    #[test]
    fn sweep_removes_only_temp_files() {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir_all(dir.path().join("ab")).unwrap();
        fs::write(dir.path().join("ab/.x.jpg.tmp-1"), b"").unwrap();
        fs::write(dir.path().join("ab/x.jpg"), b"").unwrap();
        sweep_temp_files(dir.path());
        let left: Vec<_> = fs::read_dir(dir.path().join("ab")).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(left, vec![std::ffi::OsString::from("x.jpg")]);
    }
}
