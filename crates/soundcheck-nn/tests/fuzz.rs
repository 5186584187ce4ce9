//! Property tests on stable Rust: safetensors files of any bytes, and valid files with their
//! header or data cut or altered, are read or refused by name, never a panic (nor an
//! allocation a header alone asks for). `PROPTEST_CASES=100000 cargo test -p soundcheck-nn
//! --test fuzz` runs a long session.

use std::collections::BTreeMap;
use std::path::PathBuf;

use proptest::prelude::*;
use soundcheck_nn::{read_weights, write_weights, Weights};

fn file(bytes: &[u8]) -> PathBuf {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static N: AtomicUsize = AtomicUsize::new(0);
    let n = N.fetch_add(1, Ordering::Relaxed);
    let path =
        std::env::temp_dir().join(format!("sc-st-fuzz-{}-{n}.safetensors", std::process::id()));
    std::fs::write(&path, bytes).unwrap();
    path
}

fn read(bytes: &[u8]) {
    let path = file(bytes);
    let _ = read_weights(&path);
    let _ = std::fs::remove_file(&path);
}

/// A valid file of two weights.
fn valid() -> Vec<u8> {
    let path = file(b"");
    let mut w = Weights::new();
    w.insert("dense/kernel".into(), (vec![2, 3], vec![0.5; 6]));
    w.insert("dense/bias".into(), (vec![3], vec![1.0; 3]));
    let meta = BTreeMap::from([("keras".to_string(), "3.15.1".to_string())]);
    write_weights(&path, &w, &meta).unwrap();
    let bytes = std::fs::read(&path).unwrap();
    let _ = std::fs::remove_file(&path);
    bytes
}

/// A header (JSON) with the given text after a correct length prefix, and `data` after it.
fn with_header(header: &str, data: &[u8]) -> Vec<u8> {
    let mut b = (header.len() as u64).to_le_bytes().to_vec();
    b.extend_from_slice(header.as_bytes());
    b.extend_from_slice(data);
    b
}

#[test]
fn hostile_headers_are_refused_by_name() {
    for header in [
        r#"{"w": {"dtype": "F32", "shape": [2], "data_offsets": []}}"#,
        r#"{"w": {"dtype": "F32", "shape": [2], "data_offsets": [0]}}"#,
        r#"{"w": {"dtype": "F32", "shape": [4294967296, 4294967296, 8], "data_offsets": [0, 8]}}"#,
        r#"{"w": {"dtype": "F32", "shape": [2], "data_offsets": [8, 0]}}"#,
        r#"{"w": {"dtype": "F32", "shape": [-2], "data_offsets": [0, 8]}}"#,
        r#"{"w": 3}"#,
        r#"[1, 2]"#,
    ] {
        let path = file(&with_header(header, &[0u8; 8]));
        let e = read_weights(&path).unwrap_err().to_string();
        let _ = std::fs::remove_file(&path);
        assert!(
            e.contains("sc-st-fuzz"),
            "{header}: the message names the file: {e}"
        );
    }
}

proptest! {
    #[test]
    fn any_bytes_are_read_or_refused(bytes in prop::collection::vec(any::<u8>(), 0..300)) {
        read(&bytes);
    }

    #[test]
    fn altered_valid_files_are_read_or_refused(
        edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
        cut in any::<prop::sample::Index>(),
    ) {
        let mut bytes = valid();
        for (at, b) in edits {
            let i = at.index(bytes.len());
            bytes[i] = b;
        }
        let keep = cut.index(bytes.len() + 1);
        read(&bytes[..keep]);
    }

    #[test]
    fn any_header_text_is_read_or_refused(
        header in "\\{(\"[a-z]\": \\{\"dtype\": \"(F32|F16)\", \"shape\": \\[[0-9, -]{0,12}\\], \"data_offsets\": \\[[0-9, ]{0,10}\\]\\},? ?){0,3}\\}",
        data in prop::collection::vec(any::<u8>(), 0..64),
    ) {
        read(&with_header(&header, &data));
    }
}
