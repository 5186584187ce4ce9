//! Whatever spelling an output takes (`..`, `./`, symlinks, folders not created yet, `.tmp`
//! siblings of inputs), a write that `check_outputs` lets through never loses an input.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use proptest::prelude::*;
use soundcheck_io::{check_outputs, write_atomic};

/// The inputs a command reads, with their bytes: files, a file behind a symlink, a `.tmp`
/// sibling of a likely output name, a run-like folder.
fn inputs(d: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    std::fs::create_dir_all(d.join("sub")).unwrap();
    std::fs::create_dir_all(d.join("run")).unwrap();
    let files = [
        "a.wav",
        "sub/b.wav",
        "out.npy.tmp",
        "run/weights.safetensors",
    ];
    let out: Vec<(PathBuf, Vec<u8>)> = files
        .iter()
        .map(|f| (d.join(f), format!("input {f}").into_bytes()))
        .collect();
    for (p, bytes) in &out {
        std::fs::write(p, bytes).unwrap();
    }
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink(d.join("a.wav"), d.join("link.wav")).unwrap();
        std::os::unix::fs::symlink(d.join("sub"), d.join("subdir")).unwrap();
    }
    out
}

const PREFIXES: [&str; 7] = [
    "",
    "./",
    "sub/../",
    "nosuch/../",
    "subdir/../",
    "subdir/",
    "run/",
];
const NAMES: [&str; 8] = [
    "a.wav",
    "b.wav",
    "link.wav",
    "out.npy",
    "out.npy.tmp",
    "weights.safetensors",
    "new.npy",
    "nosuch/..",
];

proptest! {
    #[test]
    fn a_checked_write_never_loses_an_input(
        spellings in proptest::collection::vec((0..PREFIXES.len(), 0..NAMES.len()), 1..4)
    ) {
        static N: AtomicUsize = AtomicUsize::new(0);
        let d = std::env::temp_dir().join(format!(
            "sc-io-outputs-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&d);
        let files = inputs(&d);
        let mut reads: Vec<&Path> = files.iter().map(|(p, _)| p.as_path()).collect();
        let run = d.join("run");
        reads.push(&run);
        let writes: Vec<PathBuf> = spellings
            .iter()
            .map(|&(p, n)| d.join(format!("{}{}", PREFIXES[p], NAMES[n])))
            .collect();
        let w: Vec<&Path> = writes.iter().map(PathBuf::as_path).collect();
        if check_outputs(&reads, &w).is_ok() {
            for out in &writes {
                // As commands do: the folders of an output are created, then it is written.
                if let Some(parent) = out.parent() {
                    let _ = std::fs::create_dir_all(parent);
                }
                let _ = write_atomic(out, b"output");
            }
        }
        for (p, bytes) in &files {
            prop_assert_eq!(&std::fs::read(p).unwrap(), bytes, "{} lost", p.display());
        }
        std::fs::remove_dir_all(&d).unwrap();
    }
}
