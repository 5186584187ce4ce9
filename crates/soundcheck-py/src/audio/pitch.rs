//! Pitch: chroma from the STFT and the CQT, the tuning estimate, the constant-Q transform and
//! tonal centroids.

use numpy::{Complex32, PyArrayDyn, PyReadonlyArray2, PyReadonlyArray3};
use pyo3::prelude::*;
use soundcheck_audio::{self as audio, ChromaConfig};

use super::{map_rows, matrices, stack, with_rows};
use crate::convert::output;
use crate::errors::to_py;

fn chroma_config(
    n_chroma: usize,
    tuning: Option<f64>,
    ctroct: f64,
    octwidth: Option<f64>,
    base_c: bool,
) -> ChromaConfig {
    ChromaConfig {
        n_chroma,
        tuning,
        ctroct,
        octwidth,
        base_c,
    }
}

#[pyfunction]
#[pyo3(signature = (sr, n_fft, tuning, n_chroma, ctroct, octwidth, base_c))]
pub(super) fn chroma_filters(
    py: Python<'_>,
    sr: u32,
    n_fft: usize,
    tuning: f64,
    n_chroma: usize,
    ctroct: f64,
    octwidth: Option<f64>,
    base_c: bool,
) -> PyResult<Bound<'_, PyArrayDyn<f32>>> {
    let cfg = chroma_config(n_chroma, Some(tuning), ctroct, octwidth, base_c);
    output(
        py,
        audio::chroma_filters(sr, n_fft, tuning, &cfg).map_err(to_py)?,
    )
}

/// Chroma of given power spectrograms `(rows, bins, frames)`; one tuning for every row.
#[pyfunction]
#[pyo3(signature = (s, sr, n_fft, tuning, n_chroma, ctroct, octwidth, base_c))]
pub(super) fn chroma_stft<'py>(
    py: Python<'py>,
    s: PyReadonlyArray3<'py, f32>,
    sr: u32,
    n_fft: usize,
    tuning: Option<f64>,
    n_chroma: usize,
    ctroct: f64,
    octwidth: Option<f64>,
    base_c: bool,
) -> PyResult<Bound<'py, PyArrayDyn<f32>>> {
    let cfg = chroma_config(n_chroma, tuning, ctroct, octwidth, base_c);
    let mats = matrices(&s)?;
    let parts = py
        .detach(|| audio::chroma_stft_from_spectrogram(&mats, sr, n_fft, &cfg))
        .map_err(to_py)?;
    output(py, stack(parts)?)
}

/// librosa.cqt's settings: (hop_length, fmin, n_bins, bins_per_octave, tuning, filter_scale,
/// sparsity, scale).
type CqtArgs = (usize, Option<f64>, usize, usize, f64, f64, f64, bool);

fn cqt_config(a: CqtArgs) -> audio::CqtConfig {
    let (hop_length, fmin, n_bins, bins_per_octave, tuning, filter_scale, sparsity, scale) = a;
    audio::CqtConfig {
        hop_length,
        fmin,
        n_bins,
        bins_per_octave,
        tuning,
        filter_scale,
        sparsity,
        scale,
    }
}

/// The constant-Q transform of each row of `y`: `(rows, n_bins, frames)` complex.
#[pyfunction]
pub(super) fn cqt<'py>(
    py: Python<'py>,
    y: PyReadonlyArray2<'py, f32>,
    sr: u32,
    cqt: CqtArgs,
) -> PyResult<Bound<'py, PyArrayDyn<Complex32>>> {
    let cfg = cqt_config(cqt);
    map_rows(py, &y, |r| audio::cqt(r, sr, &cfg))
}

/// chroma_cqt of the rows of `y` `(rows, n_chroma, frames)`; the tuning (when `None`) estimated
/// from every row together.
#[pyfunction]
#[pyo3(signature = (y, sr, cqt, tuning, n_chroma))]
pub(super) fn chroma_cqt<'py>(
    py: Python<'py>,
    y: PyReadonlyArray2<'py, f32>,
    sr: u32,
    cqt: CqtArgs,
    tuning: Option<f64>,
    n_chroma: usize,
) -> PyResult<Bound<'py, PyArrayDyn<f32>>> {
    let cfg = cqt_config(cqt);
    with_rows(py, &y, |rows| {
        audio::chroma_cqt(rows, sr, &cfg, tuning, n_chroma)
    })
}

/// librosa.filters.cq_to_chroma: `(n_chroma, n_input)`.
#[pyfunction]
pub(super) fn cq_to_chroma<'py>(
    py: Python<'py>,
    n_input: usize,
    bins_per_octave: usize,
    n_chroma: usize,
    fmin: f64,
) -> PyResult<Bound<'py, PyArrayDyn<f32>>> {
    output(
        py,
        audio::cq_to_chroma(n_input, bins_per_octave, n_chroma, fmin).map_err(to_py)?,
    )
}

/// Tonal centroids of chromagrams `(rows, n_chroma, frames)`: `(rows, 6, frames)`.
#[pyfunction]
pub(super) fn tonnetz<'py>(
    py: Python<'py>,
    chroma: PyReadonlyArray3<'py, f32>,
) -> PyResult<Bound<'py, PyArrayDyn<f32>>> {
    let mats = matrices(&chroma)?;
    let parts = py.detach(|| {
        mats.iter()
            .map(audio::tonnetz_from_chroma)
            .collect::<Vec<_>>()
    });
    output(py, stack(parts)?)
}

/// The tuning of given spectrograms `(rows, bins, frames)`, all rows together.
#[pyfunction]
pub(super) fn estimate_tuning(
    py: Python<'_>,
    s: PyReadonlyArray3<'_, f32>,
    sr: u32,
    n_fft: usize,
    bins_per_octave: usize,
) -> PyResult<f64> {
    if bins_per_octave == 0 {
        return Err(crate::errors::argument(
            "bins_per_octave",
            0,
            "a positive integer (librosa's default 12)",
        ));
    }
    let mats = matrices(&s)?;
    Ok(py.detach(|| audio::estimate_tuning_from_spectrogram(&mats, sr, n_fft, bins_per_octave)))
}
