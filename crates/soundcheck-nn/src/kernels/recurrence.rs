//! The recurrent kernels' common shape: which cell, how many rows, steps and units, the
//! direction and the output kind; and the split of the batch between threads. The cells
//! themselves live in `lstm.rs` and `gru.rs`.

use rayon::prelude::*;

use super::{gru, lstm};

/// Which recurrent cell.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cell {
    /// Keras's LSTM (gates i, f, c, o).
    Lstm,
    /// Keras's GRU with `reset_after=True` (gates z, r, h), its default.
    Gru,
}

/// The shape and options of one recurrent layer's recurrence.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RecurrenceShape {
    /// The cell.
    pub cell: Cell,
    /// Batch size.
    pub batch: usize,
    /// Timesteps.
    pub time: usize,
    /// Units (the state size).
    pub units: usize,
    /// Run from the last timestep to the first (a Bidirectional's backward half; the
    /// sequence output stays in input time order).
    pub reverse: bool,
    /// Output every timestep's `h` `(batch, time, units)`, else the last state `(batch, units)`.
    pub sequences: bool,
}

impl RecurrenceShape {
    /// Gates per unit.
    pub fn gates(&self) -> usize {
        match self.cell {
            Cell::Lstm => 4,
            Cell::Gru => 3,
        }
    }

    /// Rows of the recurrent kernel the cell takes: `units`, and for a GRU one more holding
    /// the recurrent bias (`h·U + b` as `[h, 1]·[U; b]`).
    pub fn kernel_rows(&self) -> usize {
        match self.cell {
            Cell::Lstm => self.units,
            Cell::Gru => self.units + 1,
        }
    }

    /// The timestep processed at `step`.
    pub(super) fn at(&self, step: usize) -> usize {
        if self.reverse {
            self.time - 1 - step
        } else {
            step
        }
    }

    pub(super) fn out_len(&self) -> usize {
        self.batch * self.units * if self.sequences { self.time } else { 1 }
    }

    /// Rows per task: the batch split between the threads, at least 4 rows each.
    pub(super) fn rows(&self) -> usize {
        self.batch
            .div_ceil(rayon::current_num_threads())
            .max(4)
            .min(self.batch.max(1))
    }
}

/// The frame of a forward pass: the output and, if `save`, `saved_per_step` values per (row,
/// timestep) for the backward, the batch's rows split between tasks; each task runs
/// `task(first_row, rows, out, saved)` on its rows of both.
pub(super) fn forward_by_rows(
    s: &RecurrenceShape,
    saved_per_step: usize,
    save: bool,
    task: impl Fn(usize, usize, &mut [f32], Option<&mut [f32]>) + Sync,
) -> (Vec<f32>, Vec<f32>) {
    let n = s.batch;
    let mut out = vec![0.0f32; s.out_len()];
    let mut saved = vec![0.0f32; if save { n * s.time * saved_per_step } else { 0 }];
    let rows = s.rows();
    let out_row = out.len() / n.max(1);
    let saved_row = saved.len() / n.max(1);
    let saved_parts: Vec<Option<&mut [f32]>> = if save {
        saved
            .chunks_mut((rows * saved_row).max(1))
            .map(Some)
            .collect()
    } else {
        (0..n.div_ceil(rows.max(1))).map(|_| None).collect()
    };
    out.par_chunks_mut((rows * out_row).max(1))
        .zip(saved_parts)
        .enumerate()
        .for_each(|(k, (out, saved))| {
            let r0 = k * rows;
            task(r0, rows.min(n - r0), out, saved);
        });
    (out, saved)
}

/// Runs the recurrence. Returns the output and, if `save`, what the backward needs.
///
/// # Shapes
/// - `xw`: `(batch, time, gates·units)`, the input projections with their bias
/// - `u`: `(kernel_rows, gates·units)`; `mask`: `(batch, time)` (1 = real)
/// - output: `(batch, time, units)` or `(batch, units)`
pub fn forward(
    s: &RecurrenceShape,
    xw: &[f32],
    u: &[f32],
    mask: &[f32],
    save: bool,
) -> (Vec<f32>, Vec<f32>) {
    let g = s.gates() * s.units;
    assert_eq!(
        xw.len(),
        s.batch * s.time * g,
        "recurrence input projection length"
    );
    assert_eq!(u.len(), s.kernel_rows() * g, "recurrent kernel length");
    assert_eq!(mask.len(), s.batch * s.time, "recurrence mask length");
    match s.cell {
        Cell::Lstm => lstm::forward(s, xw, u, mask, save),
        Cell::Gru => gru::forward(s, xw, u, mask, save),
    }
}

/// The gradients `(d xw, d u)` from the output's gradient `dout`.
///
/// # Shapes
/// - `dout`: as the forward's output; `u`, `mask`: as in [`forward`]; `saved`: its second result
/// - output: as `xw` and `u`
pub fn backward(
    s: &RecurrenceShape,
    dout: &[f32],
    u: &[f32],
    mask: &[f32],
    saved: &[f32],
) -> (Vec<f32>, Vec<f32>) {
    assert_eq!(dout.len(), s.out_len(), "recurrence output gradient length");
    match s.cell {
        Cell::Lstm => lstm::backward(s, dout, u, mask, saved),
        Cell::Gru => gru::backward(s, dout, u, mask, saved),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::conv2d::tests::values;

    /// Finite differences of `L = Σ dout·out` against the backward, for each cell, direction
    /// and output kind, with masked steps (leading and inside) and a batch split across tasks.
    #[test]
    fn backward_matches_finite_differences() {
        for cell in [Cell::Lstm, Cell::Gru] {
            for (reverse, sequences) in [(false, true), (false, false), (true, true), (true, false)]
            {
                let s = RecurrenceShape {
                    cell,
                    batch: 9,
                    time: 5,
                    units: 3,
                    reverse,
                    sequences,
                };
                let g = s.gates() * s.units;
                let xw = values(s.batch * s.time * g, 11);
                let u: Vec<f32> = values(s.kernel_rows() * g, 12)
                    .iter()
                    .map(|v| v * 0.5)
                    .collect();
                let mask: Vec<f32> = (0..s.batch * s.time)
                    .map(|i| f32::from(!(i % 7 == 3 || i % 5 == 0 && i % 2 == 0)))
                    .collect();
                let dout = values(s.out_len(), 13);
                let loss = |xw: &[f32], u: &[f32]| -> f64 {
                    let (o, _) = forward(&s, xw, u, &mask, false);
                    o.iter()
                        .zip(&dout)
                        .map(|(a, b)| *a as f64 * *b as f64)
                        .sum()
                };
                let (_, saved) = forward(&s, &xw, &u, &mask, true);
                let (dxw, du) = backward(&s, &dout, &u, &mask, &saved);
                let h = 1e-3;
                let check = |name: &str, i: usize, fd: f64, got: f32| {
                    assert!(
                        (fd - got as f64).abs() < 2e-3,
                        "{name}[{i}] {s:?}: {fd} vs {got}"
                    );
                };
                for i in (0..xw.len()).step_by(5) {
                    let (mut p, mut q) = (xw.clone(), xw.clone());
                    p[i] += h;
                    q[i] -= h;
                    check(
                        "dxw",
                        i,
                        (loss(&p, &u) - loss(&q, &u)) / (2.0 * h as f64),
                        dxw[i],
                    );
                }
                for i in 0..u.len() {
                    let (mut p, mut q) = (u.clone(), u.clone());
                    p[i] += h;
                    q[i] -= h;
                    check(
                        "du",
                        i,
                        (loss(&xw, &p) - loss(&xw, &q)) / (2.0 * h as f64),
                        du[i],
                    );
                }
            }
        }
    }
}
