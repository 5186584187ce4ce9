//! Inference batches of the two reference models, beside Keras (`tools/bench/nn_inference.sh`):
//! the separation seed's residual mask net at batch 16 of 513×25×1, and the MFCC LSTM (LSTM 64,
//! Dense 10) at batch 32 of 100×13, with the weights of the Keras fixtures.

use std::path::Path;
use std::time::Instant;

use burn::tensor::Device;
use soundcheck_nn::{read_weights, Network};
use soundcheck_shape::ModelSpec;

fn median_ms(runs: usize, mut f: impl FnMut()) -> f64 {
    f();
    let mut v: Vec<f64> = (0..runs)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    v.sort_by(f64::total_cmp);
    v[runs / 2]
}

fn main() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let device = Device::flex();
    for (name, batch, runs) in [("resmask32", 16usize, 5usize), ("mfcc_lstm", 32, 20)] {
        let d = dir.join(name);
        let spec = ModelSpec::from_json_str(
            &std::fs::read_to_string(d.join("model.json")).expect("model.json"),
        )
        .expect("spec");
        let net = Network::new(
            &spec,
            &read_weights(&d.join("weights.safetensors")).expect("weights"),
            &device,
        )
        .expect("network");
        let mut shape = vec![batch];
        shape.extend(spec.input_shape.iter().flatten().flatten());
        let n: usize = shape.iter().product();
        let x: Vec<f32> = (0..n)
            .map(|i| ((i * 7919) % 1000) as f32 / 1000.0 - 0.5)
            .collect();
        let t = median_ms(runs, || {
            std::hint::black_box(net.forward(&shape, x.clone()).expect("forward"));
        });
        println!("soundcheck-nn (burn-flex) {name} inference, batch {shape:?}: median {t:.1} ms");
    }
}
