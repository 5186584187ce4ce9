//! Spectral shape descriptors of a magnitude spectrogram, as `librosa.feature`'s
//! `spectral_centroid`, `spectral_bandwidth`, `spectral_rolloff` and `spectral_flatness`
//! compute them from `|stft(y)|`.

use multiversion::multiversion;
use ndarray::{Array2, ArrayView1, Axis};
use rayon::prelude::*;
use realfft::num_complex::Complex32;

use crate::error::{invalid, Result};
use crate::stft::{for_each_block, StftConfig};

/// The centre frequency of each STFT bin (`librosa.fft_frequencies`).
pub fn fft_frequencies(sr: u32, n_fft: usize) -> Vec<f64> {
    (0..=n_fft / 2)
        .map(|k| k as f64 * f64::from(sr) / n_fft as f64)
        .collect()
}

/// A spectral shape descriptor: one value per frame of a magnitude spectrum.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Descriptor {
    /// `spectral_centroid`: the magnitude-weighted mean frequency, Hz.
    Centroid,
    /// `spectral_bandwidth(p=...)`: the `p`-th order spread around the centroid, Hz.
    Bandwidth {
        /// Order of the spread (librosa's default 2).
        p: f64,
    },
    /// `spectral_rolloff(roll_percent=...)`: the lowest bin frequency below which that share of
    /// the magnitude lies, Hz.
    Rolloff {
        /// Share of the magnitude (librosa's default 0.85).
        roll_percent: f64,
    },
    /// `spectral_flatness(power=..., amin=...)`: geometric over arithmetic mean of
    /// `max(amin, S^power)`.
    Flatness {
        /// Exponent of the magnitude (librosa's default 2).
        power: f64,
        /// Floor of each value (librosa's default 1e-10).
        amin: f64,
    },
}

impl Descriptor {
    /// Checks the parameters as librosa does, naming the one that cannot be used.
    fn validate(self) -> Result<()> {
        let positive = |name, v: f64, default| {
            if v.is_nan() || v <= 0.0 {
                Err(invalid(
                    name,
                    v,
                    "a positive number",
                    format!("librosa's default is {default}"),
                ))
            } else {
                Ok(())
            }
        };
        match self {
            Descriptor::Centroid => Ok(()),
            Descriptor::Bandwidth { p } => positive("p", p, "2"),
            Descriptor::Rolloff { roll_percent } if !(roll_percent > 0.0 && roll_percent < 1.0) => {
                Err(invalid(
                    "roll_percent",
                    roll_percent,
                    "a number strictly between 0 and 1",
                    "librosa's default is 0.85",
                ))
            }
            Descriptor::Rolloff { .. } => Ok(()),
            Descriptor::Flatness { power, amin } => {
                positive("amin", amin, "1e-10")?;
                positive("power", power, "2")
            }
        }
    }

    /// The value of one frame's magnitudes `c` (bins at `freq`).
    fn of_frame(self, c: &[f32], freq: &[f64]) -> f64 {
        match self {
            Descriptor::Centroid => centroid_of(c, freq),
            Descriptor::Bandwidth { p } => {
                let centroid = centroid_of(c, freq);
                let norm = l1(c);
                // p = 2 (librosa's default) as a square and a square root: a power per bin
                // would cost more than the FFT.
                let spread = |d: f64| if p == 2.0 { d * d } else { d.abs().powf(p) };
                let sum = c
                    .iter()
                    .zip(freq)
                    .map(|(&v, &f)| f64::from(v) / norm * spread(f - centroid))
                    .sum::<f64>();
                if p == 2.0 {
                    sum.sqrt()
                } else {
                    sum.powf(1.0 / p)
                }
            }
            Descriptor::Rolloff { roll_percent } => {
                // The running sum stays in f32, as numpy's cumsum of float32 keeps it, so the
                // chosen bin matches.
                let total: f32 = c.iter().fold(0f32, |a, &v| a + v);
                let threshold = roll_percent * f64::from(total);
                let mut running = 0f32;
                for (&v, &f) in c.iter().zip(freq) {
                    running += v;
                    if f64::from(running) >= threshold {
                        return f;
                    }
                }
                f64::NAN
            }
            Descriptor::Flatness { power, amin } => flatness_of(c, power, amin),
        }
    }

    /// The descriptor of a magnitude spectrogram (`librosa.feature.spectral_*(S=s, ...)`).
    ///
    /// # Shapes
    /// - `s`: `(1 + n_fft/2, n_frames)` magnitudes
    /// - output: `(1, n_frames)`
    pub fn of_spectrogram(self, s: &Array2<f32>, sr: u32, n_fft: usize) -> Result<Array2<f32>> {
        self.validate()?;
        if !matches!(self, Descriptor::Flatness { .. }) {
            check_bins(s, n_fft)?;
        }
        let freq = fft_frequencies(sr, n_fft);
        let cols: Vec<ArrayView1<f32>> = s.axis_iter(Axis(1)).collect();
        let out: Vec<f32> = cols
            .into_par_iter()
            .map_init(Vec::new, |scratch, c| {
                let c = match c.as_slice() {
                    Some(c) => c,
                    None => {
                        scratch.clear();
                        scratch.extend(c.iter());
                        scratch.as_slice()
                    }
                };
                self.of_frame(c, &freq) as f32
            })
            .collect();
        Ok(Array2::from_shape_vec((1, out.len()), out).expect("one row of frames"))
    }

    /// The descriptor of a signal (`librosa.feature.spectral_*(y=y, ...)`), each frame's
    /// magnitudes reduced as soon as its FFT is done: no complex STFT or magnitude array is
    /// stored, and the frames are spread over the threads. The numbers of
    /// [`Descriptor::of_spectrogram`] of `magnitude(stft(y))` to within a float rounding (see
    /// [`magnitudes`]).
    ///
    /// # Shapes
    /// - `y`: `(n_samples,)`
    /// - output: `(1, n_frames)`
    pub fn of_signal(self, y: &[f32], sr: u32, cfg: &StftConfig) -> Result<Array2<f32>> {
        self.validate()?;
        let freq = fft_frequencies(sr, cfg.n_fft);
        let n_freq = cfg.n_freq();
        let (frames, out) = for_each_block(
            y,
            cfg,
            1,
            || vec![0f32; n_freq],
            |mag, spectra, out| {
                for (o, spectrum) in out.iter_mut().zip(spectra.chunks_exact(n_freq)) {
                    magnitudes(spectrum, mag);
                    *o = self.of_frame(mag, &freq) as f32;
                }
            },
        )?;
        Ok(Array2::from_shape_vec((1, frames), out).expect("one row of frames"))
    }
}

/// `|c|` of each bin as `sqrt(re² + im²)` in f32 vectors. numpy's `abs` (and [`magnitude`])
/// uses `hypot`, which avoids overflow and differs by at most one rounding; at 26 million bins
/// for 10 minutes, `hypot` alone would take longer than the FFTs.
///
/// [`magnitude`]: crate::stft::magnitude
#[multiversion(targets("x86_64+avx2+fma"))]
pub(crate) fn magnitudes(spectrum: &[Complex32], out: &mut [f32]) {
    for (m, c) in out.iter_mut().zip(spectrum) {
        *m = (c.re * c.re + c.im * c.im).sqrt();
    }
}

/// A frame's L1 norm, or 1 where it is below the smallest normal float (librosa's
/// `util.normalize(norm=1)`: silent frames stay zero instead of dividing by zero).
fn l1(c: &[f32]) -> f64 {
    let n: f64 = c.iter().map(|&v| f64::from(v)).sum();
    if n < f64::from(f32::MIN_POSITIVE) {
        1.0
    } else {
        n
    }
}

pub(crate) fn check_bins(s: &Array2<f32>, n_fft: usize) -> Result<()> {
    if s.nrows() != n_fft / 2 + 1 {
        return Err(invalid(
            "n_fft",
            n_fft,
            format!("the spectrogram's {} bins = 1 + n_fft/2", s.nrows()),
            "pass the n_fft the spectrogram was computed with",
        ));
    }
    Ok(())
}

fn centroid_of(c: &[f32], freq: &[f64]) -> f64 {
    let norm = l1(c);
    c.iter()
        .zip(freq)
        .map(|(&v, &f)| f * f64::from(v))
        .sum::<f64>()
        / norm
}

/// `exp(mean(ln x)) / mean(x)` of `x = max(amin, c^power)`. The logarithms are summed as the log
/// of a running product, renormalised by its binary exponent: one multiply per bin instead of a
/// logarithm, the same value to f64 rounding.
fn flatness_of(c: &[f32], power: f64, amin: f64) -> f64 {
    let n = c.len() as f64;
    let (mut product, mut exponent, mut sum) = (1f64, 0i64, 0f64);
    for &v in c {
        let v = f64::from(v);
        let p = if power == 2.0 { v * v } else { v.powf(power) };
        let x = amin.max(p);
        sum += x;
        product *= x;
        if !(1e-150..=1e150).contains(&product) {
            let (m, e) = frexp(product);
            product = m;
            exponent += e;
        }
    }
    let mean_log = (product.ln() + exponent as f64 * std::f64::consts::LN_2) / n;
    mean_log.exp() / (sum / n)
}

/// `x = m · 2^e` with `0.5 ≤ m < 1`, for a positive normal `x`.
fn frexp(x: f64) -> (f64, i64) {
    let bits = x.to_bits();
    let e = ((bits >> 52) & 0x7ff) as i64 - 1022;
    let m = f64::from_bits((bits & !(0x7ff << 52)) | (1022 << 52));
    (m, e)
}

/// `librosa.feature.spectral_centroid(S=s, sr=sr, n_fft=n_fft)`: each frame's mean frequency,
/// weighted by magnitude.
///
/// # Shapes
/// - `s`: `(1 + n_fft/2, n_frames)` magnitudes
/// - output: `(1, n_frames)` in Hz
pub fn spectral_centroid_from_spectrogram(
    s: &Array2<f32>,
    sr: u32,
    n_fft: usize,
) -> Result<Array2<f32>> {
    Descriptor::Centroid.of_spectrogram(s, sr, n_fft)
}

/// `librosa.feature.spectral_bandwidth(S=s, sr=sr, n_fft=n_fft, p=p)`: the `p`-th order spread
/// of frequencies around each frame's centroid, weighted by normalised magnitude.
///
/// # Shapes
/// - `s`: `(1 + n_fft/2, n_frames)` magnitudes
/// - output: `(1, n_frames)` in Hz
pub fn spectral_bandwidth_from_spectrogram(
    s: &Array2<f32>,
    sr: u32,
    n_fft: usize,
    p: f64,
) -> Result<Array2<f32>> {
    Descriptor::Bandwidth { p }.of_spectrogram(s, sr, n_fft)
}

/// `librosa.feature.spectral_rolloff(S=s, sr=sr, n_fft=n_fft, roll_percent=...)`.
///
/// # Shapes
/// - `s`: `(1 + n_fft/2, n_frames)` magnitudes
/// - output: `(1, n_frames)` in Hz
pub fn spectral_rolloff_from_spectrogram(
    s: &Array2<f32>,
    sr: u32,
    n_fft: usize,
    roll_percent: f64,
) -> Result<Array2<f32>> {
    Descriptor::Rolloff { roll_percent }.of_spectrogram(s, sr, n_fft)
}

/// `librosa.feature.spectral_flatness(S=s, power=power, amin=amin)`: the geometric mean of each
/// frame's `max(amin, s^power)` over its arithmetic mean (1 for white noise, near 0 for a tone).
///
/// # Shapes
/// - `s`: `(n_bins, n_frames)` magnitudes
/// - output: `(1, n_frames)`
pub fn spectral_flatness_from_spectrogram(
    s: &Array2<f32>,
    power: f64,
    amin: f64,
) -> Result<Array2<f32>> {
    // Flatness reads no frequencies: any number of bins is fine.
    let n_fft = 2 * s.nrows().saturating_sub(1);
    Descriptor::Flatness { power, amin }.of_spectrogram(s, 1, n_fft)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn written_out_frames() {
        // n_fft 4 at 8 Hz: bins at 0, 2, 4 Hz. Frame [1, 1, 2]: centroid (0+2+8)/4 = 2.5 Hz.
        let s = Array2::from_shape_vec((3, 1), vec![1.0, 1.0, 2.0]).unwrap();
        assert_eq!(
            spectral_centroid_from_spectrogram(&s, 8, 4).unwrap()[[0, 0]],
            2.5
        );
        // Spread: sqrt((6.25 + 0.25 + 2·2.25) / 4) = sqrt(2.75).
        let bw = spectral_bandwidth_from_spectrogram(&s, 8, 4, 2.0).unwrap()[[0, 0]];
        assert!((bw - 2.75f32.sqrt()).abs() < 1e-6);
        // 85 % of 4 = 3.4 is reached at the last bin (running sums 1, 2, 4).
        assert_eq!(
            spectral_rolloff_from_spectrogram(&s, 8, 4, 0.85).unwrap()[[0, 0]],
            4.0
        );
        // A flat spectrum is flat.
        let flat = Array2::from_elem((3, 1), 0.5f32);
        assert!(
            (spectral_flatness_from_spectrogram(&flat, 2.0, 1e-10).unwrap()[[0, 0]] - 1.0).abs()
                < 1e-6
        );
    }

    #[test]
    fn the_running_product_keeps_the_mean_log_over_many_tiny_bins() {
        // 1025 bins of 1e-5 (power 1e-10 each): a plain product would underflow after 31 bins.
        let c = vec![1e-5f32; 1025];
        let got = flatness_of(&c, 2.0, 1e-12);
        assert!((got - 1.0).abs() < 1e-9, "{got}");
        let mut tone = vec![1e-5f32; 1025];
        tone[100] = 1.0;
        let want = {
            let x: Vec<f64> = tone.iter().map(|&v| f64::from(v) * f64::from(v)).collect();
            let n = x.len() as f64;
            (x.iter().map(|v| v.ln()).sum::<f64>() / n).exp() / (x.iter().sum::<f64>() / n)
        };
        assert!((flatness_of(&tone, 2.0, 1e-12) - want).abs() < 1e-12 * want.abs().max(1.0));
    }

    #[test]
    fn from_the_signal_equals_from_its_spectrogram() {
        let y: Vec<f32> = (0..20000)
            .map(|i| ((i as f32) * 0.05).sin() + 0.1 * ((i * 7 % 13) as f32 - 6.0) / 6.0)
            .collect();
        let cfg = StftConfig::default();
        let mag = crate::stft::magnitude(&crate::stft::stft(&y, &cfg).unwrap());
        for d in [
            Descriptor::Centroid,
            Descriptor::Bandwidth { p: 2.0 },
            Descriptor::Rolloff { roll_percent: 0.85 },
            Descriptor::Flatness {
                power: 2.0,
                amin: 1e-10,
            },
        ] {
            let (a, b) = (
                d.of_signal(&y, 22050, &cfg).unwrap(),
                d.of_spectrogram(&mag, 22050, 2048).unwrap(),
            );
            for (x, w) in a.iter().zip(&b) {
                assert!(
                    (x - w).abs() <= 1e-5 * w.abs().max(1.0),
                    "{d:?}: {x} vs {w}"
                );
            }
        }
    }
}
