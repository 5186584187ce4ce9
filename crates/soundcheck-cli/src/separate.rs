//! Source separation from the command line: `train separation`, `separate`, and the main
//! quickstart (`soundcheck quickstart`).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use clap::Args;
use ndarray::Array2;
use serde_json::{json, Value};
use soundcheck_audio::{resample, to_mono, write_wav, AudioSource, WavStream};
use soundcheck_data::{discover, load_track, Dataset, FeatureCache, Track};
use soundcheck_eval::{bss_eval_v4, nanmedian};
use soundcheck_nn::{Loss, Network, Trainer};
use soundcheck_shape::ModelSpec;
use soundcheck_tasks::{write_separation_demo, Chunking, PatchDataset, SeparationConfig};

use crate::evaluate::{medians_over_tracks, score_all, EvaluateArgs};
use crate::load::{load_spec, quickstart_folder, write_atomic};
use crate::picture::{write_png, Axes};
use crate::predict::{load_run, read_run_json};
use crate::progress::Progress;
use crate::train::{fit, report, start_run, summary, trained_line, Failure, FitArgs};

/// Frames between patch starts when separating. Training uses 12 (more, overlapping examples);
/// on the quickstart's held-out songs 22 costs 0.3 dB SDR and runs 1.7× faster.
const INFERENCE_PATCH_HOP: usize = 22;

/// Epochs between held-out SDR measurements while training separation.
const VAL_SDR_EVERY: usize = 2;

/// The held-out SDR is measured on this many held-out tracks, on an excerpt of each this long
/// (seconds): their audio stays in memory, and it is measured every few epochs.
const VAL_SDR_TRACKS: usize = 3;
const VAL_SDR_SECONDS: f64 = 30.0;

/// The run's separation settings and target, beside the model.
pub const SEPARATION_FILE: &str = "separation.json";

#[derive(Args, Clone)]
#[command(
    after_help = "Example:\n  soundcheck train separation --data musdb18hq/ --model models/vocal-mask.toml --epochs 20 --out runs/vocals\n\nDATA is DSD100 (Mixtures/, Sources/) or MUSDB18-HQ (train/, test/); the test tracks are held out for validation."
)]
pub struct SeparationArgs {
    /// DSD100 or MUSDB18-HQ folder
    #[arg(long)]
    pub data: PathBuf,
    /// Stem to separate (the rest is the accompaniment)
    #[arg(long, default_value = "vocals")]
    pub target: String,
    /// Model spec taking (bins, patch, 1) magnitude patches and returning the target's magnitude
    #[arg(long, default_value = "models/vocal-mask.toml")]
    pub model: PathBuf,
    #[arg(long, default_value_t = 1024)]
    pub n_fft: usize,
    #[arg(long, default_value_t = 256)]
    pub hop_length: usize,
    /// Frames per patch
    #[arg(long, default_value_t = 25)]
    pub patch: usize,
    /// Frames between patch starts
    #[arg(long, default_value_t = 12)]
    pub patch_hop: usize,
    /// Cache folder: the tracks' magnitude spectrograms go to its separation/ subfolder,
    /// computed once per track and STFT settings and read a patch at a time while training
    /// [default: $XDG_CACHE_HOME/soundcheck, else ~/.cache/soundcheck, else the run folder]
    #[arg(long)]
    pub cache: Option<PathBuf>,
    #[command(flatten)]
    pub fit: FitArgs,
}

impl SeparationArgs {
    fn cache_dir(&self, out: &Path) -> PathBuf {
        let base = self.cache.clone().or_else(|| {
            std::env::var_os("XDG_CACHE_HOME")
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
                .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
                .map(|c| c.join("soundcheck"))
        });
        base.unwrap_or_else(|| out.join("cache")).join("separation")
    }

    fn config(&self) -> Result<SeparationConfig, Failure> {
        for (name, v) in [
            ("n-fft", self.n_fft),
            ("hop-length", self.hop_length),
            ("patch", self.patch),
            ("patch-hop", self.patch_hop),
        ] {
            if v == 0 {
                return Err(format!("--{name} 0: expected a positive number").into());
            }
        }
        Ok(SeparationConfig {
            n_fft: self.n_fft,
            hop_length: self.hop_length,
            patch: self.patch,
            patch_hop: self.patch_hop,
            ..Default::default()
        })
    }
}

fn config_json(c: &SeparationConfig, target: &str) -> Value {
    json!({"target": target, "sample_rate": c.sample_rate, "n_fft": c.n_fft,
           "hop_length": c.hop_length, "patch": c.patch, "patch_hop": c.patch_hop})
}

fn config_from_json(v: &Value) -> Option<(SeparationConfig, String)> {
    let n = |k: &str| v[k].as_u64().map(|x| x as usize);
    Some((
        SeparationConfig {
            sample_rate: v["sample_rate"].as_u64()? as u32,
            n_fft: n("n_fft")?,
            hop_length: n("hop_length")?,
            patch: n("patch")?,
            patch_hop: n("patch_hop")?,
        },
        v["target"].as_str()?.to_string(),
    ))
}

/// A track's mono mixture and target at the model's rate.
fn mono_at(track: &Track, rate: u32) -> Result<(Vec<f32>, Vec<f32>), Failure> {
    let conv = |ch: &[Vec<f32>]| -> Result<Vec<f32>, Failure> {
        let m = to_mono(ch);
        if track.sample_rate == rate {
            Ok(m)
        } else {
            resample(&m, track.sample_rate, rate).map_err(|e| format!("{}: {e}", track.name).into())
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

/// Trains a separator; returns the summary with the held-out tracks' median target SDR.
pub fn train_separator(a: &SeparationArgs, spec: ModelSpec) -> Result<Value, Failure> {
    let t0 = Instant::now();
    let cfg = a.config()?;
    let out = a.fit.new_out()?;
    let (_, files) = discover(&a.data)?;
    let held: Vec<bool> = files
        .iter()
        .map(|t| t.subset.eq_ignore_ascii_case("test"))
        .collect();
    let held: Vec<bool> = if held.iter().all(|&h| !h) {
        (0..files.len())
            .map(|i| i + 1 == files.len() && files.len() > 1)
            .collect()
    } else {
        held
    };
    // The spectrograms depend on the STFT and the target, not on how patches are cut from them.
    let spectra = json!({"layout": "(frames, [mixture, target], bins) magnitude", "target": a.target,
        "sample_rate": cfg.sample_rate, "n_fft": cfg.n_fft, "hop_length": cfg.hop_length});
    let cache = FeatureCache::new(&a.cache_dir(out), spectra.to_string())
        .map_err(|e| format!("{e}: choose a writable folder with --cache DIR"))?;
    let bar = Progress::new("tracks", files.len());
    let (mut train, mut val) = (Vec::new(), Vec::new());
    let mut held_tracks = Vec::new();
    for (tf, &h) in files.iter().zip(&held) {
        let sources: Vec<&Path> = std::iter::once(&tf.mixture)
            .chain(tf.stems.iter().map(|(_, p)| p))
            .chain(&tf.accompaniment)
            .map(PathBuf::as_path)
            .collect();
        let entry = cache.ensure(&sources, || -> Result<_, Failure> {
            let track = load_track(tf, &a.target)?;
            if let Some(w) = track.mixture_warning() {
                eprintln!("warning: {w}");
            }
            let (mix, tgt) = mono_at(&track, cfg.sample_rate)?;
            Ok(cfg
                .track_spectra(&mix, &tgt)
                .map_err(|e| format!("{}: {e}", track.name))?)
        })?;
        if h {
            val.push(entry);
            if held_tracks.len() < VAL_SDR_TRACKS {
                held_tracks.push(load_track(tf, &a.target)?.excerpt(VAL_SDR_SECONDS));
            }
        } else {
            train.push(entry);
        }
        bar.tick();
    }
    bar.finish();
    if train.is_empty() {
        return Err(format!(
            "{}: no training tracks (all are held out for testing)",
            a.data.display()
        )
        .into());
    }
    let (train_ds, val_ds) = (
        Arc::new(PatchDataset::open(&cfg, &train).map_err(|e| e.to_string())?),
        PatchDataset::open(&cfg, &val).map_err(|e| e.to_string())?,
    );
    eprintln!(
        "{} training patches of {}×{}×1 from {} tracks, {} validation patches from {} held-out tracks (spectrograms in {})",
        train_ds.len(), cfg.bins(), cfg.patch, train.len(), val_ds.len(), val.len(), cache.dir().display()
    );
    let loss = Loss::parse(spec.loss.as_deref().unwrap_or("mean_absolute_error"))?;
    let mut net = Network::initialized(&spec, a.fit.seed, &crate::device::current())?;
    start_run(
        out,
        &spec,
        &json!({"task": "separation", "loss": loss.name(), "batch_size": a.fit.batch_size,
        "optimizer": a.fit.optimizer, "learning_rate": a.fit.learning_rate, "seed": a.fit.seed}),
    )?;
    write_atomic(
        &out.join(SEPARATION_FILE),
        &config_json(&cfg, &a.target).to_string(),
    )
    .map_err(|d| d.to_string())?;
    let mut trainer = Trainer::new(&mut net, a.fit.config(loss, train_ds.len(), 0.0)?);
    if !val_ds.is_empty() {
        trainer = trainer.with_validation(Arc::new(val_ds));
    }
    // The held-out median target SDR every VAL_SDR_EVERY epochs and at the end.
    let held_sdr = |net: &Network| -> Option<f64> {
        let sdrs: Vec<f64> = held_tracks
            .iter()
            .filter_map(|t| {
                let s = cfg.separate(net, &t.mixture, t.sample_rate).ok()?;
                target_sdr(t, &s.target, &s.rest)
            })
            .collect();
        (!sdrs.is_empty()).then(|| nanmedian(&sdrs))
    };
    let key = format!("val_{}_sdr", a.target);
    let mut sdr_log: Vec<Value> = Vec::new();
    let mut metric = |net: &Network, h: &soundcheck_nn::EpochLog| {
        if !(h.epoch.is_multiple_of(VAL_SDR_EVERY) || h.epoch == a.fit.epochs) {
            return None;
        }
        let sdr = held_sdr(net)?;
        sdr_log.push(json!({"epoch": h.epoch, "sdr": sdr}));
        Some(format!("{key} {sdr:.2} dB"))
    };
    let (outcome, history) = fit(&mut trainer, train_ds, out, a.fit.epochs, &mut metric)?;
    drop(trainer);
    let mut v = summary(out, loss, &outcome, &history, None, 0.0);
    // The last epoch's measurement when it was taken (a run stopped early was not measured).
    let last = sdr_log
        .last()
        .filter(|m| m["epoch"] == json!(history.len()))
        .and_then(|m| m["sdr"].as_f64())
        .or_else(|| held_sdr(&net));
    if let Some(sdr) = last {
        v[key.clone()] = json!(sdr);
    }
    v[format!("{key}_history")] = json!(sdr_log);
    v["seconds"] = json!(t0.elapsed().as_secs_f64());
    Ok(v)
}

pub fn run_train(a: &SeparationArgs) -> u8 {
    let spec = load_spec(&a.model).map_err(|d| Failure {
        code: 1,
        message: d.to_string(),
    });
    report(spec.and_then(|s| train_separator(a, s)), a.fit.json, |v| {
        let mut s = trained_line(v);
        if let Some(sdr) = v[format!("val_{}_sdr", a.target)].as_f64() {
            s.push_str(&format!("; held-out {} SDR {sdr:.2} dB", a.target));
        }
        s
    })
}

#[derive(Args)]
#[command(
    after_help = "Example:\n  soundcheck separate song.wav other.flac --run runs/vocals -o separated/\n\nWrites OUT/<song>/vocals.wav and OUT/<song>/accompaniment.wav (accompaniment = mixture − vocals, so the two sum to the input) at the input's rate and channels."
)]
pub struct SeparateArgs {
    /// Mixtures (any rate and channel count soundcheck decodes)
    #[arg(required = true)]
    pub mixtures: Vec<PathBuf>,
    /// Run directory of `soundcheck train separation`
    #[arg(long)]
    pub run: PathBuf,
    /// Output folder
    #[arg(short, long)]
    pub out: PathBuf,
    /// Also draw the mixture spectrogram and the mask (OUT/<song>/mask.png)
    #[arg(long)]
    pub png: bool,
    /// Frames between patch starts: larger is faster, each frame is seen by fewer patches
    /// (on the quickstart's songs, 22 instead of training's 12 costs 0.3 dB SDR)
    #[arg(long, default_value_t = INFERENCE_PATCH_HOP)]
    pub patch_hop: usize,
    #[arg(long)]
    pub json: bool,
}

/// A run's separator: network, settings and target name.
fn load_separator(run: &Path) -> Result<(Network, SeparationConfig, String), Failure> {
    let net = load_run(run)?;
    let v = read_run_json(run, SEPARATION_FILE, "soundcheck train separation")?;
    let (cfg, target) = config_from_json(&v).ok_or_else(|| {
        format!(
            "{}: incomplete settings",
            run.join(SEPARATION_FILE).display()
        )
    })?;
    Ok((net, cfg, target))
}

/// The mask (and the mixture's dB spectrogram under it) as pictures.
fn draw_mask(
    dir: &Path,
    cfg: &SeparationConfig,
    mask: &Array2<f32>,
    mono: &[f32],
) -> Result<(), String> {
    let mag = soundcheck_audio::magnitude(
        &soundcheck_audio::stft(mono, &cfg.stft()).map_err(|e| e.to_string())?,
    );
    let db = soundcheck_audio::amplitude_to_db(&mag, soundcheck_audio::Ref::Max, 1e-5, Some(80.0))
        .map_err(|e| e.to_string())?;
    let axes = |title: &str, value: &str| Axes {
        title: title.into(),
        x_step: cfg.hop_length as f64 / cfg.sample_rate as f64,
        y_label: "FREQUENCY (HZ)".into(),
        y_step: cfg.sample_rate as f64 / cfg.n_fft as f64,
        value_label: value.into(),
    };
    write_png(&dir.join("mixture.png"), &db, &axes("MIXTURE", "DB"))?;
    write_png(
        &dir.join("mask.png"),
        &mask.mapv(|m| m * 100.0),
        &axes("MASK", "%"),
    )
}

/// The output folder of a mixture: `out/<file stem>`.
fn output_dir(out: &Path, mixture: &Path) -> PathBuf {
    out.join(mixture.file_stem().unwrap_or(mixture.as_os_str()))
}

/// Separates one file into `dir`, piece by piece (memory does not grow with the length);
/// returns its record.
fn separate_file(
    net: &Network,
    cfg: &SeparationConfig,
    target: &str,
    path: &Path,
    dir: &Path,
    png: bool,
) -> Result<Value, Failure> {
    let mut src = AudioSource::open(path).map_err(|e| e.to_string())?;
    let rate = src.sample_rate();
    let name = dir
        .file_name()
        .map_or(String::new(), |n| n.to_string_lossy().to_string());
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let mut target_out =
        WavStream::create(&dir.join(format!("{target}.wav")), src.channels(), rate)
            .map_err(|e| e.to_string())?;
    let mut rest_out = WavStream::create(&dir.join("accompaniment.wav"), src.channels(), rate)
        .map_err(|e| e.to_string())?;
    let chunking = Chunking::default();
    let pieces = (src.frames() as f64 / (chunking.piece * rate as f64)).ceil() as usize;
    let bar = Progress::new(&name, pieces);
    let t = Instant::now();
    let mask = cfg
        .separate_stream(
            net,
            &mut src,
            &mut target_out,
            &mut rest_out,
            chunking,
            &mut |_, _| bar.tick(),
        )
        .map_err(|e| format!("{}: {e}", path.display()))?;
    let seconds = t.elapsed().as_secs_f64();
    bar.finish();
    target_out.finish().map_err(|e| e.to_string())?;
    rest_out.finish().map_err(|e| e.to_string())?;
    if let (true, Some(mask)) = (png, mask) {
        // The mask of the first piece, over that piece's mixture.
        let span = ((chunking.piece + chunking.fade + chunking.margin) * rate as f64) as usize;
        let mono = to_mono(&src.read(0, span).map_err(|e| e.to_string())?);
        let mono = if rate == cfg.sample_rate {
            mono
        } else {
            resample(&mono, rate, cfg.sample_rate).map_err(|e| e.to_string())?
        };
        draw_mask(dir, cfg, &mask, &mono)?;
    }
    let duration = src.frames() as f64 / rate as f64;
    Ok(
        json!({"input": path, "output": dir, "seconds": seconds, "audio_seconds": duration,
              "realtime_factor": duration / seconds.max(1e-9)}),
    )
}

fn separate(a: &SeparateArgs) -> Result<Value, Failure> {
    let (net, mut cfg, target) = load_separator(&a.run)?;
    if a.patch_hop == 0 {
        return Err("--patch-hop 0: expected a positive number of frames"
            .to_string()
            .into());
    }
    cfg.patch_hop = a.patch_hop;
    // Two mixtures of one file name would write the same folder.
    for (i, m) in a.mixtures.iter().enumerate() {
        if let Some(other) = a.mixtures[..i]
            .iter()
            .find(|o| output_dir(&a.out, o) == output_dir(&a.out, m))
        {
            return Err(format!(
                "{} and {} would both be written to {}; separate them into different -o folders",
                other.display(),
                m.display(),
                output_dir(&a.out, m).display()
            )
            .into());
        }
    }
    let bar = Progress::new("separate", a.mixtures.len());
    let mut files = Vec::new();
    for m in &a.mixtures {
        files.push(separate_file(
            &net,
            &cfg,
            &target,
            m,
            &output_dir(&a.out, m),
            a.png,
        )?);
        bar.tick();
    }
    bar.finish();
    Ok(json!({"target": target, "files": files}))
}

pub fn run_separate(a: &SeparateArgs) -> u8 {
    report(separate(a), a.json, |v| {
        v["files"]
            .as_array()
            .map(|fs| {
                fs.iter()
                    .map(|f| {
                        format!(
                            "{} → {} ({:.1} s of audio in {:.1} s: {:.1}× real time)",
                            f["input"].as_str().unwrap_or(""),
                            f["output"].as_str().unwrap_or(""),
                            f["audio_seconds"].as_f64().unwrap_or(0.0),
                            f["seconds"].as_f64().unwrap_or(0.0),
                            f["realtime_factor"].as_f64().unwrap_or(0.0)
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("\n")
            })
            .unwrap_or_default()
    })
}

/// The quickstart's model: a compact mask net (3×3 convolutions, two of them dilated, with
/// BatchNorm, a 1×1 sigmoid mask, mask × input) that trains in minutes on 2 cores; models/vocal-mask.toml is the
/// seed's full network.
const QUICK_MODEL: &str = include_str!("../../../models/vocal-mask-small.toml");

#[derive(clap::Subcommand)]
pub enum QuickTask {
    /// Synthesise 7 sound classes, train the MFCC LSTM, evaluate on the held-out test split
    Classification(crate::classify::QuickstartClassificationArgs),
}

/// Vocal separation on built-in demo songs (no downloads): synthesise, check, train, separate
/// the held-out songs, score them beside the mixture and the oracle mask, report.
#[derive(Args)]
#[command(
    args_conflicts_with_subcommands = true,
    after_help = "Examples:\n  soundcheck quickstart\n  soundcheck quickstart --out demo/ --json\n  soundcheck quickstart classification"
)]
pub struct QuickstartArgs {
    #[command(subcommand)]
    pub task: Option<QuickTask>,
    /// Where the demo songs, the run, the separations and the report go
    #[arg(long, default_value = "soundcheck-quickstart")]
    pub out: PathBuf,
    /// Training epochs
    #[arg(long, default_value_t = 10)]
    pub epochs: usize,
    #[arg(long)]
    pub json: bool,
}

fn quickstart(a: &QuickstartArgs) -> Result<Value, Failure> {
    let t0 = Instant::now();
    let (data, run, separated, reference) = (
        a.out.join("data"),
        a.out.join("run"),
        a.out.join("separated"),
        a.out.join("reference"),
    );
    quickstart_folder(&a.out, &["data", "run", "separated", "reference", "cache"])?;
    eprintln!(
        "synthesising 8 demo songs (6 to train on, 2 held out) in {}",
        data.display()
    );
    write_separation_demo(&data, 6, 2, 12.0, 2026).map_err(|e| e.to_string())?;
    let spec = ModelSpec::from_toml_str(QUICK_MODEL).map_err(|d| Failure {
        code: 1,
        message: d.to_string(),
    })?;
    let args = SeparationArgs {
        data: data.clone(),
        target: "vocals".into(),
        model: PathBuf::from("models/vocal-mask-small.toml"),
        n_fft: 1024,
        hop_length: 256,
        patch: 25,
        patch_hop: 12,
        cache: Some(a.out.join("cache")),
        fit: FitArgs {
            epochs: a.epochs,
            batch_size: 16,
            optimizer: "adam".into(),
            learning_rate: 3e-3,
            schedule: "constant".into(),
            clip_norm: Some(5.0),
            patience: None,
            seed: 0,
            out: Some(run.clone()),
            json: a.json,
        },
    };
    let trained = train_separator(&args, spec)?;
    // Separate the held-out mixtures; lay out references (vocals, accompaniment, mixture) for
    // `evaluate`'s scoring with baselines.
    // The held-out songs are separated at the training hop (12): the quickstart reports quality;
    // `separate` defaults to a longer hop for speed.
    let (net, cfg, _) = load_separator(&run)?;
    let (_, files) = discover(&data)?;
    let mut rtf = Vec::new();
    for tf in files.iter().filter(|t| t.subset == "test") {
        let track = load_track(tf, "vocals")?;
        let rdir = reference.join(&track.name);
        std::fs::create_dir_all(&rdir).map_err(|e| format!("{}: {e}", rdir.display()))?;
        for (name, y) in [
            ("vocals", &track.target),
            ("accompaniment", &track.accompaniment),
            ("mixture", &track.mixture),
        ] {
            write_wav(&rdir.join(format!("{name}.wav")), y, track.sample_rate)
                .map_err(|e| e.to_string())?;
        }
        let dir = separated.join(&track.name);
        let rec = separate_file(&net, &cfg, "vocals", &tf.mixture, &dir, true)?;
        rtf.push(rec["realtime_factor"].as_f64().unwrap_or(0.0));
    }
    let eval = EvaluateArgs {
        reference: reference.clone(),
        estimate: separated.clone(),
        window: 1.0,
        hop: 1.0,
        json: false,
        baselines: true,
        n_fft: cfg.n_fft,
        hop_length: cfg.hop_length,
    };
    let (tracks, _) = score_all(&eval)?;
    let (est, base) = medians_over_tracks(&tracks);
    let sdr = |rows: &[(String, [f64; 4])], stem: &str| {
        rows.iter().find(|(s, _)| s == stem).map(|(_, m)| m[0])
    };
    let report = json!({
        "vocals_sdr": sdr(&est, "vocals"),
        "accompaniment_sdr": sdr(&est, "accompaniment"),
        "mixture_vocals_sdr": sdr(&base[0], "vocals"),
        "mixture_accompaniment_sdr": sdr(&base[0], "accompaniment"),
        "oracle_vocals_sdr": sdr(&base[1], "vocals"),
        "oracle_accompaniment_sdr": sdr(&base[1], "accompaniment"),
        "held_out_tracks": tracks.len(),
        "epochs": trained["epochs"],
        "final_loss": trained["final_loss"],
        "final_val_loss": trained["final_val_loss"],
        "realtime_factor": nanmedian(&rtf),
        "seconds": t0.elapsed().as_secs_f64(),
        "run_dir": run,
        "separated": separated,
    });
    write_atomic(&a.out.join("report.json"), &report.to_string()).map_err(|d| d.to_string())?;
    Ok(report)
}

pub fn run_quickstart(a: &QuickstartArgs) -> u8 {
    if let Some(QuickTask::Classification(c)) = &a.task {
        return crate::classify::run_quickstart(c);
    }
    report(quickstart(a), a.json, |v| {
        let f = |k: &str| v[k].as_f64().map_or("-".into(), |x| format!("{x:.2}"));
        format!(
            "quickstart: vocals SDR {} dB (mixture {} dB, oracle IRM {} dB), accompaniment SDR {} dB, median over {} held-out songs; {:.0} s in all\nseparations, mask pictures and WAVs in {}; run in {}",
            f("vocals_sdr"), f("mixture_vocals_sdr"), f("oracle_vocals_sdr"), f("accompaniment_sdr"),
            v["held_out_tracks"], v["seconds"].as_f64().unwrap_or(0.0),
            v["separated"].as_str().unwrap_or(""), v["run_dir"].as_str().unwrap_or("")
        )
    })
}
