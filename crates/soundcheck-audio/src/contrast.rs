//! `librosa.feature.spectral_contrast`: per octave band and frame, the dB difference between the
//! band's peak (mean of its loudest bins) and valley (mean of its quietest bins).

use ndarray::{Array2, Axis};
use rayon::prelude::*;

use crate::db::{power_to_db_channels, Ref};
use crate::error::{invalid, Result};
use crate::spectral::fft_frequencies;
use crate::stft::{for_each_block, StftConfig};

/// `spectral_contrast` parameters, librosa's names and defaults.
#[derive(Clone, Debug, PartialEq)]
pub struct ContrastConfig {
    /// Lower edge of the first octave band, Hz (200).
    pub fmin: f64,
    /// Octave bands above the one below `fmin` (6): `n_bands + 1` rows out.
    pub n_bands: usize,
    /// Share of a band's bins averaged for its peak and for its valley (0.02).
    pub quantile: f64,
    /// Peak − valley in magnitude instead of the dB difference (false).
    pub linear: bool,
}

impl Default for ContrastConfig {
    fn default() -> Self {
        ContrastConfig {
            fmin: 200.0,
            n_bands: 6,
            quantile: 0.02,
            linear: false,
        }
    }
}

/// The bins each band averages over, and how many of its sorted bins make the peak and valley.
#[derive(Debug)]
struct Band {
    bins: std::ops::Range<usize>,
    take: usize,
}

/// librosa's band layout: band k holds the bins in `[octa[k], octa[k+1]]` Hz, plus the bin just
/// below (k > 0), less its top bin (k < n_bands); the last band runs to Nyquist. The quantile
/// count is taken over the band before its top bin is dropped, rounded half to even (np.rint).
fn bands(sr: u32, n_fft: usize, cfg: &ContrastConfig) -> Result<Vec<Band>> {
    if !(cfg.fmin > 0.0 && cfg.fmin.is_finite()) {
        return Err(invalid(
            "fmin",
            cfg.fmin,
            "a positive frequency in Hz",
            "librosa's default is 200",
        ));
    }
    if cfg.n_bands == 0 {
        return Err(invalid(
            "n_bands",
            0,
            "a positive integer",
            "librosa's default is 6",
        ));
    }
    if !(cfg.quantile > 0.0 && cfg.quantile < 1.0) {
        return Err(invalid(
            "quantile",
            cfg.quantile,
            "a number in (0, 1)",
            "librosa's default is 0.02",
        ));
    }
    let nyquist = 0.5 * f64::from(sr);
    let top = cfg.fmin * 2f64.powi(i32::try_from(cfg.n_bands - 1).unwrap_or(i32::MAX));
    if top >= nyquist {
        return Err(invalid(
            "n_bands",
            cfg.n_bands,
            format!("bands whose lower edges stay below Nyquist ({nyquist} Hz); fmin·2^(n_bands−1) is {top} Hz"),
            "reduce fmin or n_bands",
        ));
    }
    let freq = fft_frequencies(sr, n_fft);
    let mut edges = vec![0.0];
    edges.extend((0..=cfg.n_bands).map(|k| cfg.fmin * 2f64.powi(k as i32)));
    let mut out = Vec::with_capacity(cfg.n_bands + 1);
    for k in 0..=cfg.n_bands {
        let (lo, hi) = (edges[k], edges[k + 1]);
        let inside: Vec<usize> = (0..freq.len())
            .filter(|&i| freq[i] >= lo && freq[i] <= hi)
            .collect();
        let (Some(&first), Some(&last)) = (inside.first(), inside.last()) else {
            return Err(invalid(
                "n_fft",
                n_fft,
                format!("at least one bin in every band; {lo:.1}–{hi:.1} Hz has none"),
                "use a larger n_fft or a higher fmin",
            ));
        };
        let start = if k > 0 {
            first.saturating_sub(1)
        } else {
            first
        };
        let end = if k == cfg.n_bands {
            freq.len()
        } else {
            last + 1
        };
        let counted = end - start;
        let take = ((cfg.quantile * counted as f64).round_ties_even() as usize).max(1);
        let bins = if k < cfg.n_bands {
            start..end - 1
        } else {
            start..end
        };
        if bins.is_empty() {
            return Err(invalid(
                "n_fft",
                n_fft,
                format!("at least two bins in the {lo:.1}–{hi:.1} Hz band"),
                "use a larger n_fft or a higher fmin",
            ));
        }
        // numpy's slices stop at the end: a count above the band's size averages all of it.
        let take = take.min(bins.len());
        out.push(Band { bins, take });
    }
    Ok(out)
}

/// One frame's band peaks then band valleys, `out = [peak_0 .. peak_n, valley_0 .. valley_n]`.
fn frame_means(c: &[f32], bands: &[Band], scratch: &mut Extremes, out: &mut [f32]) {
    let nb = bands.len();
    for (k, b) in bands.iter().enumerate() {
        let (low, high) = scratch.of(&c[b.bins.clone()], b.take);
        let mean =
            |v: &[f32]| (v.iter().map(|&x| f64::from(x)).sum::<f64>() / b.take as f64) as f32;
        out[k] = mean(high);
        out[nb + k] = mean(low);
    }
}

/// The `n` smallest and `n` largest values of a band, found in one pass with two small sorted
/// lists (a band is hundreds of bins, `n` a few: a sort or a selection would move them all).
#[derive(Default)]
struct Extremes {
    low: Vec<f32>,
    high: Vec<f32>,
}

impl Extremes {
    fn of(&mut self, v: &[f32], n: usize) -> (&[f32], &[f32]) {
        let n = n.min(v.len());
        // Magnitudes mostly fall with frequency: the smallest are sought from the top of the band
        // and the largest from the bottom, so that most values fail the one comparison against
        // the current bound.
        keep::<true>(&mut self.low, v.iter().rev().copied(), n);
        keep::<false>(&mut self.high, v.iter().copied(), n);
        (&self.low, &self.high)
    }
}

/// The `n` smallest (`SMALLEST`) or largest values, sorted ascending in `kept`. The bound to beat
/// is the largest kept (or the smallest kept), held in a register; a value that beats it is
/// placed by shifting the few kept values, with no search.
fn keep<const SMALLEST: bool>(
    kept: &mut Vec<f32>,
    mut values: impl Iterator<Item = f32>,
    n: usize,
) {
    kept.clear();
    kept.extend(values.by_ref().take(n));
    kept.sort_unstable_by(f32::total_cmp);
    let Some(&(mut bound)) = (if SMALLEST { kept.last() } else { kept.first() }) else {
        return;
    };
    for x in values {
        if SMALLEST && x < bound {
            // Drop the largest, then shift larger values up one place.
            let mut i = n - 1;
            while i > 0 && kept[i - 1] > x {
                kept[i] = kept[i - 1];
                i -= 1;
            }
            kept[i] = x;
            bound = kept[n - 1];
        } else if !SMALLEST && x > bound {
            // Drop the smallest, then shift smaller values down one place.
            let mut i = 0;
            while i + 1 < n && kept[i + 1] < x {
                kept[i] = kept[i + 1];
                i += 1;
            }
            kept[i] = x;
            bound = kept[0];
        }
    }
}

/// Peaks and valleys `(n_bands + 1, frames)` from frame-major `[peaks, valleys]` rows.
fn split(per_frame: &[f32], nb: usize) -> (Array2<f32>, Array2<f32>) {
    let frames = per_frame.len() / (2 * nb);
    let at = |t: usize, k: usize| per_frame[t * 2 * nb + k];
    (
        Array2::from_shape_fn((nb, frames), |(k, t)| at(t, k)),
        Array2::from_shape_fn((nb, frames), |(k, t)| at(t, nb + k)),
    )
}

/// Peaks and valleys of one magnitude spectrogram.
fn peaks_valleys(s: &Array2<f32>, bands: &[Band]) -> (Array2<f32>, Array2<f32>) {
    let nb = bands.len();
    let cols: Vec<_> = s.axis_iter(Axis(1)).collect();
    let mut per_frame = vec![0f32; 2 * nb * cols.len()];
    per_frame.par_chunks_mut(2 * nb).zip(cols).for_each_init(
        || (Vec::new(), Extremes::default()),
        |(col, scratch), (out, c)| {
            col.clear();
            col.extend(c.iter());
            frame_means(col, bands, scratch, out);
        },
    );
    split(&per_frame, nb)
}

/// Peaks and valleys of one signal's magnitude spectrogram, each frame reduced as soon as its
/// FFT is done (no STFT or magnitude array is stored).
fn peaks_valleys_of_signal(
    y: &[f32],
    stft: &StftConfig,
    bands: &[Band],
) -> Result<(Array2<f32>, Array2<f32>)> {
    let (nb, n_freq) = (bands.len(), stft.n_freq());
    let (_, per_frame) = for_each_block(
        y,
        stft,
        2 * nb,
        || (vec![0f32; n_freq], Extremes::default()),
        |(mag, scratch), spectra, out| {
            for (o, spectrum) in out
                .chunks_exact_mut(2 * nb)
                .zip(spectra.chunks_exact(n_freq))
            {
                crate::spectral::magnitudes(spectrum, mag);
                frame_means(mag, bands, scratch, o);
            }
        },
    )?;
    Ok(split(&per_frame, nb))
}

/// Contrast from peaks and valleys: their difference, or (the default) the difference of their
/// dB values, each side's floor set by every channel together.
fn contrast(
    peaks: Vec<Array2<f32>>,
    valleys: Vec<Array2<f32>>,
    linear: bool,
) -> Result<Vec<Array2<f32>>> {
    if linear {
        return Ok(peaks.into_iter().zip(valleys).map(|(p, v)| p - v).collect());
    }
    let db = |x| power_to_db_channels(x, Ref::Value(1.0), 1e-10, Some(80.0));
    Ok(db(peaks)?
        .into_iter()
        .zip(db(valleys)?)
        .map(|(p, v)| p - v)
        .collect())
}

/// `librosa.feature.spectral_contrast(y=y, ...)` of a signal's channels (a `(channels, n)`
/// array), as [`spectral_contrast_from_spectrogram`] of their magnitudes, without storing them.
///
/// # Shapes
/// - each channel: `(n,)`
/// - output per channel: `(n_bands + 1, n_frames)`
pub fn spectral_contrast(
    channels: &[&[f32]],
    sr: u32,
    stft: &StftConfig,
    cfg: &ContrastConfig,
) -> Result<Vec<Array2<f32>>> {
    stft.validate()?;
    let bands = bands(sr, stft.n_fft, cfg)?;
    let (peaks, valleys): (Vec<_>, Vec<_>) = channels
        .iter()
        .map(|y| peaks_valleys_of_signal(y, stft, &bands))
        .collect::<Result<Vec<_>>>()?
        .into_iter()
        .unzip();
    contrast(peaks, valleys, cfg.linear)
}

/// `librosa.feature.spectral_contrast(S=s, sr=sr, n_fft=n_fft, ...)` of one signal's channels.
/// In dB (the default), each side is `power_to_db` with librosa's defaults over the whole array,
/// every channel together, as librosa converts a `(channels, …)` array.
///
/// # Shapes
/// - each channel: `(1 + n_fft/2, n_frames)` magnitudes
/// - output per channel: `(n_bands + 1, n_frames)`
pub fn spectral_contrast_from_spectrogram(
    channels: &[Array2<f32>],
    sr: u32,
    n_fft: usize,
    cfg: &ContrastConfig,
) -> Result<Vec<Array2<f32>>> {
    for s in channels {
        crate::spectral::check_bins(s, n_fft)?;
    }
    let bands = bands(sr, n_fft, cfg)?;
    let (peaks, valleys): (Vec<_>, Vec<_>) =
        channels.iter().map(|s| peaks_valleys(s, &bands)).unzip();
    contrast(peaks, valleys, cfg.linear)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bands_follow_librosas_layout_at_its_defaults() {
        // sr 22050, n_fft 2048: bins are 10.77 Hz apart. Band 0 is 0–200 Hz: bins 0..=18, less
        // its top bin; band 6 (6400–12800 Hz) takes the bin below 6400 and runs to Nyquist.
        let b = bands(22050, 2048, &ContrastConfig::default()).unwrap();
        assert_eq!(b.len(), 7);
        assert_eq!(b[0].bins, 0..18);
        assert_eq!(b[0].take, 1); // rint(0.02 · 19) = 0 → at least 1
        assert_eq!(b[6].bins.end, 1025);
        assert_eq!(
            b[6].bins.start,
            (6400.0f64 / (22050.0 / 2048.0)).ceil() as usize - 1
        );
    }

    #[test]
    fn extremes_are_the_sorted_ends() {
        let v = [5.0, 1.0, 4.0, 1.0, 9.0, 2.0, 6.0, 5.0];
        let mut e = Extremes::default();
        let (low, high) = e.of(&v, 3);
        assert_eq!(
            (low.to_vec(), high.to_vec()),
            (vec![1.0, 1.0, 2.0], vec![5.0, 6.0, 9.0])
        );
        let (low, high) = e.of(&v, 8);
        assert_eq!(low.len() + high.len(), 16);
    }

    #[test]
    fn a_flat_spectrum_has_no_contrast() {
        let s = Array2::from_elem((1025, 3), 0.5f32);
        let c = spectral_contrast_from_spectrogram(&[s], 22050, 2048, &ContrastConfig::default())
            .unwrap();
        assert_eq!(c[0].dim(), (7, 3));
        assert!(c[0].iter().all(|&v| v == 0.0));
    }

    #[test]
    fn from_the_signal_equals_from_its_spectrogram() {
        let y: Vec<f32> = (0..30000)
            .map(|i| ((i as f32) * 0.031).sin() * ((i as f32) * 0.0007).cos())
            .collect();
        let stft = StftConfig::default();
        let mag = crate::stft::magnitude(&crate::stft::stft(&y, &stft).unwrap());
        let cfg = ContrastConfig::default();
        let a = spectral_contrast(&[&y], 22050, &stft, &cfg).unwrap();
        let b = spectral_contrast_from_spectrogram(&[mag], 22050, 2048, &cfg).unwrap();
        for (x, w) in a[0].iter().zip(&b[0]) {
            assert!((x - w).abs() < 1e-4, "{x} vs {w}");
        }
    }

    #[test]
    fn bands_above_nyquist_are_refused_with_the_value() {
        let cfg = ContrastConfig {
            n_bands: 7,
            ..ContrastConfig::default()
        };
        let e = bands(22050, 2048, &cfg).unwrap_err().to_string();
        assert!(e.contains("n_bands=7"), "{e}");
    }
}
