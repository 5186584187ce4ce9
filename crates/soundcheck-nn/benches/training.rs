//! Training steps of the two reference models, beside Keras (`tools/bench/nn_training.sh`): the
//! separation seed's residual mask net at batch 16 of 513×25×1 (MSE, Adam) and the MFCC LSTM
//! (LSTM 64, Dense 10) at batch 32 of 100×13 (sparse categorical cross-entropy, Adam). A step is
//! the time between two batch reports of the trainer: gather, forward, backward, Adam update.

use std::ops::ControlFlow;
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use soundcheck_data::ArrayDataset;
use soundcheck_nn::{read_weights, Device, Event, Loss, Network, TrainConfig, Trainer};
use soundcheck_shape::ModelSpec;

fn main() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let device = Device::flex();
    for (name, batch, steps, loss) in [
        ("resmask32", 16usize, 6usize, Loss::MeanSquaredError),
        ("mfcc_lstm", 32, 21, Loss::SparseCategoricalCrossentropy),
    ] {
        let d = dir.join(name);
        let spec = ModelSpec::from_json_str(
            &std::fs::read_to_string(d.join("model.json")).expect("model.json"),
        )
        .expect("spec");
        let mut net = Network::new(
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
        let (y, y_shape) = if loss == Loss::MeanSquaredError {
            (
                (0..n).map(|i| (i % 3) as f32 / 2.0).collect(),
                shape.clone(),
            )
        } else {
            ((0..batch).map(|i| (i % 10) as f32).collect(), vec![batch])
        };
        let ds = Arc::new(ArrayDataset::new(x, &shape, y, &y_shape).expect("dataset"));
        let cfg = TrainConfig {
            loss,
            epochs: steps,
            batch_size: batch,
            ..Default::default()
        };
        let mut marks = Vec::new();
        let mut t = Trainer::new(&mut net, cfg);
        t.fit(ds, None, &mut |e| {
            if let Event::Batch { .. } = e {
                marks.push(Instant::now());
            }
            ControlFlow::Continue(())
        })
        .expect("training");
        // Steps after the first (warm-up), measured between consecutive reports.
        let mut ms: Vec<f64> = marks
            .windows(2)
            .map(|w| (w[1] - w[0]).as_secs_f64() * 1e3)
            .collect();
        ms.sort_by(f64::total_cmp);
        println!(
            "soundcheck-nn (burn-flex) {name} train step, batch {shape:?}: median {:.1} ms",
            ms[ms.len() / 2]
        );
    }
}
