//! Loading, resampling, the STFT and its inverse, spectrograms and decibels.

use std::path::PathBuf;

use ndarray::{Array2, ArrayView2, Axis};
use numpy::{Complex32, PyArrayDyn, PyReadonlyArray2, PyReadonlyArray3, PyReadonlyArrayDyn};
use pyo3::prelude::*;
use soundcheck_audio::{self as audio, LoadOptions, Ref};

use super::{check_power, map_rows, rows, stft_config, StftArgs};
use crate::convert::{flat, output, rows_out, view2, view3};
use crate::errors::to_py;

/// `librosa.load`: `(channels, n)` float32 and the rate.
#[pyfunction]
#[pyo3(signature = (path, sr, mono, offset, duration))]
pub(super) fn load(
    py: Python<'_>,
    path: PathBuf,
    sr: Option<u32>,
    mono: bool,
    offset: f64,
    duration: Option<f64>,
) -> PyResult<(Bound<'_, PyArrayDyn<f32>>, u32)> {
    let opts = LoadOptions {
        sr,
        mono,
        offset,
        duration,
    };
    let loaded = py.detach(|| audio::load(&path, &opts)).map_err(to_py)?;
    Ok((rows_out(py, loaded.channels)?, loaded.sample_rate))
}

#[pyfunction]
pub(super) fn resample<'py>(
    py: Python<'py>,
    y: PyReadonlyArray2<'py, f32>,
    orig_sr: u32,
    target_sr: u32,
) -> PyResult<Bound<'py, PyArrayDyn<f32>>> {
    let view = view2(&y)?;
    let rs = rows(&view)?;
    let out = py
        .detach(|| {
            rs.iter()
                .map(|r| audio::resample(r, orig_sr, target_sr))
                .collect::<Result<Vec<_>, _>>()
        })
        .map_err(to_py)?;
    rows_out(py, out)
}

#[pyfunction]
#[pyo3(signature = (y, stft))]
pub(super) fn stft<'py>(
    py: Python<'py>,
    y: PyReadonlyArray2<'py, f32>,
    stft: StftArgs<'py>,
) -> PyResult<Bound<'py, PyArrayDyn<Complex32>>> {
    let cfg = stft_config(stft)?;
    map_rows(py, &y, |r| audio::stft(r, &cfg))
}

/// The inverse STFT of `(rows, 1 + n_fft/2, frames)`; `stft`'s pad mode is not used.
#[pyfunction]
#[pyo3(signature = (s, stft, length))]
pub(super) fn istft<'py>(
    py: Python<'py>,
    s: PyReadonlyArray3<'py, Complex32>,
    stft: StftArgs<'py>,
    length: Option<usize>,
) -> PyResult<Bound<'py, PyArrayDyn<f32>>> {
    let cfg = stft_config(stft)?;
    let view = view3(&s)?;
    let out = py
        .detach(|| {
            view.axis_iter(Axis(0))
                .map(|m| audio::istft(m, &cfg, length))
                .collect::<Result<Vec<_>, _>>()
        })
        .map_err(to_py)?;
    rows_out(py, out)
}

/// `|stft(y)|^power` per row: librosa's `_spectrogram` helper behind every feature taking `y`.
#[pyfunction]
#[pyo3(signature = (y, stft, power))]
pub(super) fn spectrogram<'py>(
    py: Python<'py>,
    y: PyReadonlyArray2<'py, f32>,
    stft: StftArgs<'py>,
    power: f32,
) -> PyResult<Bound<'py, PyArrayDyn<f32>>> {
    let cfg = stft_config(stft)?;
    check_power(power)?;
    map_rows(py, &y, |r| audio::spectrogram(r, &cfg, power))
}

/// dB of a whole array: librosa takes `ref=np.max` and the `top_db` floor over every element.
fn db_any<'py>(
    py: Python<'py>,
    s: PyReadonlyArrayDyn<'py, f32>,
    convert: impl Fn(&Array2<f32>) -> audio::Result<Array2<f32>> + Send + Sync,
) -> PyResult<Bound<'py, PyArrayDyn<f32>>> {
    let (flat, shape) = flat(&s)?;
    let out = py
        .detach(|| {
            let whole = ArrayView2::from_shape((1, flat.len()), flat)
                .expect("one row of every element")
                .to_owned();
            convert(&whole)
        })
        .map_err(to_py)?;
    output(py, out.into_shape_with_order(shape).map_err(to_py)?)
}

/// `power_to_db`, or `amplitude_to_db` with `amplitude`, of the whole array.
#[pyfunction]
#[pyo3(signature = (s, amplitude, ref_value, amin, top_db))]
pub(super) fn to_db<'py>(
    py: Python<'py>,
    s: PyReadonlyArrayDyn<'py, f32>,
    amplitude: bool,
    ref_value: f32,
    amin: f32,
    top_db: Option<f32>,
) -> PyResult<Bound<'py, PyArrayDyn<f32>>> {
    let convert = if amplitude {
        audio::amplitude_to_db
    } else {
        audio::power_to_db
    };
    db_any(py, s, |x| convert(x, Ref::Value(ref_value), amin, top_db))
}
