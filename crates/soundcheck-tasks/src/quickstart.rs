//! The quickstarts: the whole job on built-in demo data, no downloads. Vocal separation
//! (unpack the bundled songs, train, separate the held-out ones, score them beside the mixture
//! and the oracle mask) and sound classification (synthesise classes, train, score the test split).

use std::path::{Path, PathBuf};
use std::time::Instant;

use serde::Serialize;
use soundcheck_audio::write_wav;
use soundcheck_data::Side;

use crate::classification::{Augment, ClipFeature, ClipFeatures, Normalisation, WaveAugment};
use crate::separation::{discover, load_track};
use soundcheck_eval::{medians_over_tracks, nanmedian, score_folders, EvaluateOptions, OracleStft};
use soundcheck_nn::Device;
use soundcheck_shape::ModelSpec;

use crate::classification::{
    train_classifier, ClassificationTrained, ClassificationTraining, LengthPolicy,
};
use crate::demo::write_classification_demo;
use crate::demo_tracks::write_separation_demo;
use crate::error::{Result, TaskError};
use crate::fit::FitOptions;
use crate::progress::Progress;
use crate::separation::{
    train_separator, SeparationConfig, SeparationTrained, SeparationTraining, Separator,
};

/// Random mixes of the training songs' stems per epoch: 8 epochs train in about 6 minutes on
/// 2 cores.
const SEPARATION_MIXES: usize = 1800;

/// The classification quickstart's model, the shipped MFCC LSTM.
const CLASSIFICATION_MODEL: &str = include_str!("../../../models/mfcc-lstm.toml");

/// Marks a folder as the quickstarts' own, so a rerun may clear what an earlier run wrote.
const MARK: &str = ".soundcheck-quickstart";

/// Prepares a quickstart's output folder: a new or empty folder is taken (and marked), a folder
/// an earlier quickstart wrote has its `parts` cleared, any other folder is refused, so a
/// mistyped `--out` never deletes the user's files.
pub fn prepare_folder(out: &Path, parts: &[&str]) -> Result<()> {
    let io = |e: std::io::Error| TaskError::io(out, "use the folder", e);
    let ours = out.join(MARK).exists();
    if out.exists() && !ours && std::fs::read_dir(out).map_err(io)?.next().is_some() {
        return Err(TaskError::Folder {
            path: out.to_path_buf(),
            actual: "already holds files the quickstart did not write".into(),
            hint: "pass a new or empty folder with `out`".into(),
        });
    }
    for part in parts {
        let d = out.join(part);
        if ours && d.exists() {
            std::fs::remove_dir_all(&d).map_err(|e| TaskError::io(&d, "clear", e))?;
        }
    }
    std::fs::create_dir_all(out).map_err(io)?;
    soundcheck_io::write_atomic(&out.join(MARK), b"").map_err(io)
}

/// The separation quickstart's report (`report.json`, `--json`).
#[derive(Clone, Debug, Serialize)]
pub struct SeparationQuickstart {
    /// Median vocals SDR of the held-out songs (dB).
    pub vocals_sdr: Option<f64>,
    /// Median accompaniment SDR (dB).
    pub accompaniment_sdr: Option<f64>,
    /// The mixture as the vocals estimate: the floor (dB).
    pub mixture_vocals_sdr: Option<f64>,
    /// The mixture as the accompaniment estimate (dB).
    pub mixture_accompaniment_sdr: Option<f64>,
    /// The oracle ideal ratio mask's vocals: the ceiling (dB).
    pub oracle_vocals_sdr: Option<f64>,
    /// The oracle mask's accompaniment (dB).
    pub oracle_accompaniment_sdr: Option<f64>,
    /// Held-out songs scored.
    pub held_out_tracks: usize,
    /// Epochs trained.
    pub epochs: usize,
    /// The last epoch's training loss.
    pub final_loss: Option<f64>,
    /// The last epoch's validation loss.
    pub final_val_loss: Option<f64>,
    /// Median seconds of audio separated per second.
    pub realtime_factor: f64,
    /// Wall-clock seconds of the whole quickstart.
    pub seconds: f64,
    /// The run folder.
    pub run_dir: PathBuf,
    /// The separations' folder.
    pub separated: PathBuf,
}

/// Vocal separation on the 15 bundled songs in `out`: train on random mixes of 12 for
/// `epochs` (a cosine learning-rate schedule over them), separate the other 3, score them.
pub fn separation_quickstart(
    out: &Path,
    epochs: usize,
    device: &Device,
    progress: &dyn Progress,
) -> Result<SeparationQuickstart> {
    let t0 = Instant::now();
    let (data, run, separated, reference) = (
        out.join("data"),
        out.join("run"),
        out.join("separated"),
        out.join("reference"),
    );
    let spec = ModelSpec::from_toml_str(crate::separation::DEFAULT_MODEL)?;
    let opts = SeparationTraining {
        data: data.clone(),
        voice_channel: None,
        target: "vocals".into(),
        config: SeparationConfig::default(),
        cache: Some(out.join("cache")),
        mixes: SEPARATION_MIXES,
        fit: FitOptions {
            epochs,
            batch_size: 16,
            schedule: "cosine".into(),
            ..FitOptions::default()
        },
        out: run.clone(),
    };
    // `--epochs 0` is refused before a single song is unpacked.
    opts.fit.check()?;
    prepare_folder(out, &["data", "run", "separated", "reference", "cache"])?;
    progress.note(&format!(
        "unpacking 15 demo songs (12 to train on, 3 held out) in {}",
        data.display()
    ));
    write_separation_demo(&data).map_err(|e| TaskError::file(&data, e))?;
    let trained: SeparationTrained = train_separator(&opts, &spec, device, progress)?;
    // The held-out songs are separated at the training hop (12): the quickstart reports
    // quality; `separate` defaults to a longer hop for speed. The references (vocals,
    // accompaniment, mixture) are laid out for scoring with baselines.
    let separator = Separator::load(&run, device)?;
    let (_, files) = discover(&data, None)?;
    let mut rtf = Vec::new();
    for tf in files.iter().filter(|t| t.subset == "test") {
        let track = load_track(tf, "vocals")?;
        let rdir = reference.join(&track.name);
        std::fs::create_dir_all(&rdir).map_err(|e| TaskError::io(&rdir, "create the folder", e))?;
        for (name, y) in [
            ("vocals", &track.target),
            ("accompaniment", &track.accompaniment),
            ("mixture", &track.mixture),
        ] {
            let path = rdir.join(format!("{name}.wav"));
            write_wav(&path, y, track.sample_rate).map_err(|e| TaskError::file(&path, e))?;
        }
        // The demo songs ship their mixtures (MUSDB18-HQ's layout).
        let mixture = tf
            .mixture_file()
            .unwrap_or(&rdir.join("mixture.wav"))
            .to_path_buf();
        let rec =
            separator.separate_file(&mixture, &separated.join(&track.name), true, progress)?;
        rtf.push(rec.realtime_factor);
    }
    let cfg = &separator.config;
    let scoring = EvaluateOptions {
        mode: soundcheck_eval::Mode::V4,
        reference: reference.clone(),
        estimate: separated.clone(),
        window: 1.0,
        hop: 1.0,
        baselines: Some(OracleStft {
            n_fft: cfg.n_fft,
            hop_length: cfg.hop_length,
        }),
        shard: soundcheck_io::Shard::ALL,
    };
    let (tracks, _) =
        score_folders(&scoring, &|_, _| {}).map_err(|e| TaskError::file(&reference, e))?;
    let (est, base) = medians_over_tracks(&tracks);
    let sdr = |rows: &[(String, [f64; 4])], stem: &str| {
        rows.iter().find(|(s, _)| s == stem).map(|(_, m)| m[0])
    };
    let report = SeparationQuickstart {
        vocals_sdr: sdr(&est, "vocals"),
        accompaniment_sdr: sdr(&est, "accompaniment"),
        mixture_vocals_sdr: sdr(&base[0], "vocals"),
        mixture_accompaniment_sdr: sdr(&base[0], "accompaniment"),
        oracle_vocals_sdr: sdr(&base[1], "vocals"),
        oracle_accompaniment_sdr: sdr(&base[1], "accompaniment"),
        held_out_tracks: tracks.len(),
        epochs: trained.training.epochs,
        final_loss: trained.training.final_loss,
        final_val_loss: trained.training.final_val_loss,
        realtime_factor: nanmedian(&rtf),
        seconds: t0.elapsed().as_secs_f64(),
        run_dir: run,
        separated,
    };
    write_report(&out.join("report.json"), &report)?;
    Ok(report)
}

/// The classification quickstart's report (`--json`); `report.json` holds the whole training
/// report.
#[derive(Clone, Debug, Serialize)]
pub struct ClassificationQuickstart {
    /// The test split's accuracy.
    pub test_accuracy: Option<f64>,
    /// The class names.
    pub classes: Vec<String>,
    /// Wall-clock seconds of the whole quickstart.
    pub seconds: f64,
    /// Epochs trained.
    pub epochs: usize,
    /// The last epoch's validation accuracy.
    pub final_val_accuracy: Option<f64>,
    /// The run folder.
    pub run_dir: PathBuf,
    /// The report file.
    pub report: PathBuf,
}

/// Sound classification on 7 synthesised classes × 40 clips in `out`: train the MFCC LSTM,
/// score its test split.
pub fn classification_quickstart(
    out: &Path,
    device: &Device,
    progress: &dyn Progress,
) -> Result<ClassificationQuickstart> {
    let t0 = Instant::now();
    let data = out.join("data");
    prepare_folder(out, &["data", "run"])?;
    progress.note(&format!(
        "synthesising 7 classes × 40 clips in {}",
        data.display()
    ));
    write_classification_demo(&data, 40, 2026).map_err(|e| TaskError::file(&data, e))?;
    let opts = ClassificationTraining {
        data,
        features: ClipFeatures {
            kinds: vec![ClipFeature::mfcc(13)],
            ..Default::default()
        },
        lowest_rate: false,
        length: LengthPolicy {
            maxlen: None,
            padding: Side::Pre,
            truncating: Side::Pre,
        },
        normalisation: Normalisation::Global,
        augment: Augment::default(),
        waves: WaveAugment::default(),
        fill_classes: true,
        validation_split: 0.15,
        test_split: 0.15,
        grouping: None,
        test_groups: Vec::new(),
        fit: FitOptions {
            epochs: 40,
            learning_rate: 5e-3,
            clip_norm: Some(1.0),
            patience: Some(8),
            ..FitOptions::default()
        },
        model: "built-in mfcc-lstm (quickstart)".into(),
        out: out.join("run"),
    };
    let spec = ModelSpec::from_toml_str(CLASSIFICATION_MODEL)?;
    let mut trained: ClassificationTrained = train_classifier(&opts, &spec, device, progress)?;
    trained.training.seconds = t0.elapsed().as_secs_f64();
    let report = out.join("report.json");
    write_report(&report, &trained)?;
    Ok(ClassificationQuickstart {
        test_accuracy: trained.test_accuracy,
        classes: trained.classes,
        seconds: trained.training.seconds,
        epochs: trained.training.epochs,
        final_val_accuracy: trained.training.final_val_accuracy,
        run_dir: trained.training.run_dir,
        report,
    })
}

fn write_report(path: &Path, report: &impl Serialize) -> Result<()> {
    let text = serde_json::to_string(report).expect("plain values serialise");
    soundcheck_io::write_atomic(path, text.as_bytes()).map_err(|e| TaskError::io(path, "write", e))
}
