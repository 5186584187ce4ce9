//! Mel scale and filterbank (`librosa.filters.mel`), and `librosa.feature.melspectrogram`.

use multiversion::multiversion;
use ndarray::{Array2, ShapeBuilder};
use rayon::prelude::*;
use realfft::num_complex::Complex32;

use crate::error::{invalid, Result};
use crate::stft::StftConfig;

/// `librosa.feature.melspectrogram(y=y, sr=sr, power=power, ...)`: power 2 (librosa's default)
/// through [`MelFilterbank::melspectrogram`], which never stores the spectrum; any other exponent
/// through the filterbank applied to `|stft(y)|^power`.
///
/// # Shapes
/// - `y`: `(n_samples,)`
/// - output: `(n_mels, n_frames)`
pub fn melspectrogram(
    y: &[f32],
    sr: u32,
    stft_cfg: &StftConfig,
    mel_cfg: &MelConfig,
    power: f32,
) -> Result<Array2<f32>> {
    let fb = MelFilterbank::cached(sr, stft_cfg.n_fft, mel_cfg)?;
    if power == 2.0 {
        return fb.melspectrogram(y, stft_cfg);
    }
    Ok(fb.apply(&crate::stft::spectrogram(y, stft_cfg, power)?))
}

/// Hz → mel: Slaney's (linear below 1 kHz, logarithmic above) or HTK's `2595·log10(1 + f/700)`.
pub fn hz_to_mel(f: f64, htk: bool) -> f64 {
    if htk {
        return 2595.0 * (1.0 + f / 700.0).log10();
    }
    let f_sp = 200.0 / 3.0;
    let (min_log_hz, min_log_mel) = (1000.0, 1000.0 / f_sp);
    let logstep = 6.4f64.ln() / 27.0;
    if f >= min_log_hz {
        min_log_mel + (f / min_log_hz).ln() / logstep
    } else {
        f / f_sp
    }
}

/// Mel → Hz, the inverse of [`hz_to_mel`].
pub fn mel_to_hz(m: f64, htk: bool) -> f64 {
    if htk {
        return 700.0 * (10f64.powf(m / 2595.0) - 1.0);
    }
    let f_sp = 200.0 / 3.0;
    let (min_log_hz, min_log_mel) = (1000.0, 1000.0 / f_sp);
    let logstep = 6.4f64.ln() / 27.0;
    if m >= min_log_mel {
        min_log_hz * (logstep * (m - min_log_mel)).exp()
    } else {
        f_sp * m
    }
}

/// `n` frequencies evenly spaced on the mel scale from `fmin` to `fmax`.
pub fn mel_frequencies(n: usize, fmin: f64, fmax: f64, htk: bool) -> Vec<f64> {
    let (lo, hi) = (hz_to_mel(fmin, htk), hz_to_mel(fmax, htk));
    (0..n)
        .map(|i| {
            let m = if n == 1 {
                lo
            } else {
                lo + (hi - lo) * i as f64 / (n - 1) as f64
            };
            mel_to_hz(m, htk)
        })
        .collect()
}

/// Mel filterbank parameters, librosa's names and defaults.
#[derive(Clone, Debug, PartialEq)]
pub struct MelConfig {
    /// Mel bands (librosa's default 128).
    pub n_mels: usize,
    /// Lowest frequency of the first band, Hz (default 0).
    pub fmin: f64,
    /// `sr / 2` when `None`.
    pub fmax: Option<f64>,
    /// The HTK mel formula instead of Slaney's (librosa's `htk=False`).
    pub htk: bool,
    /// Slaney area normalisation (librosa's default), or none.
    pub slaney_norm: bool,
}

impl Default for MelConfig {
    fn default() -> Self {
        MelConfig {
            n_mels: 128,
            fmin: 0.0,
            fmax: None,
            htk: false,
            slaney_norm: true,
        }
    }
}

/// A mel filterbank: the dense matrix and, per filter, its non-zero bin range.
#[derive(Clone, Debug)]
pub struct MelFilterbank {
    /// `(n_mels, 1 + n_fft/2)`.
    pub weights: Array2<f32>,
    /// Per filter: its first non-zero bin and its non-zero weights.
    compact: Vec<(usize, Vec<f32>)>,
}

type BankKey = (u32, usize, usize, u64, Option<u64>, bool, bool);

/// The mel band edges of an `n`-filter bank, one at a time, as [`mel_frequencies`] computes
/// them (`n + 2` points): the search for the largest working `n_mels` looks at a few per bank.
struct Edges {
    lo: f64,
    hi: f64,
    points: usize,
    htk: bool,
}

impl Edges {
    fn new(n_mels: usize, cfg: &MelConfig, fmax: f64) -> Edges {
        Edges {
            lo: hz_to_mel(cfg.fmin, cfg.htk),
            hi: hz_to_mel(fmax, cfg.htk),
            points: n_mels + 2,
            htk: cfg.htk,
        }
    }

    fn at(&self, i: usize) -> f64 {
        let m = self.lo + (self.hi - self.lo) * i as f64 / (self.points - 1) as f64;
        mel_to_hz(m, self.htk)
    }
}

/// Filter `i`'s weight at FFT bin `k`, librosa's arithmetic step for step.
fn weight(k: usize, step: f64, edges: [f64; 3], slaney_norm: bool) -> f32 {
    let [left, centre, right] = edges;
    let f = k as f64 * step;
    let lower = (f - left) / (centre - left);
    let upper = (right - f) / (right - centre);
    // librosa stores the triangle in float32, then scales it by enorm in place.
    let w = lower.min(upper).max(0.0) as f32;
    if slaney_norm {
        (w as f64 * (2.0 / (right - left))) as f32
    } else {
        w
    }
}

/// numpy's rfftfreq spacing: k · (1 / (n_fft · (1/sr))), rounded the same way.
fn bin_step(sr: f64, n_fft: usize) -> f64 {
    1.0 / (n_fft as f64 * (1.0 / sr))
}

/// The filterbank and each filter's non-zero bin range.
fn build(sr: f64, n_fft: usize, cfg: &MelConfig, fmax: f64) -> (Array2<f32>, Vec<(usize, usize)>) {
    let n_freq = 1 + n_fft / 2;
    let mel_f = mel_frequencies(cfg.n_mels + 2, cfg.fmin, fmax, cfg.htk);
    let mut weights = Array2::<f32>::zeros((cfg.n_mels, n_freq));
    let mut ranges = Vec::with_capacity(cfg.n_mels);
    let step = bin_step(sr, n_fft);
    for i in 0..cfg.n_mels {
        let edges = [mel_f[i], mel_f[i + 1], mel_f[i + 2]];
        let (mut lo, mut hi) = (n_freq, 0);
        for k in 0..n_freq {
            let w = weight(k, step, edges, cfg.slaney_norm);
            if w > 0.0 {
                lo = lo.min(k);
                hi = hi.max(k + 1);
            }
            weights[[i, k]] = w;
        }
        ranges.push((lo.min(hi), hi));
    }
    (weights, ranges)
}

/// Whether an `n_mels`-filter bank has an empty filter: librosa's "Empty filters detected"
/// condition, a filter not starting at 0 Hz with no positive weight.
///
/// A triangle peaks at its centre, so the bins on either side of the centre hold its largest
/// weights: if those are 0, every bin is. Checking those few per filter (with [`weight`]'s exact
/// arithmetic) costs O(n_mels) without building the bank, and the lowest filters, the narrowest,
/// come first, so a bank that fails usually fails within its first few.
fn has_empty_filter(sr: f64, n_fft: usize, cfg: &MelConfig, fmax: f64, n_mels: usize) -> bool {
    let n_freq = 1 + n_fft / 2;
    let step = bin_step(sr, n_fft);
    let e = Edges::new(n_mels, cfg, fmax);
    let (mut left, mut centre) = (e.at(0), e.at(1));
    for i in 0..n_mels {
        let right = e.at(i + 2);
        let peak = (centre / step).floor().max(0.0) as usize;
        let lit = (peak.saturating_sub(1)..=peak + 2)
            .filter(|&k| k < n_freq)
            .any(|k| weight(k, step, [left, centre, right], cfg.slaney_norm) > 0.0);
        if left != 0.0 && !lit {
            return true;
        }
        (left, centre) = (centre, right);
    }
    false
}

/// Checks `n_fft`, `n_mels` and the frequency range; the upper edge of the bank, `fmax` or sr/2.
fn check_settings(sr: u32, n_fft: usize, cfg: &MelConfig) -> Result<f64> {
    // The STFT's bounds on n_fft, checked before a filterbank of that width is allocated (a
    // bank has no hop: any one keeps the check to n_fft).
    StftConfig {
        n_fft,
        hop_length: Some(1),
        ..Default::default()
    }
    .validate()?;
    let sr_f = sr as f64;
    let fmax = cfg.fmax.unwrap_or(sr_f / 2.0);
    if cfg.n_mels == 0 {
        return Err(invalid(
            "n_mels",
            0,
            "a positive integer",
            "librosa's default is 128",
        ));
    }
    let fmin_ok = cfg.fmin >= 0.0 && cfg.fmin < fmax;
    if !fmin_ok || fmax > sr_f / 2.0 || fmax.is_nan() {
        return Err(invalid(
            "fmin/fmax",
            format!("{}/{fmax}", cfg.fmin),
            format!("0 ≤ fmin < fmax ≤ sr/2 = {}", sr_f / 2.0),
            "",
        ));
    }
    Ok(fmax)
}

/// The bank of checked settings, its size bounded by the memory budget first.
fn build_bank(sr: f64, n_fft: usize, cfg: &MelConfig, fmax: f64) -> Result<MelFilterbank> {
    soundcheck_io::budget::memory(
        "the mel filterbank (`n_mels` × frequency bins)",
        &[cfg.n_mels, 1 + n_fft / 2],
        4,
    )
    .map_err(|e| {
        invalid(
            "n_mels",
            cfg.n_mels,
            "a filterbank that fits in memory",
            e.to_string(),
        )
    })?;
    let (weights, ranges) = build(sr, n_fft, cfg, fmax);
    let compact = ranges
        .iter()
        .enumerate()
        .map(|(m, &(lo, hi))| (lo, weights.row(m).slice(ndarray::s![lo..hi]).to_vec()))
        .collect();
    Ok(MelFilterbank { weights, compact })
}

impl MelFilterbank {
    /// Builds the filterbank as `librosa.filters.mel(sr=sr, n_fft=n_fft, ...)` does.
    ///
    /// # Shapes
    /// - output weights: `(n_mels, 1 + n_fft/2)`
    ///
    /// # Errors
    /// An `n_mels` so large that some filters cover no FFT bin (librosa only warns: those
    /// channels would be silent), naming the largest `n_mels` that works; bad fmin/fmax.
    pub fn new(sr: u32, n_fft: usize, cfg: &MelConfig) -> Result<MelFilterbank> {
        let fmax = check_settings(sr, n_fft, cfg)?;
        let sr_f = sr as f64;
        // A bin lies strictly inside at most two neighbouring triangles, and only the first
        // filter (from 0 Hz) may be empty: more than 2·bins + 1 filters always leave one empty,
        // so neither the bank nor the search below ever sizes past that.
        let most = 2 * (1 + n_fft / 2) + 1;
        if cfg.n_mels > most || has_empty_filter(sr_f, n_fft, cfg, fmax, cfg.n_mels) {
            let largest = (1..cfg.n_mels.min(most + 1))
                .rev()
                .find(|&n| !has_empty_filter(sr_f, n_fft, cfg, fmax, n))
                .unwrap_or(0);
            return Err(invalid(
                "n_mels",
                cfg.n_mels,
                format!("at most {largest} at sr={sr}, n_fft={n_fft}, fmin={}, fmax={fmax}", cfg.fmin),
                format!("some filters would cover no FFT bin and stay silent (librosa only warns); use n_mels ≤ {largest}, or a larger n_fft"),
            ));
        }
        build_bank(sr_f, n_fft, cfg, fmax)
    }

    /// `librosa.filters.mel` as librosa returns it: a bank whose filters cover no FFT bin is
    /// built (those rows are zeros, their channels silent) rather than refused, and the `bool`
    /// says so, for a caller that warns as librosa warns.
    pub fn with_empty_filters(
        sr: u32,
        n_fft: usize,
        cfg: &MelConfig,
    ) -> Result<(MelFilterbank, bool)> {
        let fmax = check_settings(sr, n_fft, cfg)?;
        let bank = build_bank(sr as f64, n_fft, cfg, fmax)?;
        let empty = has_empty_filter(sr as f64, n_fft, cfg, fmax, cfg.n_mels);
        Ok((bank, empty))
    }

    /// [`MelFilterbank::new`], built once per parameter set for the whole process (a folder of
    /// clips needs the same filterbank for every file).
    pub fn cached(sr: u32, n_fft: usize, cfg: &MelConfig) -> Result<std::sync::Arc<MelFilterbank>> {
        static BANKS: crate::memo::Memo<BankKey, MelFilterbank> = crate::memo::Memo::new();
        let key = (
            sr,
            n_fft,
            cfg.n_mels,
            cfg.fmin.to_bits(),
            cfg.fmax.map(f64::to_bits),
            cfg.htk,
            cfg.slaney_norm,
        );
        BANKS.get(key, || MelFilterbank::new(sr, n_fft, cfg))
    }

    /// The number of mel bands.
    pub fn n_mels(&self) -> usize {
        self.weights.nrows()
    }

    /// The mel power spectrogram of `y` in one pass: each frame's FFT is reduced to its mel
    /// bands as soon as it is computed, so the complex STFT is never stored.
    ///
    /// # Shapes
    /// - `y`: `(n_samples,)`
    /// - output: `(n_mels, n_frames)`, stored frame by frame
    pub fn melspectrogram(&self, y: &[f32], cfg: &StftConfig) -> Result<Array2<f32>> {
        assert_eq!(
            cfg.n_freq(),
            self.weights.ncols(),
            "the filterbank was built for this n_fft"
        );
        let n_mels = self.n_mels();
        let n_freq = cfg.n_freq();
        let (frames, out) = crate::stft::for_each_block(
            y,
            cfg,
            n_mels,
            || vec![0f32; n_freq * BLOCK],
            |power, spectra, out| {
                power_by_bin(spectra, n_freq, power);
                bands(&self.compact, power, out.len() / n_mels, out)
            },
        )?;
        Ok(Array2::from_shape_vec((n_mels, frames).f(), out).expect("n_mels · frames elements"))
    }

    /// Applies the filterbank to a spectrogram, touching only each filter's non-zero bins.
    ///
    /// # Shapes
    /// - `s`: `(1 + n_fft/2, n_frames)`
    /// - output: `(n_mels, n_frames)`, stored frame by frame
    pub fn apply(&self, s: &Array2<f32>) -> Array2<f32> {
        let (n_freq, frames) = s.dim();
        assert_eq!(
            n_freq,
            self.weights.ncols(),
            "spectrogram bins match the filterbank"
        );
        let n_mels = self.n_mels();
        let mut out = vec![0f32; n_mels * frames];
        out.par_chunks_mut(n_mels * BLOCK)
            .enumerate()
            .for_each_init(
                || vec![0f32; n_freq * BLOCK],
                |power, (task, chunk)| {
                    let block = chunk.len() / n_mels;
                    for t in 0..block {
                        for (k, &v) in s.column(task * BLOCK + t).iter().enumerate() {
                            power[k * BLOCK + t] = v;
                        }
                    }
                    bands(&self.compact, power, block, chunk)
                },
            );
        Array2::from_shape_vec((n_mels, frames).f(), out).expect("n_mels · frames elements")
    }
}

/// Frames per block of the mel pass: the STFT's, so that a block's power fits in cache.
const BLOCK: usize = crate::stft::FRAMES_PER_TASK;

/// The power of each frame's spectrum, stored bin by bin: `power[k·BLOCK + t] = |X_t[k]|²`.
///
/// # Shapes
/// - `spectra`: `(frames ≤ BLOCK, n_freq)`, frame after frame
/// - `power`: `(n_freq, BLOCK)`
#[multiversion(targets("x86_64+avx2+fma"))]
fn power_by_bin(spectra: &[Complex32], n_freq: usize, power: &mut [f32]) {
    // Eight frames at a time, so that each store fills eight neighbouring lanes of one bin
    // instead of touching a new cache line per value.
    const GROUP: usize = 8;
    let frames = spectra.len() / n_freq;
    let mut t0 = 0;
    while t0 + GROUP <= frames {
        let group: [&[Complex32]; GROUP] =
            std::array::from_fn(|i| &spectra[(t0 + i) * n_freq..][..n_freq]);
        for (k, lanes) in power.chunks_exact_mut(BLOCK).take(n_freq).enumerate() {
            for (v, spectrum) in lanes[t0..t0 + GROUP].iter_mut().zip(&group) {
                *v = spectrum[k].norm_sqr();
            }
        }
        t0 += GROUP;
    }
    for t in t0..frames {
        for (k, c) in spectra[t * n_freq..][..n_freq].iter().enumerate() {
            power[k * BLOCK + t] = c.norm_sqr();
        }
    }
}

/// The mel bands of a block of frames. Each filter is a weighted sum over its non-zero span
/// of bins, run for all the block's frames at once (one vector lane per frame), so each band
/// still sums its terms in bin order.
///
/// # Shapes
/// - `power`: `(n_freq, BLOCK)` from [`power_by_bin`], the first `frames` lanes used
/// - `out`: `(frames, n_mels)`, frame after frame
#[multiversion(targets("x86_64+avx2+fma"))]
fn bands(compact: &[(usize, Vec<f32>)], power: &[f32], frames: usize, out: &mut [f32]) {
    let n_mels = compact.len();
    let mut acc = [0f32; BLOCK];
    let acc = &mut acc[..frames];
    for (m, (lo, w)) in compact.iter().enumerate() {
        acc.fill(0.0);
        for (j, &wj) in w.iter().enumerate() {
            let row = &power[(lo + j) * BLOCK..][..frames];
            for (a, p) in acc.iter_mut().zip(row) {
                *a += wj * p;
            }
        }
        for (t, a) in acc.iter().enumerate() {
            out[t * n_mels + m] = *a;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_empty_filter_test_at_the_peaks_agrees_with_every_bin() {
        // librosa's condition over the whole bank, bin by bin, against the few bins around each
        // filter's peak that `has_empty_filter` reads.
        let every_bin = |sr: f64, n_fft: usize, cfg: &MelConfig, fmax: f64| {
            let (weights, _) = build(sr, n_fft, cfg, fmax);
            let mel_f = mel_frequencies(cfg.n_mels + 2, cfg.fmin, fmax, cfg.htk);
            (0..cfg.n_mels).any(|i| mel_f[i] != 0.0 && weights.row(i).iter().all(|&w| w <= 0.0))
        };
        let mut checked = 0;
        for sr in [8000u32, 16000, 22050, 44100] {
            for n_fft in [32, 100, 256, 1024] {
                for (fmin, htk, slaney_norm) in [
                    (0.0, false, true),
                    (0.0, true, false),
                    (55.0, false, false),
                    (20.0, true, true),
                ] {
                    let most = 2 * (1 + n_fft / 2) + 1;
                    for n_mels in (1..=most).step_by(1 + most / 97) {
                        let cfg = MelConfig {
                            n_mels,
                            fmin,
                            fmax: None,
                            htk,
                            slaney_norm,
                        };
                        let fmax = sr as f64 / 2.0;
                        assert_eq!(
                            has_empty_filter(sr as f64, n_fft, &cfg, fmax, n_mels),
                            every_bin(sr as f64, n_fft, &cfg, fmax),
                            "sr {sr}, n_fft {n_fft}, {cfg:?}"
                        );
                        checked += 1;
                    }
                }
            }
        }
        assert!(checked > 4000, "{checked}");
    }

    #[test]
    fn mel_scales_round_trip_and_meet_at_1khz() {
        assert!((hz_to_mel(1000.0, false) - 15.0).abs() < 1e-12);
        for f in [0.0, 440.0, 1000.0, 8000.0] {
            for htk in [false, true] {
                assert!((mel_to_hz(hz_to_mel(f, htk), htk) - f).abs() < 1e-9);
            }
        }
        assert!((hz_to_mel(700.0, true) - 2595.0 * 2f64.log10()).abs() < 1e-9);
    }

    #[test]
    fn a_stored_power_spectrogram_gives_the_fused_pass_bit_for_bit() {
        // 147 frames: two full blocks of 64 and a ragged one of 19 (not a multiple of 8).
        let y: Vec<f32> = (0..150 * 128)
            .map(|i| ((i * 7919 % 1009) as f32 / 504.5 - 1.0) * (1.0 + (i as f32 * 1e-3).sin()))
            .collect();
        let cfg = StftConfig {
            n_fft: 512,
            hop_length: Some(128),
            center: false,
            ..Default::default()
        };
        let bank = MelFilterbank::new(16000, 512, &MelConfig::default()).unwrap();
        let fused = bank.melspectrogram(&y, &cfg).unwrap();
        let stored = bank.apply(&crate::stft::power(&crate::stft::stft(&y, &cfg).unwrap()));
        assert_eq!(fused.dim(), (128, 147));
        assert_eq!(fused, stored);
    }

    #[test]
    fn too_many_mels_names_the_largest_that_works() {
        let e = MelFilterbank::new(
            22050,
            256,
            &MelConfig {
                n_mels: 128,
                ..Default::default()
            },
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.starts_with("n_mels=128 is invalid: expected at most "),
            "{e}"
        );
        let largest: usize = e
            .split("at most ")
            .nth(1)
            .unwrap()
            .split(' ')
            .next()
            .unwrap()
            .parse()
            .unwrap();
        assert!(MelFilterbank::new(
            22050,
            256,
            &MelConfig {
                n_mels: largest,
                ..Default::default()
            }
        )
        .is_ok());
    }

    #[test]
    fn empty_filters_are_kept_and_reported_when_asked() {
        let cfg = MelConfig {
            n_mels: 128,
            ..Default::default()
        };
        let (bank, empty) = MelFilterbank::with_empty_filters(22050, 256, &cfg).unwrap();
        assert!(empty);
        assert_eq!(bank.weights.dim(), (128, 129));
        assert!(bank
            .weights
            .rows()
            .into_iter()
            .any(|r| r.iter().all(|&w| w == 0.0)));
        let (_, empty) = MelFilterbank::with_empty_filters(22050, 2048, &cfg).unwrap();
        assert!(!empty);
        // The smallest FFT: 2 bins for 3 filters, as librosa builds it (no hop is involved).
        let three = MelConfig {
            n_mels: 3,
            ..Default::default()
        };
        let (bank, _) = MelFilterbank::with_empty_filters(22050, 2, &three).unwrap();
        assert_eq!(bank.weights.dim(), (3, 2));
    }
}
