//! The recurrent kernels' common shape: which cell, how many rows, steps and units, the
//! direction and the output kind; and the split of the batch between threads. The cells
//! themselves live in `lstm.rs` and `gru.rs`.

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
