//! The benchmarks' reference models: a Keras fixture's spec and weights, and a fixed input batch.

use std::path::Path;

use soundcheck_nn::{read_weights, Device, Network};
use soundcheck_shape::ModelSpec;

/// The network of fixture `name` with Keras's weights, its input shape at `batch`, and a
/// deterministic input of that shape.
pub fn fixture_network(name: &str, batch: usize) -> (Network, Vec<usize>, Vec<f32>) {
    let d = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    let spec = ModelSpec::from_json_str(
        &std::fs::read_to_string(d.join("model.json")).expect("model.json"),
    )
    .expect("spec");
    let weights = read_weights(&d.join("weights.safetensors")).expect("weights");
    let net = Network::new(&spec, &weights, &Device::flex()).expect("network");
    let mut shape = vec![batch];
    shape.extend(spec.input_shape.iter().flatten().flatten());
    let n: usize = shape.iter().product();
    let x = (0..n)
        .map(|i| ((i * 7919) % 1000) as f32 / 1000.0 - 0.5)
        .collect();
    (net, shape, x)
}
