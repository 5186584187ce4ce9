//! A residual Add followed by its ReLU (`Add` then `Activation('relu')`, as in the separation
//! seed's residual blocks) in one pass: burn runs them as two passes over the tensor, each
//! with a fresh output, and a backward for each.

use std::mem::MaybeUninit;

use rayon::prelude::*;

use super::conv2d::relu_if;
use super::{assume_written, output_buffer};

/// Values per task: big enough to amortise the task, small enough to share a batch between
/// two cores.
const PER_TASK: usize = 1 << 16;

/// `max(0, a + b)` element-wise (a NaN stays NaN).
///
/// # Shapes
/// - `a`, `b`: any, the same; output: as `a`
pub fn forward(a: &[f32], b: &[f32]) -> Vec<f32> {
    assert_eq!(a.len(), b.len(), "residual add operand lengths");
    let mut y = output_buffer(a.len());
    y.par_chunks_mut(PER_TASK)
        .zip(a.par_chunks(PER_TASK).zip(b.par_chunks(PER_TASK)))
        .for_each(|(y, (a, b))| {
            for ((y, a), b) in y.iter_mut().zip(a).zip(b) {
                y.write(relu_if(true, a + b));
            }
        });
    // SAFETY: the three slices have one length (asserted), so the zipped chunks cover `y` and
    // every value of each is written.
    unsafe { assume_written(y) }
}

/// The gradient of [`forward`] with respect to either operand: `dy` where `a + b > 0`, else 0.
pub fn backward(a: &[f32], b: &[f32], dy: &[f32]) -> Vec<f32> {
    assert!(
        a.len() == b.len() && dy.len() == a.len(),
        "residual add gradient lengths"
    );
    let mut dx: Vec<MaybeUninit<f32>> = output_buffer(a.len());
    dx.par_chunks_mut(PER_TASK)
        .zip(a.par_chunks(PER_TASK).zip(b.par_chunks(PER_TASK)))
        .zip(dy.par_chunks(PER_TASK))
        .for_each(|((dx, (a, b)), dy)| {
            for (((dx, a), b), dy) in dx.iter_mut().zip(a).zip(b).zip(dy) {
                dx.write(if a + b > 0.0 { *dy } else { 0.0 });
            }
        });
    // SAFETY: as in `forward`.
    unsafe { assume_written(dx) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adds_clamps_and_gates() {
        let a = [1.0, -2.0, 0.5, f32::NAN, -1.0];
        let b = [0.5, 1.0, -0.5, 1.0, 3.0];
        let y = forward(&a, &b);
        assert_eq!(&y[..3], &[1.5, 0.0, 0.0]);
        assert!(y[3].is_nan());
        assert_eq!(y[4], 2.0);
        let dy = [10.0, 20.0, 30.0, 40.0, 50.0];
        assert_eq!(backward(&a, &b, &dy), [10.0, 0.0, 0.0, 0.0, 50.0]);
    }

    #[test]
    fn long_inputs_split_between_tasks() {
        let n = 3 * PER_TASK + 7;
        let a: Vec<f32> = (0..n).map(|i| (i % 5) as f32 - 2.0).collect();
        let b = vec![0.5f32; n];
        let y = forward(&a, &b);
        assert!(y.iter().zip(&a).all(|(y, a)| *y == (a + 0.5).max(0.0)));
        let d = backward(&a, &b, &vec![1.0; n]);
        assert!(d
            .iter()
            .zip(&a)
            .all(|(d, a)| *d == f32::from(a + 0.5 > 0.0)));
    }
}
