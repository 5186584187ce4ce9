//! Batch jobs split across the processes of a job array: the list of inputs every task reads,
//! and where each input's output goes so that the tasks' outputs merge by listing. Which part a
//! task takes is [`soundcheck_io::Shard`]'s.
//!
//! Outputs mirror each input's path under the output folder, so no two inputs of any task share
//! an output and a rerun finds exactly the outputs an earlier run completed.

use std::path::{Component, Path, PathBuf};

use crate::error::{DataError, Result};

/// The paths of a list file: one per line, blank lines and lines starting with `#` skipped,
/// relative paths as given (relative to where the command runs, as `find` writes them).
///
/// # Errors
/// A file that cannot be read or is not UTF-8, an empty list, a path listed twice (its two
/// outputs would be one file).
pub fn read_list(path: &Path) -> Result<Vec<PathBuf>> {
    let text = std::fs::read_to_string(path).map_err(|source| DataError::Io {
        path: path.to_path_buf(),
        action: "read the list",
        source,
    })?;
    let mut seen = std::collections::HashMap::new();
    let mut paths = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim_end_matches('\r');
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        if let Some(first) = seen.insert(line.to_string(), n + 1) {
            return Err(DataError::Mismatch {
                what: format!("{}: line {}", path.display(), n + 1),
                expected: "each path once".into(),
                actual: format!("{line} again (first on line {first})"),
                hint: "remove the repeated line".into(),
            });
        }
        paths.push(PathBuf::from(line));
    }
    if paths.is_empty() {
        return Err(DataError::Empty {
            what: format!("{}: the list names no files", path.display()),
            hint: "write one path per line (e.g. `find data -name '*.wav' > list.txt`)".into(),
        });
    }
    Ok(paths)
}

/// Where `input`'s output goes under `out`: its path mirrored (a leading `/` or `./` dropped),
/// with `extension`. Two different inputs never share an output.
///
/// # Errors
/// A path with `..` (its output would land outside `out`).
pub fn mirrored(out: &Path, input: &Path, extension: &str) -> Result<PathBuf> {
    let mut rel = PathBuf::new();
    for c in input.components() {
        match c {
            Component::Normal(part) => rel.push(part),
            Component::CurDir | Component::RootDir | Component::Prefix(_) => {}
            Component::ParentDir => return Err(DataError::Mismatch {
                what: input.display().to_string(),
                expected:
                    "a path without `..` (outputs mirror the input paths under the output folder)"
                        .into(),
                actual: "a path through `..`".into(),
                hint: "list the files from a folder that holds them all (e.g. run `find` there)"
                    .into(),
            }),
        }
    }
    if rel.as_os_str().is_empty() {
        return Err(DataError::Mismatch {
            what: input.display().to_string(),
            expected: "a file path".into(),
            actual: "no file name".into(),
            hint: "list files, one per line".into(),
        });
    }
    rel.set_extension(extension);
    Ok(out.join(rel))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outputs_mirror_inputs_and_never_leave_the_folder() {
        let out = Path::new("feats");
        assert_eq!(
            mirrored(out, Path::new("a/b/c.wav"), "npy").unwrap(),
            Path::new("feats/a/b/c.npy")
        );
        assert_eq!(
            mirrored(out, Path::new("/data/x.flac"), "npy").unwrap(),
            Path::new("feats/data/x.npy")
        );
        assert_eq!(
            mirrored(out, Path::new("./x.wav"), "npy").unwrap(),
            Path::new("feats/x.npy")
        );
        assert!(mirrored(out, Path::new("../x.wav"), "npy").is_err());
    }
}
