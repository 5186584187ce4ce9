//! Mel filterbanks and spectrograms, MFCCs and deltas.

use ndarray::Axis;
use numpy::{PyArrayDyn, PyReadonlyArray2, PyReadonlyArray3};
use pyo3::prelude::*;
use soundcheck_audio::{self as audio, FeatureConfig, FeatureKind, MelFilterbank};

use super::{check_power, mel_config, stack, stft_config, with_rows, MelArgs, StftArgs};
use crate::convert::{output, view2, view3};
use crate::errors::{argument, to_py};

/// `librosa.filters.mel`: the bank, and whether a filter is empty (the Python half warns, as
/// librosa warns, rather than refusing).
#[pyfunction]
#[pyo3(signature = (sr, n_fft, mel))]
pub(super) fn mel_filters(
    py: Python<'_>,
    sr: u32,
    n_fft: usize,
    mel: MelArgs,
) -> PyResult<(Bound<'_, PyArrayDyn<f32>>, bool)> {
    let cfg = mel_config(mel);
    let (fb, empty) = MelFilterbank::with_empty_filters(sr, n_fft, &cfg).map_err(to_py)?;
    Ok((output(py, fb.weights)?, empty))
}

#[pyfunction]
#[pyo3(signature = (y, sr, stft, power, mel))]
pub(super) fn melspectrogram<'py>(
    py: Python<'py>,
    y: PyReadonlyArray2<'py, f32>,
    sr: u32,
    stft: StftArgs<'py>,
    power: f32,
    mel: MelArgs,
) -> PyResult<Bound<'py, PyArrayDyn<f32>>> {
    let recipe = recipe(stft, power, mel)?;
    with_rows(py, &y, |rs| {
        recipe.compute(FeatureKind::Mel, rs, sr)?.into_real()
    })
}

/// The feature recipe of the mel kinds, from the Python half's settings.
fn recipe(stft: StftArgs<'_>, power: f32, mel: MelArgs) -> PyResult<FeatureConfig> {
    let stft = stft_config(stft)?;
    check_power(power)?;
    Ok(FeatureConfig {
        stft,
        mel: mel_config(mel),
        power,
        ..FeatureConfig::default()
    })
}

/// The mel filterbank applied to given spectrograms `(rows, 1 + n_fft/2, frames)`.
#[pyfunction]
#[pyo3(signature = (s, sr, n_fft, mel))]
pub(super) fn mel_from_spectrogram<'py>(
    py: Python<'py>,
    s: PyReadonlyArray3<'py, f32>,
    sr: u32,
    n_fft: usize,
    mel: MelArgs,
) -> PyResult<Bound<'py, PyArrayDyn<f32>>> {
    let mel = mel_config(mel);
    let fb = MelFilterbank::cached(sr, n_fft, &mel).map_err(to_py)?;
    let view = view3(&s)?;
    let bins = 1 + n_fft / 2;
    if view.shape()[1] != bins {
        return Err(argument(
            "S",
            format!("with {} frequency bins", view.shape()[1]),
            &format!(
                "1 + n_fft/2 = {bins} bins for n_fft={n_fft}; pass the n_fft S was computed with"
            ),
        ));
    }
    let parts = py.detach(|| {
        view.axis_iter(Axis(0))
            .map(|m| fb.apply(&m.to_owned()))
            .collect::<Vec<_>>()
    });
    output(py, stack(parts)?)
}

#[pyfunction]
#[pyo3(signature = (y, sr, stft, power, mel, n_mfcc, lifter))]
pub(super) fn mfcc<'py>(
    py: Python<'py>,
    y: PyReadonlyArray2<'py, f32>,
    sr: u32,
    stft: StftArgs<'py>,
    power: f32,
    mel: MelArgs,
    n_mfcc: usize,
    lifter: f32,
) -> PyResult<Bound<'py, PyArrayDyn<f32>>> {
    let recipe = FeatureConfig {
        n_mfcc,
        lifter,
        ..recipe(stft, power, mel)?
    };
    with_rows(py, &y, |rs| {
        recipe.compute(FeatureKind::Mfcc, rs, sr)?.into_real()
    })
}

#[pyfunction]
pub(super) fn mfcc_from_log_mel<'py>(
    py: Python<'py>,
    s: PyReadonlyArray3<'py, f32>,
    n_mfcc: usize,
    lifter: f32,
) -> PyResult<Bound<'py, PyArrayDyn<f32>>> {
    let view = view3(&s)?;
    let parts = py
        .detach(|| {
            view.axis_iter(Axis(0))
                .map(|m| audio::mfcc_from_spectrogram(&m.to_owned(), n_mfcc, lifter))
                .collect::<Result<Vec<_>, _>>()
        })
        .map_err(to_py)?;
    output(py, stack(parts)?)
}

/// `librosa.feature.delta` along the last axis of `(rows, frames)`.
#[pyfunction]
pub(super) fn delta<'py>(
    py: Python<'py>,
    data: PyReadonlyArray2<'py, f32>,
    width: usize,
    order: usize,
) -> PyResult<Bound<'py, PyArrayDyn<f32>>> {
    let view = view2(&data)?.to_owned();
    let out = py
        .detach(|| audio::delta(&view, width, order))
        .map_err(to_py)?;
    output(py, out)
}
