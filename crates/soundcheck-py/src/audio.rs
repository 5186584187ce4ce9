//! The librosa-compatible front end: every transform of soundcheck-audio over the rows of a
//! `(rows, n)` array (the Python half folds librosa's leading axes into rows and back).

use std::path::PathBuf;

use ndarray::{Array2, Array3, ArrayView2, Axis};
use numpy::{Complex32, PyArrayDyn, PyReadonlyArray2, PyReadonlyArray3, PyReadonlyArrayDyn};
use pyo3::prelude::*;
use soundcheck_audio as audio;
use soundcheck_audio::{
    ChromaConfig, ContrastConfig, Descriptor, LoadOptions, MelConfig, MelFilterbank, OnsetConfig,
    PadMode, Ref, StftConfig,
};

use crate::convert::{flat, output, rows_out, view2, view3};
use crate::errors::{argument, to_py};

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(load, m)?)?;
    m.add_function(wrap_pyfunction!(resample, m)?)?;
    m.add_function(wrap_pyfunction!(stft, m)?)?;
    m.add_function(wrap_pyfunction!(istft, m)?)?;
    m.add_function(wrap_pyfunction!(spectrogram, m)?)?;
    m.add_function(wrap_pyfunction!(to_db, m)?)?;
    m.add_function(wrap_pyfunction!(mel_filters, m)?)?;
    m.add_function(wrap_pyfunction!(melspectrogram, m)?)?;
    m.add_function(wrap_pyfunction!(mel_from_spectrogram, m)?)?;
    m.add_function(wrap_pyfunction!(mfcc, m)?)?;
    m.add_function(wrap_pyfunction!(mfcc_from_log_mel, m)?)?;
    m.add_function(wrap_pyfunction!(delta, m)?)?;
    m.add_function(wrap_pyfunction!(frame_feature, m)?)?;
    m.add_function(wrap_pyfunction!(descriptor_of_spectrogram, m)?)?;
    m.add_function(wrap_pyfunction!(spectral_contrast, m)?)?;
    m.add_function(wrap_pyfunction!(descriptor_of_signal, m)?)?;
    m.add_function(wrap_pyfunction!(spectral_contrast_of_signal, m)?)?;
    m.add_function(wrap_pyfunction!(chroma_filters, m)?)?;
    m.add_function(wrap_pyfunction!(chroma_stft, m)?)?;
    m.add_function(wrap_pyfunction!(estimate_tuning, m)?)?;
    m.add_function(wrap_pyfunction!(cqt, m)?)?;
    m.add_function(wrap_pyfunction!(chroma_cqt, m)?)?;
    m.add_function(wrap_pyfunction!(cq_to_chroma, m)?)?;
    m.add_function(wrap_pyfunction!(tonnetz, m)?)?;
    m.add_function(wrap_pyfunction!(onset_strength, m)?)?;
    m.add_function(wrap_pyfunction!(onset_strength_from_spectrogram, m)?)?;
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
/// pad_mode)`, librosa's names.
type StftArgs = (usize, Option<usize>, Option<usize>, bool, String);

/// Mel settings: `(n_mels, fmin, fmax, htk, slaney_norm)`.
type MelArgs = (usize, f64, Option<f64>, bool, bool);

fn stft_config(
    (n_fft, hop_length, win_length, center, pad_mode): StftArgs,
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

/// `librosa.load`: `(channels, n)` float32 and the rate.
#[pyfunction]
#[pyo3(signature = (path, sr, mono, offset, duration))]
fn load(
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
fn resample<'py>(
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
fn stft<'py>(
    py: Python<'py>,
    y: PyReadonlyArray2<'py, f32>,
    stft: StftArgs,
) -> PyResult<Bound<'py, PyArrayDyn<Complex32>>> {
    let cfg = stft_config(stft)?;
    map_rows(py, &y, |r| audio::stft(r, &cfg))
}

#[pyfunction]
#[pyo3(signature = (s, n_fft, hop_length, win_length, center, length))]
fn istft<'py>(
    py: Python<'py>,
    s: PyReadonlyArray3<'py, Complex32>,
    n_fft: usize,
    hop_length: Option<usize>,
    win_length: Option<usize>,
    center: bool,
    length: Option<usize>,
) -> PyResult<Bound<'py, PyArrayDyn<f32>>> {
    let cfg = stft_config((n_fft, hop_length, win_length, center, "constant".into()))?;
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
fn spectrogram<'py>(
    py: Python<'py>,
    y: PyReadonlyArray2<'py, f32>,
    stft: StftArgs,
    power: f32,
) -> PyResult<Bound<'py, PyArrayDyn<f32>>> {
    let cfg = stft_config(stft)?;
    check_power(power)?;
    map_rows(py, &y, |r| magnitude_power(r, &cfg, power))
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

fn magnitude_power(y: &[f32], cfg: &StftConfig, power: f32) -> audio::Result<Array2<f32>> {
    if power == 2.0 {
        return audio::power_spectrogram(y, cfg);
    }
    let mut m = audio::magnitude(&audio::stft(y, cfg)?);
    if power != 1.0 {
        m.mapv_inplace(|v| v.powf(power));
    }
    Ok(m)
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
fn to_db<'py>(
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

#[pyfunction]
#[pyo3(signature = (sr, n_fft, mel))]
fn mel_filters(
    py: Python<'_>,
    sr: u32,
    n_fft: usize,
    mel: MelArgs,
) -> PyResult<Bound<'_, PyArrayDyn<f32>>> {
    let cfg = mel_config(mel);
    let fb = MelFilterbank::new(sr, n_fft, &cfg).map_err(to_py)?;
    output(py, fb.weights)
}

#[pyfunction]
#[pyo3(signature = (y, sr, stft, power, mel))]
fn melspectrogram<'py>(
    py: Python<'py>,
    y: PyReadonlyArray2<'py, f32>,
    sr: u32,
    stft: StftArgs,
    power: f32,
    mel: MelArgs,
) -> PyResult<Bound<'py, PyArrayDyn<f32>>> {
    let cfg = stft_config(stft)?;
    check_power(power)?;
    let mel = mel_config(mel);
    with_rows(py, &y, |rs| mels(rs, sr, &cfg, &mel, power))
}

/// Mel spectrograms of each row; power 2 takes the fused path that never stores the spectrum.
fn mels(
    rs: &[&[f32]],
    sr: u32,
    cfg: &StftConfig,
    mel: &MelConfig,
    power: f32,
) -> audio::Result<Vec<Array2<f32>>> {
    let fb = MelFilterbank::cached(sr, cfg.n_fft, mel)?;
    rs.iter()
        .map(|r| {
            if power == 2.0 {
                fb.melspectrogram(r, cfg)
            } else {
                Ok(fb.apply(&magnitude_power(r, cfg, power)?))
            }
        })
        .collect()
}

/// The mel filterbank applied to given spectrograms `(rows, 1 + n_fft/2, frames)`.
#[pyfunction]
#[pyo3(signature = (s, sr, n_fft, mel))]
fn mel_from_spectrogram<'py>(
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
fn mfcc<'py>(
    py: Python<'py>,
    y: PyReadonlyArray2<'py, f32>,
    sr: u32,
    stft: StftArgs,
    power: f32,
    mel: MelArgs,
    n_mfcc: usize,
    lifter: f32,
) -> PyResult<Bound<'py, PyArrayDyn<f32>>> {
    let cfg = stft_config(stft)?;
    check_power(power)?;
    let mel = mel_config(mel);
    with_rows(py, &y, |rs| {
        if power == 2.0 {
            return audio::mfcc_channels(rs, sr, &cfg, &mel, n_mfcc, lifter);
        }
        let log = audio::power_to_db_channels(
            mels(rs, sr, &cfg, &mel, power)?,
            Ref::Value(1.0),
            1e-10,
            Some(80.0),
        )?;
        log.iter()
            .map(|l| audio::mfcc_from_log_mel(l, n_mfcc, lifter))
            .collect()
    })
}

#[pyfunction]
fn mfcc_from_log_mel<'py>(
    py: Python<'py>,
    s: PyReadonlyArray3<'py, f32>,
    n_mfcc: usize,
    lifter: f32,
) -> PyResult<Bound<'py, PyArrayDyn<f32>>> {
    let view = view3(&s)?;
    let parts = py
        .detach(|| {
            view.axis_iter(Axis(0))
                .map(|m| audio::mfcc_from_log_mel(&m.to_owned(), n_mfcc, lifter))
                .collect::<Result<Vec<_>, _>>()
        })
        .map_err(to_py)?;
    output(py, stack(parts)?)
}

/// `librosa.feature.delta` along the last axis of `(rows, frames)`.
#[pyfunction]
fn delta<'py>(
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

/// `rms` or `zero_crossing_rate` of each row of `y`: `(rows, 1, frames)`.
#[pyfunction]
fn frame_feature<'py>(
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
fn descriptor_of_spectrogram<'py>(
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
fn spectral_contrast<'py>(
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
        .detach(|| audio::spectral_contrast_channels(&mats, sr, n_fft, &cfg))
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
fn onset_strength<'py>(
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
        .detach(|| audio::onset_strength_channels(&rs, sr, n_fft, hop_length, &mel, &cfg))
        .map_err(to_py)?;
    rows_out(py, curves)
}

/// Onset strength of given log-power spectrograms `(rows, bins, frames)`: `(rows, frames)`.
#[pyfunction]
#[pyo3(signature = (s, n_fft, hop_length, lag, max_size, detrend, center))]
fn onset_strength_from_spectrogram<'py>(
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
fn chroma_filters(
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
fn chroma_stft<'py>(
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
        .detach(|| audio::chroma_stft_channels(&mats, sr, n_fft, &cfg))
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
fn cqt<'py>(
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
fn chroma_cqt<'py>(
    py: Python<'py>,
    y: PyReadonlyArray2<'py, f32>,
    sr: u32,
    cqt: CqtArgs,
    tuning: Option<f64>,
    n_chroma: usize,
) -> PyResult<Bound<'py, PyArrayDyn<f32>>> {
    let cfg = cqt_config(cqt);
    with_rows(py, &y, |rows| {
        audio::chroma_cqt_channels(rows, sr, &cfg, tuning, n_chroma)
    })
}

/// librosa.filters.cq_to_chroma: `(n_chroma, n_input)`.
#[pyfunction]
fn cq_to_chroma<'py>(
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
fn tonnetz<'py>(
    py: Python<'py>,
    chroma: PyReadonlyArray3<'py, f32>,
) -> PyResult<Bound<'py, PyArrayDyn<f32>>> {
    let mats = matrices(&chroma)?;
    let parts = py.detach(|| mats.iter().map(audio::tonnetz).collect::<Vec<_>>());
    output(py, stack(parts)?)
}

/// The tuning of given spectrograms `(rows, bins, frames)`, all rows together.
#[pyfunction]
fn estimate_tuning(
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
    Ok(py.detach(|| audio::estimate_tuning(&mats, sr, n_fft, bins_per_octave)))
}

/// A spectral descriptor of each row of `y`, each frame reduced inside the STFT (nothing stored):
/// `(rows, 1, frames)`. `kind` is centroid, bandwidth (`a` = p), rolloff (`a` = roll_percent)
/// or flatness (`a` = power, `b` = amin).
#[pyfunction]
#[pyo3(signature = (y, sr, stft, kind, a, b))]
fn descriptor_of_signal<'py>(
    py: Python<'py>,
    y: PyReadonlyArray2<'py, f32>,
    sr: u32,
    stft: StftArgs,
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
fn spectral_contrast_of_signal<'py>(
    py: Python<'py>,
    y: PyReadonlyArray2<'py, f32>,
    sr: u32,
    stft: StftArgs,
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
        audio::spectral_contrast_of_signals(rs, sr, &cfg, &contrast)
    })
}
