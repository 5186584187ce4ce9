//! A feature stacked with its deltas, the usual `np.vstack` of `librosa.feature.delta`.

use ndarray::{concatenate, Array2, Axis};

use crate::error::Result;

/// librosa's delta window: `mode='interp'` needs at least this many frames.
pub const DELTA_WIDTH: usize = 9;

/// `np.vstack([m, delta(m), ..., delta(m, order=order)])` with librosa's width 9.
///
/// # Shapes
/// - `m`: `(rows, frames)`
/// - output: `((1 + order) · rows, frames)`
///
/// # Errors
/// An order above 2, or fewer frames than the window.
pub fn with_deltas(m: &Array2<f32>, order: usize) -> Result<Array2<f32>> {
    let mut rows = vec![m.clone()];
    for o in 1..=order {
        rows.push(crate::delta(m, DELTA_WIDTH, o)?);
    }
    let views: Vec<_> = rows.iter().map(Array2::view).collect();
    Ok(concatenate(Axis(0), &views).expect("equal frame counts"))
}
