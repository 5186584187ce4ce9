//! The GRU recurrence on the CPU, forward and backward through time, organised as the LSTM's
//! (`lstm.rs`): the input projections of all timesteps are one product outside; here each
//! step is one small gemm `[h, 1]·[U; b]` and one fused pass over the gates, and the backward
//! accumulates `[dU; db]` as one gemm over all steps at the end.
//!
//! Keras 3's default cell (`reset_after=True`), gate order z, r, h, with `x_* = x·W + b_in`
//! and `u_* = h·U + b_rec` per gate: `z = σ(x_z + u_z)`, `r = σ(x_r + u_r)`,
//! `ĥ = tanh(x_h + r·u_h)`, `h' = z·h + (1 − z)·ĥ`. A masked timestep (mask 0) keeps `h` and
//! outputs zeros. Rows of the batch are independent, so they are split between threads.

use rayon::prelude::*;

use super::lstm::sigmoid;
use super::matmul::matmul;
use super::recurrence::{forward_by_rows, RecurrenceShape};

/// What the forward pass keeps per (row, timestep) for the backward: z, r, ĥ, `u_h` and the
/// hidden state before the step.
const SAVED: usize = 5;

/// Runs the recurrence (see [`super::recurrence::forward`]); saved: `(batch, time, 5·units)`.
pub(super) fn forward(
    s: &RecurrenceShape,
    xw: &[f32],
    u: &[f32],
    mask: &[f32],
    save: bool,
) -> (Vec<f32>, Vec<f32>) {
    let (t, un) = (s.time, s.units);
    let g3 = 3 * un;
    let (kernel, bias) = u.split_at(un * g3);
    forward_by_rows(s, SAVED * un, save, |r0, m, out, mut saved| {
        let mut h = vec![0.0f32; m * un];
        let mut hu = vec![0.0f32; m * g3];
        for step in 0..t {
            let ti = s.at(step);
            hu.chunks_exact_mut(g3)
                .for_each(|r| r.copy_from_slice(bias));
            matmul((m, g3, un), &mut hu, true, &h, (un, 1), kernel, (g3, 1));
            for r in 0..m {
                let keep = mask[(r0 + r) * t + ti] == 0.0;
                let at = ((r0 + r) * t + ti) * g3;
                let (x, hur) = (&xw[at..at + g3], &hu[r * g3..(r + 1) * g3]);
                let hr = &mut h[r * un..(r + 1) * un];
                let mut sv = saved.as_deref_mut().map(|sv| {
                    let at = (r * t + ti) * SAVED * un;
                    &mut sv[at..at + SAVED * un]
                });
                for j in 0..un {
                    let z = sigmoid(x[j] + hur[j]);
                    let rg = sigmoid(x[un + j] + hur[un + j]);
                    let hh = (x[2 * un + j] + rg * hur[2 * un + j]).tanh();
                    if let Some(sv) = sv.as_deref_mut() {
                        for (q, v) in [z, rg, hh, hur[2 * un + j], hr[j]].into_iter().enumerate() {
                            sv[q * un + j] = v;
                        }
                    }
                    if !keep {
                        hr[j] = z * hr[j] + (1.0 - z) * hh;
                    }
                }
                if s.sequences && !keep {
                    out[(r * t + ti) * un..(r * t + ti + 1) * un].copy_from_slice(hr);
                }
            }
        }
        if !s.sequences {
            out.copy_from_slice(&h[..out.len()]);
        }
    })
}

/// The gradients `(d xw, [dU; db])` (see [`super::recurrence::backward`]).
pub(super) fn backward(
    s: &RecurrenceShape,
    dout: &[f32],
    u: &[f32],
    mask: &[f32],
    saved: &[f32],
) -> (Vec<f32>, Vec<f32>) {
    let (n, t, un) = (s.batch, s.time, s.units);
    let g3 = 3 * un;
    assert_eq!(saved.len(), n * t * SAVED * un, "gru saved state length");
    let kernel = &u[..un * g3];
    let mut dxw = vec![0.0f32; n * t * g3];
    // The gradient of each step's `u_*` (`dxw` but for the reset gate's factor on ĥ), and the
    // state before it: `[dU; db] = Σ [h_prev, 1]ᵀ·du` in one gemm at the end.
    let mut du_steps = vec![0.0f32; n * t * g3];
    let mut hprev = vec![0.0f32; n * t * un];
    let rows = s.rows();
    let out_row = dout.len() / n.max(1);
    dxw.par_chunks_mut((rows * t * g3).max(1))
        .zip(du_steps.par_chunks_mut((rows * t * g3).max(1)))
        .zip(hprev.par_chunks_mut((rows * t * un).max(1)))
        .enumerate()
        .for_each(|(k, ((dxw, dus), hprev))| {
            let r0 = k * rows;
            let m = rows.min(n - r0);
            let dout = &dout[r0 * out_row..(r0 + m) * out_row];
            let saved = &saved[r0 * t * SAVED * un..(r0 + m) * t * SAVED * un];
            let mask = &mask[r0 * t..(r0 + m) * t];
            let mut dh = vec![0.0f32; m * un];
            let mut dh_prev = vec![0.0f32; m * un];
            if !s.sequences {
                dh.copy_from_slice(dout);
            }
            for step in (0..t).rev() {
                let ti = s.at(step);
                for r in 0..m {
                    let sv = &saved[(r * t + ti) * SAVED * un..(r * t + ti + 1) * SAVED * un];
                    let part = |q: usize| &sv[q * un..(q + 1) * un];
                    let (z, rg, hh, uh, hp) = (part(0), part(1), part(2), part(3), part(4));
                    hprev[(r * t + ti) * un..(r * t + ti + 1) * un].copy_from_slice(hp);
                    let at = (r * t + ti) * g3;
                    let (dx, du) = (&mut dxw[at..at + g3], &mut dus[at..at + g3]);
                    if mask[r * t + ti] == 0.0 {
                        // The state passed through unchanged and the output was zero.
                        dx.fill(0.0);
                        du.fill(0.0);
                        continue;
                    }
                    let dhr = &mut dh[r * un..(r + 1) * un];
                    if s.sequences {
                        let d = &dout[(r * t + ti) * un..(r * t + ti + 1) * un];
                        dhr.iter_mut().zip(d).for_each(|(a, b)| *a += b);
                    }
                    for j in 0..un {
                        let d = dhr[j];
                        let dz = d * (hp[j] - hh[j]) * z[j] * (1.0 - z[j]);
                        let dh_hat = d * (1.0 - z[j]) * (1.0 - hh[j] * hh[j]);
                        let dr = dh_hat * uh[j] * rg[j] * (1.0 - rg[j]);
                        (dx[j], dx[un + j], dx[2 * un + j]) = (dz, dr, dh_hat);
                        (du[j], du[un + j], du[2 * un + j]) = (dz, dr, dh_hat * rg[j]);
                        // The path through `z·h`; the path through U is added below.
                        dhr[j] = d * z[j];
                    }
                }
                // dh_prev = du·Uᵀ + (dh·z, or dh itself for masked rows, whose du is 0).
                matmul(
                    (m, un, g3),
                    &mut dh_prev,
                    false,
                    &dus[ti * g3..],
                    (t * g3, 1),
                    kernel,
                    (1, g3),
                );
                dh_prev.iter_mut().zip(&dh).for_each(|(a, b)| *a += b);
                std::mem::swap(&mut dh, &mut dh_prev);
            }
        });
    // [dU; db]: (units × n·t)·(n·t × 3·units), then the column sums of du in a fixed order.
    let mut du = vec![0.0f32; (un + 1) * g3];
    let (dk, db) = du.split_at_mut(un * g3);
    matmul(
        (un, g3, n * t),
        dk,
        false,
        &hprev,
        (1, un),
        &du_steps,
        (g3, 1),
    );
    for row in du_steps.chunks_exact(g3) {
        db.iter_mut().zip(row).for_each(|(a, b)| *a += b);
    }
    (dxw, du)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::recurrence::Cell;

    /// The cell written out for one unit, one row, two steps, no mask.
    #[test]
    fn forward_is_keras_cell_written_out() {
        let s = RecurrenceShape {
            cell: Cell::Gru,
            batch: 1,
            time: 2,
            units: 1,
            reverse: false,
            sequences: true,
        };
        let xw = [0.1, 0.2, 0.3, -0.4, 0.5, -0.6];
        // U = [0.5, -0.25, 0.75], b_rec = [0.1, 0.2, -0.3].
        let u = [0.5, -0.25, 0.75, 0.1, 0.2, -0.3];
        let (out, _) = forward(&s, &xw, &u, &[1.0, 1.0], false);
        let sg = |x: f32| 1.0 / (1.0 + (-x).exp());
        let step = |x: [f32; 3], h: f32| {
            let uu = [0.5 * h + 0.1, -0.25 * h + 0.2, 0.75 * h - 0.3];
            let z = sg(x[0] + uu[0]);
            let r = sg(x[1] + uu[1]);
            let hh = (x[2] + r * uu[2]).tanh();
            z * h + (1.0 - z) * hh
        };
        let h1 = step([0.1, 0.2, 0.3], 0.0);
        let h2 = step([-0.4, 0.5, -0.6], h1);
        assert!(
            (out[0] - h1).abs() < 1e-6 && (out[1] - h2).abs() < 1e-6,
            "{out:?} vs {h1} {h2}"
        );
    }
}
