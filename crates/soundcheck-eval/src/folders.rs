//! Scoring folders of separated stems against folders of references, track by track, as
//! museval does (v4, windows) or mir_eval's `bss_eval_sources` (v3, whole tracks): the options,
//! the per-track scores with the baselines (the mixture as estimate, the oracle ideal ratio
//! mask), the medians over tracks, and the means weighted by track length (GNSDR).

use std::path::{Path, PathBuf};

use ndarray::Zip;
use soundcheck_audio::{decode, istft, stft, Decoded, StftConfig};

use crate::bss::{bss_eval_sources, bss_eval_v4, nanmedian, EvalError, Metrics, Sources};

/// Which BSS Eval criteria score the tracks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// museval's v4 image metrics (SDR, ISR, SIR, SAR) in windows, median over windows.
    V4,
    /// BSS Eval v3's `bss_eval_sources` as mir_eval computes it: SDR, SIR and SAR of the whole
    /// track, single-channel stems (the MIR-1K convention of Huang et al. 2014).
    Sources,
}

/// What to score and how: museval's defaults are 1 s windows and hops.
#[derive(Clone, Debug)]
pub struct EvaluateOptions {
    /// The criteria.
    pub mode: Mode,
    /// One track's folder of reference stems, or a folder of track folders.
    pub reference: PathBuf,
    /// The estimates, with the references' file (and track folder) names.
    pub estimate: PathBuf,
    /// Window length, seconds ([`Mode::V4`]).
    pub window: f64,
    /// Hop between windows, seconds ([`Mode::V4`]).
    pub hop: f64,
    /// Also score the mixture and the oracle IRM at these STFT settings.
    pub baselines: Option<OracleStft>,
    /// The part of the track folders this process scores (a job array's task), `Shard::ALL`
    /// for every one.
    pub shard: soundcheck_io::Shard,
}

/// The STFT of the oracle ideal ratio mask (use the model's).
#[derive(Clone, Copy, Debug)]
pub struct OracleStft {
    /// FFT size.
    pub n_fft: usize,
    /// Hop between frames in samples.
    pub hop_length: usize,
}

/// Why folders could not be scored; the message names the file or folder and what to do.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ScoreError(pub String);

/// The metrics, in the order of every `[f64; 4]` row.
pub const METRICS: [&str; 4] = ["SDR", "ISR", "SIR", "SAR"];
/// The file a track keeps its mixture in (DSD100, MUSDB18): never a stem, the input of the
/// baselines.
const MIXTURE: &str = "mixture";

/// One track's scores.
pub struct TrackScores {
    /// The track's folder name.
    pub name: String,
    /// Its stems' names, in the order of the metrics.
    pub stems: Vec<String>,
    /// Samples per second.
    pub sample_rate: u32,
    /// Samples per channel (the weight of the track in [`length_weighted`]).
    pub samples: usize,
    /// The track folder holds no mixture file: the baselines' mixture is the sum of its stems.
    pub mixture_computed: bool,
    /// Per stem and window: SDR, ISR, SIR, SAR.
    pub metrics: Metrics,
    /// The mixture and the oracle IRM as estimates, with baselines asked for.
    pub baselines: Option<[Metrics; 2]>,
}

/// The baselines, in the order of [`TrackScores::baselines`].
pub const BASELINES: [&str; 2] = ["mixture", "oracle_irm"];

fn is_mixture(p: &Path) -> bool {
    p.file_stem().is_some_and(|s| s == MIXTURE)
}

fn is_audio(p: &Path) -> bool {
    p.is_file() && soundcheck_audio::is_audio_path(p)
}

fn sorted_entries(dir: &Path) -> Result<Vec<PathBuf>, String> {
    let rd = std::fs::read_dir(dir).map_err(|e| {
        format!(
            "{}: cannot read the folder ({e}): check the path",
            dir.display()
        )
    })?;
    let mut v: Vec<PathBuf> = rd.filter_map(|e| e.ok().map(|e| e.path())).collect();
    v.sort();
    Ok(v)
}

/// `(track name, reference folder, estimate folder)` for every track.
fn tracks(a: &EvaluateOptions) -> Result<Vec<(String, PathBuf, PathBuf)>, String> {
    let entries = sorted_entries(&a.reference)?;
    if entries.iter().any(|p| is_audio(p)) {
        let name = a.reference.file_name().map_or_else(
            || a.reference.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        );
        return Ok(vec![(name, a.reference.clone(), a.estimate.clone())]);
    }
    let list: Vec<_> = entries
        .into_iter()
        .filter(|p| p.is_dir())
        .map(|p| {
            let name = p
                .file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned();
            let est = a.estimate.join(&name);
            (name, p, est)
        })
        .collect();
    if list.is_empty() {
        return Err(format!(
            "{}: no audio files and no track folders: point `reference` at a folder of stems (vocals.wav, ...) or of track folders",
            a.reference.display()
        ));
    }
    Ok(a.shard.take(&list))
}

fn to_f64(d: &Decoded) -> Vec<Vec<f64>> {
    d.channels
        .iter()
        .map(|c| c.iter().map(|&v| f64::from(v)).collect())
        .collect()
}

fn evaluate_track(
    name: &str,
    ref_dir: &Path,
    est_dir: &Path,
    a: &EvaluateOptions,
) -> Result<(TrackScores, Vec<String>), String> {
    let (mixture_file, files): (Vec<PathBuf>, Vec<PathBuf>) = sorted_entries(ref_dir)?
        .into_iter()
        .filter(|p| is_audio(p))
        .partition(|p| is_mixture(p));
    if files.is_empty() {
        return Err(format!(
            "{}: no reference stems (audio files) in the track folder",
            ref_dir.display()
        ));
    }
    let mut warnings = Vec::new();
    let (mut refs, mut ests, mut stems) = (Vec::new(), Vec::new(), Vec::new());
    let mut first: Option<(PathBuf, u32, usize, usize)> = None;
    for f in &files {
        let r = decode(f).map_err(|e| e.to_string())?;
        let (sr, chans, frames) = (r.sample_rate, r.channels.len(), r.frames());
        if let Some((p0, sr0, c0, n0)) = &first {
            if (sr, chans, frames) != (*sr0, *c0, *n0) {
                return Err(format!(
                    "{}: {chans} channel(s) × {frames} samples at {sr} Hz, but {} is {c0} × {n0} at {sr0} Hz: the stems of a track must share rate, channels and length",
                    f.display(),
                    p0.display()
                ));
            }
        } else {
            // BSS Eval holds every reference and estimate of the track in f64 at once; a track
            // past the memory there is gets a message before the other stems are decoded.
            soundcheck_io::budget::memory(
                "the track's references and estimates in f64 (2 × stems × channels × samples)",
                &[2 * files.len(), chans, frames],
                8,
            )
            .map_err(|e| {
                format!(
                    "{}: {e}; score it in excerpts (split the reference and estimate files the same way)",
                    ref_dir.display()
                )
            })?;
            first = Some((f.clone(), sr, chans, frames));
        }
        let ef = est_dir.join(f.file_name().unwrap_or_default());
        if !ef.exists() {
            return Err(format!(
                "no estimate for {}: expected {} (name the estimates as the references)",
                f.display(),
                ef.display()
            ));
        }
        let e = decode(&ef).map_err(|e| e.to_string())?;
        if e.sample_rate != sr || e.channels.len() != chans {
            return Err(format!(
                "{}: {} channel(s) at {} Hz, but its reference is {chans} channel(s) at {sr} Hz: write the estimate at the reference's rate and channels",
                ef.display(),
                e.channels.len(),
                e.sample_rate
            ));
        }
        let mut est = to_f64(&e);
        if e.frames() != frames {
            warnings.push(format!(
                "{}: {} samples, reference {frames}: zero-padded or cut to the reference (as museval)",
                ef.display(),
                e.frames()
            ));
            est.iter_mut().for_each(|c| c.resize(frames, 0.0));
        }
        refs.push(to_f64(&r));
        ests.push(est);
        stems.push(
            f.file_stem()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned(),
        );
    }
    let (sr, c0, n0) = first.as_ref().map_or((0, 0, 0), |f| (f.1, f.2, f.3));
    let samples = |s: f64| (s * f64::from(sr)).round() as usize;
    let (window, hop) = (samples(a.window), samples(a.hop));
    let score = |ests: &[Vec<Vec<f64>>]| match a.mode {
        Mode::V4 => bss_eval_v4(&refs, ests, window, hop),
        Mode::Sources => bss_eval_sources(&refs, ests),
    };
    let metrics = score(&ests).map_err(|e| match e {
        EvalError::Silent { what, stem } => {
            let dir = if what == "estimate" { est_dir } else { ref_dir };
            format!(
                "{}: the {what} is silent over the whole track: BSS Eval is undefined for it (museval refuses it too); drop the stem or check the separation",
                dir.join(files[stem].file_name().unwrap_or_default()).display()
            )
        }
        EvalError::NonFinite {
            what,
            stem,
            channel,
            sample,
        } => {
            let dir = if what == "estimate" { est_dir } else { ref_dir };
            format!(
                "{}: channel {channel}, sample {sample} is not finite: remove NaN/inf before evaluating",
                dir.join(files[stem].file_name().unwrap_or_default()).display()
            )
        }
        other => format!("track {name}: {other}"),
    })?;
    let baselines = match &a.baselines {
        Some(oracle) => {
            let mixture = mixture_of(mixture_file.first(), &refs, (sr, c0, n0))?;
            Some(baseline_scores(name, &refs, mixture, oracle, &score)?)
        }
        None => None,
    };
    Ok((
        TrackScores {
            name: name.to_string(),
            stems,
            sample_rate: sr,
            samples: n0,
            mixture_computed: mixture_file.is_empty(),
            metrics,
            baselines,
        },
        warnings,
    ))
}

/// The track's mixture: its mixture file, which must match the stems, or the stems' sum.
fn mixture_of(
    file: Option<&PathBuf>,
    refs: &[Vec<Vec<f64>>],
    (sr, c0, n0): (u32, usize, usize),
) -> Result<Vec<Vec<f64>>, String> {
    let Some(f) = file else {
        return Ok((0..refs[0].len())
            .map(|c| {
                (0..refs[0][c].len())
                    .map(|t| refs.iter().map(|s| s[c][t]).sum())
                    .collect()
            })
            .collect());
    };
    let m = decode(f).map_err(|e| e.to_string())?;
    if (m.sample_rate, m.channels.len(), m.frames()) != (sr, c0, n0) {
        return Err(format!(
            "{}: {} channel(s) × {} samples at {} Hz, but the stems are {c0} × {n0} at {sr} Hz: the mixture must match its stems",
            f.display(),
            m.channels.len(),
            m.frames(),
            m.sample_rate
        ));
    }
    Ok(to_f64(&m))
}

/// The scores of the two baselines: the mixture as every stem's estimate, and the oracle IRM.
fn baseline_scores(
    name: &str,
    refs: &[Vec<Vec<f64>>],
    mixture: Vec<Vec<f64>>,
    oracle: &OracleStft,
    score: &dyn Fn(&Sources) -> Result<Metrics, EvalError>,
) -> Result<[Metrics; 2], String> {
    let cfg = StftConfig {
        n_fft: oracle.n_fft,
        hop_length: Some(oracle.hop_length),
        ..StftConfig::default()
    };
    let irm = oracle_irm(refs, &mixture, &cfg)?;
    let as_mixture = vec![mixture; refs.len()];
    let scored = |e: &[Vec<Vec<f64>>], what: &str| {
        score(e).map_err(|err| format!("track {name}, {what} baseline: {err}"))
    };
    Ok([scored(&as_mixture, "mixture")?, scored(&irm, "oracle IRM")?])
}

/// The oracle ideal ratio mask's estimates: each stem's share of the power in every bin,
/// |S_j|² / Σ_k |S_k|², applied to the mixture's STFT and inverted with the mixture's phase,
/// channel by channel.
fn oracle_irm(
    refs: &[Vec<Vec<f64>>],
    mixture: &[Vec<f64>],
    cfg: &StftConfig,
) -> Result<Vec<Vec<Vec<f64>>>, String> {
    let f32s = |x: &[f64]| x.iter().map(|&v| v as f32).collect::<Vec<f32>>();
    let err = |e: soundcheck_audio::AudioError| format!("oracle IRM: {e}");
    let mut out = vec![Vec::with_capacity(mixture.len()); refs.len()];
    for (c, mix) in mixture.iter().enumerate() {
        let x = stft(&f32s(mix), cfg).map_err(err)?;
        let powers: Vec<_> = refs
            .iter()
            .map(|s| stft(&f32s(&s[c]), cfg).map(|z| z.mapv(|v| v.norm_sqr())))
            .collect::<Result<_, _>>()
            .map_err(err)?;
        let total = powers
            .iter()
            .skip(1)
            .fold(powers[0].clone(), |acc, p| acc + p);
        for (j, p) in powers.iter().enumerate() {
            let mut masked = x.clone();
            Zip::from(&mut masked)
                .and(p)
                .and(&total)
                .for_each(|z, &pj, &t| {
                    *z *= if t > 0.0 { pj / t } else { 0.0 };
                });
            let y = istft(masked.view(), cfg, Some(mix.len())).map_err(err)?;
            out[j].push(y.iter().map(|&v| f64::from(v)).collect());
        }
    }
    Ok(out)
}

/// The metrics' per-window tables, in [`METRICS`] order.
pub fn columns(m: &Metrics) -> [&Vec<Vec<f64>>; 4] {
    [&m.sdr, &m.isr, &m.sir, &m.sar]
}

/// The median over windows of each metric of `stem`.
pub fn medians(m: &Metrics, stem: usize) -> [f64; 4] {
    columns(m).map(|m| nanmedian(&m[stem]))
}

/// Median over tracks of each stem's per-track medians (of the metrics `pick` chooses), for
/// stems named alike in every track.
fn over_tracks(
    tracks: &[TrackScores],
    pick: impl Fn(&TrackScores) -> Option<&Metrics>,
) -> Vec<(String, [f64; 4])> {
    let mut names: Vec<&String> = tracks.iter().flat_map(|t| &t.stems).collect();
    names.sort();
    names.dedup();
    names
        .into_iter()
        .map(|n| {
            let per: Vec<[f64; 4]> = tracks
                .iter()
                .filter_map(|t| {
                    let j = t.stems.iter().position(|s| s == n)?;
                    Some(medians(pick(t)?, j))
                })
                .collect();
            let m = [0, 1, 2, 3].map(|k| nanmedian(&per.iter().map(|p| p[k]).collect::<Vec<_>>()));
            (n.clone(), m)
        })
        .collect()
}

/// Each stem's medians over windows.
pub fn rows(stems: &[String], m: &Metrics) -> Vec<(String, [f64; 4])> {
    stems
        .iter()
        .enumerate()
        .map(|(j, s)| (s.clone(), medians(m, j)))
        .collect()
}

/// Every track scored, with the warnings (lengths padded or cut) to show;
/// `progress(done, tracks)` is called before the first track and after each.
pub fn score_folders(
    a: &EvaluateOptions,
    progress: &dyn Fn(usize, usize),
) -> Result<(Vec<TrackScores>, Vec<String>), ScoreError> {
    if a.mode == Mode::V4 && !(a.window > 0.0 && a.hop > 0.0) {
        return Err(ScoreError(format!(
            "`window` {} / `hop` {}: both must be positive seconds (museval uses 1 and 1)",
            a.window, a.hop
        )));
    }
    let list = tracks(a).map_err(ScoreError)?;
    progress(0, list.len());
    let mut out = Vec::new();
    let mut warnings = Vec::new();
    for (name, r, e) in &list {
        let (t, w) = evaluate_track(name, r, e, a).map_err(ScoreError)?;
        out.push(t);
        warnings.extend(w);
        progress(out.len(), list.len());
    }
    Ok((out, warnings))
}

/// Per stem, the median over tracks of the estimates' metrics and of each baseline's
/// (mixture, oracle IRM; empty without `--baselines`).
pub type StemRows = Vec<(String, [f64; 4])>;

/// Per stem, the median over tracks of the estimates' metrics and of each baseline's.
pub fn medians_over_tracks(tracks: &[TrackScores]) -> (StemRows, Vec<StemRows>) {
    let overall = over_tracks(tracks, |t| Some(&t.metrics));
    let baselines = (0..BASELINES.len())
        .map(|b| over_tracks(tracks, |t| t.baselines.as_ref().map(|m| &m[b])))
        .collect();
    (overall, baselines)
}

/// Per stem, means over tracks weighted by their length: of the estimates' metrics (GSDR, GSIR,
/// GSAR in MIR-1K papers) and, with baselines, of NSDR = SDR − the mixture's SDR (GNSDR).
pub struct LengthWeighted {
    /// Each stem's weighted means of the metrics, in [`METRICS`] order.
    pub means: StemRows,
    /// Each stem's GNSDR, dB; empty without baselines.
    pub gnsdr: Vec<(String, f64)>,
}

/// The means over tracks weighted by length (Huang et al. 2014's GNSDR, GSIR, GSAR), of each
/// track's value (its median over windows, the value itself for whole-track scores). NaN values
/// are left out of their mean.
pub fn length_weighted(tracks: &[TrackScores]) -> LengthWeighted {
    let mut names: Vec<&String> = tracks.iter().flat_map(|t| &t.stems).collect();
    names.sort();
    names.dedup();
    let mean = |values: &[(f64, usize)]| {
        let kept = values.iter().filter(|(v, _)| !v.is_nan());
        let (sum, weight) = kept.fold((0.0, 0.0), |(s, w), &(v, n)| {
            (s + v * n as f64, w + n as f64)
        });
        if weight > 0.0 {
            sum / weight
        } else {
            f64::NAN
        }
    };
    let per_track =
        |stem: &str, pick: &dyn Fn(&TrackScores, usize) -> Option<f64>| -> Vec<(f64, usize)> {
            tracks
                .iter()
                .filter_map(|t| {
                    let j = t.stems.iter().position(|s| s == stem)?;
                    Some((pick(t, j)?, t.samples))
                })
                .collect()
        };
    let means = names
        .iter()
        .map(|&n| {
            let m =
                [0, 1, 2, 3].map(|k| mean(&per_track(n, &|t, j| Some(medians(&t.metrics, j)[k]))));
            (n.clone(), m)
        })
        .collect();
    let with_baselines = tracks.iter().all(|t| t.baselines.is_some()) && !tracks.is_empty();
    let gnsdr = if with_baselines {
        names
            .iter()
            .map(|&n| {
                let nsdr = per_track(n, &|t, j| {
                    let mixture = &t.baselines.as_ref()?[0];
                    Some(medians(&t.metrics, j)[0] - medians(mixture, j)[0])
                });
                (n.clone(), mean(&nsdr))
            })
            .collect()
    } else {
        Vec::new()
    };
    LengthWeighted { means, gnsdr }
}
