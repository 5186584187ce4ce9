//! `librosa.onset.onset_strength`: spectral flux of the log-power mel spectrogram, the
//! novelty curve beat trackers and onset detectors read.

use ndarray::Array2;
use rayon::prelude::*;

use crate::db::{power_to_db_channels, Ref};
use crate::error::{invalid, Result};
use crate::mel::{MelConfig, MelFilterbank};
use crate::stft::StftConfig;

/// `onset_strength` parameters, librosa's names and defaults.
#[derive(Clone, Debug, PartialEq)]
pub struct OnsetConfig {
    /// Frames between the two spectra compared (1).
    pub lag: usize,
    /// Width of the maximum filter over frequency applied to the reference spectrum (1: none;
    /// 3 with lag 2 is SuperFlux).
    pub max_size: usize,
    /// Remove the DC component with the filter `(1 − z⁻¹) / (1 − 0.99 z⁻¹)` (false).
    pub detrend: bool,
    /// Shift the curve so frame `t` is centred on sample `t · hop`, as the STFT frames are (true).
    pub center: bool,
}

impl Default for OnsetConfig {
    fn default() -> Self {
        OnsetConfig {
            lag: 1,
            max_size: 1,
            detrend: false,
            center: true,
        }
    }
}

/// The largest value of each column's window `[i − size/2, i − size/2 + size − 1]` along the
/// rows; scipy's `maximum_filter1d` with its default 'reflect' edges, whose mirrored samples are
/// always inside the clipped window already.
fn max_filter_rows(s: &Array2<f32>, size: usize) -> Array2<f32> {
    let n = s.nrows();
    Array2::from_shape_fn(s.dim(), |(i, t)| {
        let lo = i.saturating_sub(size / 2);
        let hi = (i + size - 1 - size / 2).min(n - 1);
        (lo..=hi)
            .map(|r| s[[r, t]])
            .fold(f32::NEG_INFINITY, f32::max)
    })
}

/// The flux curve of one log-power mel spectrogram.
fn flux(s: &Array2<f32>, cfg: &OnsetConfig, pad: usize) -> Vec<f32> {
    let reference = (cfg.max_size > 1).then(|| max_filter_rows(s, cfg.max_size));
    let reference = reference.as_ref().unwrap_or(s);
    let (bins, frames) = s.dim();
    let moved = frames.saturating_sub(cfg.lag);
    let env: Vec<f32> = (0..moved)
        .into_par_iter()
        .map(|t| {
            let rise: f64 = (0..bins)
                .map(|f| f64::from((s[[f, t + cfg.lag]] - reference[[f, t]]).max(0.0)))
                .sum();
            (rise / bins as f64) as f32
        })
        .collect();
    let mut out = vec![0f32; pad];
    out.extend(env);
    if cfg.detrend {
        // scipy.signal.lfilter([1, -1], [1, -0.99]) from rest.
        let (mut x1, mut y1) = (0f64, 0f64);
        for v in out.iter_mut() {
            let x = f64::from(*v);
            let y = x - x1 + 0.99 * y1;
            (x1, y1) = (x, y);
            *v = y as f32;
        }
    }
    if cfg.center {
        out.truncate(frames);
    }
    out
}

/// `librosa.onset.onset_strength(y=y, sr=sr, n_fft=..., hop_length=..., lag=..., max_size=...,
/// detrend=..., center=...)` of one signal's channels: `power_to_db` of the mel spectrogram
/// (always centred frames, as librosa computes it), its rise over `lag` frames against the
/// (max-filtered) reference, averaged over the mel bands, padded so frames line up. The dB floor
/// is set by every channel together, as librosa's for a `(channels, n)` array.
///
/// # Shapes
/// - each channel: `(n,)`
/// - output per channel: `(n_frames,)`, the STFT's frame count (with `center`)
pub fn onset_strength(
    channels: &[&[f32]],
    sr: u32,
    n_fft: usize,
    hop_length: usize,
    mel: &MelConfig,
    cfg: &OnsetConfig,
) -> Result<Vec<Vec<f32>>> {
    check(cfg)?;
    let stft = StftConfig {
        n_fft,
        hop_length: Some(hop_length),
        ..StftConfig::default()
    };
    stft.validate()?;
    let fb = MelFilterbank::cached(sr, n_fft, mel)?;
    let mels = channels
        .iter()
        .map(|y| fb.melspectrogram(y, &stft))
        .collect::<Result<Vec<_>>>()?;
    let logs = power_to_db_channels(mels, Ref::Value(1.0), 1e-10, Some(80.0))?;
    logs.iter()
        .map(|s| onset_strength_from_spectrogram(s, n_fft, hop_length, cfg))
        .collect()
}

/// `librosa.onset.onset_strength(S=s, n_fft=..., hop_length=..., ...)`: the flux of a given
/// (log-power) spectrogram; `n_fft` and `hop_length` only set the centring shift.
///
/// # Shapes
/// - `s`: `(bins, n_frames)`
/// - output: `(n_frames,)`
pub fn onset_strength_from_spectrogram(
    s: &Array2<f32>,
    n_fft: usize,
    hop_length: usize,
    cfg: &OnsetConfig,
) -> Result<Vec<f32>> {
    check(cfg)?;
    // A lag as long as the clip is no error in librosa: nothing rises, the envelope is the
    // padding's zeros. Only its length is bounded (without centring it is `lag` long).
    soundcheck_io::budget::memory(
        "the onset envelope (`lag` + frames)",
        &[cfg.lag.saturating_add(s.ncols())],
        4,
    )
    .map_err(|e| {
        invalid(
            "lag",
            cfg.lag,
            "an envelope that fits in memory",
            e.to_string(),
        )
    })?;
    if hop_length == 0 {
        return Err(invalid(
            "hop_length",
            0,
            "a positive integer",
            "librosa's default is 512",
        ));
    }
    let pad = cfg.lag
        + if cfg.center {
            n_fft / (2 * hop_length)
        } else {
            0
        };
    Ok(flux(s, cfg, pad))
}

fn check(cfg: &OnsetConfig) -> Result<()> {
    for (name, v) in [("lag", cfg.lag), ("max_size", cfg.max_size)] {
        if v == 0 {
            return Err(invalid(
                name,
                v,
                "a positive integer",
                "librosa's default is 1",
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_flux_of_a_step_is_its_rise_after_the_padding() {
        // Two bands, four frames; the level rises by 4 dB in one band between frames 1 and 2.
        let s =
            Array2::from_shape_vec((2, 4), vec![0.0, 0.0, 4.0, 4.0, 1.0, 1.0, 1.0, 1.0]).unwrap();
        let cfg = OnsetConfig::default();
        // lag 1 + n_fft/(2·hop) = 2 zeros, then the mean rise (0, 2, 0), cut to 4 frames.
        assert_eq!(flux(&s, &cfg, 3), vec![0.0, 0.0, 0.0, 0.0]);
        assert_eq!(flux(&s, &cfg, 1), vec![0.0, 0.0, 2.0, 0.0]);
    }

    #[test]
    fn the_max_filter_clips_its_window_at_the_edges() {
        let s = Array2::from_shape_vec((4, 1), vec![1.0, 5.0, 2.0, 3.0]).unwrap();
        let m = max_filter_rows(&s, 3);
        assert_eq!(m.column(0).to_vec(), vec![5.0, 5.0, 5.0, 3.0]);
        let m = max_filter_rows(&s, 2);
        assert_eq!(m.column(0).to_vec(), vec![1.0, 5.0, 5.0, 3.0]);
    }

    #[test]
    fn detrending_is_scipys_first_order_filter() {
        let s = Array2::from_shape_vec((1, 3), vec![0.0, 1.0, 1.0]).unwrap();
        let cfg = OnsetConfig {
            detrend: true,
            center: false,
            ..OnsetConfig::default()
        };
        // x = (0, 1, 0) after one zero of padding: y = (0, 1, −1 + 0.99).
        let y = flux(&s, &cfg, 1);
        assert_eq!(y.len(), 3);
        assert!(
            (y[1] - 1.0).abs() < 1e-7 && (y[2] + 0.01).abs() < 1e-6,
            "{y:?}"
        );
    }
}
