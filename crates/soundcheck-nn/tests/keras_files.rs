//! Keras model files with their weights (`tools/fixtures/keras_files.py`): every forward
//! fixture saved by Keras 3.15.1 as `.keras` (and five as full-model `.h5`) is read with its
//! weights, and gives the `predict` output Keras gives for the file, within the forward
//! fixtures' tolerance (1e-4 of the output's peak). Damaged files are refused, naming the layer
//! and the variable.

mod common;

use std::path::{Path, PathBuf};

use burn::tensor::Device;
use common::{assert_forward_as_keras, fixture, KERAS_MODELS};
use soundcheck_nn::{load_keras, NnError};

/// The fixtures Keras also saved as `.h5` (keras_files.py's LEGACY).
const LEGACY: &[&str] = &[
    "resmask32",
    "bidirectional",
    "td_conv1d_lstm",
    "embedding_lstm",
    "recurrent_stack",
];

fn assert_predicts_as_keras(name: &str, file: &str) {
    let d = fixture(name);
    let net = load_keras(&d.join(file), &Device::flex()).unwrap_or_else(|e| panic!("{name}: {e}"));
    assert_forward_as_keras(&net, &d, "predict.npy", &format!("{name}/{file}"));
}

#[test]
fn keras_archives_predict_as_keras() {
    for name in KERAS_MODELS {
        assert_predicts_as_keras(name, "model.keras");
    }
}

#[test]
fn keras_h5_models_predict_as_keras() {
    for name in LEGACY {
        assert_predicts_as_keras(name, "model.h5");
    }
}

fn hostile(file: &str) -> PathBuf {
    fixture("keras_files").join(file)
}

fn refusal(path: &Path) -> String {
    match load_keras(path, &Device::flex()) {
        Ok(_) => panic!("{} was read", path.display()),
        Err(e) => e.to_string(),
    }
}

#[test]
fn damaged_weights_are_named_by_layer_and_variable() {
    for (file, expected) in [
        (
            "float64_kernel.keras",
            "layer 'conv1d': variable 'conv1d/kernel' (layers/conv1d/vars/0) is stored as FloatingPoint { size: 8",
        ),
        (
            "missing_bias.keras",
            "layer 'conv1d_1': variable 'conv1d_1/bias' (layers/conv1d_1/vars/1) of shape [6] is missing from the file",
        ),
        (
            "extra_weight.keras",
            "layer 'dense': the file holds layers/dense/vars/2, a weight the config does not give this layer",
        ),
        (
            "wider_kernel.keras",
            "layer 'dense': variable 'dense/kernel' (layers/dense/vars/0) has shape [6, 5] in the file, but the config implies [6, 4]",
        ),
        (
            "unknown_layer.keras",
            "the file holds layers/dense_9/vars/0, a weight of no layer of the config",
        ),
        (
            "float64_dense.h5",
            "layer 'dense': variable 'dense/kernel' (model_weights/dense/dense/kernel) is stored as FloatingPoint { size: 8",
        ),
    ] {
        let e = refusal(&hostile(file));
        assert!(e.contains(expected), "{file}: {e}");
        assert!(e.contains(file), "{file}: the message names the file: {e}");
    }
}

#[test]
fn a_weights_file_larger_than_the_config_implies_is_refused_unread() {
    // 8 MiB of zeros beside 346 parameters: refused from the archive's directory, before inflating.
    let e = refusal(&hostile("padded.keras"));
    assert!(
        e.contains("model.weights.h5 inflates to 8")
            && e.contains("bytes the weights of this model's config take at most"),
        "{e}"
    );
    // The same for an .h5 file: its size against its config and the weights the config implies.
    let dir = std::env::temp_dir().join(format!("sc-keras-files-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let big = dir.join("padded.h5");
    let mut bytes = std::fs::read(fixture("embedding_lstm").join("model.h5")).unwrap();
    bytes.resize(bytes.len() + (8 << 20), 0);
    std::fs::write(&big, &bytes).unwrap();
    let e = refusal(&big);
    assert!(e.contains("more than the") && e.contains("can take"), "{e}");
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn cut_and_garbage_files_are_errors() {
    let dir = std::env::temp_dir().join(format!("sc-keras-cut-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let h5 = std::fs::read(fixture("td_conv1d_lstm").join("model.h5")).unwrap();
    for (name, bytes) in [
        ("cut.h5", h5[..h5.len() / 2].to_vec()),
        ("header.h5", h5[..600].to_vec()),
        (
            "garbage.h5",
            (0..5000u32).map(|i| (i * 7919 % 251) as u8).collect(),
        ),
        ("empty.keras", Vec::new()),
    ] {
        let path = dir.join(name);
        std::fs::write(&path, bytes).unwrap();
        let e = refusal(&path);
        assert!(e.contains(name), "{name}: {e}");
    }
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_weights_only_h5_is_not_a_model() {
    let e = load_keras(&hostile("weights_only.weights.h5"), &Device::flex())
        .err()
        .unwrap();
    assert!(matches!(e, NnError::Spec(_)), "{e}");
    assert!(
        e.to_string()
            .contains("holds no model_config: a weights-only file"),
        "{e}"
    );
}

/// Files written by Keras 2.15.0 and 2.13.1 (TensorFlow 2.15.1 and 2.13.1;
/// `tools/fixtures/keras2_files.py`): read where the layers' arguments are the same in Keras 2
/// and 3, their weights found under `layers/` (2.15) or `_layer_checkpoint_dependencies/` (2.13,
/// numbered otherwise), and refused by name where Keras 2's arguments differ, as Keras 3.15.1
/// refuses to load them.
#[test]
fn keras2_files_are_read_where_their_arguments_are_keras_3s() {
    for version in ["2.15.0", "2.13.1"] {
        let d = fixture("keras2").join(version);
        for (file, want) in [
            ("plain.keras", "predict.npy"),
            ("plain.h5", "predict.npy"),
            ("functional.keras", "functional_predict.npy"),
        ] {
            let net = load_keras(&d.join(file), &Device::flex())
                .unwrap_or_else(|e| panic!("{version}/{file}: {e}"));
            assert_forward_as_keras(&net, &d, want, &format!("keras2/{version}/{file}"));
        }
        let e = refusal(&d.join("batchnorm_lstm.keras"));
        assert!(
            e.contains("layer 'batch_normalization' (BatchNormalization): argument 'axis' of BatchNormalization is [2]"),
            "{version}: {e}"
        );
    }
}
