//! Our CPU kernels one at a time, on 1 and 2 threads: the 32 → 32 3×3 'same' Conv2D of the
//! separation seed's mask net at batch 16 of 513 × 25 (forward, input gradient, kernel
//! gradient), with GFLOP/s (a layer is 2·205200·288·32 ≈ 3.78 GFLOP per pass) and their share
//! of the FMA peak that a register-only loop of fused multiply-adds measures on the same
//! threads; that net's BatchNormalization with ReLU in training (forward with the batch's
//! moments, backward) on its 32-channel activations; the MFCC LSTM's recurrence (64 units,
//! batch 32 of 100 steps) forward with saved state and backward.

use std::time::Instant;

use soundcheck_nn::kernels::batch_norm;
use soundcheck_nn::kernels::conv2d::{self, Conv2dGeometry};
use soundcheck_nn::kernels::recurrence::{self, Cell, RecurrenceShape};

fn median_ms(mut f: impl FnMut()) -> f64 {
    f();
    let mut ms: Vec<f64> = (0..7)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    ms.sort_by(f64::total_cmp);
    ms[ms.len() / 2]
}

fn main() {
    let g = Conv2dGeometry {
        batch: 16,
        input: [513, 25],
        in_c: 32,
        out_c: 32,
        kernel: [3, 3],
        stride: [1, 1],
        dilation: [1, 1],
        pad: [(1, 1), (1, 1)],
    };
    let [oh, ow] = g.output();
    let gflop = 2.0 * (g.batch * oh * ow) as f64 * (9 * g.in_c * g.out_c) as f64 / 1e9;
    let x: Vec<f32> = (0..g.batch * 513 * 25 * 32)
        .map(|i| (i % 17) as f32 - 8.0)
        .collect();
    let w: Vec<f32> = (0..9 * 32 * 32).map(|i| (i % 5) as f32 * 0.1).collect();
    let b = vec![0.5f32; 32];
    let dy = x.clone();
    let (gamma, beta) = (vec![1.5f32; 32], vec![0.1f32; 32]);
    let lstm = RecurrenceShape {
        cell: Cell::Lstm,
        batch: 32,
        time: 100,
        units: 64,
        reverse: false,
        sequences: false,
    };
    let xw: Vec<f32> = (0..32 * 100 * 256)
        .map(|i| ((i % 13) as f32 - 6.0) * 0.05)
        .collect();
    let u: Vec<f32> = (0..64 * 256)
        .map(|i| ((i % 7) as f32 - 3.0) * 0.02)
        .collect();
    let (mask, dout) = (vec![1.0f32; 32 * 100], vec![0.01f32; 32 * 64]);
    for threads in [1, 2] {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .expect("thread pool");
        pool.install(|| {
            let peak = fma_peak_gflops(threads);
            println!("FMA peak, {threads} thread(s): {peak:.0} GFLOP/s");
            for (name, ms) in [
                ("forward", median_ms(|| drop(conv2d::forward(&g, &x, &w, Some(&b))))),
                ("input gradient", median_ms(|| drop(conv2d::grad_input(&g, &w, &dy)))),
                ("kernel gradient", median_ms(|| drop(conv2d::grad_weight(&g, &x, &dy)))),
            ] {
                let rate = gflop / ms * 1e3;
                println!(
                    "conv2d 32→32 3×3, 16×513×25, {threads} thread(s), {name}: {ms:.1} ms, {rate:.0} GFLOP/s, {:.0} % of peak",
                    100.0 * rate / peak
                );
            }
            let m = batch_norm::moments(&x, 32);
            for (name, ms) in [
                ("forward", median_ms(|| {
                    drop(batch_norm::forward(&x, &batch_norm::moments(&x, 32), &gamma, &beta, 1e-3, true))
                })),
                ("backward", median_ms(|| {
                    drop(batch_norm::backward(&x, &dy, &m, &gamma, &beta, 1e-3, true))
                })),
            ] {
                println!("batch norm + ReLU (training), 16×513×25×32, {threads} thread(s), {name}: {ms:.1} ms");
            }
            let (_, saved) = recurrence::forward(&lstm, &xw, &u, &mask, true);
            for (name, ms) in [
                ("forward", median_ms(|| drop(recurrence::forward(&lstm, &xw, &u, &mask, true)))),
                ("backward", median_ms(|| {
                    drop(recurrence::backward(&lstm, &dout, &u, &mask, &saved))
                })),
            ] {
                println!("LSTM recurrence, 64 units, 32×100 steps, {threads} thread(s), {name}: {ms:.2} ms");
            }
        });
    }
}

/// GFLOP/s of independent fused multiply-adds on registers, one loop per thread of the current
/// pool, at the widest vectors our kernels use on this CPU (AVX-512, else AVX2).
fn fma_peak_gflops(threads: usize) -> f64 {
    const ROUNDS: usize = 20_000_000;
    let t = Instant::now();
    let lanes: usize = rayon::broadcast(|_| fma_loop(ROUNDS))
        .into_iter()
        .max()
        .unwrap_or(0);
    // 12 independent chains per round, 2 FLOP per lane.
    (threads * ROUNDS * 12 * lanes * 2) as f64 / t.elapsed().as_secs_f64() / 1e9
}

/// Runs `rounds` rounds of 12 independent FMA chains; returns the vector width in lanes.
fn fma_loop(rounds: usize) -> usize {
    #[cfg(target_arch = "x86_64")]
    {
        if is_x86_feature_detected!("avx512f") {
            // SAFETY: the CPU has AVX-512F (checked above).
            return unsafe { fma512(rounds) };
        }
        if is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma") {
            // SAFETY: the CPU has AVX2 and FMA (checked above).
            return unsafe { fma256(rounds) };
        }
    }
    let _ = rounds;
    0
}

macro_rules! fma_chains {
    ($name:ident, $feature:literal, $lanes:literal, $t:ty, $set1:ident, $fma:ident) => {
        #[cfg(target_arch = "x86_64")]
        #[target_feature(enable = $feature)]
        unsafe fn $name(rounds: usize) -> usize {
            use std::arch::x86_64::*;
            let (a, b) = ($set1(0.999_999), $set1(1e-7));
            let mut acc: [$t; 12] = [$set1(1.0); 12];
            for _ in 0..rounds {
                for r in acc.iter_mut() {
                    *r = $fma(*r, a, b);
                }
            }
            std::hint::black_box(acc);
            $lanes
        }
    };
}
fma_chains!(
    fma512,
    "avx512f",
    16,
    __m512,
    _mm512_set1_ps,
    _mm512_fmadd_ps
);
fma_chains!(
    fma256,
    "avx2,fma",
    8,
    __m256,
    _mm256_set1_ps,
    _mm256_fmadd_ps
);
