//! BSS Eval v4 as museval computes it (`bss_eval(..., framewise_filters=False)`, the image
//! criteria): distortion filters of 512 taps computed once per track, then SDR, ISR, SIR and SAR
//! in windows of the track.

use std::fmt;
use std::sync::Arc;

use rayon::prelude::*;
use realfft::num_complex::Complex64;
use realfft::{ComplexToReal, RealFftPlanner, RealToComplex};

use crate::linalg::{cholesky, solve, Matrix};

/// museval's filter length.
pub const FILTERS_LEN: usize = 512;

/// One estimate's projection filters, `[channel][(source, channel, lag)]`.
type Filters = Vec<Vec<f64>>;

/// Signals as `[source][channel][sample]`.
pub type Sources = [Vec<Vec<f64>>];

#[derive(Debug, PartialEq)]
pub enum EvalError {
    /// References and estimates of different shapes.
    Shape { expected: String, actual: String },
    /// A NaN or infinite sample.
    NonFinite {
        what: &'static str,
        source: usize,
        channel: usize,
        sample: usize,
    },
    /// A source that is all zeros over the whole track (museval refuses it too).
    Silent { what: &'static str, source: usize },
    /// The Gram matrix of the references is singular (e.g. two identical references).
    Singular,
    /// A window or hop of zero samples.
    InvalidParameter { name: &'static str, value: usize },
}

impl fmt::Display for EvalError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EvalError::Shape { expected, actual } => write!(f, "estimates are {actual}, references are {expected}: give one estimate per reference, of the same length and channels"),
            EvalError::NonFinite { what, source, channel, sample } => write!(f, "{what} source {source}, channel {channel}, sample {sample} is not finite: remove NaN/inf before evaluating"),
            EvalError::Silent { what, source } => write!(f, "{what} source {source} is silent over the whole track: BSS Eval is undefined for it (drop the source)"),
            EvalError::Singular => write!(f, "the references are linearly dependent (e.g. two identical stems): BSS Eval cannot separate their contributions"),
            EvalError::InvalidParameter { name, value } => write!(f, "{name}={value} samples is invalid: expected at least 1 (museval uses one second at the track's rate)"),
        }
    }
}

impl std::error::Error for EvalError {}

/// Per-frame metrics, `[source][frame]` in dB; NaN where a window has a silent source.
#[derive(Clone, Debug, PartialEq)]
pub struct Metrics {
    pub sdr: Vec<Vec<f64>>,
    pub isr: Vec<Vec<f64>>,
    pub sir: Vec<Vec<f64>>,
    pub sar: Vec<Vec<f64>>,
}

fn shape(s: &Sources) -> (usize, usize, usize) {
    (
        s.len(),
        s.first().map_or(0, Vec::len),
        s.first().and_then(|c| c.first()).map_or(0, Vec::len),
    )
}

fn validate(refs: &Sources, ests: &Sources) -> Result<(usize, usize, usize), EvalError> {
    let (r, e) = (shape(refs), shape(ests));
    let consistent = |s: &Sources, (n, c, l): (usize, usize, usize)| {
        s.len() == n
            && s.iter()
                .all(|src| src.len() == c && src.iter().all(|ch| ch.len() == l))
    };
    let desc =
        |(n, c, l): (usize, usize, usize)| format!("{n} source(s) × {c} channel(s) × {l} samples");
    if r != e || !consistent(refs, r) || !consistent(ests, e) || r.0 == 0 || r.2 == 0 {
        return Err(EvalError::Shape {
            expected: desc(r),
            actual: desc(e),
        });
    }
    for (what, s) in [("reference", refs), ("estimate", ests)] {
        for (j, src) in s.iter().enumerate() {
            for (c, ch) in src.iter().enumerate() {
                if let Some(t) = ch.iter().position(|v| !v.is_finite()) {
                    return Err(EvalError::NonFinite {
                        what,
                        source: j,
                        channel: c,
                        sample: t,
                    });
                }
            }
            if silent(src, 0..r.2) {
                return Err(EvalError::Silent { what, source: j });
            }
        }
    }
    Ok(r)
}

/// museval's silence test: the channel sum is zero at every sample of the range.
fn silent(src: &[Vec<f64>], range: std::ops::Range<usize>) -> bool {
    range
        .into_iter()
        .all(|t| src.iter().map(|ch| ch[t]).sum::<f64>() == 0.0)
}

struct Fft {
    n: usize,
    fwd: Arc<dyn RealToComplex<f64>>,
    inv: Arc<dyn ComplexToReal<f64>>,
}

impl Fft {
    fn new(n: usize) -> Fft {
        let mut p = RealFftPlanner::<f64>::new();
        Fft {
            n,
            fwd: p.plan_fft_forward(n),
            inv: p.plan_fft_inverse(n),
        }
    }
    /// Spectrum of `x` zero-padded to `n`.
    fn spectrum(&self, x: &[f64]) -> Vec<Complex64> {
        let mut buf = vec![0.0; self.n];
        buf[..x.len()].copy_from_slice(x);
        let mut out = self.fwd.make_output_vec();
        self.fwd
            .process(&mut buf, &mut out)
            .expect("sizes from the plan");
        out
    }
    /// Inverse of a spectrum, normalised (as numpy's ifft). The DC and Nyquist bins of a real
    /// signal's spectrum are real; products of spectra can leave rounding residue there, which
    /// realfft rejects, so it is dropped (numpy's `real(ifft(..))` discards it the same way).
    fn signal(&self, mut s: Vec<Complex64>) -> Vec<f64> {
        s[0].im = 0.0;
        let last = s.len() - 1;
        s[last].im = 0.0;
        let mut out = self.inv.make_output_vec();
        self.inv
            .process(&mut s, &mut out)
            .expect("sizes from the plan");
        out.iter().map(|v| v / self.n as f64).collect()
    }
    /// Circular cross-correlation `r[k] = Σ_t a[t + k]·b[t]` from two spectra.
    fn correlation(&self, a: &[Complex64], b: &[Complex64]) -> Vec<f64> {
        self.signal(a.iter().zip(b).map(|(x, y)| x * y.conj()).collect())
    }
}

/// BSS Eval v4 of `estimates` against `references` (`[source][channel][sample]`) in windows of
/// `window` samples every `hop` samples (museval uses one second of the track's rate for both).
///
/// # Errors
/// Shapes that differ, NaN/inf samples, a source silent over the whole track, dependent
/// references.
pub fn bss_eval_v4(
    references: &Sources,
    estimates: &Sources,
    window: usize,
    hop: usize,
) -> Result<Metrics, EvalError> {
    for (name, value) in [("window", window), ("hop", hop)] {
        if value == 0 {
            return Err(EvalError::InvalidParameter { name, value });
        }
    }
    let (nsrc, nchan, nsampl) = validate(references, estimates)?;
    let l = FILTERS_LEN;
    let fft = Fft::new((nsampl + l - 1).next_power_of_two());
    let sf: Vec<Vec<Vec<Complex64>>> = references
        .iter()
        .map(|s| s.iter().map(|c| fft.spectrum(c)).collect())
        .collect();
    // The Gram matrix of all references shifted by 0..l samples, rows (source, channel, lag).
    let n = nsrc * nchan * l;
    let idx = |j: usize, c: usize, lag: usize| (j * nchan + c) * l + lag;
    let mut g = Matrix::zeros(n);
    let pairs: Vec<(usize, usize)> = (0..nsrc * nchan)
        .flat_map(|p| (p..nsrc * nchan).map(move |q| (p, q)))
        .collect();
    let blocks: Vec<Vec<f64>> = pairs
        .par_iter()
        .map(|&(p, q)| fft.correlation(&sf[q / nchan][q % nchan], &sf[p / nchan][p % nchan]))
        .collect();
    for (&(p, q), ssf) in pairs.iter().zip(&blocks) {
        // Block (q, p)[a][b] = ssf[(b − a) mod n_fft]; block (p, q) is its transpose.
        let (jq, cq, jp, cp) = (q / nchan, q % nchan, p / nchan, p % nchan);
        for a in 0..l {
            for b in 0..l {
                let v = ssf[(b + fft.n - a) % fft.n];
                *g.at(idx(jq, cq, a), idx(jp, cp, b)) = v;
                *g.at(idx(jp, cp, b), idx(jq, cq, a)) = v;
            }
        }
    }
    for i in 0..n {
        *g.at(i, i) += f64::EPSILON;
    }
    let lg = cholesky(&g).ok_or(EvalError::Singular)?;
    // Each source's own block, for the projection onto that source alone.
    let own: Vec<Matrix> = (0..nsrc)
        .map(|j| {
            let m = nchan * l;
            let mut b = Matrix::zeros(m);
            for r in 0..m {
                for c in 0..m {
                    *b.at(r, c) = g.data[idx(j, 0, 0) * n + r * n + idx(j, 0, 0) + c];
                }
            }
            cholesky(&b).ok_or(EvalError::Singular)
        })
        .collect::<Result<_, _>>()?;
    // Projection filters of each estimate: onto all references (c_all[j][c][(jj, cj, lag)]) and
    // onto its own reference (c_own[j][c][(cj, lag)]).
    let (c_all, c_own): (Vec<Filters>, Vec<Filters>) = (0..nsrc)
        .into_par_iter()
        .map(|j| {
            let sef: Vec<Vec<Complex64>> = estimates[j].iter().map(|c| fft.spectrum(c)).collect();
            let mut all = Vec::with_capacity(nchan);
            let mut mine = Vec::with_capacity(nchan);
            for se in &sef {
                let mut d = vec![0.0; n];
                for jj in 0..nsrc {
                    for cj in 0..nchan {
                        let ssef = fft.correlation(&sf[jj][cj], se);
                        for m in 0..l {
                            d[idx(jj, cj, m)] = ssef[(fft.n - m) % fft.n];
                        }
                    }
                }
                let mut own_d = d[idx(j, 0, 0)..idx(j, 0, 0) + nchan * l].to_vec();
                solve(&lg, &mut d);
                solve(&own[j], &mut own_d);
                all.push(d);
                mine.push(own_d);
            }
            (all, mine)
        })
        .unzip();
    let nwin = if window < nsampl {
        (nsampl - window + hop) / hop
    } else {
        1
    };
    // Every window has the same length (a partial last one is dropped), so the filters' spectra
    // at the window's FFT size are computed once, not once per frame.
    let wfft = Fft::new((window.min(nsampl) + l - 1).next_power_of_two());
    let spectra = |filters: &Vec<Vec<f64>>| -> Vec<Vec<Vec<Complex64>>> {
        filters
            .iter()
            .map(|f| f.chunks(l).map(|h| wfft.spectrum(h)).collect())
            .collect()
    };
    let (h_all, h_own): (Vec<_>, Vec<_>) = c_all
        .par_iter()
        .zip(&c_own)
        .map(|(a, o)| (spectra(a), spectra(o)))
        .unzip();
    let all_sources: Vec<usize> = (0..nsrc).collect();
    let frames: Vec<[Vec<f64>; 4]> = (0..nwin)
        .into_par_iter()
        .map(|t| {
            let (s, e) = (t * hop, (t * hop + window).min(nsampl));
            let nan = vec![f64::NAN; nsrc];
            if references
                .iter()
                .chain(estimates)
                .any(|src| silent(src, s..e))
            {
                return [nan.clone(), nan.clone(), nan.clone(), nan];
            }
            let len = e - s + l - 1;
            let refs_f: Vec<Vec<Vec<Complex64>>> = references
                .iter()
                .map(|src| src.iter().map(|ch| wfft.spectrum(&ch[s..e])).collect())
                .collect();
            let mut out = [
                vec![0.0; nsrc],
                vec![0.0; nsrc],
                vec![0.0; nsrc],
                vec![0.0; nsrc],
            ];
            for j in 0..nsrc {
                let (
                    mut e_true,
                    mut e_err,
                    mut e_spat,
                    mut e_own,
                    mut e_interf,
                    mut e_all,
                    mut e_artif,
                ) = (0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0);
                for c in 0..nchan {
                    // Σ filters ∗ windowed references, in the frequency domain.
                    let project = |filters: &[Vec<Complex64>], sources: &[usize]| -> Vec<f64> {
                        let mut acc = vec![Complex64::new(0.0, 0.0); wfft.n / 2 + 1];
                        for (k, &jj) in sources.iter().enumerate() {
                            for (cj, rf) in refs_f[jj].iter().enumerate() {
                                let hf = &filters[k * nchan + cj];
                                for (a, (x, y)) in acc.iter_mut().zip(hf.iter().zip(rf)) {
                                    *a += x * y;
                                }
                            }
                        }
                        wfft.signal(acc)
                    };
                    let p_all = project(&h_all[j][c], &all_sources);
                    let p_own = project(&h_own[j][c], &[j]);
                    let (r, est) = (&references[j][c][s..e], &estimates[j][c][s..e]);
                    for k in 0..len {
                        let st = if k < r.len() { r[k] } else { 0.0 };
                        let es = if k < est.len() { est[k] } else { 0.0 };
                        e_true += st * st;
                        e_err += (es - st) * (es - st);
                        e_spat += (p_own[k] - st) * (p_own[k] - st);
                        e_own += p_own[k] * p_own[k];
                        e_interf += (p_all[k] - p_own[k]) * (p_all[k] - p_own[k]);
                        e_all += p_all[k] * p_all[k];
                        e_artif += (es - p_all[k]) * (es - p_all[k]);
                    }
                }
                let db = |num: f64, den: f64| {
                    if den == 0.0 {
                        f64::INFINITY
                    } else {
                        10.0 * (num / den).log10()
                    }
                };
                out[0][j] = db(e_true, e_err);
                out[1][j] = db(e_true, e_spat);
                out[2][j] = db(e_own, e_interf);
                out[3][j] = db(e_all, e_artif);
            }
            out
        })
        .collect();
    let pick = |m: usize| {
        (0..nsrc)
            .map(|j| frames.iter().map(|f| f[m][j]).collect())
            .collect()
    };
    Ok(Metrics {
        sdr: pick(0),
        isr: pick(1),
        sir: pick(2),
        sar: pick(3),
    })
}

/// museval's track score: the median over frames, skipping NaN (silent) frames; all NaN gives NaN.
pub fn nanmedian(values: &[f64]) -> f64 {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| !x.is_nan()).collect();
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(f64::total_cmp);
    let m = v.len() / 2;
    if v.len() % 2 == 1 {
        v[m]
    } else {
        (v[m - 1] + v[m]) / 2.0
    }
}
