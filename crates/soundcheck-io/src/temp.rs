//! Atomic writes: a uniquely named temporary file created exclusively in the target's folder,
//! renamed over the target when complete. Temporary files are registered process-wide while they
//! exist, so that a process stopped by a signal can delete them
//! ([`remove_temporary_files_and_exit`]) and leave no partial file behind. A target that exists
//! and is a device or FIFO is streamed into instead of replaced (as `> /dev/null` does).

use std::fs::{File, OpenOptions};
use std::io::{Error, ErrorKind, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};

static PENDING: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());
static COUNTER: AtomicU64 = AtomicU64::new(0);

fn pending() -> MutexGuard<'static, Vec<PathBuf>> {
    // A panic elsewhere while holding the lock leaves the list itself intact.
    PENDING.lock().unwrap_or_else(|p| p.into_inner())
}

/// A temporary file this process created, registered until dropped (which deletes it).
struct TempFile {
    path: PathBuf,
}

impl TempFile {
    /// Creates `.<name>.<pid>-<n>.tmp` next to `target` with O_EXCL, so that neither a user's
    /// file nor a symlink planted at that name is ever opened, and tries the next `n` on a
    /// collision. The registry is held across creation and registration so that a signal in
    /// between cannot leave an unregistered file, and only files created here are registered
    /// (the handler must never delete someone else's file).
    fn create(target: &Path) -> std::io::Result<(TempFile, File)> {
        let name = target.file_name().ok_or_else(|| {
            Error::new(
                ErrorKind::InvalidInput,
                "names no file; pass a file name to write",
            )
        })?;
        let dir = match target.parent() {
            Some(d) if !d.as_os_str().is_empty() => d,
            _ => Path::new("."),
        };
        let mut list = pending();
        loop {
            let mut tmp = std::ffi::OsString::from(".");
            tmp.push(name);
            let n = COUNTER.fetch_add(1, Ordering::Relaxed);
            tmp.push(format!(".{}-{n}.tmp", std::process::id()));
            let path = dir.join(tmp);
            match OpenOptions::new().write(true).create_new(true).open(&path) {
                Ok(file) => {
                    list.push(path.clone());
                    return Ok((TempFile { path }, file));
                }
                Err(e) if e.kind() == ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(e),
            }
        }
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

/// An output being written: a registered temporary file renamed over the target by
/// [`AtomicFile::commit`] (dropped uncommitted, it is deleted), or, when the target is an
/// existing device or FIFO, that file itself, written in place.
pub struct AtomicFile {
    file: File,
    tmp: Option<TempFile>,
}

impl AtomicFile {
    /// Starts writing `target`.
    ///
    /// # Errors
    /// `target` is a directory, a socket or another file that cannot be streamed into (nothing
    /// is written then), or the temporary file cannot be created.
    pub fn create(target: &Path) -> std::io::Result<AtomicFile> {
        if let Ok(meta) = std::fs::metadata(target) {
            let kind = meta.file_type();
            if kind.is_dir() {
                return Err(Error::new(
                    ErrorKind::InvalidInput,
                    "is a folder, expected a file name; pass a file path inside it",
                ));
            }
            if !kind.is_file() {
                return if streamable(&kind) {
                    let file = OpenOptions::new().write(true).open(target)?;
                    Ok(AtomicFile { file, tmp: None })
                } else {
                    Err(Error::new(
                        ErrorKind::InvalidInput,
                        "is a special file (not a regular file, device or FIFO); \
                         pass a regular file path",
                    ))
                };
            }
        }
        let (tmp, file) = TempFile::create(target)?;
        Ok(AtomicFile {
            file,
            tmp: Some(tmp),
        })
    }

    /// Where the bytes go.
    pub fn file(&mut self) -> &mut File {
        &mut self.file
    }

    /// Makes the written bytes durable and moves them to `target` (the path given to
    /// [`AtomicFile::create`]).
    ///
    /// # Errors
    /// The sync or the rename fails; the temporary file is then deleted.
    pub fn commit(self, target: &Path) -> std::io::Result<()> {
        match self.tmp {
            Some(tmp) => {
                self.file.sync_all()?;
                std::fs::rename(&tmp.path, target)
            }
            None => Ok(()),
        }
    }
}

#[cfg(unix)]
fn streamable(kind: &std::fs::FileType) -> bool {
    use std::os::unix::fs::FileTypeExt;
    kind.is_char_device() || kind.is_fifo() || kind.is_block_device()
}

#[cfg(not(unix))]
fn streamable(_: &std::fs::FileType) -> bool {
    false
}

/// Writes `bytes` to `path` through [`AtomicFile`], so an interrupted write never leaves a
/// partial file that looks complete.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut out = AtomicFile::create(path)?;
    out.file().write_all(bytes)?;
    out.commit(path)
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

    fn dir(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("sc-temp-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    fn listing(d: &Path) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(d)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn registered_until_dropped_and_removable() {
        let d = dir("reg");
        let target = d.join("a.wav");
        let mut out = AtomicFile::create(&target).unwrap();
        out.file().write_all(b"partial").unwrap();
        let tmp = out.tmp.as_ref().unwrap().path.clone();
        assert_eq!(tmp.parent(), Some(d.as_path()));
        assert!(pending().contains(&tmp));
        // Only this test's file: the others run in parallel with theirs registered.
        remove_all(std::slice::from_ref(&tmp));
        assert!(!tmp.exists());
        drop(out);
        assert!(!pending().contains(&tmp));
        write_atomic(&target, b"done").unwrap();
        assert_eq!(std::fs::read(&target).unwrap(), b"done");
        assert_eq!(listing(&d), ["a.wav"]);
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn a_users_tmp_file_and_symlink_are_left_alone() {
        let d = dir("own");
        std::fs::write(d.join("out.npy.tmp"), b"mine").unwrap();
        std::fs::write(d.join("precious.txt"), b"precious").unwrap();
        #[cfg(unix)]
        std::os::unix::fs::symlink(d.join("precious.txt"), d.join(".out.npy.tmp")).unwrap();
        // Every name this process would pick first is taken: creation goes on to the next.
        let next = COUNTER.load(Ordering::Relaxed);
        for n in next..next + 3 {
            std::fs::write(
                d.join(format!(".out.npy.{}-{n}.tmp", std::process::id())),
                b"x",
            )
            .unwrap();
        }
        write_atomic(&d.join("out.npy"), b"new").unwrap();
        assert_eq!(std::fs::read(d.join("out.npy.tmp")).unwrap(), b"mine");
        assert_eq!(std::fs::read(d.join("precious.txt")).unwrap(), b"precious");
        assert_eq!(std::fs::read(d.join("out.npy")).unwrap(), b"new");
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[cfg(unix)]
    #[test]
    fn devices_are_streamed_into_and_folders_refused() {
        write_atomic(Path::new("/dev/null"), b"gone").unwrap();
        assert!(!std::fs::metadata("/dev/null")
            .unwrap()
            .file_type()
            .is_file());
        let d = dir("special");
        let e = write_atomic(&d, b"x").unwrap_err();
        assert!(e.to_string().contains("is a folder"), "{e}");
        assert!(d.is_dir());
        std::fs::remove_dir_all(&d).unwrap();
    }
}
