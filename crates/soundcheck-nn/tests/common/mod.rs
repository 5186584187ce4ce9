//! The Keras fixtures shared by the equivalence tests (tools/fixtures/keras_forward.py).

use std::path::{Path, PathBuf};

/// The models of keras_forward.py, in its order.
#[allow(dead_code)] // keras_multi_io.rs has its own fixture
pub const KERAS_MODELS: &[&str] = &[
    "resmask32",
    "convbank_residual",
    "conv_stride2_x3",
    "pools_1d",
    "pools_2d_mixed",
    "dense_on_sequences",
    "mfcc_lstm",
    "mfcc_gru",
    "recurrent_stack",
    "bidirectional",
    "td_conv1d_lstm",
    "spatial_edits_2d",
    "spatial_edits_1d",
    "embedding_lstm",
    "transposed_2d",
    "transposed_1d",
    "volumes_3d",
    "volumes_3d_head",
    "unit_norm",
];

pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// Runs Keras fixture `name` on `device` and checks the output against Keras's: the largest
/// absolute difference at most 1e-4 of the output's peak magnitude.
#[allow(dead_code)] // not every test file that shares this module compares forward passes
pub fn assert_reproduced(name: &str, device: &burn::tensor::Device) {
    let d = fixture(name);
    let spec = soundcheck_shape::ModelSpec::from_json_str(
        &std::fs::read_to_string(d.join("model.json")).unwrap(),
    )
    .unwrap();
    let weights = soundcheck_nn::read_weights(&d.join("weights.safetensors")).unwrap();
    let net = soundcheck_nn::Network::new(&spec, &weights, device)
        .unwrap_or_else(|e| panic!("{name}: {e}"));
    assert_forward_as_keras(&net, &d, "y.npy", name);
}

/// `net` on fixture folder `d`'s `x.npy` against Keras's output in `d/want`: the same shape,
/// the largest absolute difference at most 1e-4 of the output's peak magnitude.
#[allow(dead_code)]
pub fn assert_forward_as_keras(net: &soundcheck_nn::Network, d: &Path, want: &str, name: &str) {
    let x = soundcheck_npy::read(&d.join("x.npy")).unwrap();
    let want = soundcheck_npy::read(&d.join(want)).unwrap();
    let (shape, got) = net.forward(&x.shape, x.data).unwrap();
    assert_eq!(shape, want.shape, "{name}: output shape");
    let err = got
        .iter()
        .zip(&want.data)
        .fold(0f32, |m, (a, b)| m.max((a - b).abs()));
    let peak = want.data.iter().fold(0f32, |m, v| m.max(v.abs()));
    eprintln!("{name}: max |Δ| {err:.3e}, peak {peak:.3e}");
    assert!(
        err <= 1e-4 * peak.max(1e-3),
        "{name}: {err} > 1e-4 × {peak}"
    );
}
