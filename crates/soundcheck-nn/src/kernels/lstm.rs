//! The LSTM recurrence on the CPU, forward and backward through time, as Keras and PyTorch run
//! it on CPUs: the input projections of all timesteps are one product outside (burn's matmul,
//! differentiated by burn); here each step is one small gemm `h·U` and one fused pass over the
//! gates, and the backward accumulates `dU` as one gemm over all steps at the end.
//!
//! Why: as burn tensor ops a step is about fifteen ops and as many autodiff nodes, whose
//! dispatch dominated the MFCC LSTM's training step (3.5× Keras's time).
//!
//! Keras's cell, gate order i, f, c, o (`z = x·W + b + h·U`):
//! `i = σ(z_i)`, `f = σ(z_f)`, `g = tanh(z_c)`, `o = σ(z_o)`, `c' = f·c + i·g`,
//! `h' = o·tanh(c')`. A masked timestep (mask 0) keeps `h` and `c` and outputs zeros.
//! Rows of the batch are independent, so they are split between threads.

use rayon::prelude::*;

use super::matmul::matmul;
use super::recurrence::{forward_by_rows, RecurrenceShape};

/// What the forward pass keeps per (row, timestep) for the backward: the activated gates
/// i, f, g, o, the cell state after the step, its tanh, and the hidden state after the step
/// (for masked steps: the kept states).
const SAVED: usize = 7;

pub(super) fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + (-x).exp())
}

/// Runs the recurrence (see [`super::recurrence::forward`]); saved: `(batch, time, 7·units)`.
pub(super) fn forward(
    s: &RecurrenceShape,
    xw: &[f32],
    u: &[f32],
    mask: &[f32],
    save: bool,
) -> (Vec<f32>, Vec<f32>) {
    let (t, un) = (s.time, s.units);
    let g4 = 4 * un;
    forward_by_rows(s, SAVED * un, save, |r0, m, out, mut saved| {
        let mut h = vec![0.0f32; m * un];
        let mut c = vec![0.0f32; m * un];
        let mut z = vec![0.0f32; m * g4];
        for step in 0..t {
            let ti = s.at(step);
            for r in 0..m {
                let at = ((r0 + r) * t + ti) * g4;
                z[r * g4..(r + 1) * g4].copy_from_slice(&xw[at..at + g4]);
            }
            matmul((m, g4, un), &mut z, true, &h, (un, 1), u, (g4, 1));
            for r in 0..m {
                let keep = mask[(r0 + r) * t + ti] == 0.0;
                let (hr, cr) = (&mut h[r * un..(r + 1) * un], &mut c[r * un..(r + 1) * un]);
                let zr = &mut z[r * g4..(r + 1) * g4];
                for j in 0..un {
                    let i = sigmoid(zr[j]);
                    let f = sigmoid(zr[un + j]);
                    let g = zr[2 * un + j].tanh();
                    let o = sigmoid(zr[3 * un + j]);
                    // The activated gates replace z for the saved copy below.
                    (zr[j], zr[un + j], zr[2 * un + j], zr[3 * un + j]) = (i, f, g, o);
                    if !keep {
                        cr[j] = f * cr[j] + i * g;
                        hr[j] = o * cr[j].tanh();
                    }
                }
                if s.sequences && !keep {
                    out[(r * t + ti) * un..(r * t + ti + 1) * un].copy_from_slice(hr);
                }
                if let Some(sv) = saved.as_deref_mut() {
                    let at = (r * t + ti) * SAVED * un;
                    let sv = &mut sv[at..at + SAVED * un];
                    sv[..g4].copy_from_slice(zr);
                    sv[g4..g4 + un].copy_from_slice(cr);
                    for j in 0..un {
                        sv[g4 + un + j] = cr[j].tanh();
                    }
                    sv[g4 + 2 * un..].copy_from_slice(hr);
                }
            }
        }
        if !s.sequences {
            out.copy_from_slice(&h[..out.len()]);
        }
    })
}

/// The gradients `(d xw, d U)` (see [`super::recurrence::backward`]).
pub(super) fn backward(
    s: &RecurrenceShape,
    dout: &[f32],
    u: &[f32],
    mask: &[f32],
    saved: &[f32],
) -> (Vec<f32>, Vec<f32>) {
    let (n, t, un) = (s.batch, s.time, s.units);
    let g4 = 4 * un;
    assert_eq!(saved.len(), n * t * SAVED * un, "lstm saved state length");
    let mut dxw = vec![0.0f32; n * t * g4];
    // Each (row, timestep)'s previous hidden state, for dU = Σ h_prevᵀ·dz in one gemm.
    let mut hprev = vec![0.0f32; n * t * un];
    let rows = s.rows();
    let out_row = dout.len() / n.max(1);
    dxw.par_chunks_mut((rows * t * g4).max(1))
        .zip(hprev.par_chunks_mut((rows * t * un).max(1)))
        .enumerate()
        .for_each(|(k, (dxw, hprev))| {
            let r0 = k * rows;
            let m = rows.min(n - r0);
            let dout = &dout[r0 * out_row..(r0 + m) * out_row];
            let saved = &saved[r0 * t * SAVED * un..(r0 + m) * t * SAVED * un];
            let mask = &mask[r0 * t..(r0 + m) * t];
            let mut dh = vec![0.0f32; m * un];
            let mut dc = vec![0.0f32; m * un];
            let mut dh_prev = vec![0.0f32; m * un];
            if !s.sequences {
                dh.copy_from_slice(dout);
            }
            for step in (0..t).rev() {
                let ti = s.at(step);
                let prev = (step > 0).then(|| s.at(step - 1));
                for r in 0..m {
                    let sv = &saved[(r * t + ti) * SAVED * un..(r * t + ti + 1) * SAVED * un];
                    let (gates, tc) = (&sv[..g4], &sv[g4 + un..g4 + 2 * un]);
                    let c_prev = prev.map(|p| {
                        &saved[(r * t + p) * SAVED * un + g4..(r * t + p) * SAVED * un + g4 + un]
                    });
                    if let Some(p) = prev {
                        let h = &saved
                            [(r * t + p) * SAVED * un + g4 + 2 * un..(r * t + p + 1) * SAVED * un];
                        hprev[(r * t + ti) * un..(r * t + ti + 1) * un].copy_from_slice(h);
                    }
                    let dz = &mut dxw[(r * t + ti) * g4..(r * t + ti + 1) * g4];
                    if mask[r * t + ti] == 0.0 {
                        // The state passed through unchanged and the output was zero.
                        dz.fill(0.0);
                        continue;
                    }
                    let (dhr, dcr) = (&mut dh[r * un..(r + 1) * un], &mut dc[r * un..(r + 1) * un]);
                    if s.sequences {
                        let d = &dout[(r * t + ti) * un..(r * t + ti + 1) * un];
                        dhr.iter_mut().zip(d).for_each(|(a, b)| *a += b);
                    }
                    for j in 0..un {
                        let (i, f, g, o) = (
                            gates[j],
                            gates[un + j],
                            gates[2 * un + j],
                            gates[3 * un + j],
                        );
                        let d_o = dhr[j] * tc[j];
                        let dcj = dcr[j] + dhr[j] * o * (1.0 - tc[j] * tc[j]);
                        let cp = c_prev.map_or(0.0, |c| c[j]);
                        dz[j] = dcj * g * i * (1.0 - i);
                        dz[un + j] = dcj * cp * f * (1.0 - f);
                        dz[2 * un + j] = dcj * i * (1.0 - g * g);
                        dz[3 * un + j] = d_o * o * (1.0 - o);
                        dcr[j] = dcj * f;
                    }
                }
                // dh_prev = dz·Uᵀ for the real steps; masked rows hand dh on unchanged.
                let dz = &dxw[ti * g4..];
                matmul(
                    (m, un, g4),
                    &mut dh_prev,
                    false,
                    dz,
                    (t * g4, 1),
                    u,
                    (1, g4),
                );
                for r in 0..m {
                    if mask[r * t + ti] == 0.0 {
                        dh_prev[r * un..(r + 1) * un].copy_from_slice(&dh[r * un..(r + 1) * un]);
                    }
                }
                std::mem::swap(&mut dh, &mut dh_prev);
            }
        });
    // dU = Σ over rows and steps of h_prevᵀ · dz: one (units × n·t) · (n·t × 4·units) product.
    let mut du = vec![0.0f32; un * g4];
    matmul(
        (un, g4, n * t),
        &mut du,
        false,
        &hprev,
        (1, un),
        &dxw,
        (g4, 1),
    );
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
            cell: Cell::Lstm,
            batch: 1,
            time: 2,
            units: 1,
            reverse: false,
            sequences: true,
        };
        let xw = [0.1, 0.2, 0.3, 0.4, -0.5, 0.6, -0.7, 0.8];
        let u = [0.5, -0.25, 0.75, 1.0];
        let (out, _) = forward(&s, &xw, &u, &[1.0, 1.0], false);
        let sg = |x: f32| 1.0 / (1.0 + (-x).exp());
        let c1 = sg(0.1) * 0.3f32.tanh();
        let h1 = sg(0.4) * c1.tanh();
        let z = [-0.5 + 0.5 * h1, 0.6 - 0.25 * h1, -0.7 + 0.75 * h1, 0.8 + h1];
        let c2 = sg(z[1]) * c1 + sg(z[0]) * z[2].tanh();
        let h2 = sg(z[3]) * c2.tanh();
        assert!(
            (out[0] - h1).abs() < 1e-6 && (out[1] - h2).abs() < 1e-6,
            "{out:?}"
        );
    }
}
