//! BSS Eval with distortion filters of 512 taps computed once per track: v4 as museval computes
//! it (`bss_eval(..., framewise_filters=False)`, the image criteria SDR, ISR, SIR and SAR in
//! windows of the track), and v3's `bss_eval_sources` as mir_eval computes it (SDR, SIR and SAR
//! of the whole track, single-channel sources). Both decompose each estimate with the same
//! filters; they differ in the windows and in SDR's terms (see [`Energies`]).

use rayon::prelude::*;
use realfft::num_complex::Complex64;

use crate::fft::{fast_len, Fft};
pub use crate::signals::Sources;
use crate::signals::{InMemory, Signals, Span};
use crate::toeplitz::BlockToeplitz;
use crate::xcorr::Correlator;

/// museval's filter length.
pub const FILTERS_LEN: usize = 512;

/// One estimate's projection filters, `[channel][(source, channel, lag)]`.
type Filters = Vec<Vec<f64>>;

/// Samples per signal read at once: the spans the correlations and the windows are computed
/// over (a window longer than this is read whole), so that memory does not grow with the track.
const SPAN: usize = 1 << 20;

/// Why signals cannot be scored.
#[derive(Debug, PartialEq, thiserror::Error)]
pub enum EvalError {
    /// References and estimates of different shapes.
    #[error("estimates are {actual}, references are {expected}: give one estimate per reference, of the same length and channels")]
    Shape {
        /// The references' shape.
        expected: String,
        /// The estimates' shape.
        actual: String,
    },
    /// A NaN or infinite sample.
    #[error("{what} source {stem}, channel {channel}, sample {sample} is not finite: remove NaN/inf before evaluating")]
    NonFinite {
        /// `reference` or `estimate`.
        what: &'static str,
        /// Which source (stem), from 0.
        stem: usize,
        /// The channel.
        channel: usize,
        /// The sample.
        sample: usize,
    },
    /// A source that is all zeros over the whole track (museval refuses it too).
    #[error("{what} source {stem} is silent over the whole track: BSS Eval is undefined for it (drop the source)")]
    Silent {
        /// `reference` or `estimate`.
        what: &'static str,
        /// Which source (stem), from 0.
        stem: usize,
    },
    /// The Gram matrix of the references is singular (e.g. two identical references).
    #[error("the references are linearly dependent (e.g. two identical stems): BSS Eval cannot separate their contributions")]
    Singular,
    /// A track too short for the references' distortion filters to be told apart: with `k`
    /// reference channels of 512-tap filters the Gram matrix has rank at most `n + 511` of
    /// `512·k`, singular below `(k − 1)·512 + 1` samples whatever the audio.
    #[error("the track is {samples} samples long; BSS Eval's {FILTERS_LEN}-tap distortion filters over {channels} reference channel(s) need at least {needed} samples to tell the references apart: score longer excerpts")]
    TooShort {
        /// The track's length.
        samples: usize,
        /// Sources × channels.
        channels: usize,
        /// The shortest track that can be scored.
        needed: usize,
    },
    /// Sources of several channels where single-channel ones are needed.
    #[error("the sources have {channels} channels: bss_eval_sources scores single-channel sources (mir_eval's); score each channel as its own track, or use the v4 image metrics")]
    Channels {
        /// Channels per source.
        channels: usize,
    },
    /// A source that could not be read (the message names its file).
    #[error("{0}")]
    Read(String),
    /// One window of every source, with the spectra scoring it, past the memory there is.
    #[error("{0}: score the track in excerpts, or in shorter windows")]
    TooLarge(soundcheck_io::budget::TooLarge),
    /// A window or hop of zero samples.
    #[error("{name}={actual} samples is invalid: expected at least 1 (museval uses one second at the track's rate)")]
    InvalidParameter {
        /// `window` or `hop`.
        name: &'static str,
        /// The value given, in samples.
        actual: usize,
    },
}

/// Per-frame metrics, `[source][frame]` in dB; NaN where a window has a silent source. From
/// [`bss_eval_sources`], one frame (the whole track) and ISR NaN (v3's sources criteria have
/// none).
#[derive(Clone, Debug, PartialEq)]
pub struct Metrics {
    /// Signal to distortion ratio.
    pub sdr: Vec<Vec<f64>>,
    /// Source image to spatial distortion ratio.
    pub isr: Vec<Vec<f64>>,
    /// Signal to interference ratio.
    pub sir: Vec<Vec<f64>>,
    /// Signal to artefacts ratio.
    pub sar: Vec<Vec<f64>>,
}

fn shape(s: &Sources) -> (usize, usize, usize) {
    (
        s.len(),
        s.first().map_or(0, Vec::len),
        s.first().and_then(|c| c.first()).map_or(0, Vec::len),
    )
}

fn describe((n, c, l): (usize, usize, usize)) -> String {
    format!("{n} source(s) × {c} channel(s) × {l} samples")
}

/// Sources in memory, served as [`Signals`] once every channel of both has one length.
fn in_memory<'a>(
    refs: &'a Sources,
    ests: &'a Sources,
) -> Result<(InMemory<'a>, InMemory<'a>), EvalError> {
    let consistent = |s: &Sources, (n, c, l): (usize, usize, usize)| {
        s.len() == n
            && s.iter()
                .all(|src| src.len() == c && src.iter().all(|ch| ch.len() == l))
    };
    let (r, e) = (shape(refs), shape(ests));
    if !consistent(refs, r) || !consistent(ests, e) {
        return Err(EvalError::Shape {
            expected: describe(r),
            actual: describe(e),
        });
    }
    Ok((InMemory::new(refs), InMemory::new(ests)))
}

/// The track's shape, when references and estimates share it and it can be scored.
fn validate(refs: &dyn Signals, ests: &dyn Signals) -> Result<(usize, usize, usize), EvalError> {
    let (r, e) = (refs.shape(), ests.shape());
    if r != e || r.0 == 0 || r.2 == 0 {
        return Err(EvalError::Shape {
            expected: describe(r),
            actual: describe(e),
        });
    }
    let channels = r.0 * r.1;
    let needed = (channels - 1) * FILTERS_LEN + 1;
    if r.2 < needed {
        return Err(EvalError::TooShort {
            samples: r.2,
            channels,
            needed,
        });
    }
    Ok(r)
}

/// museval's silence test: the channel sum is zero at every sample of the range.
fn silent(src: &[Vec<f64>], range: std::ops::Range<usize>) -> bool {
    range
        .into_iter()
        .all(|t| src.iter().map(|ch| ch[t]).sum::<f64>() == 0.0)
}

/// The distortion filters of every estimate channel: its least-squares projection onto all
/// references shifted by 0..512 samples, and onto its own source's channels alone. Reads the
/// track once, `span` samples at a time, checking that every sample is finite and no source is
/// silent throughout.
///
/// # Shapes
/// - each of the two results: `[source][channel][(source, channel, lag)]` (the second only
///   over the estimate's own source: `[(channel, lag)]`)
fn filters(
    refs: &mut dyn Signals,
    ests: &mut dyn Signals,
    (nsrc, nchan, nsampl): (usize, usize, usize),
    span: usize,
) -> Result<(Vec<Filters>, Vec<Filters>), EvalError> {
    let (l, lag) = (FILTERS_LEN, FILTERS_LEN - 1);
    let p = nsrc * nchan;
    // Signals indexed source × channel: references first, then estimates.
    // C(k)[s][u] = Σ_t ref_s[t]·ref_u[t + k] for the upper triangle's pairs (the lower one is
    // the same correlation at −k), then D_e[(lag a, s)] = Σ_t ref_s[t]·est_e[t + a].
    let gram_pairs: Vec<(usize, usize)> =
        (0..p).flat_map(|s| (s..p).map(move |u| (u, s))).collect();
    let pairs: Vec<(usize, usize)> = gram_pairs
        .iter()
        .copied()
        .chain((0..p).flat_map(|e| (0..p).map(move |s| (p + e, s))))
        .collect();
    let mut correlator = Correlator::new(2 * p, &pairs, lag);
    let step = (span / correlator.block()).max(1) * correlator.block();
    let mut heard = [vec![false; nsrc], vec![false; nsrc]];
    for start in (0..nsampl).step_by(step) {
        let len = step.min(nsampl - start);
        // The correlations need `lag` samples either side of the span; before the track's
        // start they are zeros.
        let (from, to) = (start.saturating_sub(lag), (start + len + lag).min(nsampl));
        let lead = lag - (start - from);
        let mut held: Vec<Vec<f64>> = Vec::with_capacity(2 * p);
        let sets: [(&str, &mut dyn Signals); 2] =
            [("reference", &mut *refs), ("estimate", &mut *ests)];
        for (k, (what, signals)) in sets.into_iter().enumerate() {
            let own = (start - from)..(start - from + len);
            for (j, src) in signals
                .read(from, to)
                .map_err(EvalError::Read)?
                .into_iter()
                .enumerate()
            {
                for (c, ch) in src.iter().enumerate() {
                    if let Some(t) = ch[own.clone()].iter().position(|v| !v.is_finite()) {
                        return Err(EvalError::NonFinite {
                            what,
                            stem: j,
                            channel: c,
                            sample: start + t,
                        });
                    }
                }
                heard[k][j] |= !silent(&src, own.clone());
                held.extend(src.into_iter().map(|ch| {
                    let mut v = vec![0.0; lead];
                    v.extend(ch);
                    v
                }));
            }
        }
        let held: Vec<&[f64]> = held.iter().map(Vec::as_slice).collect();
        correlator.add(&held, len);
    }
    for (what, heard) in ["reference", "estimate"].into_iter().zip(&heard) {
        if let Some(stem) = heard.iter().position(|h| !h) {
            return Err(EvalError::Silent { what, stem });
        }
    }
    let corr = correlator.finish();
    let at = |s: usize, u: usize, k: isize| -> f64 {
        let (lo, hi, k) = if s <= u { (s, u, k) } else { (u, s, -k) };
        let pair = lo * p - lo * (lo + 1) / 2 + hi;
        corr[pair][(l as isize - 1 + k) as usize]
    };
    let blocks: Vec<Vec<f64>> = (0..l)
        .map(|k| {
            (0..p * p)
                .map(|i| {
                    let (s, u) = (i / p, i % p);
                    // museval's Gram matrix carries eps on its diagonal.
                    at(s, u, k as isize) + if k == 0 && s == u { f64::EPSILON } else { 0.0 }
                })
                .collect()
        })
        .collect();
    let d = |e: usize, s: usize, a: usize| corr[gram_pairs.len() + e * p + s][l - 1 + a];
    // All estimate channels are right-hand sides of one system.
    let y: Vec<f64> = (0..l * p * p)
        .map(|i| d(i % p, (i / p) % p, i / (p * p)))
        .collect();
    let x = BlockToeplitz {
        p,
        blocks: blocks.clone(),
    }
    .solve(&y, p)
    .ok_or(EvalError::Singular)?;
    let c_all = (0..nsrc)
        .map(|j| {
            (0..nchan)
                .map(|c| {
                    let e = j * nchan + c;
                    (0..p * l)
                        .map(|i| x[((i % l) * p + i / l) * p + e])
                        .collect()
                })
                .collect()
        })
        .collect();
    let c_own = (0..nsrc)
        .into_par_iter()
        .map(|j| {
            let own = |i: usize| j * nchan + i;
            let sub = BlockToeplitz {
                p: nchan,
                blocks: blocks
                    .iter()
                    .map(|b| {
                        (0..nchan * nchan)
                            .map(|i| b[own(i / nchan) * p + own(i % nchan)])
                            .collect()
                    })
                    .collect(),
            };
            let y: Vec<f64> = (0..l * nchan * nchan)
                .map(|i| {
                    d(
                        own(i % nchan),
                        own((i / nchan) % nchan),
                        i / (nchan * nchan),
                    )
                })
                .collect();
            let x = sub.solve(&y, nchan).ok_or(EvalError::Singular)?;
            Ok((0..nchan)
                .map(|c| {
                    (0..nchan * l)
                        .map(|i| x[((i % l) * nchan + i / l) * nchan + c])
                        .collect()
                })
                .collect())
        })
        .collect::<Result<_, _>>()?;
    Ok((c_all, c_own))
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
    let (mut refs, mut ests) = in_memory(references, estimates)?;
    v4(&mut refs, &mut ests, window, hop)
}

/// [`bss_eval_v4`] of sources read span by span.
pub(crate) fn v4(
    refs: &mut dyn Signals,
    ests: &mut dyn Signals,
    window: usize,
    hop: usize,
) -> Result<Metrics, EvalError> {
    for (name, value) in [("window", window), ("hop", hop)] {
        if value == 0 {
            return Err(EvalError::InvalidParameter {
                name,
                actual: value,
            });
        }
    }
    windowed(refs, ests, window, hop, Energies::images, SPAN)
}

/// BSS Eval v3's `bss_eval_sources` as mir_eval 0.8 computes it without a permutation search
/// (`compute_permutation=False`: estimate `j` is scored against reference `j`): SDR, SIR and
/// SAR of the whole track (one frame), from 512-tap distortion filters.
///
/// # Errors
/// Sources of more than one channel, shapes that differ, NaN/inf samples, a silent source,
/// dependent references or a track too short for the filters.
pub fn bss_eval_sources(references: &Sources, estimates: &Sources) -> Result<Metrics, EvalError> {
    let (mut refs, mut ests) = in_memory(references, estimates)?;
    sources(&mut refs, &mut ests)
}

/// [`bss_eval_sources`] of sources read span by span (the whole track is one window: it is
/// held at once).
pub(crate) fn sources(
    refs: &mut dyn Signals,
    ests: &mut dyn Signals,
) -> Result<Metrics, EvalError> {
    let channels = refs.shape().1.max(ests.shape().1);
    if channels > 1 {
        return Err(EvalError::Channels { channels });
    }
    let whole = refs.shape().2.max(1);
    windowed(refs, ests, whole, whole, Energies::sources, SPAN)
}

/// The metrics `criteria` gives for every estimate in windows of `window` samples every `hop`,
/// the estimates decomposed with filters computed once over the whole track; the sources are
/// read `span` samples at a time (a window longer than that at once).
fn windowed(
    refs: &mut dyn Signals,
    ests: &mut dyn Signals,
    window: usize,
    hop: usize,
    criteria: fn(&Energies) -> [f64; 4],
    span: usize,
) -> Result<Metrics, EvalError> {
    let shape = validate(refs, ests)?;
    let (nsrc, nchan, nsampl) = shape;
    let (l, p) = (FILTERS_LEN, nsrc * nchan);
    let nwin = if window < nsampl {
        (nsampl - window + hop) / hop
    } else {
        1
    };
    // Every window has the same length (a partial last one is dropped), so the filters' spectra
    // at the window's FFT size are computed once, not once per frame. A window holds every
    // reference and estimate with their spectra (2p signals, ≈ 16 bytes per FFT sample) and
    // the filters' spectra (p·(p + channels) of them, 8 bytes per FFT sample).
    let wlen = window.min(nsampl);
    let wfft_len = fast_len(wlen + l - 1);
    soundcheck_io::budget::memory(
        "one window of every reference and estimate with the spectra scoring it (FFT length × (4·signals + signals·(signals + channels)))",
        &[wfft_len, 4 * p + p * (p + nchan)],
        8,
    )
    .and_then(|_| soundcheck_io::budget::memory("the scores of every window", &[nwin, 4 * nsrc], 8))
    .map_err(EvalError::TooLarge)?;
    let (c_all, c_own) = filters(refs, ests, shape, span)?;
    let wfft = Fft::new(wfft_len);
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
    // Windows are read in groups spanning at most `span` samples (at least one window).
    let group = if wlen >= span {
        1
    } else {
        (span - wlen) / hop + 1
    };
    let mut frames: Vec<[Vec<f64>; 4]> = Vec::with_capacity(nwin);
    for first in (0..nwin).step_by(group) {
        let last = (first + group).min(nwin);
        let (from, to) = (first * hop, ((last - 1) * hop + window).min(nsampl));
        let read = |s: &mut dyn Signals| s.read(from, to).map_err(EvalError::Read);
        let (references, estimates) = (read(&mut *refs)?, read(&mut *ests)?);
        let scored: Vec<[Vec<f64>; 4]> = (first..last)
            .into_par_iter()
            .map(|t| {
                let (s, e) = (t * hop - from, (t * hop + window).min(nsampl) - from);
                let nan = vec![f64::NAN; nsrc];
                if references
                    .iter()
                    .chain(&estimates)
                    .any(|src| silent(src, s..e))
                {
                    return [nan.clone(), nan.clone(), nan.clone(), nan];
                }
                let spectra = |sources: &Span| -> Vec<Vec<Vec<Complex64>>> {
                    sources
                        .iter()
                        .map(|src| src.iter().map(|ch| wfft.spectrum(&ch[s..e])).collect())
                        .collect()
                };
                let frame = Frame {
                    references: &references,
                    estimates: &estimates,
                    refs_f: spectra(&references),
                    ests_f: spectra(&estimates),
                    wfft: &wfft,
                    range: s..e,
                };
                let mut out = [
                    vec![0.0; nsrc],
                    vec![0.0; nsrc],
                    vec![0.0; nsrc],
                    vec![0.0; nsrc],
                ];
                for j in 0..nsrc {
                    let m = criteria(&frame.energies(j, &h_all[j], &h_own[j]));
                    for (o, v) in out.iter_mut().zip(m) {
                        o[j] = v;
                    }
                }
                out
            })
            .collect();
        frames.extend(scored);
    }
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

/// One window of every reference and estimate (`range` of the spans read), with their spectra
/// at the window's FFT size.
struct Frame<'a> {
    references: &'a Sources,
    estimates: &'a Sources,
    /// `[source][channel]` spectra of the windowed signals.
    refs_f: Vec<Vec<Vec<Complex64>>>,
    ests_f: Vec<Vec<Vec<Complex64>>>,
    wfft: &'a Fft,
    range: std::ops::Range<usize>,
}

/// The energies of one estimate's decomposition in a window, summed over channels: `s` the
/// reference, `e` the estimate, `P_own` its projection onto the delayed reference alone, `P_all`
/// onto every delayed reference.
struct Energies {
    /// |s|².
    target: f64,
    /// |e − s|².
    error: f64,
    /// |P_own − s|²: the spatial (filtering) distortion.
    spatial: f64,
    /// |P_own|².
    own: f64,
    /// |P_all − P_own|²: the interference.
    interference: f64,
    /// |P_all|².
    all: f64,
    /// |e − P_all|²: the artefacts.
    artefacts: f64,
    /// |e − P_own|²: interference and artefacts together.
    distortion: f64,
}

fn db(num: f64, den: f64) -> f64 {
    if den == 0.0 {
        f64::INFINITY
    } else {
        10.0 * (num / den).log10()
    }
}

impl Energies {
    /// museval's v4 image criteria: SDR, ISR, SIR and SAR. SDR is the true image against
    /// everything else.
    fn images(&self) -> [f64; 4] {
        [
            db(self.target, self.error),
            db(self.target, self.spatial),
            db(self.own, self.interference),
            db(self.all, self.artefacts),
        ]
    }

    /// mir_eval's `bss_eval_sources` criteria: SDR, (no ISR: NaN), SIR and SAR. SDR is the
    /// filtered source against interference and artefacts, so a filtered estimate is not
    /// distortion.
    fn sources(&self) -> [f64; 4] {
        [
            db(self.own, self.distortion),
            f64::NAN,
            db(self.own, self.interference),
            db(self.all, self.artefacts),
        ]
    }
}

impl Frame<'_> {
    /// The energies (summed over channels) of estimate `j`'s decomposition in this window, from
    /// its distortion filters' spectra onto all references (`h_all`) and onto its own
    /// (`h_own`), per channel.
    fn energies(
        &self,
        j: usize,
        h_all: &[Vec<Vec<Complex64>>],
        h_own: &[Vec<Vec<Complex64>>],
    ) -> Energies {
        let (nsrc, nchan) = (self.references.len(), self.references[0].len());
        let all_sources: Vec<usize> = (0..nsrc).collect();
        let wfft = self.wfft;
        let mut e = Energies {
            target: 0.0,
            error: 0.0,
            spatial: 0.0,
            own: 0.0,
            interference: 0.0,
            all: 0.0,
            artefacts: 0.0,
            distortion: 0.0,
        };
        for c in 0..nchan {
            // Σ filters ∗ windowed references, in the frequency domain.
            let project = |filters: &[Vec<Complex64>], sources: &[usize]| {
                let mut acc = vec![Complex64::new(0.0, 0.0); wfft.n / 2 + 1];
                for (k, &jj) in sources.iter().enumerate() {
                    for (cj, rf) in self.refs_f[jj].iter().enumerate() {
                        let hf = &filters[k * nchan + cj];
                        for (a, (x, y)) in acc.iter_mut().zip(hf.iter().zip(rf)) {
                            *a += x * y;
                        }
                    }
                }
                acc
            };
            let p_all = project(&h_all[c], &all_sources);
            let p_own = project(&h_own[c], &[j]);
            // The error energies compare the estimate with the reference sample by sample, so
            // that an exact estimate gives exactly 0 (museval's +inf).
            let r = &self.references[j][c][self.range.clone()];
            let est = &self.estimates[j][c][self.range.clone()];
            for (st, es) in r.iter().zip(est) {
                e.target += st * st;
                e.error += (es - st) * (es - st);
            }
            // The projections' energies by Parseval: every signal is shorter than the FFT
            // (window + filter − 1 samples), so the spectra hold them whole.
            let (s_f, e_f) = (&self.refs_f[j][c], &self.ests_f[j][c]);
            let last = wfft.n / 2;
            for k in 0..=last {
                let w = if k == 0 || k == last { 1.0 } else { 2.0 };
                let (po, pa) = (p_own[k], p_all[k]);
                e.spatial += w * (po - s_f[k]).norm_sqr();
                e.own += w * po.norm_sqr();
                e.interference += w * (pa - po).norm_sqr();
                e.all += w * pa.norm_sqr();
                e.artefacts += w * (e_f[k] - pa).norm_sqr();
                e.distortion += w * (e_f[k] - po).norm_sqr();
            }
        }
        let n = wfft.n as f64;
        for v in [
            &mut e.spatial,
            &mut e.own,
            &mut e.interference,
            &mut e.all,
            &mut e.artefacts,
            &mut e.distortion,
        ] {
            *v /= n;
        }
        e
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Two stereo sources of `n` samples and estimates that mix them, from a fixed generator.
    fn track(n: usize) -> (Span, Span) {
        let mut state = 0x9E37_79B9_7F4A_7C15u64;
        let mut noise = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 11) as f64 / (1u64 << 53) as f64 - 0.5
        };
        let refs: Span = (0..2)
            .map(|_| (0..2).map(|_| (0..n).map(|_| noise()).collect()).collect())
            .collect();
        let ests = (0..2)
            .map(|j| {
                (0..2)
                    .map(|c| {
                        (0..n)
                            .map(|t| refs[j][c][t] + 0.3 * refs[1 - j][c][t] + 0.05 * noise())
                            .collect()
                    })
                    .collect()
            })
            .collect();
        (refs, ests)
    }

    #[test]
    fn scores_read_in_short_spans_equal_the_whole_tracks() {
        // 9000 samples asked for in spans of 2500: the correlations read spans of one block
        // (7170 samples: 7170 + 1830), the windows of 1000 every 700 are read three at a time
        // (12 windows in 4 reads).
        let (refs, ests) = track(9000);
        let run = |span: usize| {
            let (mut r, mut e) = in_memory(&refs, &ests).unwrap();
            windowed(&mut r, &mut e, 1000, 700, Energies::images, span).unwrap()
        };
        let (whole, spans) = (run(1 << 20), run(2500));
        assert_eq!(whole.sdr[0].len(), 12);
        for (a, b) in crate::folders::columns(&whole)
            .iter()
            .zip(crate::folders::columns(&spans))
        {
            for (x, y) in a.iter().flatten().zip(b.iter().flatten()) {
                assert!((x - y).abs() < 1e-9, "{x} vs {y}");
            }
        }
    }

    #[test]
    fn a_non_finite_sample_past_the_first_span_is_named_by_its_place_in_the_track() {
        let (refs, mut ests) = track(9000);
        ests[1][0][7777] = f64::NAN;
        let (mut r, mut e) = in_memory(&refs, &ests).unwrap();
        let err = windowed(&mut r, &mut e, 1000, 1000, Energies::images, 2500).unwrap_err();
        assert_eq!(
            err,
            EvalError::NonFinite {
                what: "estimate",
                stem: 1,
                channel: 0,
                sample: 7777
            }
        );
    }
}
