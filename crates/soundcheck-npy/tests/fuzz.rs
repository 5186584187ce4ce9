//! Property tests on stable Rust: `.npy` files of any bytes, and valid files with headers and
//! data cut or altered, are read or refused by name, never a panic (nor an allocation the
//! header alone asks for). `PROPTEST_CASES=100000 cargo test -p soundcheck-npy --test fuzz`
//! runs a long session.

use std::path::PathBuf;

use proptest::prelude::*;

fn file(bytes: &[u8]) -> PathBuf {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static N: AtomicUsize = AtomicUsize::new(0);
    let n = N.fetch_add(1, Ordering::Relaxed);
    let path = std::env::temp_dir().join(format!("sc-npy-fuzz-{}-{n}.npy", std::process::id()));
    std::fs::write(&path, bytes).unwrap();
    path
}

fn read_all_ways(bytes: &[u8]) {
    let path = file(bytes);
    let _ = soundcheck_npy::read_header(&path);
    let _ = soundcheck_npy::read(&path);
    if let Ok(r) = soundcheck_npy::RowReader::open(&path) {
        let row: usize = r.shape().get(1..).map_or(1, |s| s.iter().product());
        let rows = r.shape().first().copied().unwrap_or(0).min(4);
        let mut buf = vec![0f32; row.saturating_mul(rows).min(1 << 16)];
        let _ = r.read_rows(0, &mut buf);
    }
    let _ = std::fs::remove_file(&path);
}

/// A valid float32 `.npy` of a small shape.
fn valid() -> Vec<u8> {
    let path = file(b"");
    soundcheck_npy::write(&path, &[3, 2], &[0.5f32, 1.0, 1.5, 2.0, 2.5, 3.0]).unwrap();
    let bytes = std::fs::read(&path).unwrap();
    let _ = std::fs::remove_file(&path);
    bytes
}

proptest! {
    #[test]
    fn any_bytes_are_read_or_refused(bytes in prop::collection::vec(any::<u8>(), 0..300)) {
        read_all_ways(&bytes);
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
        read_all_ways(&bytes[..keep]);
    }

    #[test]
    fn headers_with_any_shape_text_are_read_or_refused(
        shape in "\\PC{0,40}",
        descr in "[<>|=]?[a-zA-Z][0-9]{0,3}",
    ) {
        let header = format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': ({shape}), }}");
        let mut bytes = b"\x93NUMPY\x01\x00".to_vec();
        bytes.extend((header.len() as u16).to_le_bytes());
        bytes.extend(header.as_bytes());
        bytes.extend([0u8; 64]);
        read_all_ways(&bytes);
    }
}

fn header_only(shape: &str) -> Vec<u8> {
    let header = format!("{{'descr': '<f4', 'fortran_order': False, 'shape': ({shape}), }}");
    let mut bytes = b"\x93NUMPY\x01\x00".to_vec();
    bytes.extend((header.len() as u16).to_le_bytes());
    bytes.extend(header.as_bytes());
    bytes
}

proptest! {
    #[test]
    fn headers_with_huge_dimensions_are_read_or_refused(
        dims in prop::collection::vec(prop_oneof![0u64..8, any::<u64>(), Just(1u64 << 63), Just(1u64 << 62)], 1..5),
    ) {
        let shape = dims.iter().map(|d| format!("{d}, ")).collect::<String>();
        read_all_ways(&header_only(&shape));
    }
}

#[test]
fn a_shape_that_wraps_when_multiplied_is_refused_at_the_header() {
    // 2⁶³ × 4 wraps to 0 in 64 bits: a header-only file would pass for an empty array.
    let path = file(&header_only("9223372036854775808, 4"));
    for e in [
        soundcheck_npy::read_header(&path).unwrap_err().to_string(),
        soundcheck_npy::RowReader::open(&path)
            .unwrap_err()
            .to_string(),
        soundcheck_npy::read(&path).unwrap_err().to_string(),
    ] {
        assert!(
            e.contains("[9223372036854775808, 4] has more elements than any file can hold"),
            "{e}"
        );
    }
    let _ = std::fs::remove_file(&path);
}
