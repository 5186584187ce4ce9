//! The neural engine against Keras 3.15.1: the same spec, the same weights (safetensors written by
//! `tools/fixtures/keras_forward.py`), the same input, the same output.
//!
//! Tolerance: the largest absolute difference at most 1e-4 of the output's peak magnitude (float32
//! convolutions summed in different orders by oneDNN and burn-flex). `wgpu_backend.rs` holds the
//! wgpu backend to the same.

mod common;

use burn::tensor::Device;
use common::{assert_reproduced, fixture, KERAS_MODELS};
use soundcheck_nn::{read_weights, Network, NnError};
use soundcheck_shape::ModelSpec;

#[test]
fn keras_outputs_are_reproduced() {
    // tools/fixtures/keras_masking.py adds Masking before LSTM and Bidirectional(GRU), with
    // inputs padded before, after and inside.
    for name in KERAS_MODELS.iter().chain(&["masked_lstm", "masked_bigru"]) {
        assert_reproduced(name, &Device::flex());
    }
}

/// The wgpu backend (`--features wgpu`) on the same fixtures and tolerance. It runs on any
/// adapter wgpu finds, Mesa's CPU Vulkan driver (lavapipe) included.
#[cfg(feature = "wgpu")]
#[test]
fn keras_outputs_are_reproduced_on_wgpu() {
    let device = Device::wgpu(burn::tensor::DeviceKind::DefaultDevice);
    for name in KERAS_MODELS.iter().chain(&["masked_lstm", "masked_bigru"]) {
        assert_reproduced(name, &device);
    }
}

#[test]
fn all_ones_kernel_on_the_3x3x3_image_gives_40404() {
    // The seed: Conv2D(1, 2, kernel ones, bias zeros, relu) on pixels (1, 100, 10000): every 2×2
    // window sums 4 · 10101 = 40404.
    let spec = ModelSpec::from_json_str(
        r#"{"input_shape": [3, 3, 3], "layers": [{"type": "Conv2D", "filters": 1, "kernel_size": 2, "activation": "relu"}]}"#,
    )
    .unwrap();
    let mut weights = soundcheck_nn::Weights::new();
    weights.insert("conv2d/kernel".into(), (vec![2, 2, 3, 1], vec![1.0; 12]));
    weights.insert("conv2d/bias".into(), (vec![1], vec![0.0]));
    let net = Network::new(&spec, &weights, &Device::flex()).unwrap();
    let x: Vec<f32> = (0..9).flat_map(|_| [1.0, 100.0, 10000.0]).collect();
    let (shape, y) = net.forward(&[1, 3, 3, 3], x).unwrap();
    assert_eq!(shape, vec![1, 2, 2, 1]);
    assert_eq!(y, vec![40404.0; 4]);
}

#[test]
fn weights_of_another_model_and_bad_inputs_are_named() {
    let d = fixture("pools_1d");
    let spec =
        ModelSpec::from_json_str(&std::fs::read_to_string(d.join("model.json")).unwrap()).unwrap();
    let mut weights = read_weights(&d.join("weights.safetensors")).unwrap();
    let kernel = weights.remove("conv1d/kernel").unwrap();
    let e = Network::new(&spec, &weights, &Device::flex())
        .err()
        .unwrap();
    assert!(
        e.to_string()
            .contains("layer 'conv1d': weight 'conv1d/kernel' of shape [4, 5, 8] is missing"),
        "{e}"
    );
    weights.insert("conv1d/kernel".into(), (vec![4, 5, 9], vec![0.0; 180]));
    let e = Network::new(&spec, &weights, &Device::flex())
        .err()
        .unwrap();
    assert!(
        matches!(
            e,
            NnError::Weight {
                actual: Some(_),
                ..
            }
        ),
        "{e}"
    );
    weights.insert("conv1d/kernel".into(), kernel);
    let net = Network::new(&spec, &weights, &Device::flex()).unwrap();
    let e = net
        .forward(&[2, 36, 5], vec![0.0; 360])
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("of shape [2, 36, 5] for a model taking (batch, 37, 5)"),
        "{e}"
    );
    // An id outside the embedding table is refused, not read out of bounds.
    let d = fixture("embedding_lstm");
    let spec =
        ModelSpec::from_json_str(&std::fs::read_to_string(d.join("model.json")).unwrap()).unwrap();
    let net = Network::new(
        &spec,
        &read_weights(&d.join("weights.safetensors")).unwrap(),
        &Device::flex(),
    )
    .unwrap();
    let e = net
        .forward(&[1, 9], vec![0.0, 1.0, 2.0, 20.0, 0.0, 0.0, 0.0, 0.0, 0.0])
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("layer 'embedding': input id 20 at flat position 3 is not an integer in 0..20"),
        "{e}"
    );
    let bad = std::env::temp_dir().join(format!("sc-nn-{}.safetensors", std::process::id()));
    std::fs::write(&bad, b"\x0a\x00\x00\x00\x00\x00\x00\x00{not json}").unwrap();
    assert!(read_weights(&bad)
        .unwrap_err()
        .to_string()
        .contains("header is not JSON"));
}

/// A masked LSTM gives a clip the same output whatever padding is appended (or prepended).
#[test]
fn a_masked_lstm_ignores_padding() {
    let spec = ModelSpec::from_json_str(
        r#"{"input_shape": ["None", 3], "layers": [{"type": "Masking"}, {"type": "LSTM", "units": 5}]}"#,
    )
    .unwrap();
    let net = Network::initialized(&spec, 4, &Device::flex()).unwrap();
    let clip: Vec<f32> = (0..12)
        .map(|i| ((i * 37) % 11) as f32 / 5.0 - 1.0)
        .collect();
    let (_, want) = net.forward(&[1, 4, 3], clip.clone()).unwrap();
    for (before, after) in [(0, 3), (0, 10), (2, 0), (5, 7)] {
        let mut x = vec![0.0; before * 3];
        x.extend(&clip);
        x.extend(vec![0.0; after * 3]);
        let (_, got) = net.forward(&[1, before + 4 + after, 3], x).unwrap();
        let err = got
            .iter()
            .zip(&want)
            .fold(0f32, |m, (a, b)| m.max((a - b).abs()));
        assert!(err < 1e-6, "padding ({before}, {after}): {err}");
    }
}
