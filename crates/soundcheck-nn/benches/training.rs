//! Training steps of the reference models, beside Keras (`tools/bench/nn_training.sh`): the
//! separation seed's residual mask net at batch 16 of 513×25×1 (MSE, Adam), the MFCC LSTM
//! (LSTM 64, Dense 10) and its GRU twin at batch 32 of 100×13 (sparse categorical
//! cross-entropy, Adam), and seed
//! 004's Conv1D bank with its strided residual at batch 32 of 800×1 (MSE, Adam). A step is
//! the time between two batch reports of the trainer: gather, forward, backward, Adam update.

mod common;

use std::ops::ControlFlow;
use std::sync::Arc;
use std::time::Instant;

use soundcheck_data::ArrayDataset;
use soundcheck_nn::{Event, Loss, TrainConfig, Trainer};

fn main() {
    // The allocator policy the `soundcheck` binary chooses at startup, so these numbers are the
    // binary's (`keep_freed_memory` says what it saves).
    soundcheck_io::keep_freed_memory();
    // `cargo bench --bench <this> -- <name>` runs the models whose name contains <name>.
    let only = std::env::args().skip(1).find(|a| !a.starts_with('-'));
    for (name, batch, steps, loss) in [
        ("resmask32", 16usize, 6usize, Loss::MeanSquaredError),
        ("mfcc_lstm", 32, 21, Loss::SparseCategoricalCrossentropy),
        ("mfcc_gru", 32, 21, Loss::SparseCategoricalCrossentropy),
        ("convbank_residual", 32, 21, Loss::MeanSquaredError),
    ] {
        if only.as_deref().is_some_and(|o| !name.contains(o)) {
            continue;
        }
        let (mut net, shape, x) = common::fixture_network(name, batch);
        let (y, y_shape) = if loss == Loss::MeanSquaredError {
            let (out_shape, _) = net.forward(&shape, x.clone()).expect("forward");
            let n: usize = out_shape.iter().product();
            ((0..n).map(|i| (i % 3) as f32 / 2.0).collect(), out_shape)
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
