//! Short-time Fourier transform and its inverse, as `librosa.stft` / `librosa.istft` compute them.

use std::sync::Arc;

use multiversion::multiversion;
use ndarray::{Array2, ArrayView2, ShapeBuilder};
use rayon::prelude::*;
use realfft::num_complex::Complex32;

use crate::error::{check_finite, invalid, AudioError, Result};
use crate::rfft::{RealFft, RealIfft};

/// How `center=True` pads the signal before framing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum PadMode {
    /// Zeros: librosa 0.11's default.
    #[default]
    Constant,
    /// Mirror without repeating the edge sample (numpy's `reflect`).
    Reflect,
}

/// The analysis window, `win_length` long and centred in `n_fft` as librosa pads it.
#[derive(Clone, Debug, PartialEq, Default)]
pub enum Window {
    /// The periodic Hann window: librosa's default.
    #[default]
    Hann,
    /// Samples the caller computed (librosa takes any of scipy's `get_window` names, a function
    /// or an array), `win_length` of them.
    Samples(Arc<[f32]>),
}

/// STFT parameters, with librosa's names and defaults.
#[derive(Clone, Debug, PartialEq)]
pub struct StftConfig {
    /// FFT size; 2048 by default.
    pub n_fft: usize,
    /// Hop between frames; `win_length / 4` when `None`.
    pub hop_length: Option<usize>,
    /// Window length; `n_fft` when `None` (the Hann window is centred in `n_fft`).
    pub win_length: Option<usize>,
    /// Pad `n_fft / 2` on both sides so frame `t` is centred on sample `t · hop`.
    pub center: bool,
    /// How `center` pads the ends (librosa 0.11's default is constant zeros).
    pub pad_mode: PadMode,
    /// The window each frame is multiplied by.
    pub window: Window,
}

impl Default for StftConfig {
    fn default() -> Self {
        StftConfig {
            n_fft: 2048,
            hop_length: None,
            win_length: None,
            center: true,
            pad_mode: PadMode::Constant,
            window: Window::Hann,
        }
    }
}

/// The largest FFT size: its spectra and a mel filterbank over it stay within memory (a 10⁸-point
/// FFT would ask 25 GB for 128 mel bands).
pub const MAX_N_FFT: usize = 1 << 20;

impl StftConfig {
    /// The window length in samples.
    pub fn win(&self) -> usize {
        self.win_length.unwrap_or(self.n_fft)
    }

    /// The hop between frames in samples.
    pub fn hop(&self) -> usize {
        self.hop_length.unwrap_or(self.win() / 4)
    }

    /// Number of frequency bins: `1 + n_fft / 2`.
    pub fn n_freq(&self) -> usize {
        1 + self.n_fft / 2
    }

    /// Checks the settings as librosa does, naming the parameter that cannot be used.
    pub fn validate(&self) -> Result<()> {
        if !(2..=MAX_N_FFT).contains(&self.n_fft) {
            return Err(invalid(
                "n_fft",
                self.n_fft,
                format!("an integer from 2 to {MAX_N_FFT} (a 23.8 s window at 44.1 kHz)"),
                "librosa's default is 2048; a larger FFT makes spectra and filterbanks of gigabytes",
            ));
        }
        let win = self.win();
        if win == 0 || win > self.n_fft {
            return Err(invalid(
                "win_length",
                win,
                format!("1 ≤ win_length ≤ n_fft = {}", self.n_fft),
                "leave it unset to use n_fft",
            ));
        }
        if let Window::Samples(w) = &self.window {
            if w.len() != win {
                return Err(invalid(
                    "window",
                    format!("an array of {} samples", w.len()),
                    format!("win_length = {win} samples (n_fft when win_length is unset)"),
                    "give a window of win_length samples, or a window name",
                ));
            }
            check_finite("window", w)?;
        }
        match self.hop_length {
            Some(0) => {
                return Err(invalid(
                    "hop_length",
                    0,
                    "a positive integer",
                    format!("librosa's default is win_length / 4 = {}", win / 4),
                ))
            }
            // Not given: the default, a quarter window, rounds to 0 under 4 samples.
            None if win < 4 => {
                return Err(invalid(
                    "hop_length",
                    format!("unset (its default win_length / 4 is 0 for a window of {win})"),
                    "a positive integer",
                    "give a hop length explicitly, or use a window of at least 4 samples",
                ))
            }
            _ => {}
        }
        Ok(())
    }
}

/// Number of STFT frames for a signal of `len` samples.
///
/// `center=True`: `1 + (len + 2·(n_fft/2) − n_fft) / hop` (= `1 + len / hop` for even `n_fft`);
/// `center=False`: `1 + (len − n_fft) / hop`, and `None` when `len < n_fft`.
pub fn n_frames(len: usize, n_fft: usize, hop: usize, center: bool) -> Option<usize> {
    let padded = if center { len + 2 * (n_fft / 2) } else { len };
    (padded >= n_fft && hop > 0).then(|| 1 + (padded - n_fft) / hop)
}

/// The periodic Hann window of `win_length` (scipy's `get_window('hann', N, fftbins=True)`),
/// zero-padded to `n_fft` with the window centred, in f64.
pub fn hann_window(win_length: usize, n_fft: usize) -> Vec<f64> {
    let mut w = vec![0.0; n_fft];
    let left = (n_fft - win_length) / 2;
    for (i, v) in w[left..left + win_length].iter_mut().enumerate() {
        *v = 0.5 - 0.5 * (2.0 * std::f64::consts::PI * i as f64 / win_length as f64).cos();
    }
    w
}

/// The window of `cfg`, zero-padded to `n_fft` and centred, in f32; the Hann window built once
/// per size for the process.
fn window_f32(cfg: &StftConfig) -> Arc<Vec<f32>> {
    static WINDOWS: crate::memo::Memo<(usize, usize), Vec<f32>> = crate::memo::Memo::new();
    let (win_length, n_fft) = (cfg.win(), cfg.n_fft);
    match &cfg.window {
        Window::Hann => WINDOWS.get_or_build((win_length, n_fft), || {
            hann_window(win_length, n_fft)
                .iter()
                .map(|&w| w as f32)
                .collect()
        }),
        Window::Samples(w) => {
            let mut padded = vec![0f32; n_fft];
            let left = (n_fft - w.len()) / 2;
            padded[left..left + w.len()].copy_from_slice(w);
            Arc::new(padded)
        }
    }
}

/// Sample `i` (which may lie outside `0..len`) of the signal padded as `mode` pads it.
fn padded_sample(y: &[f32], i: isize, mode: PadMode) -> f32 {
    let len = y.len() as isize;
    if (0..len).contains(&i) {
        return y[i as usize];
    }
    match mode {
        PadMode::Constant => 0.0,
        PadMode::Reflect => {
            if len == 1 {
                return y[0];
            }
            let period = 2 * (len - 1);
            let mut k = i.rem_euclid(period);
            if k >= len {
                k = period - k;
            }
            y[k as usize]
        }
    }
}

/// Frame `t` (`n_fft` samples starting at `t·hop − offset`) times the window, into `out`.
#[multiversion(targets("x86_64+avx2+fma"))]
fn read_windowed_frame(y: &[f32], start: isize, mode: PadMode, window: &[f32], out: &mut [f32]) {
    let len = y.len() as isize;
    let n = out.len() as isize;
    if start >= 0 && start + n <= len {
        let src = &y[start as usize..(start + n) as usize];
        for ((o, s), w) in out.iter_mut().zip(src).zip(window) {
            *o = s * w;
        }
    } else {
        for (j, (o, w)) in out.iter_mut().zip(window).enumerate() {
            *o = padded_sample(y, start + j as isize, mode) * w;
        }
    }
}

/// Frames per parallel task: enough to amortise scheduling, few enough to balance 2+ cores.
pub(crate) const FRAMES_PER_TASK: usize = 64;

/// Runs `each(state, spectra, out)` for every block of up to [`FRAMES_PER_TASK`] frames of
/// `y`, in parallel, where `spectra` holds the block's windowed FFTs one frame after another
/// and `out` its `width` slots per frame of the output; `state` is working memory from `init`,
/// made once per worker rather than per block. Returns the `(width, n_frames)` output, stored
/// frame by frame.
pub(crate) fn for_each_block<T: Copy + Default + Send, S>(
    y: &[f32],
    cfg: &StftConfig,
    width: usize,
    init: impl Fn() -> S + Sync + Send,
    each: impl Fn(&mut S, &[Complex32], &mut [T]) + Sync + Send,
) -> Result<(usize, Vec<T>)> {
    cfg.validate()?;
    check_finite("stft input", y)?;
    let (n_fft, hop) = (cfg.n_fft, cfg.hop());
    if y.is_empty() {
        return Err(AudioError::TooShort {
            what: "stft input".into(),
            actual: 0,
            expected: 1,
            hint: "the signal is empty".into(),
        });
    }
    let frames = n_frames(y.len(), n_fft, hop, cfg.center).ok_or_else(|| AudioError::TooShort {
        what: "stft input with center=False".into(),
        actual: y.len(),
        expected: n_fft,
        hint: format!(
            "use center=True (pads n_fft/2 = {} on each side), a smaller n_fft, or a longer signal",
            n_fft / 2
        ),
    })?;
    let window = window_f32(cfg);
    let fft = RealFft::cached(n_fft);
    let n_freq = cfg.n_freq();
    let offset = if cfg.center { (n_fft / 2) as isize } else { 0 };
    let mut out = vec![T::default(); width * frames];
    out.par_chunks_mut(width * FRAMES_PER_TASK)
        .enumerate()
        .for_each_init(
            || {
                let spectra = vec![Complex32::new(0.0, 0.0); n_freq * FRAMES_PER_TASK];
                (vec![0f32; n_fft], spectra, fft.scratch(), init())
            },
            |(frame, spectra, scratch, state), (task, chunk)| {
                let block = chunk.len() / width;
                let spectra = &mut spectra[..block * n_freq];
                for (k, spectrum) in spectra.chunks_exact_mut(n_freq).enumerate() {
                    let start = ((task * FRAMES_PER_TASK + k) * hop) as isize - offset;
                    read_windowed_frame(y, start, cfg.pad_mode, &window, frame);
                    fft.forward(frame, spectrum, scratch);
                }
                each(state, spectra, chunk);
            },
        );
    Ok((frames, out))
}

/// The complex STFT of `y`.
///
/// # Shapes
/// - `y`: `(n_samples,)`
/// - output: `(1 + n_fft/2, n_frames)` — librosa's `(freq, time)` axes, stored frame by frame
///   (Fortran order, like librosa's own output), `n_frames` from [`n_frames`].
///
/// # Errors
/// Empty or non-finite input, invalid parameters, or `center=False` with fewer than `n_fft`
/// samples.
pub fn stft(y: &[f32], cfg: &StftConfig) -> Result<Array2<Complex32>> {
    let n_freq = cfg.n_freq();
    let (frames, out) = for_each_block(
        y,
        cfg,
        n_freq,
        || (),
        |_, spectra, out| out.copy_from_slice(spectra),
    )?;
    Ok(Array2::from_shape_vec((n_freq, frames).f(), out).expect("n_freq · frames elements"))
}

/// `|stft(y)|²` without storing the complex STFT: each block's spectra are squared as soon as
/// they are computed. The same values as [`power`] of [`stft`].
///
/// # Shapes
/// - `y`: `(n_samples,)`
/// - output: `(1 + n_fft/2, n_frames)`, stored frame by frame
pub fn power_spectrogram(y: &[f32], cfg: &StftConfig) -> Result<Array2<f32>> {
    let n_freq = cfg.n_freq();
    let (frames, out) = for_each_block(
        y,
        cfg,
        n_freq,
        || (),
        |_, spectra, out| {
            for (o, c) in out.iter_mut().zip(spectra) {
                *o = c.norm_sqr();
            }
        },
    )?;
    Ok(Array2::from_shape_vec((n_freq, frames).f(), out).expect("n_freq · frames elements"))
}

/// `|stft(y)|^power` (librosa's `_spectrogram`, behind every feature taking `y`): power 2 without
/// storing the complex STFT, as [`power_spectrogram`].
///
/// # Shapes
/// - `y`: `(n_samples,)`
/// - output: `(1 + n_fft/2, n_frames)`
pub fn spectrogram(y: &[f32], cfg: &StftConfig, power: f32) -> Result<Array2<f32>> {
    if power == 2.0 {
        return power_spectrogram(y, cfg);
    }
    let mut m = magnitude(&stft(y, cfg)?);
    if power != 1.0 {
        m.mapv_inplace(|v| v.powf(power));
    }
    Ok(m)
}

/// `|S|` of a complex spectrogram, keeping its layout.
pub fn magnitude(s: &Array2<Complex32>) -> Array2<f32> {
    s.mapv(|c| c.norm())
}

/// `|S|^2` of a complex spectrogram, keeping its layout.
pub fn power(s: &Array2<Complex32>) -> Array2<f32> {
    s.mapv(|c| c.norm_sqr())
}

/// Inverse STFT by weighted overlap-add, normalised by the summed squared window.
///
/// # Shapes
/// - `s`: `(1 + n_fft/2, n_frames)`; `n_fft` is taken from `cfg` and must match
/// - output: `(length,)` when given, else `n_fft + hop·(n_frames − 1)` minus `2·(n_fft/2)` with
///   `center`
pub fn istft(
    s: ArrayView2<Complex32>,
    cfg: &StftConfig,
    length: Option<usize>,
) -> Result<Vec<f32>> {
    cfg.validate()?;
    let (n_fft, hop) = (cfg.n_fft, cfg.hop());
    if s.nrows() != cfg.n_freq() {
        return Err(invalid(
            "n_fft",
            n_fft,
            format!(
                "2·(n_freq − 1) = {} for a spectrogram with {} frequency bins",
                2 * (s.nrows().max(1) - 1),
                s.nrows()
            ),
            "pass the n_fft the STFT was computed with",
        ));
    }
    let pad = if cfg.center { n_fft / 2 } else { 0 };
    let mut frames = s.ncols();
    if let Some(l) = length {
        soundcheck_io::budget::memory("the inverse STFT's output (`length` samples)", &[l], 4)
            .map_err(|e| invalid("length", l, "an output that fits in memory", e.to_string()))?;
        frames = frames.min(l.saturating_add(2 * pad).div_ceil(hop));
    }
    let full = if frames == 0 {
        0
    } else {
        n_fft + hop * (frames - 1)
    };
    let out_len = match length {
        Some(l) => l,
        None => full.saturating_sub(2 * pad),
    };
    let window = window_f32(cfg);
    let ifft = RealIfft::cached(n_fft);
    let mut acc = vec![0f32; full];
    let mut wss = vec![0f32; full];
    let mut spectrum = vec![Complex32::new(0.0, 0.0); cfg.n_freq()];
    let mut frame = vec![0f32; n_fft];
    let mut scratch = ifft.scratch();
    let scale = 1.0 / n_fft as f32;
    for t in 0..frames {
        for (dst, src) in spectrum.iter_mut().zip(s.column(t)) {
            *dst = *src;
        }
        ifft.inverse(&mut spectrum, &mut frame, &mut scratch);
        let start = t * hop;
        for j in 0..n_fft {
            acc[start + j] += frame[j] * scale * window[j];
            wss[start + j] += window[j] * window[j];
        }
    }
    let tiny = f32::MIN_POSITIVE;
    Ok((0..out_len)
        .map(|i| match (acc.get(i + pad), wss.get(i + pad)) {
            (Some(&a), Some(&w)) if w > tiny => a / w,
            (Some(&a), _) => a,
            _ => 0.0,
        })
        .collect())
}

/// Slices `x` into overlapping frames.
///
/// # Shapes
/// - `x`: `(n,)`
/// - output: `(frame_length, 1 + (n − frame_length) / hop_length)`, as `librosa.util.frame`
pub fn frame(x: &[f32], frame_length: usize, hop_length: usize) -> Result<Array2<f32>> {
    if frame_length == 0 {
        return Err(invalid("frame_length", 0, "a positive integer", ""));
    }
    if hop_length == 0 {
        return Err(invalid("hop_length", 0, "a positive integer", ""));
    }
    let n =
        n_frames(x.len(), frame_length, hop_length, false).ok_or_else(|| AudioError::TooShort {
            what: "frame input".into(),
            actual: x.len(),
            expected: frame_length,
            hint: "pad the signal (fix_length) or use a shorter frame_length".into(),
        })?;
    Ok(Array2::from_shape_fn((frame_length, n), |(i, t)| {
        x[t * hop_length + i]
    }))
}

/// Pads with zeros or truncates to exactly `size` samples (`librosa.util.fix_length`).
pub fn fix_length(x: &[f32], size: usize) -> Vec<f32> {
    let mut v = x[..x.len().min(size)].to_vec();
    v.resize(size, 0.0);
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frame_counts_for_both_center_settings() {
        // 30 s at 22050 Hz, n_fft 1024, hop 256 → 2584 frames (the seed's spectrogram).
        assert_eq!(n_frames(30 * 22050, 1024, 256, true), Some(2584));
        assert_eq!(
            n_frames(30 * 22050, 1024, 256, false),
            Some(1 + (661500 - 1024) / 256)
        );
        assert_eq!(n_frames(1000, 2048, 512, false), None);
        assert_eq!(n_frames(1000, 2048, 512, true), Some(1 + 1000 / 512));
    }

    #[test]
    fn periodic_hann() {
        let w = hann_window(4, 4);
        let want = [0.0, 0.5, 1.0, 0.5];
        for (a, b) in w.iter().zip(want) {
            assert!((a - b).abs() < 1e-12);
        }
        assert_eq!(hann_window(2, 6), vec![0.0, 0.0, 0.0, 1.0, 0.0, 0.0]);
    }

    #[test]
    fn reflect_padding_like_numpy() {
        // numpy 2.4: np.pad([1,2,3], 4, mode="reflect") -> [1 2 3 2 1 2 3 2 1 2 3]
        let y = [1.0, 2.0, 3.0];
        let got: Vec<f32> = (-4..7)
            .map(|i| padded_sample(&y, i, PadMode::Reflect))
            .collect();
        assert_eq!(got, vec![1., 2., 3., 2., 1., 2., 3., 2., 1., 2., 3.]);
    }

    #[test]
    fn dc_signal_has_energy_only_at_dc() {
        let y = vec![1.0f32; 4096];
        let cfg = StftConfig {
            n_fft: 512,
            center: false,
            ..Default::default()
        };
        let s = stft(&y, &cfg).unwrap();
        assert_eq!(s.dim(), (257, 1 + (4096 - 512) / 128));
        // Σ hann(512) = 256 exactly for the periodic window.
        assert!((s[[0, 3]].re - 256.0).abs() < 1e-3);
        assert!(s[[5, 3]].norm() < 1e-3);
    }

    #[test]
    fn round_trip_recovers_the_signal() {
        let y: Vec<f32> = (0..5000).map(|i| ((i as f32) * 0.05).sin() * 0.5).collect();
        let cfg = StftConfig {
            n_fft: 512,
            ..Default::default()
        };
        let s = stft(&y, &cfg).unwrap();
        let back = istft(s.view(), &cfg, Some(y.len())).unwrap();
        let err = y
            .iter()
            .zip(&back)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f32::max);
        assert!(err < 1e-5, "{err}");
    }

    #[test]
    fn bad_input_is_an_error() {
        let cfg = StftConfig {
            n_fft: 1024,
            center: false,
            ..Default::default()
        };
        let e = stft(&[0.0; 100], &cfg).unwrap_err().to_string();
        assert!(e.contains("100 samples, expected at least 1024"), "{e}");
        let e = stft(&[0.0, f32::NAN], &StftConfig::default())
            .unwrap_err()
            .to_string();
        assert!(e.contains("sample 1 is NaN"), "{e}");
        let e = stft(
            &[0.0; 10],
            &StftConfig {
                hop_length: Some(0),
                ..Default::default()
            },
        )
        .unwrap_err()
        .to_string();
        assert!(e.starts_with("hop_length=0 is invalid"), "{e}");
        assert!(stft(&[], &StftConfig::default()).is_err());
    }

    #[test]
    fn a_given_window_is_centred_in_n_fft() {
        // A boxcar of 4 samples centred in n_fft = 8: frame 0 of a DC signal (no centring) sums
        // 4 samples at DC, and the round trip still recovers the signal.
        let cfg = StftConfig {
            n_fft: 8,
            hop_length: Some(2),
            win_length: Some(4),
            center: false,
            window: Window::Samples(Arc::from(vec![1.0f32; 4])),
            ..Default::default()
        };
        let s = stft(&[1.0; 32], &cfg).unwrap();
        assert!((s[[0, 0]].re - 4.0).abs() < 1e-6, "{}", s[[0, 0]]);
        let y: Vec<f32> = (0..64).map(|i| ((i as f32) * 0.3).sin()).collect();
        let back = istft(stft(&y, &cfg).unwrap().view(), &cfg, None).unwrap();
        // Without centring, the first and last n_fft − hop samples lack full overlap-add cover.
        for (a, b) in y[6..50].iter().zip(&back[6..50]) {
            assert!((a - b).abs() < 1e-5, "{a} vs {b}");
        }
        // The Hann window given as samples is the default window.
        let hann: Vec<f32> = hann_window(8, 8).iter().map(|&w| w as f32).collect();
        let given = StftConfig {
            n_fft: 8,
            window: Window::Samples(Arc::from(hann)),
            ..Default::default()
        };
        let default = StftConfig {
            n_fft: 8,
            ..Default::default()
        };
        assert_eq!(stft(&y, &given).unwrap(), stft(&y, &default).unwrap());
    }

    #[test]
    fn a_window_of_the_wrong_length_is_named() {
        let cfg = StftConfig {
            n_fft: 16,
            window: Window::Samples(Arc::from(vec![1.0f32; 10])),
            ..Default::default()
        };
        let e = stft(&[0.0; 64], &cfg).unwrap_err().to_string();
        assert!(
            e.starts_with("window=an array of 10 samples is invalid"),
            "{e}"
        );
        assert!(e.contains("win_length = 16"), "{e}");
    }
}
