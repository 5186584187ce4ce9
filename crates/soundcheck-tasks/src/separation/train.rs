//! A separator trained on a separation dataset in a run folder: the tracks' spectrograms (or
//! waveforms, for random mixes) cached, the test tracks held out, and their SDR measured every
//! few epochs.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use serde::Serialize;
use serde_json::json;
use soundcheck_audio::{resample, to_mono};
use soundcheck_data::{Dataset, FeatureCache};

use super::tracks::{discover, load_track, Track, VoiceChannel};
use soundcheck_eval::{bss_eval_v4, nanmedian};
use soundcheck_nn::{Device, EpochLog, Loss, Network, Trainer};
use soundcheck_shape::ModelSpec;

use super::config::SeparationConfig;
use super::mixes::MixDataset;
use super::patches::PatchDataset;
use super::record::{SeparationRecord, StemName};
use crate::error::{Result, TaskError};
use crate::fit::{check_data, fit, FitOptions, TrainSummary};
use crate::progress::Progress;
use crate::run_dir::RunDir;

/// Epochs between held-out SDR measurements while training.
const VAL_SDR_EVERY: usize = 2;

/// The held-out SDR is measured on this many held-out tracks, on an excerpt of each this long
/// (seconds): their audio stays in memory, and it is measured every few epochs.
const VAL_SDR_TRACKS: usize = 3;
const VAL_SDR_SECONDS: f64 = 30.0;

/// What a separator is trained on and how.
#[derive(Clone, Debug)]
pub struct SeparationTraining {
    /// A dataset [`super::discover`] finds (DSD100, MUSDB18-HQ, two-stem folders, stereo files
    /// of voice and accompaniment, a CSV manifest); its test tracks are held out.
    pub data: PathBuf,
    /// For stereo files of voice and accompaniment (MIR-1K, iKala): the voice's channel.
    pub voice_channel: Option<VoiceChannel>,
    /// The stem to separate; the rest is the accompaniment.
    pub target: String,
    /// The STFT and patch settings.
    pub config: SeparationConfig,
    /// Where the tracks' spectrograms are cached (its `separation/` subfolder); default the
    /// run folder's `cache/`.
    pub cache: Option<PathBuf>,
    /// Random mixes per epoch ([`MixDataset`]); 0 trains on the tracks' own patches.
    pub mixes: usize,
    /// The training options.
    pub fit: FitOptions,
    /// The run folder.
    pub out: PathBuf,
}

impl SeparationTraining {
    /// Random mixes per epoch of `train separation`'s recipe.
    pub const DEFAULT_MIXES: usize = 4000;

    /// `train separation`'s recipe where a flag does not say otherwise: 16 epochs of
    /// [`Self::DEFAULT_MIXES`] random mixes in batches of 16, the learning rate falling to 0 on
    /// a cosine. With models/vocal-unet-norm.toml it separates the realistic benchmark songs
    /// at 5.1 dB median vocals SDR in 30 minutes on 2 cores (BENCHMARKS.md).
    pub fn fit_defaults() -> FitOptions {
        FitOptions {
            epochs: 16,
            batch_size: 16,
            schedule: "cosine".into(),
            ..FitOptions::default()
        }
    }
}

/// A trained separator's report: the training summary and the held-out target SDR.
#[derive(Clone, Debug, Serialize)]
pub struct SeparationTrained {
    /// The training run's summary.
    #[serde(flatten)]
    pub training: TrainSummary,
    /// The separated stem.
    pub target: String,
    /// The held-out tracks' median target SDR after the last epoch (dB).
    pub val_sdr: Option<f64>,
    /// Every measurement while training.
    pub val_sdr_history: Vec<SdrAt>,
    /// Tracks without a mixture of their own, whose mixture is the sum of their stems.
    pub computed_mixtures: usize,
    /// Tracks in all.
    pub tracks: usize,
}

/// A held-out SDR measured after an epoch.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct SdrAt {
    /// 1-based.
    pub epoch: usize,
    /// dB, the median over the held-out tracks.
    pub sdr: f64,
}

/// A track's mono mixture and target at the model's rate.
fn mono_at(track: &Track, rate: u32) -> Result<(Vec<f32>, Vec<f32>)> {
    let conv = |ch: &[Vec<f32>]| -> Result<Vec<f32>> {
        let m = to_mono(ch);
        if track.sample_rate == rate {
            Ok(m)
        } else {
            resample(&m, track.sample_rate, rate).map_err(|e| TaskError::file(&track.name, e))
        }
    };
    Ok((conv(&track.mixture)?, conv(&track.target)?))
}

/// Median SDR (dB) of the target over 1 s windows, for a separated track.
fn target_sdr(track: &Track, est: &[Vec<f32>], rest: &[Vec<f32>]) -> Option<f64> {
    let f64s = |c: &[Vec<f32>]| -> Vec<Vec<f64>> {
        c.iter()
            .map(|x| x.iter().map(|&v| f64::from(v)).collect())
            .collect()
    };
    let refs = [f64s(&track.target), f64s(&track.accompaniment)];
    let ests = [f64s(est), f64s(rest)];
    let sr = track.sample_rate as usize;
    bss_eval_v4(&refs, &ests, sr, sr)
        .ok()
        .map(|m| nanmedian(&m.sdr[0]))
}

/// Trains a separator in `opts.out`; reports the held-out tracks' median target SDR.
pub fn train_separator(
    opts: &SeparationTraining,
    spec: &ModelSpec,
    device: &Device,
    progress: &dyn Progress,
) -> Result<SeparationTrained> {
    let t0 = Instant::now();
    let cfg = &opts.config;
    // The name becomes `<target>.wav` when separating, so it is refused here as it would be there.
    let target = StemName::parse(&opts.target).map_err(|_| TaskError::Option {
        name: "target",
        actual: format!("{:?}", opts.target),
        expected: format!("a stem name: {}", StemName::EXPECTED),
    })?;
    opts.fit.check()?;
    // A hop past the patch would leave frames that no example, and no patch of the held-out
    // separation, covers.
    if !(1..=cfg.patch).contains(&cfg.patch_hop) {
        return Err(TaskError::Option {
            name: "patch_hop",
            actual: cfg.patch_hop.to_string(),
            expected: format!("1 to {} frames (the patch)", cfg.patch),
        });
    }
    RunDir::check_new(&opts.out, progress)?;
    let cache_dir = opts.cache.clone().unwrap_or_else(|| opts.out.join("cache"));
    let (
        cache,
        CachedTracks {
            train,
            val,
            held,
            computed_mixtures,
        },
    ) = cache_tracks(opts, &cache_dir, progress)?;
    let tracks = train.len() + val.len();
    if train.is_empty() {
        return Err(TaskError::Folder {
            path: opts.data.clone(),
            actual: "no training tracks (all are held out for testing)".into(),
            hint: "add tracks to its train (MUSDB18-HQ) or Dev (DSD100) subset, or give a manifest's tracks the split train".into(),
        });
    }
    let patches = |entries: &[PathBuf]| {
        PatchDataset::open(cfg, entries).map_err(|e| TaskError::file(&cache_dir, e))
    };
    let val_ds = patches(&val)?;
    let (train_ds, source): (Arc<dyn Dataset>, _) = if opts.mixes > 0 {
        let mixes = MixDataset::open(cfg, &train, opts.mixes, opts.fit.seed)
            .map_err(|e| TaskError::file(&cache_dir, e))?;
        (Arc::new(mixes), "random mixes of the stems of")
    } else {
        (Arc::new(patches(&train)?), "patches of")
    };
    progress.note(&format!(
        "{} training examples of {}×{}×1 per epoch ({source} {} tracks), {} validation patches from {} held-out tracks (cache in {})",
        train_ds.len(), cfg.bins(), cfg.patch, train.len(), val_ds.len(), val.len(), cache.dir().display()
    ));
    let loss = Loss::parse(spec.loss.as_deref().unwrap_or("mean_absolute_error"))?;
    let mut net = Network::initialized(spec, opts.fit.seed, device)?;
    let train_cfg = opts.fit.config(loss, train_ds.len(), 0.0)?;
    let options = json!({"task": "separation", "loss": loss.name(), "batch_size": opts.fit.batch_size,
        "optimizer": opts.fit.optimizer, "learning_rate": opts.fit.learning_rate, "seed": opts.fit.seed});
    check_data(&net, train_ds.as_ref(), &train_cfg)?;
    let run = RunDir::create(&opts.out, spec, &options)?;
    run.write_record(RunDir::SEPARATION, &SeparationRecord::new(cfg, &target))?;
    let mut trainer = Trainer::new(&mut net, train_cfg);
    if !val_ds.is_empty() {
        trainer = trainer.with_validation(Arc::new(val_ds));
    }
    let held_sdr = |net: &Network| -> Option<f64> {
        let sdrs: Vec<f64> = held
            .iter()
            .filter_map(|t| {
                let s = cfg.separate(net, &t.mixture, t.sample_rate, None).ok()?;
                target_sdr(t, &s.target, &s.rest)
            })
            .collect();
        (!sdrs.is_empty()).then(|| nanmedian(&sdrs))
    };
    let key = format!("val_{}_sdr", opts.target);
    let mut history: Vec<SdrAt> = Vec::new();
    let mut metric = |net: &Network, h: &EpochLog| {
        if !(h.epoch.is_multiple_of(VAL_SDR_EVERY) || h.epoch == opts.fit.epochs) {
            return None;
        }
        let sdr = held_sdr(net)?;
        history.push(SdrAt {
            epoch: h.epoch,
            sdr,
        });
        Some(format!("{key} {sdr:.2} dB"))
    };
    let mut training = fit(
        &mut trainer,
        train_ds,
        &run,
        loss,
        progress,
        &mut metric,
        opts.fit.max_minutes,
    )?;
    drop(trainer);
    // The last epoch's measurement when it was taken (a run stopped early was not measured).
    let val_sdr = history
        .last()
        .filter(|m| m.epoch == training.epochs)
        .map(|m| m.sdr)
        .or_else(|| held_sdr(&net));
    training.seconds = t0.elapsed().as_secs_f64();
    Ok(SeparationTrained {
        training,
        target: opts.target.clone(),
        val_sdr,
        val_sdr_history: history,
        computed_mixtures,
        tracks,
    })
}

/// The training and validation tracks' spectrogram files, and the excerpts of the held-out
/// tracks the SDR is measured on.
struct CachedTracks {
    /// The training tracks' cache entries: spectrograms, or waveforms for random mixes.
    train: Vec<PathBuf>,
    val: Vec<PathBuf>,
    held: Vec<Track>,
    /// Tracks whose mixture is the sum of their stems.
    computed_mixtures: usize,
}

/// Computes (or finds in the cache) every track's spectrograms; the test subset is held out,
/// or the last track when there is none.
fn cache_tracks(
    opts: &SeparationTraining,
    cache_dir: &Path,
    progress: &dyn Progress,
) -> Result<(FeatureCache, CachedTracks)> {
    let cfg = &opts.config;
    let (_, files) = discover(&opts.data, opts.voice_channel)?;
    let mut held: Vec<bool> = files
        .iter()
        .map(|t| t.subset.eq_ignore_ascii_case("test"))
        .collect();
    if held.iter().all(|&h| !h) {
        held = (0..files.len())
            .map(|i| i + 1 == files.len() && files.len() > 1)
            .collect();
    }
    // The spectrograms depend on the STFT and the target (and which channel of a file is the
    // target), not on how patches are cut from them.
    let voice = opts.voice_channel.map(VoiceChannel::name);
    let spectra = json!({"layout": "(frames, [mixture, target], bins) magnitude", "target": opts.target,
        "voice_channel": voice, "sample_rate": cfg.sample_rate, "n_fft": cfg.n_fft, "hop_length": cfg.hop_length});
    let cache =
        FeatureCache::new(&cache_dir.join("separation"), spectra.to_string()).map_err(|e| {
            TaskError::Folder {
                path: cache_dir.to_path_buf(),
                actual: e.to_string(),
                hint: "choose a writable folder with `cache` DIR".into(),
            }
        })?;
    let waveforms = json!({"layout": "(samples, [target L, target R, rest L, rest R]) waveform",
        "target": opts.target, "voice_channel": voice, "sample_rate": cfg.sample_rate});
    let wave_cache = FeatureCache::new(&cache_dir.join("separation"), waveforms.to_string())
        .map_err(|e| TaskError::Folder {
            path: cache_dir.to_path_buf(),
            actual: e.to_string(),
            hint: "choose a writable folder with `cache` DIR".into(),
        })?;
    progress.start("tracks", files.len());
    let mut tracks = CachedTracks {
        train: Vec::new(),
        val: Vec::new(),
        held: Vec::new(),
        computed_mixtures: 0,
    };
    for (tf, &h) in files.iter().zip(&held) {
        let sources = tf.files();
        tracks.computed_mixtures += usize::from(tf.mixture_computed());
        let load = || -> Result<Track> {
            let track = load_track(tf, &opts.target)?;
            if let Some(w) = track.mixture_warning() {
                progress.note(&format!("warning: {w}"));
            }
            Ok(track)
        };
        let spectra = || {
            cache.ensure(&sources, || -> Result<_> {
                let track = load()?;
                let (mix, tgt) = mono_at(&track, cfg.sample_rate)?;
                cfg.track_spectra(&mix, &tgt)
                    .map_err(|e| TaskError::file(&track.name, e))
            })
        };
        if h {
            tracks.val.push(spectra()?);
            if tracks.held.len() < VAL_SDR_TRACKS {
                tracks
                    .held
                    .push(load_track(tf, &opts.target)?.excerpt(VAL_SDR_SECONDS));
            }
        } else if opts.mixes > 0 {
            // Random mixes read the stems' waveforms; the track's spectrograms would go unused.
            tracks
                .train
                .push(wave_cache.ensure(&sources, || -> Result<_> {
                    let track = load()?;
                    cfg.track_waveforms(&track)
                        .map_err(|e| TaskError::file(&track.name, e))
                })?);
        } else {
            tracks.train.push(spectra()?);
        }
        progress.step();
    }
    progress.finish();
    if tracks.computed_mixtures > 0 {
        progress.note(&format!(
            "{} of {} tracks have no mixture file: their mixture is computed as the sum of their stems",
            tracks.computed_mixtures,
            files.len()
        ));
    }
    Ok((cache, tracks))
}
