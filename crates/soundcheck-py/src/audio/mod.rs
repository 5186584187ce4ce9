//! The librosa-compatible front end: every transform of soundcheck-audio over the rows of a
//! `(rows, n)` array (the Python half folds librosa's leading axes into rows and back), one file
//! per family: the signal and its spectra (`signal.rs`), mel and MFCC (`mel.rs`), frame-wise
//! features (`frames.rs`), pitch (`pitch.rs`).

mod frames;
mod mel;
mod pitch;
mod signal;

use ndarray::{Array2, Array3, ArrayView2, Axis};
use numpy::{PyArrayDyn, PyReadonlyArray1, PyReadonlyArray2, PyReadonlyArray3};
use pyo3::prelude::*;
use soundcheck_audio as audio;
use soundcheck_audio::{MelConfig, PadMode, StftConfig, Window};

use crate::convert::{output, view2, view3};
use crate::errors::{argument, to_py};

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(signal::load, m)?)?;
    m.add_function(wrap_pyfunction!(signal::resample, m)?)?;
    m.add_function(wrap_pyfunction!(signal::stft, m)?)?;
    m.add_function(wrap_pyfunction!(signal::istft, m)?)?;
    m.add_function(wrap_pyfunction!(signal::spectrogram, m)?)?;
    m.add_function(wrap_pyfunction!(signal::to_db, m)?)?;
    m.add_function(wrap_pyfunction!(mel::mel_filters, m)?)?;
    m.add_function(wrap_pyfunction!(mel::melspectrogram, m)?)?;
    m.add_function(wrap_pyfunction!(mel::mel_from_spectrogram, m)?)?;
    m.add_function(wrap_pyfunction!(mel::mfcc, m)?)?;
    m.add_function(wrap_pyfunction!(mel::mfcc_from_log_mel, m)?)?;
    m.add_function(wrap_pyfunction!(mel::delta, m)?)?;
    m.add_function(wrap_pyfunction!(frames::frame_feature, m)?)?;
    m.add_function(wrap_pyfunction!(frames::descriptor_of_spectrogram, m)?)?;
    m.add_function(wrap_pyfunction!(frames::spectral_contrast, m)?)?;
    m.add_function(wrap_pyfunction!(frames::descriptor_of_signal, m)?)?;
    m.add_function(wrap_pyfunction!(frames::spectral_contrast_of_signal, m)?)?;
    m.add_function(wrap_pyfunction!(pitch::chroma_filters, m)?)?;
    m.add_function(wrap_pyfunction!(pitch::chroma_stft, m)?)?;
    m.add_function(wrap_pyfunction!(pitch::estimate_tuning, m)?)?;
    m.add_function(wrap_pyfunction!(pitch::cqt, m)?)?;
    m.add_function(wrap_pyfunction!(pitch::chroma_cqt, m)?)?;
    m.add_function(wrap_pyfunction!(pitch::cq_to_chroma, m)?)?;
    m.add_function(wrap_pyfunction!(pitch::tonnetz, m)?)?;
    m.add_function(wrap_pyfunction!(frames::onset_strength, m)?)?;
    m.add_function(wrap_pyfunction!(
        frames::onset_strength_from_spectrogram,
        m
    )?)?;
    Ok(())
}

/// The rows of a C-contiguous `(rows, n)` array, as slices.
fn rows<'a, T>(a: &'a ArrayView2<'a, T>) -> PyResult<Vec<&'a [T]>> {
    let n = a.ncols();
    let data = a
        .as_slice()
        .ok_or_else(|| to_py("internal: the array is not C-contiguous"))?;
    if n == 0 {
        return Ok(vec![&[][..]; a.nrows()]);
    }
    Ok(data.chunks(n).collect())
}

/// The matrices of a `(rows, a, b)` array, owned (the transforms take `Array2`).
fn matrices(s: &PyReadonlyArray3<'_, f32>) -> PyResult<Vec<Array2<f32>>> {
    Ok(view3(s)?.axis_iter(Axis(0)).map(|m| m.to_owned()).collect())
}

/// One output per row, stacked along a new first axis (in C order, whatever each part's layout).
fn stack<T: Clone>(parts: Vec<Array2<T>>) -> PyResult<Array3<T>> {
    let (r, c) = parts.first().map_or((0, 0), Array2::dim);
    let mut data = Vec::with_capacity(parts.len() * r * c);
    for p in &parts {
        if p.dim() != (r, c) {
            return Err(to_py("internal: rows gave outputs of different shapes"));
        }
        data.extend(p.iter().cloned());
    }
    Array3::from_shape_vec((parts.len(), r, c), data).map_err(to_py)
}

/// `f` of all the rows of `y` together (the transforms whose dB floor or tuning spans every
/// channel), computed without the GIL; the outputs stacked `(rows, …)`.
fn with_rows<'py, T: numpy::Element + Clone + Send>(
    py: Python<'py>,
    y: &PyReadonlyArray2<'py, f32>,
    f: impl Fn(&[&[f32]]) -> audio::Result<Vec<Array2<T>>> + Send + Sync,
) -> PyResult<Bound<'py, PyArrayDyn<T>>> {
    let view = view2(y)?;
    let rs = rows(&view)?;
    let parts = py.detach(|| f(&rs)).map_err(to_py)?;
    output(py, stack(parts)?)
}

/// `f` of each row of `y`, as [`with_rows`].
fn map_rows<'py, T: numpy::Element + Clone + Send>(
    py: Python<'py>,
    y: &PyReadonlyArray2<'py, f32>,
    f: impl Fn(&[f32]) -> audio::Result<Array2<T>> + Send + Sync,
) -> PyResult<Bound<'py, PyArrayDyn<T>>> {
    with_rows(py, y, |rs| rs.iter().map(|r| f(r)).collect())
}

/// STFT settings as the Python half passes them: `(n_fft, hop_length, win_length, center,
/// pad_mode, window)`, librosa's names; `window` is `None` for the Hann window, else its
/// `win_length` samples (the Python half evaluates names, functions and arrays as librosa does).
type StftArgs<'py> = (
    usize,
    Option<usize>,
    Option<usize>,
    bool,
    String,
    Option<PyReadonlyArray1<'py, f32>>,
);

/// Mel settings: `(n_mels, fmin, fmax, htk, slaney_norm)`.
type MelArgs = (usize, f64, Option<f64>, bool, bool);

fn stft_config(
    (n_fft, hop_length, win_length, center, pad_mode, window): StftArgs<'_>,
) -> PyResult<StftConfig> {
    let pad_mode = match pad_mode.as_str() {
        "constant" => PadMode::Constant,
        "reflect" => PadMode::Reflect,
        other => {
            return Err(argument(
                "pad_mode",
                format!("'{other}'"),
                "'constant' (librosa's default) or 'reflect'",
            ))
        }
    };
    let cfg = StftConfig {
        n_fft,
        hop_length,
        win_length,
        center,
        pad_mode,
        window: match window {
            None => Window::Hann,
            Some(w) => Window::Samples(w.as_array().iter().copied().collect()),
        },
    };
    cfg.validate().map_err(to_py)?;
    Ok(cfg)
}

fn mel_config((n_mels, fmin, fmax, htk, slaney_norm): MelArgs) -> MelConfig {
    MelConfig {
        n_mels,
        fmin,
        fmax,
        htk,
        slaney_norm,
    }
}

fn check_power(power: f32) -> PyResult<()> {
    if power > 0.0 && power.is_finite() {
        Ok(())
    } else {
        Err(argument(
            "power",
            power,
            "a positive exponent (1 for magnitude, 2 for power, librosa's default)",
        ))
    }
}
