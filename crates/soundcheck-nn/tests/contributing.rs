//! CONTRIBUTING.md's worked example is real code: each Rust block under "Adding a layer" stands,
//! line for line, in the file its heading names (`use` lines aside: a file imports more), so the
//! guide cannot drift from the code it teaches.

use std::path::Path;

/// `(file named in the heading, the first rust block after it)` for every `### N.` heading of
/// "Adding a layer" that names a file in backticks.
fn examples(guide: &str) -> Vec<(String, Vec<String>)> {
    let section = guide
        .split("## Adding a layer")
        .nth(1)
        .and_then(|s| s.split("\n## ").next())
        .expect("CONTRIBUTING.md has an 'Adding a layer' section");
    let mut out = Vec::new();
    for part in section.split("\n### ").skip(1) {
        let heading = part.lines().next().unwrap_or_default();
        let Some(file) = heading.split('`').nth(1).filter(|f| f.ends_with(".rs")) else {
            continue;
        };
        let Some(block) = part
            .split("```rust\n")
            .nth(1)
            .and_then(|b| b.split("```").next())
        else {
            continue;
        };
        let lines = block
            .lines()
            .filter(|l| !l.starts_with("use ") && !l.trim().is_empty())
            .map(str::to_string)
            .collect();
        out.push((file.to_string(), lines));
    }
    out
}

#[test]
fn the_worked_example_is_the_code() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let guide = std::fs::read_to_string(root.join("CONTRIBUTING.md")).unwrap();
    let found = examples(&guide);
    assert_eq!(found.len(), 2, "one example per crate: {found:?}");
    for (file, block) in found {
        let code = std::fs::read_to_string(root.join(&file)).unwrap();
        let code: Vec<&str> = code.lines().filter(|l| !l.trim().is_empty()).collect();
        let stands = code
            .windows(block.len())
            .any(|w| w.iter().zip(&block).all(|(a, b)| a == b));
        assert!(
            stands,
            "{file} does not hold CONTRIBUTING.md's example:\n{}",
            block.join("\n")
        );
    }
}
