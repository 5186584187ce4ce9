//! Property tests on stable Rust for Keras model files: real `.h5` models and `.keras` weights
//! (`tools/fixtures/keras_files.py`) with bytes altered, runs overwritten and the file cut, and
//! HDF5 signatures followed by random bytes, are read or refused by name, never a panic (nor an
//! allocation a damaged header alone asks for: reads are bounded by the model's config).
//! `PROPTEST_CASES=100000 cargo test --release -p soundcheck-nn --test fuzz_keras` runs a long
//! session.

mod common;

use std::io::{Read, Write};
use std::path::PathBuf;

use burn::tensor::Device;
use common::fixture;
use proptest::prelude::*;
use soundcheck_nn::{load_keras, NnError};

fn path(ext: &str) -> PathBuf {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static N: AtomicUsize = AtomicUsize::new(0);
    let n = N.fetch_add(1, Ordering::Relaxed);
    std::env::temp_dir().join(format!("sc-keras-fuzz-{}-{n}.{ext}", std::process::id()))
}

/// Loads `bytes` as a model file of extension `ext`: any outcome but a panic.
fn load(ext: &str, bytes: &[u8]) {
    let p = path(ext);
    std::fs::write(&p, bytes).unwrap();
    match load_keras(&p, &Device::flex()) {
        // A config altered into another readable config is the shape engine's diagnosis, named
        // by layer and argument, as for any model file.
        Ok(_) | Err(NnError::Spec(_)) => {}
        Err(e) => assert!(
            e.to_string().contains("sc-keras-fuzz"),
            "the message names the file: {e}"
        ),
    }
    let _ = std::fs::remove_file(&p);
}

/// A fixture's `.keras` archive as its entries.
fn archive(name: &str) -> Vec<(String, Vec<u8>)> {
    let file = std::fs::File::open(fixture(name).join("model.keras")).unwrap();
    let mut zip = zip::ZipArchive::new(file).unwrap();
    (0..zip.len())
        .map(|i| {
            let mut entry = zip.by_index(i).unwrap();
            let mut bytes = Vec::new();
            entry.read_to_end(&mut bytes).unwrap();
            (entry.name().to_string(), bytes)
        })
        .collect()
}

/// The archive with its `model.weights.h5` replaced.
fn with_weights(entries: &[(String, Vec<u8>)], weights: &[u8]) -> Vec<u8> {
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    for (name, bytes) in entries {
        zip.start_file(name.as_str(), options).unwrap();
        let bytes = if name == "model.weights.h5" {
            weights
        } else {
            bytes
        };
        zip.write_all(bytes).unwrap();
    }
    zip.finish().unwrap().into_inner()
}

/// `bytes` with `edits` written over it (each a position and a run of bytes) and cut to `keep`.
fn altered(
    mut bytes: Vec<u8>,
    edits: Vec<(prop::sample::Index, Vec<u8>)>,
    cut: prop::sample::Index,
) -> Vec<u8> {
    for (at, run) in edits {
        let i = at.index(bytes.len());
        for (k, b) in run.into_iter().enumerate() {
            if let Some(slot) = bytes.get_mut(i + k) {
                *slot = b;
            }
        }
    }
    // Most cases keep the whole file: damage inside it reaches deeper than a cut end does.
    let keep = cut.index(bytes.len() * 4 + 1).min(bytes.len());
    bytes.truncate(keep);
    bytes
}

fn runs() -> impl Strategy<Value = Vec<(prop::sample::Index, Vec<u8>)>> {
    prop::collection::vec(
        (
            any::<prop::sample::Index>(),
            prop::collection::vec(prop_oneof![Just(0u8), Just(0xff), any::<u8>()], 1..9),
        ),
        1..6,
    )
}

proptest! {
    #[test]
    fn altered_h5_models_are_read_or_refused(
        model in prop::sample::select(vec!["td_conv1d_lstm", "embedding_lstm", "bidirectional"]),
        edits in runs(),
        cut in any::<prop::sample::Index>(),
    ) {
        let bytes = std::fs::read(fixture(model).join("model.h5")).unwrap();
        load("h5", &altered(bytes, edits, cut));
    }

    #[test]
    fn altered_keras_weights_are_read_or_refused(
        model in prop::sample::select(vec!["pools_1d", "td_conv1d_lstm", "spatial_edits_1d"]),
        edits in runs(),
        cut in any::<prop::sample::Index>(),
    ) {
        let entries = archive(model);
        let weights = entries.iter().find(|(n, _)| n == "model.weights.h5").unwrap().1.clone();
        load("keras", &with_weights(&entries, &altered(weights, edits, cut)));
    }

    #[test]
    fn an_hdf5_signature_then_any_bytes_is_read_or_refused(
        tail in prop::collection::vec(any::<u8>(), 0..600),
    ) {
        let mut bytes = b"\x89HDF\r\n\x1a\n".to_vec();
        bytes.extend(tail);
        load("h5", &bytes);
        load("keras", &with_weights(&archive("pools_1d"), &bytes));
    }
}
