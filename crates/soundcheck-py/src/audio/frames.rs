//! The frame-wise features: rms, zero crossings, spectral descriptors and contrast, onset
//! strength.

use ndarray::Axis;
use numpy::{PyArrayDyn, PyReadonlyArray2, PyReadonlyArray3};
use pyo3::prelude::*;
use soundcheck_audio::{self as audio, ContrastConfig, Descriptor, OnsetConfig};

use super::{
    map_rows, matrices, mel_config, rows, stack, stft_config, with_rows, MelArgs, StftArgs,
};
use crate::convert::{output, rows_out, view2, view3};
use crate::errors::to_py;

/// `rms` or `zero_crossing_rate` of each row of `y`: `(rows, 1, frames)`.
#[pyfunction]
pub(super) fn frame_feature<'py>(
    py: Python<'py>,
    y: PyReadonlyArray2<'py, f32>,
    kind: &str,
    frame_length: usize,
    hop_length: usize,
    center: bool,
) -> PyResult<Bound<'py, PyArrayDyn<f32>>> {
    let f = match kind {
        "rms" => audio::rms,
        "zero_crossing_rate" => audio::zero_crossing_rate,
        other => return Err(to_py(format!("internal: unknown frame feature '{other}'"))),
    };
    map_rows(py, &y, |r| f(r, frame_length, hop_length, center))
}

/// The descriptor `kind` names: centroid, bandwidth (`a` = p), rolloff (`a` = roll_percent) or
/// flatness (`a` = power, `b` = amin).
fn descriptor(kind: &str, a: f64, b: f64) -> PyResult<Descriptor> {
    Ok(match kind {
        "centroid" => Descriptor::Centroid,
        "bandwidth" => Descriptor::Bandwidth { p: a },
        "rolloff" => Descriptor::Rolloff { roll_percent: a },
        "flatness" => Descriptor::Flatness { power: a, amin: b },
        other => return Err(to_py(format!("internal: unknown descriptor '{other}'"))),
    })
}

/// A descriptor of given magnitude spectrograms `(rows, bins, frames)`: `(rows, 1, frames)`.
#[pyfunction]
#[pyo3(signature = (s, sr, n_fft, kind, a, b))]
pub(super) fn descriptor_of_spectrogram<'py>(
    py: Python<'py>,
    s: PyReadonlyArray3<'py, f32>,
    sr: u32,
    n_fft: usize,
    kind: &str,
    a: f64,
    b: f64,
) -> PyResult<Bound<'py, PyArrayDyn<f32>>> {
    let d = descriptor(kind, a, b)?;
    let mats = matrices(&s)?;
    let parts = py
        .detach(|| {
            mats.iter()
                .map(|m| d.of_spectrogram(m, sr, n_fft))
                .collect::<Result<Vec<_>, _>>()
        })
        .map_err(to_py)?;
    output(py, stack(parts)?)
}

/// Contrast of given magnitude spectrograms `(rows, bins, frames)`; the dB floors span every row.
#[pyfunction]
#[pyo3(signature = (s, sr, n_fft, fmin, n_bands, quantile, linear))]
pub(super) fn spectral_contrast<'py>(
    py: Python<'py>,
    s: PyReadonlyArray3<'py, f32>,
    sr: u32,
    n_fft: usize,
    fmin: f64,
    n_bands: usize,
    quantile: f64,
    linear: bool,
) -> PyResult<Bound<'py, PyArrayDyn<f32>>> {
    let cfg = ContrastConfig {
        fmin,
        n_bands,
        quantile,
        linear,
    };
    let mats = matrices(&s)?;
    let parts = py
        .detach(|| audio::spectral_contrast_from_spectrogram(&mats, sr, n_fft, &cfg))
        .map_err(to_py)?;
    output(py, stack(parts)?)
}

fn onset_config(lag: usize, max_size: usize, detrend: bool, center: bool) -> OnsetConfig {
    OnsetConfig {
        lag,
        max_size,
        detrend,
        center,
    }
}

/// Onset strength of each row of `y`: `(rows, frames)`; the dB floor spans every row.
#[pyfunction]
#[pyo3(signature = (y, sr, n_fft, hop_length, lag, max_size, detrend, center, mel))]
pub(super) fn onset_strength<'py>(
    py: Python<'py>,
    y: PyReadonlyArray2<'py, f32>,
    sr: u32,
    n_fft: usize,
    hop_length: usize,
    lag: usize,
    max_size: usize,
    detrend: bool,
    center: bool,
    mel: MelArgs,
) -> PyResult<Bound<'py, PyArrayDyn<f32>>> {
    let cfg = onset_config(lag, max_size, detrend, center);
    let mel = mel_config(mel);
    let view = view2(&y)?;
    let rs = rows(&view)?;
    let curves = py
        .detach(|| audio::onset_strength(&rs, sr, n_fft, hop_length, &mel, &cfg))
        .map_err(to_py)?;
    rows_out(py, curves)
}

/// Onset strength of given log-power spectrograms `(rows, bins, frames)`: `(rows, frames)`.
#[pyfunction]
#[pyo3(signature = (s, n_fft, hop_length, lag, max_size, detrend, center))]
pub(super) fn onset_strength_from_spectrogram<'py>(
    py: Python<'py>,
    s: PyReadonlyArray3<'py, f32>,
    n_fft: usize,
    hop_length: usize,
    lag: usize,
    max_size: usize,
    detrend: bool,
    center: bool,
) -> PyResult<Bound<'py, PyArrayDyn<f32>>> {
    let cfg = onset_config(lag, max_size, detrend, center);
    let view = view3(&s)?;
    let curves = py
        .detach(|| {
            view.axis_iter(Axis(0))
                .map(|m| {
                    audio::onset_strength_from_spectrogram(&m.to_owned(), n_fft, hop_length, &cfg)
                })
                .collect::<Result<Vec<_>, _>>()
        })
        .map_err(to_py)?;
    rows_out(py, curves)
}

/// A spectral descriptor of each row of `y`, each frame reduced inside the STFT (nothing stored):
/// `(rows, 1, frames)`. `kind` is centroid, bandwidth (`a` = p), rolloff (`a` = roll_percent)
/// or flatness (`a` = power, `b` = amin).
#[pyfunction]
#[pyo3(signature = (y, sr, stft, kind, a, b))]
pub(super) fn descriptor_of_signal<'py>(
    py: Python<'py>,
    y: PyReadonlyArray2<'py, f32>,
    sr: u32,
    stft: StftArgs<'py>,
    kind: &str,
    a: f64,
    b: f64,
) -> PyResult<Bound<'py, PyArrayDyn<f32>>> {
    let cfg = stft_config(stft)?;
    let d = descriptor(kind, a, b)?;
    map_rows(py, &y, |r| d.of_signal(r, sr, &cfg))
}

/// Contrast of each row of `y` without storing spectrograms; the dB floors span every row.
#[pyfunction]
#[pyo3(signature = (y, sr, stft, fmin, n_bands, quantile, linear))]
pub(super) fn spectral_contrast_of_signal<'py>(
    py: Python<'py>,
    y: PyReadonlyArray2<'py, f32>,
    sr: u32,
    stft: StftArgs<'py>,
    fmin: f64,
    n_bands: usize,
    quantile: f64,
    linear: bool,
) -> PyResult<Bound<'py, PyArrayDyn<f32>>> {
    let cfg = stft_config(stft)?;
    let contrast = ContrastConfig {
        fmin,
        n_bands,
        quantile,
        linear,
    };
    with_rows(py, &y, |rs| {
        audio::spectral_contrast(rs, sr, &cfg, &contrast)
    })
}
