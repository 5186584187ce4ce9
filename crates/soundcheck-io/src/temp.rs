//! The temporary files of atomic writes (`<path>.tmp`, renamed into place when complete),
//! registered process-wide while they exist, so that a process stopped by a signal can delete
//! them ([`remove_temporary_files_and_exit`]) and leave no partial file behind.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

static PENDING: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

fn pending() -> MutexGuard<'static, Vec<PathBuf>> {
    // A panic elsewhere while holding the lock leaves the list itself intact.
    PENDING.lock().unwrap_or_else(|p| p.into_inner())
}

/// `<target>.tmp`, registered until it is renamed into place or dropped (which deletes it).
pub struct TempFile {
    path: PathBuf,
}

impl TempFile {
    /// The temporary file for `target`; nothing is created yet.
    pub fn for_target(target: &Path) -> TempFile {
        let mut path = target.as_os_str().to_owned();
        path.push(".tmp");
        let path = PathBuf::from(path);
        pending().push(path.clone());
        TempFile { path }
    }

    /// Where to write.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Moves the finished file to `target`.
    ///
    /// # Errors
    /// The rename fails; the temporary file is then deleted.
    pub fn commit(self, target: &Path) -> std::io::Result<()> {
        std::fs::rename(&self.path, target)
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let mut list = pending();
        if let Some(i) = list.iter().position(|p| *p == self.path) {
            list.swap_remove(i);
        }
        // After a commit the name is gone already; otherwise the write did not finish.
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Writes `bytes` to `path` through a temporary file and a rename, so an interrupted write never
/// leaves a partial file that looks complete.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let tmp = TempFile::for_target(path);
    std::fs::File::create(tmp.path())
        .and_then(|mut f| f.write_all(bytes).and_then(|_| f.sync_all()))?;
    tmp.commit(path)
}

/// Deletes every registered temporary file and exits with `code`, holding the registry so no
/// new temporary file is started meanwhile: what a SIGINT/SIGTERM handler does.
pub fn remove_temporary_files_and_exit(code: i32) -> ! {
    let list = pending();
    remove_all(&list);
    std::process::exit(code)
}

/// Deletes the files (they stay registered until their writers drop them).
fn remove_all(list: &[PathBuf]) {
    for p in list {
        let _ = std::fs::remove_file(p);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registered_until_dropped_and_removable() {
        let dir = std::env::temp_dir().join(format!("sc-temp-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let target = dir.join("a.wav");
        let t = TempFile::for_target(&target);
        assert_eq!(t.path(), dir.join("a.wav.tmp"));
        std::fs::write(t.path(), b"partial").unwrap();
        assert!(pending().contains(&dir.join("a.wav.tmp")));
        remove_all(&pending());
        assert!(!t.path().exists());
        drop(t);
        assert!(!pending().contains(&dir.join("a.wav.tmp")));
        let t = TempFile::for_target(&target);
        std::fs::write(t.path(), b"done").unwrap();
        t.commit(&target).unwrap();
        assert_eq!(std::fs::read(&target).unwrap(), b"done");
        assert!(!pending().contains(&dir.join("a.wav.tmp")));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
