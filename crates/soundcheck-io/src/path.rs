//! Whether two paths name one file.

use std::path::{Path, PathBuf};

/// Whether writing `output` would replace `input`: the same file under any spelling (relative,
/// `..`, symlinks). An output that does not exist yet is resolved through its folder. Every
/// command checks its outputs against its inputs with this before writing anything.
pub fn same_file(input: &Path, output: &Path) -> bool {
    let resolve = |p: &Path| -> Option<PathBuf> {
        std::fs::canonicalize(p).ok().or_else(|| {
            let parent = match p.parent() {
                Some(d) if !d.as_os_str().is_empty() => d,
                _ => Path::new("."),
            };
            Some(std::fs::canonicalize(parent).ok()?.join(p.file_name()?))
        })
    };
    matches!((resolve(input), resolve(output)), (Some(a), Some(b)) if a == b)
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
        assert!(!same_file(&input, &dir.join("y.npy")));
        assert!(!same_file(&input, &dir.join("missing/x.npy")));
    }
}
