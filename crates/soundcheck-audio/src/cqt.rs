//! `librosa.cqt` (0.11: the variable-Q transform with γ = 0): per octave, from the top, a bank of
//! Hann-windowed complex sinusoids of `Q·sr/f` samples, sparsified and applied in the frequency
//! domain to a rectangular-window STFT; the signal is then halved in rate (soxr's HQ recipe, as
//! librosa calls it) and the next octave down runs at half the rate with half the hop.

use ndarray::Array2;
use rayon::prelude::*;
use realfft::num_complex::{Complex, Complex32};

use crate::error::{invalid, Result};
use crate::rfft::RealFft;

/// librosa's `window_bandwidth('hann')`: the Hann window's equivalent noise bandwidth in bins.
const HANN_BANDWIDTH: f64 = 1.50018310546875;

/// The most bins a transform may have (14 octaves at 120 bins per octave, far beyond audio).
pub const MAX_CQT_BINS: usize = 1680;

/// The longest filter, in samples at the input rate (≈ 48 s at 22050 Hz): its FFT basis is
/// built in memory, so a tiny `fmin` must not ask for gigabytes.
pub const MAX_CQT_FILTER: usize = 1 << 20;

/// `librosa.cqt`'s parameters, with its defaults (Hann window, L1-normalised filters, constant
/// padding: the only window, norm and padding implemented).
#[derive(Clone, Debug, PartialEq)]
pub struct CqtConfig {
    /// Hop between frames at the input rate; 512 by default.
    pub hop_length: usize,
    /// The lowest bin's frequency in Hz; C1 (32.70 Hz) when `None`.
    pub fmin: Option<f64>,
    /// Number of bins; 84 (7 octaves) by default.
    pub n_bins: usize,
    /// Bins per octave; 12 by default.
    pub bins_per_octave: usize,
    /// Tuning offset in fractions of a bin; 0 by default.
    pub tuning: f64,
    /// Filter length scale; 1 by default.
    pub filter_scale: f64,
    /// Share of each filter's magnitude dropped as its smallest coefficients; 0.01 by default.
    pub sparsity: f64,
    /// Divide each bin by the square root of its filter length (librosa's `scale=True`).
    pub scale: bool,
}

impl Default for CqtConfig {
    fn default() -> Self {
        CqtConfig {
            hop_length: 512,
            fmin: None,
            n_bins: 84,
            bins_per_octave: 12,
            tuning: 0.0,
            filter_scale: 1.0,
            sparsity: 0.01,
            scale: true,
        }
    }
}

impl CqtConfig {
    /// The transform `librosa.feature.chroma_cqt` takes by default: 7 octaves of 36 bins from
    /// C1, at `hop_length`.
    pub fn for_chroma(hop_length: usize) -> CqtConfig {
        CqtConfig {
            hop_length,
            n_bins: 7 * 36,
            bins_per_octave: 36,
            ..Default::default()
        }
    }

    /// Checks the settings for a signal at `sr`, as [`cqt`] does before it reads the signal:
    /// the named parameter, its value and the fix on failure.
    pub fn check(&self, sr: u32) -> Result<()> {
        self.plan(sr).map(|_| ())
    }

    /// The bins' frequencies, relative bandwidths and the top filter's cut-off, after checking
    /// every setting.
    fn plan(&self, sr: u32) -> Result<(Vec<f64>, Vec<f64>, f64)> {
        let cfg = self;
        let bpo = cfg.bins_per_octave;
        if cfg.hop_length == 0 {
            return Err(invalid("hop_length", 0, "a positive number of samples", ""));
        }
        if bpo == 0 {
            return Err(invalid(
                "bins_per_octave",
                0,
                "at least 1",
                "12 is librosa's default",
            ));
        }
        if !(2..=MAX_CQT_BINS).contains(&cfg.n_bins) {
            return Err(invalid(
                "n_bins",
                cfg.n_bins,
                format!("2 to {MAX_CQT_BINS} bins"),
                "84 (7 octaves of 12) is librosa's default",
            ));
        }
        let fmin = cfg.fmin.unwrap_or_else(c1);
        if !(fmin.is_finite() && fmin > 0.0) {
            return Err(invalid("fmin", fmin, "a positive frequency in Hz", ""));
        }
        if !(cfg.filter_scale.is_finite() && cfg.filter_scale > 0.0) {
            return Err(invalid(
                "filter_scale",
                cfg.filter_scale,
                "a positive number",
                "",
            ));
        }
        if !(0.0..1.0).contains(&cfg.sparsity) {
            return Err(invalid(
                "sparsity",
                cfg.sparsity,
                "a share in [0, 1)",
                "0.01 is librosa's",
            ));
        }
        if !cfg.tuning.is_finite() {
            return Err(invalid(
                "tuning",
                cfg.tuning,
                "a finite fraction of a bin",
                "",
            ));
        }
        let fmin = fmin * 2f64.powf(cfg.tuning / bpo as f64);
        let freqs = cqt_frequencies(cfg.n_bins, fmin, bpo);
        let alpha = relative_bandwidth(&freqs);
        let cutoff = freqs
            .iter()
            .zip(&alpha)
            .map(|(f, a)| f * (1.0 + 0.5 * HANN_BANDWIDTH / (cfg.filter_scale / a)))
            .fold(0.0, f64::max);
        let nyquist = sr as f64 / 2.0;
        if cutoff > nyquist {
            return Err(invalid(
                "n_bins",
                cfg.n_bins,
                format!("filters below the Nyquist frequency of {nyquist} Hz"),
                format!(
                    "the top bin's filter reaches {cutoff:.1} Hz; use fewer bins, a lower fmin or a \
                     higher sample rate"
                ),
            ));
        }
        let longest = cfg.filter_scale / alpha[0] * sr as f64 / freqs[0];
        if longest > MAX_CQT_FILTER as f64 {
            return Err(invalid(
                "fmin",
                fmin,
                format!("a lowest filter of at most {MAX_CQT_FILTER} samples"),
                format!(
                    "at {sr} Hz the filter for {:.3} Hz would be {longest:.0} samples long; \
                     raise fmin (librosa's default is C1, 32.7 Hz) or lower filter_scale",
                    freqs[0]
                ),
            ));
        }
        Ok((freqs, alpha, cutoff))
    }
}

/// librosa's `note_to_hz('C1')`.
pub(crate) fn c1() -> f64 {
    440.0 * 2f64.powf((24.0 - 69.0) / 12.0)
}

/// The bins' centre frequencies, as `interval_frequencies(..., 'equal')` builds them: octave
/// factor times equal-tempered ratio, then times `fmin`.
pub fn cqt_frequencies(n_bins: usize, fmin: f64, bins_per_octave: usize) -> Vec<f64> {
    (0..n_bins)
        .map(|k| {
            let (octave, j) = (k / bins_per_octave, k % bins_per_octave);
            2f64.powi(octave as i32) * 2f64.powf(j as f64 / bins_per_octave as f64) * fmin
        })
        .collect()
}

/// Each bin's relative bandwidth from its neighbours' log-frequencies (librosa's
/// `filters._relative_bandwidth`).
fn relative_bandwidth(freqs: &[f64]) -> Vec<f64> {
    let n = freqs.len();
    let logf: Vec<f64> = freqs.iter().map(|f| f.log2()).collect();
    (0..n)
        .map(|k| {
            let bpo = if k == 0 {
                1.0 / (logf[1] - logf[0])
            } else if k == n - 1 {
                1.0 / (logf[n - 1] - logf[n - 2])
            } else {
                2.0 / (logf[k + 1] - logf[k - 1])
            };
            let r = 2f64.powf(2.0 / bpo);
            (r - 1.0) / (r + 1.0)
        })
        .collect()
}

/// One octave's filters in the frequency domain: for each bin, its non-zero coefficients after
/// sparsification, as `(bin, coefficient)` over the `n_fft / 2 + 1` bins of a frame's spectrum.
struct Basis {
    n_fft: usize,
    rows: Vec<Vec<(usize, Complex32)>>,
}

impl Basis {
    /// librosa's `__vqt_filter_fft` at rate `sr` for `freqs` with relative bandwidths `alpha`,
    /// each row times its `gains` entry.
    fn new(sr: f64, freqs: &[f64], alpha: &[f64], cfg: &CqtConfig, gains: &[f64]) -> Basis {
        use rustfft::FftPlanner;
        let lengths: Vec<f64> = freqs
            .iter()
            .zip(alpha)
            .map(|(f, a)| cfg.filter_scale / a * sr / f)
            .collect();
        let longest = lengths.iter().cloned().fold(0.0, f64::max);
        let n_fft = 1usize << longest.log2().ceil() as u32;
        let fft = FftPlanner::<f64>::new().plan_fft_forward(n_fft);
        let rows = freqs
            .iter()
            .zip(&lengths)
            .zip(gains)
            .map(|((&f, &len), &gain)| {
                // np.arange(-len // 2, len // 2): floor division of a float length.
                let (lo, hi) = ((-len / 2.0).floor() as i64, (len / 2.0).floor() as i64);
                let count = (hi - lo) as usize;
                let window = crate::stft::hann_window(count, count);
                let mut sig: Vec<Complex<f64>> = (lo..hi)
                    .zip(&window)
                    .map(|(t, w)| {
                        Complex::from_polar(1.0, t as f64 * 2.0 * std::f64::consts::PI * f / sr)
                            * *w
                    })
                    .collect();
                let norm: f64 = sig.iter().map(|c| c.norm()).sum();
                if norm > f64::MIN_POSITIVE {
                    sig.iter_mut().for_each(|c| *c /= norm);
                }
                // Centred in n_fft, stored as complex64 (librosa's dtype), scaled by len/n_fft.
                let mut buf = vec![Complex::new(0.0, 0.0); n_fft];
                let left = (n_fft - count) / 2;
                for (b, c) in buf[left..left + count].iter_mut().zip(&sig) {
                    let c32 = Complex::new(c.re as f32 as f64, c.im as f32 as f64);
                    let s = c32 * (len / n_fft as f64);
                    *b = Complex::new(s.re as f32 as f64, s.im as f32 as f64);
                }
                fft.process(&mut buf);
                let spectrum: Vec<Complex32> = buf[..n_fft / 2 + 1]
                    .iter()
                    .map(|c| Complex32::new(c.re as f32, c.im as f32))
                    .collect();
                sparsify(&spectrum, cfg.sparsity)
                    .into_iter()
                    .map(|(k, c)| (k, c * gain as f32))
                    .collect()
            })
            .collect();
        Basis { n_fft, rows }
    }
}

/// librosa's `util.sparsify_rows` for one row: drops the smallest magnitudes whose share of the
/// row's total stays below `quantile` (float32 arithmetic, as librosa's complex64 rows).
fn sparsify(row: &[Complex32], quantile: f64) -> Vec<(usize, Complex32)> {
    let mags: Vec<f32> = row.iter().map(|c| c.norm()).collect();
    let total = pairwise_sum(&mags);
    let mut sorted = mags.clone();
    sorted.sort_unstable_by(f32::total_cmp);
    let mut cumulative = 0f32;
    // The first index whose cumulative share reaches the quantile (numpy's argmin of the
    // boolean "below": 0 when every share stays below).
    let mut threshold = sorted[0];
    for &m in &sorted {
        cumulative += m / total;
        if (cumulative as f64) >= quantile {
            threshold = m;
            break;
        }
    }
    mags.iter()
        .zip(row)
        .enumerate()
        .filter(|(_, (&m, _))| m >= threshold)
        .map(|(k, (_, &c))| (k, c))
        .collect()
}

/// numpy's float32 sum: pairwise over blocks of 128, eight partial sums within a block.
fn pairwise_sum(v: &[f32]) -> f32 {
    if v.len() < 8 {
        return v.iter().fold(0.0, |s, &x| s + x);
    }
    if v.len() <= 128 {
        let mut r = [0f32; 8];
        r.copy_from_slice(&v[..8]);
        let mut i = 8;
        while i + 8 <= v.len() {
            for k in 0..8 {
                r[k] += v[i + k];
            }
            i += 8;
        }
        let mut s = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
        for &x in &v[i..] {
            s += x;
        }
        return s;
    }
    let half = (v.len() / 2) / 8 * 8;
    pairwise_sum(&v[..half]) + pairwise_sum(&v[half..])
}

/// One octave's response: the rectangular-window STFT of `y` (centred, zero-padded) at `hop`,
/// each frame's spectrum multiplied by the basis. Frame-major, `(frames, bins)`, frames
/// `1 + len / hop`.
fn response(y: &[f32], hop: usize, basis: &Basis) -> Array2<Complex32> {
    let n_fft = basis.n_fft;
    let frames = 1 + y.len() / hop;
    let bins = basis.rows.len();
    let fft = RealFft::cached(n_fft);
    let mut out = vec![Complex32::new(0.0, 0.0); frames * bins];
    out.par_chunks_mut(bins * 64)
        .enumerate()
        .for_each(|(block, chunk)| {
            let mut frame = vec![0f32; n_fft];
            let mut spectrum = vec![Complex32::new(0.0, 0.0); n_fft / 2 + 1];
            let mut scratch = fft.scratch();
            for (i, o) in chunk.chunks_mut(bins).enumerate() {
                let t = block * 64 + i;
                let start = (t * hop) as i64 - (n_fft / 2) as i64;
                crate::resample::copy_span(y, 0, start, &mut frame);
                fft.forward(&mut frame, &mut spectrum, &mut scratch);
                for (o, row) in o.iter_mut().zip(&basis.rows) {
                    *o = row.iter().map(|&(k, c)| c * spectrum[k]).sum();
                }
            }
        });
    Array2::from_shape_vec((frames, bins), out).expect("frames × bins")
}

/// librosa's count of early halvings: as many as the top filter's cut-off leaves room for,
/// and the hop's factors of two allow after the octaves' own halvings.
fn early_halvings(nyquist: f64, cutoff: f64, hop: usize, n_octaves: usize) -> u32 {
    let by_band = ((nyquist / cutoff).log2().ceil() as i64 - 1 - 1).max(0);
    let by_hop = (hop.trailing_zeros() as i64 - n_octaves as i64 + 1).max(0);
    by_band.min(by_hop) as u32
}

/// The constant-Q transform of a signal at `sr`, as `librosa.cqt(y, sr=sr, ...)`.
///
/// # Shapes
/// - `y`: `(n,)`
/// - output: `(n_bins, 1 + n' / hop')` complex64, where `n'` and `hop'` are the signal length
///   and hop after librosa's early halvings (`1 + n / hop` when there are none), trimmed to the
///   lowest octave's frame count.
pub fn cqt(y: &[f32], sr: u32, cfg: &CqtConfig) -> Result<Array2<Complex32>> {
    if y.is_empty() {
        return Err(invalid("y", "an empty signal", "at least one sample", ""));
    }
    let (freqs, alpha, cutoff) = cfg.plan(sr)?;
    let bpo = cfg.bins_per_octave;
    let n_octaves = cfg.n_bins.div_ceil(bpo);
    let n_filters = bpo.min(cfg.n_bins);
    let nyquist = sr as f64 / 2.0;
    // Early halvings, all at once, as librosa resamples by 2^k.
    let k = early_halvings(nyquist, cutoff, cfg.hop_length, n_octaves);
    // The signal at the current octave's rate: borrowed until the first halving.
    let mut y = std::borrow::Cow::Borrowed(y);
    let (mut sr_now, mut hop) = (sr as f64, cfg.hop_length);
    if k > 0 {
        let factor = 1u32 << k;
        if y.len() < factor as usize {
            return Err(invalid(
                "y",
                format!("{} samples", y.len()),
                format!("at least {factor} samples for a {n_octaves}-octave transform"),
                "",
            ));
        }
        hop /= factor as usize;
        sr_now /= factor as f64;
        let mut down = crate::resample::resample(&y, factor, 1)?;
        // librosa resamples with scale=True (×√factor), and again ×√factor without `scale`.
        let gain = if cfg.scale {
            (factor as f32).sqrt()
        } else {
            factor as f32
        };
        down.iter_mut().for_each(|v| *v *= gain);
        y = std::borrow::Cow::Owned(down);
    }
    let sr_base = sr_now;
    let mut octaves = Vec::with_capacity(n_octaves);
    for i in 0..n_octaves {
        let hi = cfg.n_bins - n_filters * i;
        let lo = cfg.n_bins.saturating_sub(n_filters * (i + 1));
        // librosa's √(sr/my_sr) per octave, and (with `scale`) each bin's 1/√length, folded
        // into the filters: the response is linear in them.
        let gains: Vec<f64> = (lo..hi)
            .map(|b| {
                let length = cfg.filter_scale / alpha[b] * sr_base / freqs[b];
                (sr_base / sr_now).sqrt() / if cfg.scale { length.sqrt() } else { 1.0 }
            })
            .collect();
        let basis = Basis::new(sr_now, &freqs[lo..hi], &alpha[lo..hi], cfg, &gains);
        octaves.push(response(&y, hop, &basis));
        if hop % 2 == 0 && i + 1 < n_octaves {
            hop /= 2;
            sr_now /= 2.0;
            let mut down = crate::resample::resample(&y, 2, 1)?;
            down.iter_mut().for_each(|v| *v *= std::f32::consts::SQRT_2);
            y = std::borrow::Cow::Owned(down);
        }
    }
    // librosa's __trim_stack: the octaves from the top down, trimmed to the fewest frames.
    let frames = octaves.iter().map(|o| o.nrows()).min().unwrap_or(0);
    let mut out = Array2::<Complex32>::zeros((cfg.n_bins, frames));
    let mut end = cfg.n_bins;
    for o in &octaves {
        let n = o.ncols().min(end);
        out.slice_mut(ndarray::s![end - n..end, ..])
            .assign(&o.slice(ndarray::s![..frames, o.ncols() - n..]).t());
        end -= n;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(cfg: CqtConfig, y: &[f32], name: &str) {
        let e = cqt(y, 22050, &cfg).unwrap_err().to_string();
        assert!(e.starts_with(&format!("{name}=")), "{e}");
    }

    #[test]
    fn bad_settings_are_refused_by_name_before_any_work() {
        let y = [0.0f32; 1000];
        let d = CqtConfig::default;
        refused(
            CqtConfig {
                hop_length: 0,
                ..d()
            },
            &y,
            "hop_length",
        );
        refused(CqtConfig { n_bins: 1, ..d() }, &y, "n_bins");
        refused(CqtConfig { n_bins: 200, ..d() }, &y, "n_bins");
        refused(
            CqtConfig {
                bins_per_octave: 0,
                ..d()
            },
            &y,
            "bins_per_octave",
        );
        refused(
            CqtConfig {
                fmin: Some(-1.0),
                ..d()
            },
            &y,
            "fmin",
        );
        // A tiny fmin would need a filter of 3.7·10⁸ samples.
        refused(
            CqtConfig {
                fmin: Some(0.001),
                ..d()
            },
            &y,
            "fmin",
        );
        refused(
            CqtConfig {
                tuning: f64::NAN,
                ..d()
            },
            &y,
            "tuning",
        );
        refused(
            CqtConfig {
                sparsity: 1.0,
                ..d()
            },
            &y,
            "sparsity",
        );
        refused(
            CqtConfig {
                filter_scale: 0.0,
                ..d()
            },
            &y,
            "filter_scale",
        );
        refused(d(), &[], "y");
    }

    /// The pairwise sum covers every value once, across the 128-value split and the 8-lane
    /// remainder (its agreement with numpy's rounding is what the librosa fixtures check).
    #[test]
    fn pairwise_sum_adds_in_numpys_order() {
        let v: Vec<f32> = (0..300).map(|i| 1.0 + (i as f32) * 1e-7).collect();
        let exact: f64 = v.iter().map(|&x| f64::from(x)).sum();
        assert!((f64::from(pairwise_sum(&v)) - exact).abs() < 1e-4);
        assert_eq!(pairwise_sum(&[1.0, 2.0, 3.0]), 6.0);
    }
}
