//! Running the built `soundcheck` binary from the integration tests.

use std::process::Command;

/// Runs `soundcheck ARGS...`; returns (exit status, stdout, stderr).
pub fn run(args: &[&str]) -> (i32, String, String) {
    run_with(&[], args)
}

/// [`run`] with extra environment variables.
pub fn run_with(env: &[(&str, &str)], args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_soundcheck"))
        .args(args)
        .envs(env.iter().copied())
        .output()
        .unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

/// Every file under `dir`, relative, with its bytes, sorted: two runs' outputs compare equal
/// exactly when they wrote the same files byte for byte.
#[allow(dead_code)]
pub fn tree(dir: &std::path::Path) -> Vec<(std::path::PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let rel = p.strip_prefix(dir).unwrap().to_path_buf();
                out.push((rel, std::fs::read(&p).unwrap()));
            }
        }
    }
    out.sort();
    out
}
