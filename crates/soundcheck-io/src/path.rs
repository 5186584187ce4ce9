//! Whether writing a path would destroy one a command reads.

use std::path::{Component, Path, PathBuf};

/// `p` as an absolute path without symlinks, `.` or `..`: the longest existing prefix is
/// canonicalised and the rest (folders a writer would create) is applied lexically, so that
/// `D/nosuch/..` is `D` as it will be once `nosuch` exists.
fn resolve(p: &Path) -> Option<PathBuf> {
    let abs = std::env::current_dir().ok()?.join(p);
    let (mut out, existing) = abs
        .ancestors()
        .find_map(|a| Some((std::fs::canonicalize(a).ok()?, a)))?;
    for c in abs.strip_prefix(existing).ok()?.components() {
        match c {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            c => out.push(c),
        }
    }
    Some(out)
}

/// Whether writing `output` would replace `input`: the same file under any spelling (relative,
/// `..`, symlinks, hard links, folders not created yet). Commands check through
/// [`check_outputs`], which uses this.
pub fn same_file(input: &Path, output: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        if let (Ok(a), Ok(b)) = (std::fs::metadata(input), std::fs::metadata(output)) {
            if a.is_file() && (a.dev(), a.ino()) == (b.dev(), b.ino()) {
                return true;
            }
        }
    }
    matches!((resolve(input), resolve(output)), (Some(a), Some(b)) if a == b)
}

/// A path a command would write that names one it reads, or that lies inside a folder it
/// reads (a run folder, whose files belong to the run), or that another output names too.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Clash {
    /// The output as given.
    pub output: PathBuf,
    /// The input (or other output) it would destroy, as given.
    pub input: PathBuf,
    /// Whether `input` is another output rather than something read.
    pub both_outputs: bool,
}

impl std::fmt::Display for Clash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let what = if self.both_outputs {
            "another output"
        } else {
            "an input"
        };
        write!(
            f,
            "output {} would overwrite {what}, {}; expected a path distinct from every input \
             and output (and outside the run folder): choose another output path",
            self.output.display(),
            self.input.display()
        )
    }
}

impl std::error::Error for Clash {}

/// Checks, before anything is written, that no path in `writes` names a file in `reads` under
/// any spelling, lies inside a folder in `reads`, or names another path in `writes`.
///
/// # Errors
/// The first [`Clash`] found.
pub fn check_outputs(reads: &[&Path], writes: &[&Path]) -> Result<(), Clash> {
    for (i, &out) in writes.iter().enumerate() {
        let resolved = resolve(out);
        for &input in reads {
            let inside = input.is_dir()
                && matches!((&resolved, resolve(input)), (Some(o), Some(d)) if o.starts_with(&d));
            if inside || same_file(input, out) {
                return Err(Clash {
                    output: out.to_path_buf(),
                    input: input.to_path_buf(),
                    both_outputs: false,
                });
            }
        }
        if let Some(&other) = writes[..i].iter().find(|&&w| same_file(w, out)) {
            return Err(Clash {
                output: out.to_path_buf(),
                input: other.to_path_buf(),
                both_outputs: true,
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_output_is_the_input_under_any_spelling() {
        let dir = std::env::temp_dir().join(format!("sc-io-same-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("sub")).unwrap();
        let input = dir.join("x.npy");
        std::fs::write(&input, b"").unwrap();
        assert!(same_file(&input, &dir.join("sub/../x.npy")));
        assert!(same_file(&input, &dir.join("nosuch/../x.npy")));
        assert!(same_file(&dir, &dir.join("nosuch/..")));
        assert!(!same_file(&input, &dir.join("y.npy")));
        assert!(!same_file(&input, &dir.join("missing/x.npy")));
        let run = dir.join("sub");
        let e = check_outputs(&[&input, &run], &[&dir.join("sub/./w.bin")]).unwrap_err();
        assert_eq!(e.input, run);
        let e = check_outputs(&[&input], &[&dir.join("a"), &dir.join("./a")]).unwrap_err();
        assert!(
            e.both_outputs && e.to_string().contains("another output"),
            "{e}"
        );
        check_outputs(&[&input, &run], &[&dir.join("a"), &dir.join("b")]).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
