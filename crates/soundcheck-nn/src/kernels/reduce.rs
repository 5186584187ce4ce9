//! Sums over many tasks that come out the same on every run: each fixed group of tasks adds
//! into its own partial (the groups run in parallel), then the partials are added in group
//! order. rayon's `fold`/`reduce` would associate the sums by how work happened to be stolen,
//! and a float sum's last bits depend on that order: training would not repeat bit for bit.

use std::ops::{AddAssign, Range};

use rayon::prelude::*;

/// Tasks per group: enough groups to share between threads, few enough partials to add up.
const GROUP: usize = 8;

/// The sum over tasks `0..tasks` of what `f(range, partial)` adds into a zeroed `partial` of
/// `width` values for a range of tasks.
pub(super) fn ordered_sum<T>(
    tasks: usize,
    width: usize,
    f: impl Fn(Range<usize>, &mut [T]) + Sync,
) -> Vec<T>
where
    T: Copy + Default + Send + AddAssign,
{
    let partials: Vec<Vec<T>> = (0..tasks.div_ceil(GROUP))
        .into_par_iter()
        .map(|g| {
            let mut p = vec![T::default(); width];
            f(g * GROUP..((g + 1) * GROUP).min(tasks), &mut p);
            p
        })
        .collect();
    let mut total = vec![T::default(); width];
    for p in partials {
        total.iter_mut().zip(p).for_each(|(t, v)| *t += v);
    }
    total
}

#[cfg(test)]
mod tests {
    use crate::kernels::conv2d::tests::values;
    use crate::kernels::{batch_norm, conv2d, Conv2dGeometry};

    /// The kernels' sums come out bit for bit the same on 1, 2 and 3 threads (so on every run):
    /// the kernel and bias gradients of both convolution paths, BatchNorm's moments and
    /// backward.
    #[test]
    fn sums_do_not_depend_on_the_threads() {
        let run = |threads: usize| {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            pool.install(|| {
                let mut out = Vec::new();
                for out_c in [32, 5] {
                    let g = Conv2dGeometry {
                        batch: 3,
                        input: [40, 30],
                        in_c: 8,
                        out_c,
                        kernel: [3, 3],
                        stride: [1, 1],
                        dilation: [1, 1],
                        pad: [(1, 1), (1, 1)],
                    };
                    let x = values(3 * 40 * 30 * 8, 21);
                    let dy = values(3 * 40 * 30 * out_c, 22);
                    out.push(conv2d::grad_weight(&g, &x, &dy));
                    out.push(conv2d::grad_bias(out_c, &dy));
                }
                let x = values(50_000 * 4, 23);
                let m = batch_norm::moments(&x, 4);
                let (dx, dg, db) =
                    batch_norm::backward(&x, &x, &m, &[1.0, 2.0, 3.0, 4.0], &[0.0; 4], 1e-3, true);
                out.extend([m, dx, dg, db]);
                out
            })
        };
        let one = run(1);
        for threads in [2, 3] {
            let other = run(threads);
            for (a, b) in one.iter().zip(&other) {
                let (a, b): (Vec<u32>, Vec<u32>) = (
                    a.iter().map(|v| v.to_bits()).collect(),
                    b.iter().map(|v| v.to_bits()).collect(),
                );
                assert_eq!(a, b, "{threads} threads");
            }
        }
    }
}
