//! A network of two inputs and two outputs against Keras 3.15.1 (`tools/fixtures/keras_multi_io.py`):
//! MFCC frames and a metadata vector, joined by a Concatenate, a softmax head and a linear head.
//! The same spec and weights give Keras's outputs (tolerance as in `keras_forward.rs`), and one
//! SGD step with MSE on both outputs gives Keras's loss (the sum of the outputs' losses) and
//! Keras's weights (tolerance as in `keras_train.rs`). The data folder holds the arrays as users
//! save them: one `x_<input>.npy` per input, or one `x.npz` by name.

mod common;

use std::ops::ControlFlow;
use std::path::Path;
use std::sync::Arc;

use burn::tensor::Device;
use common::fixture;
use soundcheck_data::{ArrayDataset, DataError};
use soundcheck_nn::{read_weights, Network, NnError, OptimizerKind, TrainConfig, Trainer, Weights};
use soundcheck_shape::ModelSpec;

fn network() -> Network {
    let d = fixture("two_inputs");
    let spec =
        ModelSpec::from_json_str(&std::fs::read_to_string(d.join("model.json")).unwrap()).unwrap();
    let weights = read_weights(&d.join("weights.safetensors")).unwrap();
    Network::new(&spec, &weights, &Device::flex()).unwrap()
}

fn npz(name: &str) -> Vec<(String, soundcheck_npy::Array)> {
    soundcheck_npy::read_npz(&fixture("two_inputs").join(name)).unwrap()
}

fn max_rel_error(got: &[f32], want: &[f32]) -> f32 {
    let err = got
        .iter()
        .zip(want)
        .fold(0f32, |m, (a, b)| m.max((a - b).abs()));
    let peak = want.iter().fold(0f32, |m, v| m.max(v.abs()));
    err / peak.max(1e-3)
}

#[test]
fn two_inputs_and_two_outputs_give_keras_outputs() {
    let net = network();
    let x = npz("x.npz");
    assert_eq!((x[0].0.as_str(), x[1].0.as_str()), ("audio", "meta"));
    let inputs = x.into_iter().map(|(_, a)| (a.shape, a.data)).collect();
    let outs = net.forward_all(inputs).unwrap();
    let want = npz("y.npz");
    assert_eq!(outs.len(), 2);
    for ((shape, got), (name, w)) in outs.iter().zip(&want) {
        assert_eq!(*shape, w.shape, "{name}");
        let e = max_rel_error(got, &w.data);
        eprintln!("{name}: max |Δ| / peak {e:.2e}");
        assert!(e <= 1e-4, "{name}: {e}");
    }
    // The one-array call refuses a model of several inputs and outputs, naming them.
    let e = net.forward(&[6, 4], vec![0.0; 24]).unwrap_err();
    assert!(matches!(e, NnError::Arity { .. }), "{e}");
    assert!(e.to_string().contains("'audio', 'meta'"), "{e}");
}

/// A data folder holding the fixture's inputs and targets as `files` (name in the folder, file
/// in the fixture).
fn data_dir(tag: &str, files: &[(&str, &str)]) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("sc-multi-{tag}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for (to, from) in files {
        std::fs::copy(fixture("two_inputs").join(from), dir.join(to)).unwrap();
    }
    dir
}

fn one_sgd_step(dir: &Path) -> (f64, Weights) {
    let mut net = network();
    let ds = Arc::new(ArrayDataset::open_npy_dir(dir).unwrap());
    let cfg = TrainConfig {
        epochs: 1,
        batch_size: 64,
        optimizer: OptimizerKind::Sgd {
            momentum: 0.0,
            nesterov: false,
        },
        learning_rate: 0.1,
        ..Default::default()
    };
    let out = Trainer::new(&mut net, cfg)
        .fit(ds, None, &mut |_| ControlFlow::Continue(()))
        .unwrap();
    (out.initial_loss.unwrap(), net.variables().to_weights())
}

#[test]
fn one_sgd_step_on_both_outputs_gives_keras_weights() {
    let want_loss: f64 = serde_json::from_str::<serde_json::Value>(
        &std::fs::read_to_string(fixture("two_inputs").join("train_losses.json")).unwrap(),
    )
    .unwrap()["sgd"]
        .as_f64()
        .unwrap();
    let want = read_weights(&fixture("two_inputs").join("after_sgd.safetensors")).unwrap();
    // Per-input files, and the same arrays in one archive: the same step.
    let per_file = data_dir(
        "files",
        &[
            ("x_audio.npy", "x_audio.npy"),
            ("x_meta.npy", "x_meta.npy"),
            ("y.npz", "target.npz"),
        ],
    );
    let archive = data_dir("npz", &[("x.npz", "x.npz"), ("y.npz", "target.npz")]);
    for dir in [&per_file, &archive] {
        let (loss, got) = one_sgd_step(dir);
        assert!(
            (loss - want_loss).abs() <= 1e-5 * want_loss.abs(),
            "loss {loss} vs Keras {want_loss}"
        );
        assert_eq!(got.len(), want.len());
        for (k, (shape, w)) in &want {
            let (s, g) = &got[k];
            assert_eq!(s, shape, "{k}");
            for (a, b) in g.iter().zip(w) {
                assert!(
                    (a - b).abs() <= 1e-5 + 1e-4 * b.abs(),
                    "{k}: {a} vs Keras {b}"
                );
            }
        }
        std::fs::remove_dir_all(dir).unwrap();
    }
}

#[test]
fn data_that_does_not_name_the_inputs_is_refused_with_the_fix() {
    // The reproduction: one x.npy for a model of two inputs.
    let dir = data_dir(
        "unnamed",
        &[("x.npy", "x_meta.npy"), ("y.npz", "target.npz")],
    );
    let mut net = network();
    let ds = Arc::new(ArrayDataset::open_npy_dir(&dir).unwrap());
    let e = Trainer::new(&mut net, TrainConfig::default())
        .fit(ds, None, &mut |_| ControlFlow::Continue(()))
        .unwrap_err();
    let text = e.to_string();
    assert!(
        text.contains("no array for the model's input 'audio'"),
        "{text}"
    );
    assert!(text.contains("x_audio.npy, x_meta.npy"), "{text}");
    assert!(
        text.contains("np.savez('x.npz', audio=..., meta=...)"),
        "{text}"
    );
    // A misnamed array is named.
    std::fs::remove_file(dir.join("x.npy")).unwrap();
    std::fs::copy(
        fixture("two_inputs").join("x_audio.npy"),
        dir.join("x_audio.npy"),
    )
    .unwrap();
    std::fs::copy(
        fixture("two_inputs").join("x_meta.npy"),
        dir.join("x_metadata.npy"),
    )
    .unwrap();
    let ds = Arc::new(ArrayDataset::open_npy_dir(&dir).unwrap());
    let e = Trainer::new(&mut network(), TrainConfig::default())
        .fit(ds, None, &mut |_| ControlFlow::Continue(()))
        .unwrap_err();
    assert!(e.to_string().contains("input 'meta'"), "{e}");
    // Two spellings of the inputs at once are refused when the folder is read.
    std::fs::copy(fixture("two_inputs").join("x.npz"), dir.join("x.npz")).unwrap();
    let e = ArrayDataset::open_npy_dir(&dir).unwrap_err();
    assert!(matches!(e, DataError::Mismatch { .. }), "{e}");
    assert!(e.to_string().contains("keep one of them"), "{e}");
    std::fs::remove_dir_all(&dir).unwrap();
}
