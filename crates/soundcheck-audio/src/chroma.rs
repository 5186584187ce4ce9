//! `librosa.feature.chroma_stft`: the power spectrogram folded onto the 12 pitch classes, after
//! estimating how far the recording's tuning is from A440 (`librosa.estimate_tuning`: the peaks
//! `piptrack` finds, histogrammed by `pitch_tuning`), through `librosa.filters.chroma`.

use ndarray::{Array2, ArrayView1, Axis};
use rayon::prelude::*;

use crate::error::{invalid, Result};
use crate::spectral::check_bins;

/// `chroma_stft` parameters, librosa's names and defaults.
#[derive(Clone, Debug, PartialEq)]
pub struct ChromaConfig {
    /// Pitch classes per octave (12).
    pub n_chroma: usize,
    /// Deviation from A440 in fractions of a chroma bin; `None` estimates it from the signal,
    /// as librosa does by default.
    pub tuning: Option<f64>,
    /// Centre of the octave weighting, in octaves above C0 (5.0, about C5).
    pub ctroct: f64,
    /// Width of the Gaussian octave weighting in octaves; `None` weights every octave alike (2.0).
    pub octwidth: Option<f64>,
    /// Start the rows at C instead of A (true).
    pub base_c: bool,
}

impl Default for ChromaConfig {
    fn default() -> Self {
        ChromaConfig {
            n_chroma: 12,
            tuning: None,
            ctroct: 5.0,
            octwidth: Some(2.0),
            base_c: true,
        }
    }
}

/// The most pitch classes per octave: one per cent. The filterbank holds `n_chroma · n_fft`
/// weights, so the count a caller passes is bounded before anything is allocated.
pub const MAX_N_CHROMA: usize = 1200;

/// `octs = log2(f / (A440 / 16))` with A440 moved by `tuning` bins (`librosa.hz_to_octs`).
fn hz_to_octs(f: f64, tuning: f64, bins_per_octave: usize) -> f64 {
    let a440 = 440.0 * 2f64.powf(tuning / bins_per_octave as f64);
    (f / (a440 / 16.0)).log2()
}

/// `librosa.filters.chroma(sr=sr, n_fft=n_fft, tuning=..., n_chroma=...)` with its defaults
/// (`norm=2` per frequency bin), computed in f64 and returned as f32 as librosa returns it.
///
/// # Shapes
/// - output: `(n_chroma, 1 + n_fft/2)`
pub fn chroma_filters(
    sr: u32,
    n_fft: usize,
    tuning: f64,
    cfg: &ChromaConfig,
) -> Result<Array2<f32>> {
    let n = cfg.n_chroma;
    if !(1..=MAX_N_CHROMA).contains(&n) {
        return Err(invalid(
            "n_chroma",
            n,
            format!("an integer from 1 to {MAX_N_CHROMA} (one bin per cent)"),
            "librosa's default is 12; 24 or 36 split each semitone",
        ));
    }
    if !tuning.is_finite() {
        return Err(invalid(
            "tuning",
            tuning,
            "a finite fraction of a bin",
            "leave it unset to estimate it",
        ));
    }
    if n_fft < 2 {
        return Err(invalid(
            "n_fft",
            n_fft,
            "at least 2",
            "librosa's default is 2048",
        ));
    }
    let step = f64::from(sr) / n_fft as f64;
    let mut frqbins: Vec<f64> = (1..n_fft)
        .map(|k| n as f64 * hz_to_octs(k as f64 * step, tuning, n))
        .collect();
    frqbins.insert(0, frqbins[0] - 1.5 * n as f64);
    let mut width: Vec<f64> = frqbins.windows(2).map(|w| (w[1] - w[0]).max(1.0)).collect();
    width.push(1.0);
    let half = (n as f64 / 2.0).round_ties_even();
    let mut w = Array2::<f64>::from_shape_fn((n, n_fft), |(c, i)| {
        let d = (frqbins[i] - c as f64 + half + 10.0 * n as f64).rem_euclid(n as f64) - half;
        (-0.5 * (2.0 * d / width[i]).powi(2)).exp()
    });
    for mut col in w.axis_iter_mut(Axis(1)) {
        let length = col.iter().map(|v| v * v).sum::<f64>().powf(0.5);
        if length >= f64::MIN_POSITIVE {
            col.mapv_inplace(|v| v / length);
        }
    }
    if let Some(octwidth) = cfg.octwidth {
        for (i, mut col) in w.axis_iter_mut(Axis(1)).enumerate() {
            let g = (-0.5 * ((frqbins[i] / n as f64 - cfg.ctroct) / octwidth).powi(2)).exp();
            col.mapv_inplace(|v| v * g);
        }
    }
    let shift = if cfg.base_c { 3 * (n / 12) } else { 0 };
    let bins = 1 + n_fft / 2;
    Ok(Array2::from_shape_fn((n, bins), |(c, i)| {
        w[[(c + shift) % n, i]] as f32
    }))
}

/// Spectral peaks of one frame of a power spectrogram, as `librosa.piptrack` finds them:
/// `(pitch in Hz, magnitude)` for every local maximum above a tenth of the frame's maximum
/// between 150 Hz and min(4000 Hz, Nyquist), refined by parabolic interpolation. The arithmetic
/// follows librosa's dtypes (f32 arrays, f64 intermediates) so the same peaks come out.
fn frame_peaks(x: ArrayView1<f32>, sr: u32, n_fft: usize, out: &mut Vec<(f32, f32)>) {
    let n = x.len();
    if n < 3 {
        return;
    }
    let fmax = 4000f64.min(f64::from(sr) / 2.0);
    let top = x.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let floor = 0.1f32 * top;
    let masked = |i: usize| if x[i] > floor { x[i] } else { 0.0 };
    for i in 1..n {
        let f = i as f64 * f64::from(sr) / n_fft as f64;
        if !(150.0..fmax).contains(&f) {
            continue;
        }
        let peak = if i == n - 1 {
            masked(i) > masked(i - 1)
        } else {
            masked(i) > masked(i - 1) && masked(i) >= masked(i + 1)
        };
        if !peak {
            continue;
        }
        let (gradient, shift) = if i == n - 1 {
            (x[i] - x[i - 1], 0f32)
        } else {
            let (prev, here, next) = (x[i - 1], x[i], x[i + 1]);
            let a = f64::from(next + prev) - 2.0 * f64::from(here);
            let b = f64::from(next - prev) / 2.0;
            let shift = if b.abs() >= a.abs() {
                0.0
            } else {
                (-b / a) as f32
            };
            ((next - prev) / 2.0, shift)
        };
        let pitch = ((i as f64 + f64::from(shift)) * f64::from(sr) / n_fft as f64) as f32;
        out.push((pitch, x[i] + 0.5 * gradient * shift));
    }
}

/// `librosa.estimate_tuning(S=power, sr=sr, bins_per_octave=n_chroma)` over every channel
/// together: the peaks at or above the median peak magnitude, each pitch's distance from the
/// nearest bin of the A440 grid histogrammed in hundredths of a bin; the fullest bin's left edge.
/// 0 when no peak is found (librosa warns and returns 0 too).
pub fn estimate_tuning_from_spectrogram(
    power: &[Array2<f32>],
    sr: u32,
    n_fft: usize,
    bins_per_octave: usize,
) -> f64 {
    let peaks: Vec<(f32, f32)> = power
        .iter()
        .flat_map(|s| s.axis_iter(Axis(1)).collect::<Vec<_>>())
        .collect::<Vec<_>>()
        .into_par_iter()
        .flat_map_iter(|col| {
            let mut v = Vec::new();
            frame_peaks(col, sr, n_fft, &mut v);
            v
        })
        .filter(|&(p, _)| p > 0.0)
        .collect();
    if peaks.is_empty() {
        return 0.0;
    }
    let mut mags: Vec<f32> = peaks.iter().map(|&(_, m)| m).collect();
    mags.sort_unstable_by(f32::total_cmp);
    let mid = mags.len() / 2;
    let threshold = if mags.len() % 2 == 1 {
        mags[mid]
    } else {
        (mags[mid - 1] + mags[mid]) / 2.0
    };
    // pitch_tuning, in librosa's float32 arithmetic, against numpy's linspace(-0.5, 0.5, 101).
    let edges: Vec<f64> = (0..=100)
        .map(|k| if k == 100 { 0.5 } else { k as f64 * 0.01 - 0.5 })
        .collect();
    let mut counts = [0usize; 100];
    let a440_16 = 27.5f32;
    for &(pitch, mag) in &peaks {
        if mag < threshold {
            continue;
        }
        let mut r = (bins_per_octave as f32 * (pitch / a440_16).log2()).rem_euclid(1.0);
        if r >= 0.5 {
            r -= 1.0;
        }
        let r = f64::from(r);
        // numpy's bins are half-open [e_k, e_k+1), the last one closed.
        let k = edges.partition_point(|&e| e <= r).saturating_sub(1).min(99);
        if r >= edges[0] && r <= edges[100] {
            counts[k] += 1;
        }
    }
    let best = (0..100).fold(0, |b, k| if counts[k] > counts[b] { k } else { b });
    edges[best]
}

/// `librosa.feature.chroma_stft(S=power, sr=sr, ...)` of one signal's channels (norm=inf per
/// frame); with `tuning` unset, one tuning estimated from every channel together, as librosa
/// estimates it over a `(channels, …)` array.
///
/// # Shapes
/// - each channel: `(1 + n_fft/2, n_frames)` power spectrogram
/// - output per channel: `(n_chroma, n_frames)`
pub fn chroma_stft_from_spectrogram(
    power: &[Array2<f32>],
    sr: u32,
    n_fft: usize,
    cfg: &ChromaConfig,
) -> Result<Vec<Array2<f32>>> {
    for s in power {
        check_bins(s, n_fft)?;
    }
    let tuning = match cfg.tuning {
        Some(t) => t,
        None => estimate_tuning_from_spectrogram(power, sr, n_fft, cfg.n_chroma),
    };
    let fb = chroma_filters(sr, n_fft, tuning, cfg)?;
    Ok(power
        .iter()
        .map(|s| {
            let mut raw = fb.dot(s);
            normalize_frames_by_max(&mut raw);
            raw
        })
        .collect())
}

/// `librosa.feature.chroma_stft(y=y, sr=sr, ...)` of a signal's channels: the chroma of their
/// power spectrograms, one tuning for all (see [`chroma_stft_from_spectrogram`]).
///
/// # Shapes
/// - each channel: `(n,)`
/// - output per channel: `(n_chroma, n_frames)`
pub fn chroma_stft(
    channels: &[&[f32]],
    sr: u32,
    stft: &crate::StftConfig,
    cfg: &ChromaConfig,
) -> Result<Vec<Array2<f32>>> {
    let power = channels
        .iter()
        .map(|y| crate::power_spectrogram(y, stft))
        .collect::<Result<Vec<_>>>()?;
    chroma_stft_from_spectrogram(&power, sr, stft.n_fft, cfg)
}

/// Each frame divided by its largest value (librosa's `normalize(norm=np.inf, axis=-2)`);
/// frames whose largest value is below float32's smallest normal are left as they are.
fn normalize_frames_by_max(chroma: &mut Array2<f32>) {
    for mut col in chroma.axis_iter_mut(Axis(1)) {
        let length = col.iter().fold(0f64, |m, &v| m.max(f64::from(v.abs())));
        if length >= f64::from(f32::MIN_POSITIVE) {
            col.mapv_inplace(|v| (f64::from(v) / length) as f32);
        }
    }
}

/// `librosa.filters.cq_to_chroma(n_input, bins_per_octave, n_chroma, fmin)` (no window, base
/// C): which constant-Q bins each pitch class sums, `(n_chroma, n_input)`.
pub fn cq_to_chroma(
    n_input: usize,
    bins_per_octave: usize,
    n_chroma: usize,
    fmin: f64,
) -> Result<Array2<f32>> {
    if n_chroma == 0 || !bins_per_octave.is_multiple_of(n_chroma) {
        return Err(invalid(
            "bins_per_octave",
            bins_per_octave,
            format!("a multiple of n_chroma={n_chroma}"),
            "librosa's chroma_cqt uses 36 bins per octave for 12 pitch classes",
        ));
    }
    let merge = bins_per_octave / n_chroma;
    // np.repeat(eye) rolled left by merge // 2, tiled over the octaves, rows rolled by the
    // pitch class of fmin.
    let midi = (12.0 * (fmin.log2() - 440f64.log2()) + 69.0).rem_euclid(12.0);
    let roll = (midi * (n_chroma as f64 / 12.0)).round_ties_even() as i64;
    Ok(Array2::from_shape_fn((n_chroma, n_input), |(c, f)| {
        let col = (f % bins_per_octave + merge / 2) % bins_per_octave;
        let row = (c as i64 - roll).rem_euclid(n_chroma as i64) as usize;
        f32::from(u8::from(col / merge == row))
    }))
}

/// `librosa.feature.chroma_cqt(y=y, sr=sr)` for each channel, with librosa's defaults: the
/// magnitude of a 7-octave, 36-bins-per-octave constant-Q transform from C1, summed into 12
/// pitch classes and divided by each frame's maximum. The tuning, unless given in `cqt`
/// (`None` here), is estimated from all channels' magnitude spectrograms together, as librosa
/// estimates it from a multichannel `y`.
///
/// # Shapes
/// - `channels`: each `(n,)`
/// - output: each `(n_chroma, frames)`, frames as [`cqt`](crate::cqt()) gives them
pub fn chroma_cqt(
    channels: &[&[f32]],
    sr: u32,
    cqt: &crate::CqtConfig,
    tuning: Option<f64>,
    n_chroma: usize,
) -> Result<Vec<Array2<f32>>> {
    let tuning = match tuning {
        Some(t) => t,
        None => {
            let stft = crate::StftConfig::default();
            let mags = channels
                .iter()
                .map(|y| Ok(crate::magnitude(&crate::stft(y, &stft)?)))
                .collect::<Result<Vec<_>>>()?;
            estimate_tuning_from_spectrogram(&mags, sr, stft.n_fft, cqt.bins_per_octave)
        }
    };
    let cfg = crate::CqtConfig {
        tuning,
        ..cqt.clone()
    };
    let fmin = cfg.fmin.unwrap_or_else(crate::cqt::c1);
    let filters = cq_to_chroma(cfg.n_bins, cfg.bins_per_octave, n_chroma, fmin)?;
    channels
        .iter()
        .map(|y| {
            let c = crate::cqt(y, sr, &cfg)?.mapv(|v| v.norm());
            let mut chroma = filters.dot(&c);
            normalize_frames_by_max(&mut chroma);
            Ok(chroma)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pure_a440_maps_to_the_a_row_and_the_grid_it_sits_on() {
        let (sr, n_fft) = (22050u32, 4096usize);
        let bin = 440.0 * n_fft as f64 / f64::from(sr);
        // A peak exactly on bin round(bin) would be off-grid; build a spectrum whose parabola
        // peaks at 440 Hz: three bins around it with symmetric weights about the true position.
        let mut s = Array2::<f32>::zeros((1 + n_fft / 2, 4));
        let k = bin.round() as usize;
        let d = bin - k as f64;
        for t in 0..4 {
            s[[k - 1, t]] = (1.0 - (d + 1.0).powi(2) / 4.0) as f32;
            s[[k, t]] = (1.0 - d.powi(2) / 4.0) as f32;
            s[[k + 1, t]] = (1.0 - (d - 1.0).powi(2) / 4.0) as f32;
        }
        let tuning = estimate_tuning_from_spectrogram(std::slice::from_ref(&s), sr, n_fft, 12);
        assert!(tuning.abs() < 0.015, "{tuning}");
        let c = chroma_stft_from_spectrogram(&[s], sr, n_fft, &ChromaConfig::default()).unwrap();
        // base_c: rows start at C, so A is row 9; norm=inf makes the strongest class 1.
        let col = c[0].column(0);
        let best = (0..12).fold(0, |b, r| if col[r] > col[b] { r } else { b });
        assert_eq!(best, 9);
        assert_eq!(col[9], 1.0);
    }

    #[test]
    fn silence_has_no_peaks_and_zero_chroma() {
        let s = Array2::<f32>::zeros((1025, 3));
        assert_eq!(
            estimate_tuning_from_spectrogram(std::slice::from_ref(&s), 22050, 2048, 12),
            0.0
        );
        let c = chroma_stft_from_spectrogram(&[s], 22050, 2048, &ChromaConfig::default()).unwrap();
        assert!(c[0].iter().all(|&v| v == 0.0));
    }
}
