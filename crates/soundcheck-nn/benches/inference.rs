//! Inference batches of the reference models, beside Keras (`tools/bench/nn_inference.sh`):
//! the separation seed's residual mask net at batch 16 of 513×25×1, the MFCC LSTM (LSTM 64,
//! Dense 10) and its GRU twin at batch 32 of 100×13, and seed 004's Conv1D bank with its strided residual at
//! batch 32 of 800×1, with the weights of the Keras fixtures.

mod common;

use std::time::Instant;

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
    // The allocator policy the `soundcheck` binary chooses at startup, so these numbers are the
    // binary's (`keep_freed_memory` says what it saves).
    soundcheck_io::keep_freed_memory();
    // `cargo bench --bench <this> -- <name>` runs the models whose name contains <name>.
    let only = std::env::args().skip(1).find(|a| !a.starts_with('-'));
    for (name, batch, runs) in [
        ("resmask32", 16usize, 5usize),
        ("mfcc_lstm", 32, 20),
        ("mfcc_gru", 32, 20),
        ("convbank_residual", 32, 20),
    ] {
        if only.as_deref().is_some_and(|o| !name.contains(o)) {
            continue;
        }
        let (net, shape, x) = common::fixture_network(name, batch);
        let t = median_ms(runs, || {
            std::hint::black_box(net.forward(&shape, x.clone()).expect("forward"));
        });
        println!("soundcheck-nn (burn-flex) {name} inference, batch {shape:?}: median {t:.1} ms");
    }
}
