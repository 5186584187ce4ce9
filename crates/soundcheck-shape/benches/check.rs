//! Time to parse and check a 200-layer spec (the goal: well under 50 ms).
//!
//! `cargo bench -p soundcheck-shape --bench check [-- SPEC_OUT.json]` prints the median of many
//! runs and writes the spec it used, so `tools/bench/shape_check.sh` can time Keras building
//! the same model in the same run.

use std::time::Instant;

use serde_json::{json, Value};
use soundcheck_shape::{check_spec, ModelSpec};

/// 1 stem + 33 residual blocks of 6 layers + 1 head = 200 layers, on a spectrogram patch.
fn spec_200() -> Value {
    let mut layers = vec![
        json!({"type": "Conv2D", "name": "stem", "filters": 32, "kernel_size": 3, "padding": "same"}),
    ];
    let mut prev = "stem".to_string();
    for b in 0..33 {
        let n = |s: &str| format!("b{b}_{s}");
        layers.push(json!({"type": "Conv2D", "name": n("c1"), "inputs": [prev], "filters": 32, "kernel_size": 3, "padding": "same"}));
        layers.push(json!({"type": "BatchNormalization", "name": n("bn1")}));
        layers.push(json!({"type": "Activation", "name": n("r1"), "activation": "relu"}));
        layers.push(json!({"type": "Conv2D", "name": n("c2"), "filters": 32, "kernel_size": 3, "padding": "same"}));
        layers.push(json!({"type": "BatchNormalization", "name": n("bn2")}));
        layers.push(json!({"type": "Add", "name": n("add"), "inputs": [n("bn2"), prev]}));
        prev = n("add");
    }
    layers.push(json!({"type": "Conv2D", "name": "mask", "filters": 1, "kernel_size": 1, "activation": "sigmoid"}));
    json!({"name": "bench200", "input_shape": [513, 25, 1], "layers": layers})
}

fn main() {
    let v = spec_200();
    let text = v.to_string();
    if let Some(out) = std::env::args().skip(1).find(|a| a.ends_with(".json")) {
        std::fs::write(&out, &text).expect("write the spec");
    }
    let once = || {
        let spec = ModelSpec::from_json_str(&text).expect("valid spec");
        let report = check_spec(&spec).expect("resolves");
        assert!(report.ok() && report.layers.len() == 200);
        report.total_params()
    };
    once();
    let mut times: Vec<f64> = (0..200)
        .map(|_| {
            let t = Instant::now();
            std::hint::black_box(once());
            t.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    times.sort_by(f64::total_cmp);
    println!(
        "soundcheck parse+check, 200 layers: median {:.3} ms, p95 {:.3} ms ({} runs)",
        times[100],
        times[190],
        times.len()
    );
}
