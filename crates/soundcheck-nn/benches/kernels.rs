//! Our CPU kernels one at a time, on 1 and 2 threads: the 32 → 32 3×3 'same' Conv2D of the
//! separation seed's mask net at batch 16 of 513 × 25 (forward, input gradient, kernel
//! gradient), with GFLOP/s. A layer is 2·205200·288·32 ≈ 3.78 GFLOP per pass.

use std::time::Instant;

use soundcheck_nn::kernels::conv2d::{self, Conv2dGeometry};

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
    for threads in [1, 2] {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .expect("thread pool");
        pool.install(|| {
            for (name, ms) in [
                ("forward", median_ms(|| drop(conv2d::forward(&g, &x, &w, Some(&b))))),
                ("input gradient", median_ms(|| drop(conv2d::grad_input(&g, &w, &dy)))),
                ("kernel gradient", median_ms(|| drop(conv2d::grad_weight(&g, &x, &dy)))),
            ] {
                println!(
                    "conv2d 32→32 3×3, 16×513×25, {threads} thread(s), {name}: {ms:.1} ms, {:.0} GFLOP/s",
                    gflop / ms * 1e3
                );
            }
        });
    }
}
