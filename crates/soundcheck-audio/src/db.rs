//! Decibel scaling: `librosa.power_to_db` and `librosa.amplitude_to_db`.

use ndarray::{Array2, ShapeBuilder};
use rayon::prelude::*;

use crate::error::{invalid, Result};

/// The reference level 0 dB stands for.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Ref {
    Value(f32),
    /// The maximum of the input (`ref=np.max`).
    Max,
}

/// `10·log10(max(amin, S)) − 10·log10(max(amin, ref))`, floored at `max − top_db`.
///
/// # Shapes
/// Any; the output has the input's shape and layout. Computed in f32, as librosa does for
/// float32 input. Defaults as librosa: `Ref::Value(1.0)`, `amin` 1e-10, `top_db` Some(80).
pub fn power_to_db(
    s: &Array2<f32>,
    reference: Ref,
    amin: f32,
    top_db: Option<f32>,
) -> Result<Array2<f32>> {
    // Written to reject NaN too.
    if amin.is_nan() || amin <= 0.0 {
        return Err(invalid(
            "amin",
            amin,
            "a positive number",
            "librosa's default is 1e-10 for power",
        ));
    }
    if let Some(t) = top_db {
        if t.is_nan() || t < 0.0 {
            return Err(invalid(
                "top_db",
                t,
                "a non-negative number, or none",
                "librosa's default is 80",
            ));
        }
    }
    let max = |a: &[f32]| {
        a.par_iter()
            .fold(|| f32::NEG_INFINITY, |m, &v| m.max(v))
            .reduce(|| f32::NEG_INFINITY, f32::max)
    };
    // Memory order in, memory order out: a frame-contiguous spectrogram stays frame-contiguous.
    let owned;
    let (src, fortran) = match s.as_slice_memory_order() {
        Some(src) => (src, !s.is_standard_layout()),
        None => {
            owned = s.as_standard_layout().to_owned();
            (
                owned.as_slice().expect("standard layout is contiguous"),
                false,
            )
        }
    };
    let ref_value = match reference {
        Ref::Value(v) => v.abs(),
        Ref::Max => {
            let abs: Vec<f32> = src.par_iter().map(|v| v.abs()).collect();
            max(&abs)
        }
    };
    let offset = 10.0 * amin.max(ref_value).log10();
    let mut data: Vec<f32> = src
        .par_iter()
        .map(|&v| 10.0 * amin.max(v).log10() - offset)
        .collect();
    if let Some(t) = top_db {
        let floor = max(&data) - t;
        data.par_iter_mut().for_each(|v| *v = v.max(floor));
    }
    let out = if fortran {
        Array2::from_shape_vec(s.raw_dim().f(), data)
    } else {
        Array2::from_shape_vec(s.raw_dim(), data)
    }
    .expect("same number of elements");
    Ok(out)
}

/// `power_to_db(S², ref², amin², top_db)`; librosa's `amin` default here is 1e-5.
pub fn amplitude_to_db(
    s: &Array2<f32>,
    reference: Ref,
    amin: f32,
    top_db: Option<f32>,
) -> Result<Array2<f32>> {
    let reference = match reference {
        Ref::Value(v) => Ref::Value(v * v),
        Ref::Max => Ref::Max,
    };
    power_to_db(&s.mapv(|v| v * v), reference, amin * amin, top_db)
}
