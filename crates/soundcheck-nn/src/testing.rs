//! Builds single layers from spec snippets with given weights, for the layer families' tests.

use burn::tensor::Device;
use soundcheck_shape::spec::ModelSpec;

use crate::network::Network;
use crate::weights::Weights;

/// A one-input network from TOML layers, with the given Keras-keyed weights.
pub(crate) fn network(
    input_shape: &str,
    layers: &str,
    weights: &[(&str, &[usize], Vec<f32>)],
) -> Network {
    let spec = ModelSpec::from_toml_str(&format!("input_shape = {input_shape}\n{layers}"))
        .expect("test spec parses");
    let weights: Weights = weights
        .iter()
        .map(|(k, s, v)| (k.to_string(), (s.to_vec(), v.clone())))
        .collect();
    Network::new(&spec, &weights, &Device::flex()).expect("test network builds")
}

/// Runs `net` on one input, returning the output's shape and values.
pub(crate) fn run(net: &Network, shape: &[usize], x: Vec<f32>) -> (Vec<usize>, Vec<f32>) {
    net.forward(shape, x).expect("test forward runs")
}

pub(crate) fn assert_close(got: &[f32], want: &[f32]) {
    assert_eq!(got.len(), want.len(), "{got:?} vs {want:?}");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!(
            (g - w).abs() <= 1e-5 * w.abs().max(1.0),
            "element {i}: {g} vs {w} ({got:?})"
        );
    }
}
