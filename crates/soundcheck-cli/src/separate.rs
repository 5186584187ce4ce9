//! Source separation from the command line: `train separation` and `separate`.

use std::path::{Path, PathBuf};

use clap::Args;
use serde::Serialize;
use soundcheck_nn::Device;
use soundcheck_shape::load_model;
use soundcheck_shape::spec::ModelSpec;
use soundcheck_tasks::separation::{BatchOutput, Scaling, SeparatedFile, StemName, VoiceChannel};
use soundcheck_tasks::{
    separate_files, train_separator, RunDir, SeparationConfig, SeparationTrained,
    SeparationTraining, Separator, TaskError,
};

use crate::fit_args::FitArgs;
use crate::progress::Bars;
use crate::report::report;

/// Frames between patch starts when separating: 22, or half the patch when that is longer, and
/// never past the patch. Training uses half the patch (more, overlapping examples). For 25-frame
/// patches, 22 instead of 12 costs 0.3 dB SDR on the quickstart's held-out songs and runs 1.7×
/// faster; for 64-frame patches, 32 instead of 22 costs 0.06 dB GNSDR on MIR-1K and runs 1.5×
/// faster, which keeps the built-in separator above 10× real time (BENCHMARKS.md).
const INFERENCE_PATCH_HOP: usize = 22;

/// `separate`'s patch hop for a model's patch (see [`INFERENCE_PATCH_HOP`]).
fn inference_hop(patch: usize) -> usize {
    INFERENCE_PATCH_HOP.max(patch / 2).min(patch)
}

#[derive(Args, Clone)]
#[command(
    after_help = "Examples:\n  soundcheck train separation --data musdb18hq/ --max-minutes 30 --out runs/vocals\n  soundcheck train separation --data musdb18hq/ --model models/vocal-mask.toml --mixes 0 --epochs 20 --out runs/seed\n  soundcheck train separation --data MIR-1K/Wavfile --voice-channel right --sr 16000 --out runs/mir1k\n  soundcheck train separation --data train.csv --out runs/vocals\n\nDATA is DSD100 (Mixtures/, Sources/), MUSDB18-HQ (train/, test/), track folders of vocals.wav and accompaniment.wav (+ mixture.wav; in train/ and test/ or not), stereo files of voice and accompaniment with --voice-channel (MIR-1K, iKala), or a CSV manifest (Spleeter's: mix_path,vocals_path,accompaniment_path[,duration][,split]). Test tracks are held out for validation (without any, the last track). A track without a mixture file gets the sum of its stems, and the run says how many did."
)]
pub struct SeparationArgs {
    /// Dataset: a DSD100, MUSDB18-HQ or two-stem folder, a folder of stereo files (with
    /// --voice-channel), or a CSV manifest
    #[arg(long)]
    pub data: PathBuf,
    /// The channel holding the voice in stereo files of voice and accompaniment: left or right
    /// (MIR-1K's Wavfile/ and iKala: right)
    #[arg(long)]
    pub voice_channel: Option<String>,
    /// Stem to separate (the rest is the accompaniment)
    #[arg(long, default_value = "vocals")]
    pub target: String,
    /// Model spec taking (bins, patch, 1) magnitude patches and returning the target's magnitude
    /// [default: the built-in models/vocal-unet-norm.toml]
    #[arg(long)]
    pub model: Option<PathBuf>,
    /// The rate the model works at: tracks are resampled to it, mono (16000 for MIR-1K's
    /// clips, whose bins above 8 kHz would be empty at 22050); recorded in the run
    #[arg(long, default_value_t = 22050)]
    pub sr: u32,
    #[arg(long, default_value_t = 1024)]
    pub n_fft: usize,
    #[arg(long, default_value_t = 256)]
    pub hop_length: usize,
    /// Frames per patch [default: the model's input frames: 25 for the default model, 64 for
    /// models/vocal-unet-ctx.toml]
    #[arg(long)]
    pub patch: Option<usize>,
    /// Frames between patch starts [default: half the patch]
    #[arg(long)]
    pub patch_hop: Option<usize>,
    /// Cache folder: the tracks' magnitude spectrograms go to its separation/ subfolder,
    /// computed once per track and STFT settings and read a patch at a time while training
    /// [default: $XDG_CACHE_HOME/soundcheck, else ~/.cache/soundcheck, else the run folder]
    #[arg(long)]
    pub cache: Option<PathBuf>,
    /// Train on this many random mixes per epoch (one track's target over another's
    /// accompaniment, random excerpts, gains and channel blends; Open-Unmix's augmentation)
    /// instead of the tracks' own patches; 0 turns it off
    #[arg(long, default_value_t = SeparationTraining::DEFAULT_MIXES)]
    pub mixes: usize,
    #[command(flatten)]
    pub fit: FitArgs,
}

impl SeparationArgs {
    /// `--cache`, else the user's cache folder (none: the task's default, the run folder).
    fn cache(&self) -> Option<PathBuf> {
        self.cache.clone().or_else(|| {
            std::env::var_os("XDG_CACHE_HOME")
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
                .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
                .map(|c| c.join("soundcheck"))
        })
    }

    /// The settings; the patch is the model's unless `--patch` says otherwise.
    fn config(&self, spec: &ModelSpec) -> Result<SeparationConfig, TaskError> {
        let patch = self
            .patch
            .or_else(|| SeparationConfig::frames_of(spec))
            .unwrap_or(SeparationConfig::default().patch);
        let patch_hop = self.patch_hop.unwrap_or((patch / 2).max(1));
        positive(&[
            ("n_fft", self.n_fft),
            ("hop_length", self.hop_length),
            ("patch", patch),
            ("patch_hop", patch_hop),
        ])?;
        // A rate past any audio's would make every track's resampled copy huge.
        if !(1000..=192_000).contains(&self.sr) {
            return Err(TaskError::Option {
                name: "sr",
                actual: self.sr.to_string(),
                expected: "1000 to 192000 Hz (the model's rate: 22050 for songs, 16000 for MIR-1K's clips)".into(),
            });
        }
        Ok(SeparationConfig {
            sample_rate: self.sr,
            n_fft: self.n_fft,
            hop_length: self.hop_length,
            patch,
            patch_hop,
            ..Default::default()
        })
    }

    fn training(&self, spec: &ModelSpec) -> Result<SeparationTraining, TaskError> {
        Ok(SeparationTraining {
            data: self.data.clone(),
            voice_channel: self
                .voice_channel
                .as_deref()
                .map(VoiceChannel::parse)
                .transpose()?,
            target: self.target.clone(),
            config: self.config(spec)?,
            cache: self.cache(),
            mixes: self.mixes,
            fit: self.fit.options(SeparationTraining::fit_defaults()),
            out: self.fit.out()?.to_path_buf(),
        })
    }
}

fn train(a: &SeparationArgs, device: &Device) -> Result<SeparationTrained, TaskError> {
    let spec = match &a.model {
        Some(path) => load_model(path)?,
        None => ModelSpec::from_toml_str(soundcheck_tasks::separation::DEFAULT_MODEL)?,
    };
    let opts = a.training(&spec)?;
    train_separator(&opts, &spec, device, &Bars::default())
}

pub fn run_train(a: &SeparationArgs, device: &Device) -> u8 {
    report(train(a, device), a.fit.json, |t| {
        let mut s = t.training.line();
        if let Some(sdr) = t.val_sdr {
            s.push_str(&format!("; held-out {} SDR {sdr:.2} dB", t.target));
        }
        if t.computed_mixtures > 0 {
            s.push_str(&format!(
                " ({} of {} tracks' mixtures computed as the sum of their stems)",
                t.computed_mixtures, t.tracks
            ));
        }
        s
    })
}

#[derive(Args)]
#[command(
    after_help = "Examples:\n  soundcheck separate song.mp3 -o separated/                         # the built-in pretrained separator\n  soundcheck separate song.wav other.flac --run runs/vocals -o separated/\n  soundcheck separate song.mp3 --model seed.keras -o separated/      # a Keras model trained with the seed's recipe\n\nWrites OUT/<song>/vocals.wav and OUT/<song>/accompaniment.wav (accompaniment = mixture − vocals, so the two sum to the input) at the input's rate and channels."
)]
pub struct SeparateArgs {
    /// Mixtures (any rate and channel count soundcheck decodes)
    #[arg(required_unless_present = "files_from")]
    pub mixtures: Vec<PathBuf>,
    #[command(flatten)]
    pub batch: crate::batch_args::BatchArgs,
    #[command(flatten)]
    pub skip: crate::batch_args::SkipArgs,
    /// Run directory of `soundcheck train separation` [default: the pretrained separator built
    /// into soundcheck (models/pretrained/vocals): models/vocal-unet-ctx.toml, 9 epochs on 96
    /// of the project's rendered songs; vocals SDR 5.60 dB (median) on the synthetic
    /// benchmark's test songs, GNSDR 4.99 dB on MIR-1K's 825 test clips]
    #[arg(long, conflicts_with = "model")]
    pub run: Option<PathBuf>,
    /// A Keras model file with its weights (.keras, .h5) mapping (n_fft/2 + 1, patch, 1)
    /// magnitude patches to the target's, trained as the seed's recipe trains it; its settings
    /// come from the flags below (defaults: the seed's)
    #[arg(long)]
    pub model: Option<PathBuf>,
    /// With --model: the stem it separates (the rest is the accompaniment)
    #[arg(long, default_value = "vocals", requires = "model")]
    pub target: String,
    /// With --model: the rate it was trained at (mixtures are resampled to it, mono)
    #[arg(long, default_value_t = 22050, requires = "model")]
    pub sr: u32,
    /// With --model: the FFT size of its magnitude patches
    #[arg(long, default_value_t = 1024, requires = "model")]
    pub n_fft: usize,
    /// With --model: the hop of its STFT
    #[arg(long, default_value_t = 256, requires = "model")]
    pub hop_length: usize,
    /// With --model: frames per patch
    #[arg(long, default_value_t = 25, requires = "model")]
    pub patch: usize,
    /// With --model: what its input patches were divided by: track-max (the track's peak
    /// magnitude, the seed's recipe) or patch-peak (each patch's peak, soundcheck's)
    #[arg(long, default_value = "track-max", requires = "model")]
    pub scaling: String,
    /// Output folder
    #[arg(short, long)]
    pub out: PathBuf,
    /// Also draw the mixture spectrogram and the mask (OUT/<song>/mask.png)
    #[arg(long)]
    pub png: bool,
    /// Frames between patch starts: larger is faster, each frame is seen by fewer patches
    /// (on the quickstart's songs, 22 instead of 12 costs 0.3 dB SDR) [default: 22, or half
    /// the patch when longer (32 for the built-in separator), at most the patch; with --model:
    /// the patch, side by side as the seed's inference]
    #[arg(long)]
    pub patch_hop: Option<usize>,
    /// Multichannel Wiener filtering: EM iterations refining the mask with the channels'
    /// spatial covariances (norbert's, as Open-Unmix uses it); 0 applies the mask alone
    #[arg(long, default_value_t = 0)]
    pub wiener: usize,
    #[arg(long)]
    pub json: bool,
}

/// What `separate` wrote.
#[derive(Serialize)]
struct SeparatedAll {
    target: String,
    shard: crate::batch_args::ShardRecord,
    files: Vec<SeparatedFile>,
}

/// The separator of `--run`, of `--model` with the settings of the flags, or the built-in one.
fn separator(a: &SeparateArgs, device: &Device) -> Result<(Separator, Vec<PathBuf>), TaskError> {
    if let Some(model) = &a.model {
        let config = SeparationConfig {
            sample_rate: a.sr,
            n_fft: a.n_fft,
            hop_length: a.hop_length,
            patch: a.patch,
            patch_hop: a.patch,
            wiener: 0,
            scaling: Scaling::parse(&a.scaling)?,
        };
        positive(&[
            ("sr", a.sr as usize),
            ("n_fft", a.n_fft),
            ("hop_length", a.hop_length),
            ("patch", a.patch),
        ])?;
        if a.hop_length > a.n_fft {
            return Err(TaskError::Option {
                name: "hop_length",
                actual: a.hop_length.to_string(),
                expected: format!(
                    "at most n_fft ({}): a longer hop leaves samples no frame covers",
                    a.n_fft
                ),
            });
        }
        let target = StemName::parse(&a.target).map_err(|_| TaskError::Option {
            name: "target",
            actual: format!("{:?}", a.target),
            expected: StemName::EXPECTED.into(),
        })?;
        let separator = Separator::from_keras(model, config, target, device)?;
        return Ok((separator, vec![model.clone()]));
    }
    // The built-in separator has no files a written stem could replace.
    let (mut separator, keep) = match a.run.as_deref() {
        Some(run) => (Separator::load(run, device)?, RunDir::files_of(run, &[])),
        None => (Separator::builtin(device)?, Vec::new()),
    };
    separator.set_patch_hop(inference_hop(separator.config.patch))?;
    Ok((separator, keep))
}

/// Refuses a size of 0, naming it.
fn positive(sizes: &[(&'static str, usize)]) -> Result<(), TaskError> {
    match sizes.iter().find(|(_, v)| *v == 0) {
        Some(&(name, _)) => Err(TaskError::Option {
            name,
            actual: "0".into(),
            expected: "a positive number".into(),
        }),
        None => Ok(()),
    }
}

fn separate(a: &SeparateArgs, device: &Device) -> Result<SeparatedAll, TaskError> {
    // The inputs first: a missing file or a bad list is named before a model is read.
    let inputs = a.batch.inputs(&a.mixtures)?;
    let (mut separator, run_files) = separator(a, device)?;
    if let Some(hop) = a.patch_hop {
        separator.set_patch_hop(hop)?;
    }
    separator.set_wiener(a.wiener)?;
    let files = separate_files(
        &separator,
        &inputs.mine,
        &run_files,
        &a.out,
        a.png,
        BatchOutput {
            mirror: inputs.listed,
            skip_existing: a.skip.skip_existing,
        },
        &Bars::default(),
    )?;
    Ok(SeparatedAll {
        target: separator.target.to_string(),
        shard: inputs.shard.into(),
        files,
    })
}

fn file_line(f: &SeparatedFile) -> String {
    let name = |p: &Path| p.display().to_string();
    if f.skipped {
        return format!(
            "{} → {}: skipped (its stems exist)",
            name(&f.input),
            name(&f.output)
        );
    }
    format!(
        "{} → {} ({:.1} s of audio in {:.1} s: {:.1}× real time)",
        name(&f.input),
        name(&f.output),
        f.audio_seconds,
        f.seconds,
        f.realtime_factor
    )
}

pub fn run_separate(a: &SeparateArgs, device: &Device) -> u8 {
    report(separate(a, device), a.json, |s| {
        s.files.iter().map(file_line).collect::<Vec<_>>().join("\n")
    })
}
