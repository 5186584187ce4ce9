//! Scoring folders of separated stems against folders of references, track by track, as
//! museval does (v4, windows) or mir_eval's `bss_eval_sources` (v3, whole tracks): the options,
//! the per-track scores with the baselines (the mixture as estimate, the oracle ideal ratio
//! mask), the medians over tracks, and the means weighted by track length (GNSDR).

use std::path::{Path, PathBuf};

use soundcheck_audio::{AudioSource, StftConfig};

use crate::bss::{self, nanmedian, EvalError, Metrics};
use crate::signals::Signals;
use crate::track::{Mixture, MixtureEstimates, OracleIrm, StemFiles};

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
    let estimates: Vec<PathBuf> = files
        .iter()
        .map(|f| est_dir.join(f.file_name().unwrap_or_default()))
        .collect();
    if let Some((f, e)) = files.iter().zip(&estimates).find(|(_, e)| !e.exists()) {
        return Err(format!(
            "no estimate for {}: expected {} (name the estimates as the references)",
            f.display(),
            e.display()
        ));
    }
    let open = |v: &[PathBuf]| StemFiles::open(v).map_err(|e| e.to_string());
    // Scoring reads every file span by span; here only their headers are checked.
    let mut refs = open(&files)?;
    let header = |s: &AudioSource| (s.sample_rate(), s.channels(), s.frames());
    let (sr, c0, n0) = header(&refs.files()[0]);
    for (f, s) in files.iter().zip(refs.files()).skip(1) {
        let (rate, chans, frames) = header(s);
        if (rate, chans, frames) != (sr, c0, n0) {
            return Err(format!(
                "{}: {chans} channel(s) × {frames} samples at {rate} Hz, but {} is {c0} × {n0} at {sr} Hz: the stems of a track must share rate, channels and length",
                f.display(),
                files[0].display()
            ));
        }
    }
    let ests = open(&estimates)?;
    let mut warnings = Vec::new();
    for (ef, e) in estimates.iter().zip(ests.files()) {
        if e.sample_rate() != sr || e.channels() != c0 {
            return Err(format!(
                "{}: {} channel(s) at {} Hz, but its reference is {c0} channel(s) at {sr} Hz: write the estimate at the reference's rate and channels",
                ef.display(),
                e.channels(),
                e.sample_rate()
            ));
        }
        if e.frames() != n0 {
            warnings.push(format!(
                "{}: {} samples, reference {n0}: zero-padded or cut to the reference (as museval)",
                ef.display(),
                e.frames()
            ));
        }
    }
    let stems = files
        .iter()
        .map(|f| {
            f.file_stem()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    let samples = |s: f64| (s * f64::from(sr)).round() as usize;
    let (window, hop) = (samples(a.window), samples(a.hop));
    let score = |refs: &mut StemFiles, ests: &mut dyn Signals| match a.mode {
        Mode::V4 => bss::v4(refs, ests, window, hop),
        Mode::Sources => bss::sources(refs, ests),
    };
    let named = |e: EvalError| match e {
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
    };
    let metrics = score(&mut refs, &mut ests.with_length(n0)).map_err(named)?;
    let baselines = match &a.baselines {
        Some(oracle) => {
            let mixture = || -> Result<Mixture, String> {
                let Some(f) = mixture_file.first() else {
                    return Ok(Mixture::Sum(open(&files)?));
                };
                let m = open(std::slice::from_ref(f))?;
                let (rate, chans, frames) = header(&m.files()[0]);
                if (rate, chans, frames) != (sr, c0, n0) {
                    return Err(format!(
                        "{}: {chans} channel(s) × {frames} samples at {rate} Hz, but the stems are {c0} × {n0} at {sr} Hz: the mixture must match its stems",
                        f.display()
                    ));
                }
                Ok(Mixture::File(m))
            };
            let scored = |ests: &mut dyn Signals, what: &str| {
                score(&mut open(&files)?, ests)
                    .map_err(|err| format!("track {name}, {what} baseline: {err}"))
            };
            let as_mixture = scored(
                &mut MixtureEstimates {
                    mixture: mixture()?,
                    stems: files.len(),
                },
                "mixture",
            )?;
            let irm = scored(
                &mut OracleIrm {
                    references: open(&files)?,
                    mixture: mixture()?,
                    stft: StftConfig {
                        n_fft: oracle.n_fft,
                        hop_length: Some(oracle.hop_length),
                        ..StftConfig::default()
                    },
                },
                "oracle IRM",
            )?;
            Some([as_mixture, irm])
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
