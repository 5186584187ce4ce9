//! BatchNormalization over the last (channels) axis on the CPU, for training: the batch's
//! per-channel moments, the normalisation, and its backward, each in one or two passes over the
//! tensor instead of burn's dozen elementwise ops and their tapes.
//!
//! The numbers are TensorFlow's: `tf.nn.moments` (mean, then the mean squared difference from
//! it; accumulated here in f64 as one pass of sums) and `tf.nn.batch_normalization`
//! (`y = x·a + (β − μ·a)` with `a = γ / sqrt(σ² + ε)`). The backward is the usual one for batch
//! statistics, with `x̂ = (x − μ)·inv`, `g = dy·γ`:
//! `dx = inv·(g − mean(g) − x̂·mean(g·x̂))`, `dγ = Σ dy·x̂`, `dβ = Σ dy`.
//! (TensorFlow stops the gradient through the mean inside the variance; the term it drops is a
//! multiple of Σ(x − μ) = 0, so both agree.)
//!
//! A ReLU that follows the normalisation (Keras's `BatchNormalization` then `Activation('relu')`)
//! is fused in: the forward writes `max(0, y)` and the backward zeroes `dy` where `y ≤ 0`,
//! recomputing `y` from `x`, so the activation costs no pass and no tensor of its own.

use std::mem::MaybeUninit;

use multiversion::multiversion;
use rayon::prelude::*;

use super::conv2d::relu_if;
use super::reduce::ordered_sum;
use super::{assume_written, output_buffer};

/// Rows of `channels` values handed to one task: big enough to amortise the task, small enough
/// to share a batch between two cores.
const ROWS_PER_TASK: usize = 4096;

/// Per-channel sums of `f(rows)` over every row, added up across tasks in f64 (in a fixed
/// order: the same bits on every run).
fn channel_sums(
    rows: usize,
    channels: usize,
    width: usize,
    f: impl Fn(std::ops::Range<usize>, &mut [f64]) + Sync,
) -> Vec<f64> {
    ordered_sum(
        rows.div_ceil(ROWS_PER_TASK),
        width * channels,
        |tasks, acc| {
            for t in tasks {
                let r0 = t * ROWS_PER_TASK;
                f(r0..(r0 + ROWS_PER_TASK).min(rows), acc);
            }
        },
    )
}

/// The batch's mean and (biased) variance per channel: `[mean; channels]` then
/// `[variance; channels]`.
///
/// # Shapes
/// - `x`: `(rows, channels)` in C order (any leading axes flattened)
pub fn moments(x: &[f32], channels: usize) -> Vec<f32> {
    let rows = x.len() / channels;
    let sums = channel_sums(rows, channels, 2, |range, acc| {
        let (s, s2) = acc.split_at_mut(channels);
        sum_and_squares(&x[range.start * channels..range.end * channels], s, s2);
    });
    let n = rows.max(1) as f64;
    let mean: Vec<f64> = sums[..channels].iter().map(|s| s / n).collect();
    let var = sums[channels..]
        .iter()
        .zip(&mean)
        .map(|(s2, m)| (s2 / n - m * m).max(0.0));
    mean.iter()
        .map(|&m| m as f32)
        .chain(var.map(|v| v as f32))
        .collect()
}

#[multiversion(targets("x86_64+avx512f+avx2+fma", "x86_64+avx2+fma"))]
fn sum_and_squares(x: &[f32], s: &mut [f64], s2: &mut [f64]) {
    let c = s.len();
    // f32 partial sums over a short run of rows keep the loop vectorised; f64 holds the total.
    let mut ps = vec![0.0f32; c];
    let mut ps2 = vec![0.0f32; c];
    for block in x.chunks(c * 64) {
        ps.fill(0.0);
        ps2.fill(0.0);
        for row in block.chunks_exact(c) {
            for ((p, q), v) in ps.iter_mut().zip(ps2.iter_mut()).zip(row) {
                *p += v;
                *q += v * v;
            }
        }
        for i in 0..c {
            s[i] += ps[i] as f64;
            s2[i] += ps2[i] as f64;
        }
    }
}

/// Per-channel `(inv, a, b)`: `inv = 1/sqrt(σ² + ε)`, `a = γ·inv`, `b = β − μ·a`.
fn affine(m: &[f32], gamma: &[f32], beta: &[f32], eps: f32) -> (Vec<f32>, Vec<f32>, Vec<f32>) {
    let c = gamma.len();
    let inv: Vec<f32> = m[c..].iter().map(|v| 1.0 / (v + eps).sqrt()).collect();
    let a: Vec<f32> = inv.iter().zip(gamma).map(|(i, g)| i * g).collect();
    let b = beta
        .iter()
        .zip(&a)
        .zip(&m[..c])
        .map(|((be, a), mu)| be - mu * a)
        .collect();
    (inv, a, b)
}

/// `y = x·a + b` per channel, with the batch's moments `m` (from [`moments`]), then
/// `max(0, y)` if `relu`.
///
/// # Shapes
/// - `x`: `(rows, channels)`; `m`: `(2·channels)`; `gamma`, `beta`: `(channels)`; output: as `x`
pub fn forward(
    x: &[f32],
    m: &[f32],
    gamma: &[f32],
    beta: &[f32],
    eps: f32,
    relu: bool,
) -> Vec<f32> {
    let (_, a, b) = affine(m, gamma, beta, eps);
    scale_shift_forward(x, &a, &b, relu)
}

#[multiversion(targets("x86_64+avx512f+avx2+fma", "x86_64+avx2+fma"))]
fn scale_shift(x: &[f32], a: &[f32], b: &[f32], relu: bool, y: &mut [MaybeUninit<f32>]) {
    let c = a.len();
    for (yr, xr) in y.chunks_exact_mut(c).zip(x.chunks_exact(c)) {
        for (((y, x), a), b) in yr.iter_mut().zip(xr).zip(a).zip(b) {
            y.write(relu_if(relu, x * a + b));
        }
    }
}

/// `y = x·a + b` per channel (then `max(0, y)` if `relu`): batch normalisation with the moving
/// statistics folded into `a` and `b`, at inference.
///
/// # Shapes
/// - `x`: `(rows, channels)`; `a`, `b`: `(channels)`; output: as `x`
pub fn scale_shift_forward(x: &[f32], a: &[f32], b: &[f32], relu: bool) -> Vec<f32> {
    let c = a.len();
    assert_rows(x, c);
    let mut y = output_buffer(x.len());
    y.par_chunks_mut(ROWS_PER_TASK * c)
        .zip(x.par_chunks(ROWS_PER_TASK * c))
        .for_each(|(y, x)| scale_shift(x, a, b, relu, y));
    // SAFETY: `x` is whole rows of `c` (asserted), so the chunks cover `y` in whole rows and
    // `scale_shift` writes every value of each.
    unsafe { assume_written(y) }
}

/// Kernels over `(rows, channels)` write their output row by row: a ragged tail would be left
/// unwritten.
fn assert_rows(x: &[f32], channels: usize) {
    assert!(
        channels > 0 && x.len().is_multiple_of(channels),
        "{} values are not rows of {channels} channels",
        x.len()
    );
}

/// The input gradient of [`scale_shift_forward`] (`a` and `b` are constants there).
pub fn scale_shift_backward(x: &[f32], dy: &[f32], a: &[f32], b: &[f32], relu: bool) -> Vec<f32> {
    let c = a.len();
    let gate = Gate { a, b, relu };
    assert_rows(x, c);
    assert_eq!(dy.len(), x.len(), "batch norm output gradient length");
    let mut dx = output_buffer(x.len());
    dx.par_chunks_mut(ROWS_PER_TASK * c)
        .zip(
            x.par_chunks(ROWS_PER_TASK * c)
                .zip(dy.par_chunks(ROWS_PER_TASK * c)),
        )
        .for_each(|(dx, (x, dy))| {
            for ((dxr, xr), dr) in dx
                .chunks_exact_mut(c)
                .zip(x.chunks_exact(c))
                .zip(dy.chunks_exact(c))
            {
                for i in 0..c {
                    dxr[i].write(gate.pass(xr[i], a[i], b[i], dr[i]) * a[i]);
                }
            }
        });
    // SAFETY: whole rows (asserted); every value of every row is written above.
    unsafe { assume_written(dx) }
}

/// The gradients `(dx, dγ, dβ)` of [`forward`] with the batch's own moments `m`.
///
/// # Shapes
/// - `x`, `dy`: `(rows, channels)`; `m`: `(2·channels)`; `gamma`, `beta`: `(channels)`
/// - output: `dx` as `x`; `dγ`, `dβ`: `(channels)`
pub fn backward(
    x: &[f32],
    dy: &[f32],
    m: &[f32],
    gamma: &[f32],
    beta: &[f32],
    eps: f32,
    relu: bool,
) -> (Vec<f32>, Vec<f32>, Vec<f32>) {
    let c = gamma.len();
    assert_rows(x, c);
    assert_eq!(dy.len(), x.len(), "batch norm output gradient length");
    let rows = x.len() / c;
    let (inv, a, b) = affine(m, gamma, beta, eps);
    let mean = &m[..c];
    // The ReLU passes dy where y = x·a + b > 0; without one, everywhere.
    let gate = Gate { a: &a, b: &b, relu };
    // Σ g and Σ g·(x − μ) per channel, g the gated dy.
    let sums = channel_sums(rows, c, 2, |range, acc| {
        let span = range.start * c..range.end * c;
        let (sd, sdx) = acc.split_at_mut(c);
        grad_sums(&x[span.clone()], &dy[span], mean, &gate, sd, sdx);
    });
    let n = rows.max(1) as f32;
    let dbeta: Vec<f32> = sums[..c].iter().map(|&s| s as f32).collect();
    let dgamma: Vec<f32> = sums[c..]
        .iter()
        .zip(&inv)
        .map(|(&s, i)| s as f32 * i)
        .collect();
    // dx = k·(g − Σg/n) − (x − μ)·q: with k = γ·inv and q = γ·inv³·Σg(x − μ)/n.
    let k: Vec<f32> = gamma.iter().zip(&inv).map(|(g, i)| g * i).collect();
    let q: Vec<f32> = (0..c)
        .map(|i| gamma[i] * inv[i].powi(3) * sums[c + i] as f32 / n)
        .collect();
    let dmean: Vec<f32> = dbeta.iter().map(|s| s / n).collect();
    let mut dx = output_buffer(x.len());
    dx.par_chunks_mut(ROWS_PER_TASK * c)
        .zip(
            x.par_chunks(ROWS_PER_TASK * c)
                .zip(dy.par_chunks(ROWS_PER_TASK * c)),
        )
        .for_each(|(dx, (x, dy))| grad_input(x, dy, mean, &gate, &dmean, &k, &q, dx));
    // SAFETY: whole rows (asserted); `grad_input` writes every value of each.
    (unsafe { assume_written(dx) }, dgamma, dbeta)
}

/// Where the fused ReLU lets the gradient through.
struct Gate<'a> {
    a: &'a [f32],
    b: &'a [f32],
    relu: bool,
}

impl Gate<'_> {
    /// `dy` where the ReLU let `x·a + b` through (or there is no ReLU), else 0.
    #[inline(always)]
    fn pass(&self, x: f32, a: f32, b: f32, dy: f32) -> f32 {
        if !self.relu || x * a + b > 0.0 {
            dy
        } else {
            0.0
        }
    }
}

#[multiversion(targets("x86_64+avx512f+avx2+fma", "x86_64+avx2+fma"))]
fn grad_sums(x: &[f32], dy: &[f32], mean: &[f32], gate: &Gate, sd: &mut [f64], sdx: &mut [f64]) {
    let c = mean.len();
    let (a, b) = (&gate.a[..c], &gate.b[..c]);
    let mut ps = vec![0.0f32; c];
    let mut psx = vec![0.0f32; c];
    for (xb, db) in x.chunks(c * 64).zip(dy.chunks(c * 64)) {
        ps.fill(0.0);
        psx.fill(0.0);
        for (xr, dr) in xb.chunks_exact(c).zip(db.chunks_exact(c)) {
            // Zipped, not indexed: without bounds tests the row loop vectorises.
            for (((((p, px), &x), &dy), &m), (&a, &b)) in ps
                .iter_mut()
                .zip(psx.iter_mut())
                .zip(xr)
                .zip(dr)
                .zip(mean)
                .zip(a.iter().zip(b))
            {
                let g = gate.pass(x, a, b, dy);
                *p += g;
                *px += g * (x - m);
            }
        }
        for i in 0..c {
            sd[i] += ps[i] as f64;
            sdx[i] += psx[i] as f64;
        }
    }
}

#[multiversion(targets("x86_64+avx512f+avx2+fma", "x86_64+avx2+fma"))]
#[allow(clippy::too_many_arguments)]
fn grad_input(
    x: &[f32],
    dy: &[f32],
    mean: &[f32],
    gate: &Gate,
    dmean: &[f32],
    k: &[f32],
    q: &[f32],
    dx: &mut [MaybeUninit<f32>],
) {
    let c = mean.len();
    let (a, b) = (&gate.a[..c], &gate.b[..c]);
    let per_channel = || {
        mean.iter()
            .zip(dmean)
            .zip(k.iter().zip(q))
            .zip(a.iter().zip(b))
    };
    for ((dxr, xr), dr) in dx
        .chunks_exact_mut(c)
        .zip(x.chunks_exact(c))
        .zip(dy.chunks_exact(c))
    {
        for (((d, &x), &dy), (((&m, &dm), (&k, &q)), (&a, &b))) in
            dxr.iter_mut().zip(xr).zip(dr).zip(per_channel())
        {
            d.write(k * (gate.pass(x, a, b, dy) - dm) - (x - m) * q);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two channels of three rows, written out: channel 0 = 1, 2, 3 (μ 2, σ² 2/3), channel 1 =
    /// 4, 4, 4 (μ 4, σ² 0).
    #[test]
    fn scale_shift_backward_gates_and_scales() {
        // y = max(0, 2x − 1): dx = 2·dy where 2x − 1 > 0.
        let dx = scale_shift_backward(&[0.0, 1.0, 0.4, 0.6], &[1.0; 4], &[2.0], &[-1.0], true);
        assert_eq!(dx, [0.0, 2.0, 0.0, 2.0]);
        let dx = scale_shift_backward(&[0.0, 1.0], &[1.0, 3.0], &[2.0], &[-1.0], false);
        assert_eq!(dx, [2.0, 6.0]);
    }

    #[test]
    fn moments_and_forward_are_the_written_out_formulas() {
        let x = [1.0, 4.0, 2.0, 4.0, 3.0, 4.0];
        let m = moments(&x, 2);
        let expect = [2.0, 4.0, 2.0 / 3.0, 0.0];
        for (a, b) in m.iter().zip(expect) {
            assert!((a - b).abs() < 1e-6, "{m:?}");
        }
        let y = forward(&x, &m, &[2.0, 1.0], &[0.5, -1.0], 1e-3, false);
        let s = 2.0 / (2.0f32 / 3.0 + 1e-3).sqrt();
        let expect = [0.5 - s, -1.0, 0.5, -1.0, 0.5 + s, -1.0];
        for (a, b) in y.iter().zip(expect) {
            assert!((a - b).abs() < 1e-5, "{y:?}");
        }
        let r = forward(&x, &m, &[2.0, 1.0], &[0.5, -1.0], 1e-3, true);
        for (a, b) in r.iter().zip(expect) {
            assert!((a - b.max(0.0)).abs() < 1e-5, "{r:?}");
        }
    }

    /// The backward against central differences of `L = Σ dy·y`, where the moments move with
    /// `x` (recomputed at each perturbed point), on a ragged number of rows; with and without
    /// the fused ReLU.
    #[test]
    fn backward_matches_finite_differences() {
        for relu in [false, true] {
            backward_case(relu);
        }
    }

    fn backward_case(relu: bool) {
        let c = 3;
        let rows = 2 * ROWS_PER_TASK + 7;
        let wave = |n: usize, f: f32| -> Vec<f32> {
            (0..n)
                .map(|i| (i as f32 * f).sin() * 1.5 + (i % 5) as f32 * 0.1)
                .collect()
        };
        let x = wave(rows * c, 0.37);
        let dy = wave(rows * c, 0.91);
        let gamma = [0.7, -1.3, 2.0];
        let beta = [0.1, 0.2, -0.3];
        let eps = 1e-3;
        let loss = |x: &[f32], gamma: &[f32]| -> f64 {
            let y = forward(x, &moments(x, c), gamma, &beta, eps, relu);
            y.iter().zip(&dy).map(|(a, b)| *a as f64 * *b as f64).sum()
        };
        let loss_beta = |beta: &[f32]| -> f64 {
            let y = forward(&x, &moments(&x, c), &gamma, beta, eps, relu);
            y.iter().zip(&dy).map(|(a, b)| *a as f64 * *b as f64).sum()
        };
        let (dx, dgamma, dbeta) = backward(&x, &dy, &moments(&x, c), &gamma, &beta, eps, relu);
        let h = 1e-2;
        for &i in &[0, 1, 2, rows * c / 2, rows * c - 1] {
            let (mut xp, mut xm) = (x.clone(), x.clone());
            xp[i] += h;
            xm[i] -= h;
            let fd = (loss(&xp, &gamma) - loss(&xm, &gamma)) / (2.0 * h as f64);
            assert!(
                (fd - dx[i] as f64).abs() < 2e-2 * (1.0 + fd.abs()),
                "dx[{i}]: {fd} vs {}",
                dx[i]
            );
        }
        for i in 0..c {
            let (mut gp, mut gm) = (gamma, gamma);
            gp[i] += h;
            gm[i] -= h;
            let fd = (loss(&x, &gp) - loss(&x, &gm)) / (2.0 * h as f64);
            assert!(
                (fd - dgamma[i] as f64).abs() < 1e-2 * (1.0 + fd.abs()),
                "dgamma[{i}]"
            );
            let (mut bp, mut bm) = (beta, beta);
            bp[i] += h;
            bm[i] -= h;
            let fd = (loss_beta(&bp) - loss_beta(&bm)) / (2.0 * h as f64);
            assert!(
                (fd - dbeta[i] as f64).abs() < 1e-2 * (1.0 + fd.abs()),
                "dbeta[{i}] (relu {relu}): {fd} vs {}",
                dbeta[i]
            );
        }
    }
}
