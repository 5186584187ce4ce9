//! The fixture index written by `tools/fixtures/librosa_features.py`, shared by the test files.

// Each test file uses some of these.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use serde_json::Value;

pub mod librosa;

pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// Every case of one librosa function.
pub fn cases(func: &str) -> Vec<Value> {
    let index: Value =
        serde_json::from_str(&std::fs::read_to_string(fixtures().join("index.json")).unwrap())
            .unwrap();
    let out: Vec<Value> = index
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["func"] == func)
        .cloned()
        .collect();
    assert!(!out.is_empty(), "no {func} fixtures");
    out
}

pub fn npy(name: &str) -> soundcheck_npy::Array {
    soundcheck_npy::read(&fixtures().join(name)).unwrap_or_else(|e| panic!("{e}"))
}
