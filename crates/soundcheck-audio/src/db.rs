//! Decibel scaling: `librosa.power_to_db` and `librosa.amplitude_to_db`.

use multiversion::multiversion;
use ndarray::Array2;
use rayon::prelude::*;

use crate::error::{invalid, Result};

/// The reference level 0 dB stands for.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Ref {
    /// A fixed reference (`ref=1.0` is librosa's default).
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
    power_to_db_in_place(s.clone(), reference, amin, top_db)
}

/// [`power_to_db`], reusing the input's memory (for a spectrogram nobody needs in power).
pub(crate) fn power_to_db_in_place(
    s: Array2<f32>,
    reference: Ref,
    amin: f32,
    top_db: Option<f32>,
) -> Result<Array2<f32>> {
    let mut one = power_to_db_channels(vec![s], reference, amin, top_db)?;
    Ok(one.pop().expect("one channel in, one out"))
}

fn data(s: &mut Array2<f32>) -> &mut [f32] {
    s.as_slice_memory_order_mut()
        .expect("made contiguous before use")
}

/// [`power_to_db`] of one signal's channels, as librosa converts a `(channels, …)` array: the
/// `Ref::Max` reference and the `top_db` floor come from every channel together, so a quiet
/// channel is clipped against the loud one, not against itself.
///
/// # Shapes
/// Each channel any shape; the outputs keep each input's shape and layout.
pub fn power_to_db_channels(
    mut channels: Vec<Array2<f32>>,
    reference: Ref,
    amin: f32,
    top_db: Option<f32>,
) -> Result<Vec<Array2<f32>>> {
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
    // Memory order in, memory order out: a frame-contiguous spectrogram stays frame-contiguous.
    for s in &mut channels {
        if s.as_slice_memory_order().is_none() {
            *s = s.as_standard_layout().to_owned();
        }
    }
    let nan_ref = matches!(reference, Ref::Value(v) if v.is_nan());
    if nan_ref
        || channels
            .iter_mut()
            .any(|s| data(s).par_iter().any(|v| !v.is_finite()))
    {
        return Ok(with_non_finite(channels, reference, amin, top_db));
    }
    let ref_value = match reference {
        Ref::Value(v) => v.abs(),
        Ref::Max => channels
            .iter_mut()
            .map(|s| {
                data(s)
                    .par_iter()
                    .fold(|| 0f32, |m, &v| m.max(v.abs()))
                    .reduce(|| 0f32, f32::max)
            })
            .fold(0f32, f32::max),
    };
    let offset = 10.0 * amin.max(ref_value).log10();
    let max = channels
        .iter_mut()
        .map(|s| {
            data(s)
                .par_chunks_mut(CHUNK)
                .map(|c| to_db(c, amin, offset))
                .reduce(|| f32::NEG_INFINITY, f32::max)
        })
        .fold(f32::NEG_INFINITY, f32::max);
    if let Some(t) = top_db {
        let floor = max - t;
        for s in &mut channels {
            data(s)
                .par_chunks_mut(CHUNK)
                .for_each(|c| c.iter_mut().for_each(|v| *v = v.max(floor)));
        }
    }
    Ok(channels)
}

/// [`power_to_db_channels`] of an input holding NaN or ±∞, with numpy's arithmetic as librosa
/// runs it: `np.maximum` and `np.max` propagate NaN, so a NaN stays NaN and, through
/// `ref=np.max` or the `top_db` floor, turns every value NaN. The fast path's `f32::max` would
/// drop the NaN and hand back finite decibels for values that have none.
fn with_non_finite(
    mut channels: Vec<Array2<f32>>,
    reference: Ref,
    amin: f32,
    top_db: Option<f32>,
) -> Vec<Array2<f32>> {
    let np_max = |a: f32, b: f32| {
        if a.is_nan() || b.is_nan() {
            f32::NAN
        } else {
            a.max(b)
        }
    };
    let all_max = |channels: &mut [Array2<f32>], f: &dyn Fn(f32) -> f32| {
        channels
            .iter_mut()
            .map(|s| {
                data(s)
                    .iter()
                    .fold(f32::NEG_INFINITY, |m, &v| np_max(m, f(v)))
            })
            .fold(f32::NEG_INFINITY, np_max)
    };
    let ref_value = match reference {
        Ref::Value(v) => v.abs(),
        Ref::Max => all_max(&mut channels, &|v: f32| v.abs()),
    };
    let offset = 10.0 * np_max(amin, ref_value).log10();
    for s in &mut channels {
        for v in data(s) {
            *v = 10.0 * np_max(amin, *v).log10() - offset;
        }
    }
    if let Some(t) = top_db {
        let floor = all_max(&mut channels, &|v| v) - t;
        for s in &mut channels {
            for v in data(s) {
                *v = np_max(*v, floor);
            }
        }
    }
    channels
}

/// Values per parallel task of the dB passes.
const CHUNK: usize = 1 << 14;

/// `10·log10(max(amin, v)) − offset` for every `v`, in place; returns the largest result.
#[multiversion(targets("x86_64+avx2+fma"))]
fn to_db(data: &mut [f32], amin: f32, offset: f32) -> f32 {
    // The vector logarithm needs normal numbers; a subnormal amin takes the library's.
    if amin >= f32::MIN_POSITIVE {
        to_db_with(data, amin, offset, log10_normal)
    } else {
        to_db_with(data, amin, offset, f32::log10)
    }
}

#[inline(always)]
fn to_db_with(data: &mut [f32], amin: f32, offset: f32, log10: impl Fn(f32) -> f32) -> f32 {
    const LANES: usize = 8;
    let mut hi = [f32::NEG_INFINITY; LANES];
    let mut chunks = data.chunks_exact_mut(LANES);
    for c in &mut chunks {
        for (v, h) in c.iter_mut().zip(&mut hi) {
            *v = 10.0 * log10(amin.max(*v)) - offset;
            *h = h.max(*v);
        }
    }
    for (v, h) in chunks.into_remainder().iter_mut().zip(&mut hi) {
        *v = 10.0 * log10(amin.max(*v)) - offset;
        *h = h.max(*v);
    }
    hi.into_iter().fold(f32::NEG_INFINITY, f32::max)
}

/// `log10(x)` for a normal positive `x` or +∞, to within 2 ulp, in operations that vectorise
/// (the C library's `log10f` is a call per value).
///
/// `x = 2^e·m` with `m` in `[√½, √2)`; `ln m = ln(1+f)` from a degree-9 minimax polynomial in
/// `f = m − 1` (the Cephes single-precision coefficients); `ln 2` in two parts so that
/// `e·ln 2` stays exact.
#[inline(always)]
fn log10_normal(x: f32) -> f32 {
    let bits = x.to_bits();
    let mut e = ((bits >> 23) & 0xff) as i32 - 127;
    let mut m = f32::from_bits((bits & 0x007f_ffff) | 0x3f80_0000);
    if m > std::f32::consts::SQRT_2 {
        m *= 0.5;
        e += 1;
    }
    let f = m - 1.0;
    let z = f * f;
    let p = ((((((((7.037_683_6e-2 * f - 1.151_461e-1) * f + 1.167_699_9e-1) * f
        - 1.242_014_1e-1)
        * f
        + 1.424_932_3e-1)
        * f
        - 1.666_805_8e-1)
        * f
        + 2.000_071_5e-1)
        * f
        - 2.499_999_4e-1)
        * f
        + 3.333_333e-1)
        * f
        * z;
    let e = e as f32;
    let ln = f + (p - 0.5 * z + e * -2.121_944_4e-4) + e * 0.693_359_4;
    let v = ln * std::f32::consts::LOG10_E;
    if x == f32::INFINITY {
        x
    } else {
        v
    }
}

/// `power_to_db(S², ref², amin², top_db)`; librosa's `amin` default here is 1e-5.
pub fn amplitude_to_db(
    s: &Array2<f32>,
    reference: Ref,
    amin: f32,
    top_db: Option<f32>,
) -> Result<Array2<f32>> {
    let mut one = amplitude_to_db_channels(std::slice::from_ref(s), reference, amin, top_db)?;
    Ok(one.pop().expect("one channel in, one out"))
}

/// [`amplitude_to_db`] of one signal's channels, with librosa's whole-array reference and floor
/// (see [`power_to_db_channels`]).
pub fn amplitude_to_db_channels(
    channels: &[Array2<f32>],
    reference: Ref,
    amin: f32,
    top_db: Option<f32>,
) -> Result<Vec<Array2<f32>>> {
    let reference = match reference {
        Ref::Value(v) => Ref::Value(v * v),
        Ref::Max => Ref::Max,
    };
    let squared = channels.iter().map(|s| s.mapv(|v| v * v)).collect();
    power_to_db_channels(squared, reference, amin * amin, top_db)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vector_log10_is_within_two_ulp_of_the_library() {
        let mut worst = 0f64;
        let mut x = f32::MIN_POSITIVE;
        while x < f32::MAX / 1.01 {
            for y in [x, x * 1.000_001, x * 1.414, x * 1.415, x * 1.999] {
                let got = log10_normal(y) as f64;
                let want = (y as f64).log10();
                let ulp = (want.abs() as f32).max(f32::MIN_POSITIVE);
                let ulp = (f32::from_bits(ulp.to_bits() + 1) - ulp) as f64;
                worst = worst.max((got - want).abs() / ulp);
            }
            x *= 1.37;
        }
        assert!(worst <= 2.0, "{worst} ulp");
        assert_eq!(log10_normal(1.0), 0.0);
        assert_eq!(log10_normal(f32::INFINITY), f32::INFINITY);
    }

    #[test]
    fn nan_and_infinity_follow_numpy_as_librosa_computes_them() {
        let s = Array2::from_shape_vec((1, 3), vec![1.0f32, f32::NAN, 100.0]).unwrap();
        let db = |reference, top_db| power_to_db(&s, reference, 1e-10, top_db).unwrap();
        // ref=1.0, top_db=None: only the NaN stays NaN (np.maximum(amin, nan) is nan).
        let out = db(Ref::Value(1.0), None);
        assert_eq!(out[[0, 0]], 0.0);
        assert!(out[[0, 1]].is_nan());
        assert_eq!(out[[0, 2]], 20.0);
        // The top_db floor is log_spec.max() - 80, nan, and np.maximum(x, nan) is nan.
        assert!(db(Ref::Value(1.0), Some(80.0)).iter().all(|v| v.is_nan()));
        // ref=np.max is nan as well.
        assert!(db(Ref::Max, None).iter().all(|v| v.is_nan()));
        // +inf in power: 10·log10(inf) = inf, the floor inf - 80 = inf.
        let s = Array2::from_shape_vec((1, 2), vec![1.0f32, f32::INFINITY]).unwrap();
        let out = power_to_db(&s, Ref::Value(1.0), 1e-10, Some(80.0)).unwrap();
        assert_eq!(out.as_slice().unwrap(), &[f32::INFINITY, f32::INFINITY]);
    }

    #[test]
    fn channels_share_the_reference_and_the_floor() {
        // Power 1 and 1e-10 (0 and -100 dB): alone, the quiet channel would be its own ceiling;
        // together, it is floored at 0 - 80 dB.
        let loud = Array2::from_elem((1, 2), 1.0f32);
        let quiet = Array2::from_elem((1, 2), 1e-10f32);
        let out = power_to_db_channels(
            vec![loud, quiet.clone()],
            Ref::Value(1.0),
            1e-10,
            Some(80.0),
        )
        .unwrap();
        assert_eq!(out[0][[0, 0]], 0.0);
        assert_eq!(out[1][[0, 0]], -80.0);
        let alone = power_to_db(&quiet, Ref::Value(1.0), 1e-10, Some(80.0)).unwrap();
        assert_eq!(alone[[0, 0]], -100.0);
    }
}
