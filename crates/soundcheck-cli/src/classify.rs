//! Audio classification from the command line: `train classification`, `classify` and
//! `evaluate-classifier`.

use std::path::{Path, PathBuf};

use clap::Args;
use serde::Serialize;
use soundcheck_data::{Grouping, Side};
use soundcheck_nn::Device;
use soundcheck_shape::load_model;
use soundcheck_tasks::classification::{
    Augment, ClipFeature, ClipFeatures, KerasPreprocess, Labelled, Normalisation, Recipe,
    WaveAugment, Windows,
};
use soundcheck_tasks::{
    train_classifier, ClassificationTrained, ClassificationTraining, Classifier, ClipSelection,
    LengthPolicy, RunDir, Scores, TaskError,
};

use crate::fit_args::FitArgs;
use crate::progress::Bars;
use crate::report::report;

#[derive(Args, Clone)]
#[command(
    after_help = "Examples:\n  soundcheck train classification --data sounds/ --out runs/sounds                # the built-in model and recipe\n  soundcheck train classification --data clips.csv --group-by speaker --test-groups theo --out runs/theo\n  soundcheck train classification --data sounds/ --model models/mfcc-lstm.toml --epochs 30 --out runs/sounds  --fill-classes\n  soundcheck train classification --data sounds/ --model models/mfcc-lstm.toml --features mfcc,chroma,contrast --n-mfcc 20 --out runs/stacked --fill-classes\n\n--fill-classes sets the last Dense layer's units to the number of classes found (the shipped specs declare 10).\n\nWithout --model: the built-in classifier (models/mfcc-bn-conv1d.toml) with the recipe it was measured with on new speakers: clips at the lowest rate among them (--sr lowest) with --n-fft 512 --hop-length 128, per-clip normalisation, 4 copies of each training clip at speeds 0.9-1.1 with white noise at 10-30 dB SNR (--augment-copies 0 turns them off), --time-shift, 2 frequency and 2 time masks, 80 epochs on a cosine schedule; any of those flags given overrides its part."
)]
pub struct ClassificationArgs {
    /// A folder per class (DATA/<label>/*.wav|flac|ogg|mp3) or a CSV manifest (path,label[,split])
    #[arg(long)]
    pub data: PathBuf,
    /// Model spec: models/mfcc-lstm.toml, mfcc-conv1d.toml, mfcc-cnn-lstm.toml, or your own
    /// [default: the built-in classifier and its recipe, see below]
    #[arg(long)]
    pub model: Option<PathBuf>,
    #[command(flatten)]
    pub clip: FeatureArgs,
    #[command(flatten)]
    pub length: LengthArgs,
    /// Set the last Dense layer's units to the number of classes in DATA (the shipped specs
    /// declare 10); without it, a spec whose output does not fit the classes is diagnosed
    #[arg(long)]
    pub fill_classes: bool,
    /// global: standardise each feature with the training split's statistics; per-clip: with
    /// each clip's own (CMVN, removes a speaker's or microphone's constant colouring)
    /// [default: global; without --model: per-clip]
    #[arg(long)]
    pub normalisation: Option<String>,
    /// Fraction of each class held out for validation (with groups: of the clips, in whole groups)
    #[arg(long, default_value_t = 0.15)]
    pub validation_split: f64,
    /// Fraction of each class held out for the final test (with groups: of the clips, in whole
    /// groups)
    #[arg(long, default_value_t = 0.15)]
    pub test_split: f64,
    #[command(flatten)]
    pub groups: GroupArgs,
    /// Groups held out for the test (with --group-by or --group-pattern), e.g. theo,george
    #[arg(long, value_delimiter = ',')]
    pub test_groups: Vec<String>,
    /// Place each training clip at a random offset in the padded length every epoch (a longer
    /// clip: a random excerpt) [default: off; without --model: on; `--time-shift false` turns
    /// it off]
    #[arg(long, num_args = 0..=1, default_missing_value = "true")]
    pub time_shift: Option<bool>,
    /// SpecAugment frequency masks per training clip and epoch (runs of features set to the mean)
    /// [default: 0; without --model: 2]
    #[arg(long)]
    pub freq_masks: Option<usize>,
    /// Widest frequency mask, in features (SpecAugment's F)
    #[arg(long, default_value_t = 4)]
    pub freq_mask_width: usize,
    /// SpecAugment time masks per training clip and epoch (runs of frames set to the mean)
    /// [default: 0; without --model: 2]
    #[arg(long)]
    pub time_masks: Option<usize>,
    /// Widest time mask, in frames (SpecAugment's T)
    #[arg(long, default_value_t = 4)]
    pub time_mask_width: usize,
    /// Copies of each training clip at a speed drawn from LOW..HIGH (resampled: 1.1 is 10 %
    /// faster and higher, as another speaker), e.g. 0.9,1.1, or off [default: off; without
    /// --model: 0.9,1.1]
    #[arg(long, value_name = "LOW,HIGH|off")]
    pub speed: Option<String>,
    /// Copies of each training clip at a gain drawn from ±DB [default: 0, off]
    #[arg(long)]
    pub gain_db: Option<f64>,
    /// Copies of each training clip with noise at an SNR drawn from LOW..HIGH dB, e.g. 10,30:
    /// white noise, or excerpts of --noise-dir's recordings; or off [default: off; without
    /// --model: 10,30]
    #[arg(long, value_name = "LOW,HIGH|off", allow_hyphen_values = true)]
    pub noise_snr: Option<String>,
    /// A folder of noise recordings (wav, flac, ogg, mp3; not its subfolders) for --noise-snr
    #[arg(long)]
    pub noise_dir: Option<PathBuf>,
    /// Copies drawn per training clip with --speed, --gain-db and --noise-snr, their features
    /// computed once; every epoch shows each clip as itself or one of its copies; 0 turns
    /// the copies off [default: 4 when one of them is given]
    #[arg(long)]
    pub augment_copies: Option<usize>,
    #[command(flatten)]
    pub fit: FitArgs,
}

/// How clips are grouped so that a group (a speaker, a session, an album) is never in two of
/// train, validation and test.
#[derive(Args, Clone)]
pub struct GroupArgs {
    /// Keep each group of this manifest column (named in its header: path,label,speaker) wholly
    /// in one of train, validation and test
    #[arg(long, conflicts_with = "group_pattern")]
    pub group_by: Option<String>,
    /// Group clips by a regular expression over their file names: its first capture group, e.g.
    /// '_(\w+)_' finds the speaker in 0_george_12.wav
    #[arg(long)]
    pub group_pattern: Option<String>,
}

impl GroupArgs {
    fn grouping(&self) -> Option<Grouping> {
        match (&self.group_by, &self.group_pattern) {
            (Some(c), _) => Some(Grouping::Column(c.clone())),
            (None, Some(p)) => Some(Grouping::Pattern(p.clone())),
            (None, None) => None,
        }
    }
}

/// How a clip becomes feature frames (librosa's functions and defaults).
#[derive(Args, Clone)]
pub struct FeatureArgs {
    /// Features stacked per frame, in order: mfcc, mel (log-mel), chroma, contrast, rms, zcr,
    /// centroid, bandwidth, rolloff, flatness, chroma_cqt, tonnetz (librosa's function names
    /// work too)
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "mfcc",
        conflicts_with = "log_mel"
    )]
    pub features: Vec<String>,
    /// MFCCs per frame (librosa's n_mfcc) [default: 13]
    #[arg(long)]
    pub n_mfcc: Option<usize>,
    /// Mel bands of `mel` in --features
    #[arg(long, default_value_t = 128)]
    pub n_mels: usize,
    /// Log-mel bands instead of MFCCs (the same as --features mel --n-mels N)
    #[arg(long)]
    pub log_mel: Option<usize>,
    /// Rate the clips are loaded at: Hz (librosa's sr; every clip is resampled to it), or, to
    /// train, "lowest", the lowest rate among the clips (each resampled down, never up, so no
    /// clip's features hold bands it has no sound in) [default: 22050]
    #[arg(long)]
    pub sr: Option<String>,
    /// FFT size of the features' STFT (librosa's n_fft) [default: 2048]
    #[arg(long)]
    pub n_fft: Option<usize>,
    /// Hop between feature frames in samples (librosa's hop_length) [default: 512]
    #[arg(long)]
    pub hop_length: Option<usize>,
    /// Append first and second deltas of the stack (width 9; a clip of fewer frames gets
    /// librosa's mode='nearest' deltas, and the run says how many); `--deltas false` turns
    /// them off
    #[arg(long, num_args = 0..=1, default_missing_value = "true")]
    pub deltas: Option<bool>,
}

impl FeatureArgs {
    /// `--sr` as a rate, or `None` for the lowest rate of the data's clips (`lowest`, or the
    /// recipe's `None`).
    fn sample_rate(&self, recipe: Option<u32>) -> Result<Option<u32>, TaskError> {
        match self.sr.as_deref() {
            None => Ok(recipe),
            Some("lowest") => Ok(None),
            Some(v) => v.parse().map(Some).map_err(|_| TaskError::Option {
                name: "sr",
                actual: v.to_string(),
                expected: "a rate in Hz such as 16000, or lowest".into(),
            }),
        }
    }

    /// The features asked for, each flag not given taken from `recipe`; the clips' rate is
    /// `rate` (`None`: the lowest among them, chosen when they are read).
    fn clip_features(&self, recipe: &Recipe, rate: Option<u32>) -> Result<ClipFeatures, TaskError> {
        let n_mfcc = self.n_mfcc.unwrap_or(recipe.n_mfcc);
        Ok(ClipFeatures {
            kinds: match self.log_mel {
                Some(n_mels) => vec![ClipFeature::log_mel(n_mels)],
                None => self
                    .features
                    .iter()
                    .map(|f| ClipFeature::parse(f, n_mfcc, self.n_mels))
                    .collect::<Result<_, _>>()?,
            },
            deltas: self.deltas.unwrap_or(recipe.deltas),
            sample_rate: rate.unwrap_or(ClipFeatures::default().sample_rate),
            n_fft: self.n_fft.unwrap_or(recipe.n_fft),
            hop_length: self.hop_length.unwrap_or(recipe.hop_length),
        })
    }

    /// Whether any feature flag was given (`--features` counts when not its default).
    fn any(&self) -> bool {
        self.features != ["mfcc"]
            || self.n_mfcc.is_some()
            || self.log_mel.is_some()
            || self.sr.is_some()
            || self.n_fft.is_some()
            || self.hop_length.is_some()
            || self.deltas.is_some()
    }
}

/// How clips of different lengths become one number of frames (Keras's pad_sequences).
#[derive(Args, Clone)]
pub struct LengthArgs {
    /// Frames per clip after padding/truncation [default: to train, the 95th percentile of
    /// the training clips; to classify with a Keras model, its input's length]
    #[arg(long)]
    pub maxlen: Option<usize>,
    /// pre or post (Keras pad_sequences; default pre)
    #[arg(long, default_value = "pre")]
    pub padding: String,
    /// pre or post (Keras pad_sequences; default pre)
    #[arg(long, default_value = "pre")]
    pub truncating: String,
}

impl LengthArgs {
    fn policy(&self) -> Result<LengthPolicy, TaskError> {
        let side = |name: &'static str, v: &str| Side::parse(name, v).map_err(TaskError::from);
        Ok(LengthPolicy {
            maxlen: self.maxlen,
            padding: side("padding", &self.padding)?,
            truncating: side("truncating", &self.truncating)?,
        })
    }
}

impl ClassificationArgs {
    /// The defaults of the flags not given: the built-in model's recipe without --model, the
    /// plain ones for a model of the user's.
    fn recipe(&self) -> Recipe {
        match self.model {
            None => Recipe::built_in(),
            Some(_) => Recipe::plain(),
        }
    }

    /// The waveform copies: the recipe's, with each flag given replacing its part; copies
    /// only where something is drawn, unless `--augment-copies` says how many.
    fn waves(&self, recipe: &WaveAugment) -> Result<WaveAugment, TaskError> {
        let range = |name: &'static str, given: &Option<String>, recipe: Option<(f64, f64)>| {
            let Some(v) = given else {
                return Ok(recipe);
            };
            if v == "off" {
                return Ok(None);
            }
            let bad = || TaskError::Option {
                name,
                actual: v.clone(),
                expected: "two numbers LOW,HIGH, or off".into(),
            };
            match v.split(',').map(str::trim).collect::<Vec<_>>()[..] {
                [lo, hi] => Ok(Some((
                    lo.parse().map_err(|_| bad())?,
                    hi.parse().map_err(|_| bad())?,
                ))),
                _ => Err(bad()),
            }
        };
        let mut w = WaveAugment {
            copies: 0,
            speed: range("speed", &self.speed, recipe.speed)?,
            gain_db: self.gain_db.unwrap_or(recipe.gain_db),
            noise_snr: range("noise_snr", &self.noise_snr, recipe.noise_snr)?,
            noise_dir: self.noise_dir.clone().or_else(|| recipe.noise_dir.clone()),
        };
        w.copies = self.augment_copies.unwrap_or(match w.draws_anything() {
            true if recipe.copies > 0 => recipe.copies,
            true => WaveAugment::DEFAULT_COPIES,
            false => 0,
        });
        Ok(w)
    }

    fn training(&self) -> Result<ClassificationTraining, TaskError> {
        let recipe = self.recipe();
        let rate = self.clip.sample_rate(recipe.sample_rate)?;
        Ok(ClassificationTraining {
            data: self.data.clone(),
            lowest_rate: rate.is_none(),
            features: self.clip.clip_features(&recipe, rate)?,
            length: self.length.policy()?,
            normalisation: match &self.normalisation {
                Some(n) => Normalisation::parse(n)?,
                None => recipe.normalisation,
            },
            augment: Augment {
                time_shift: self.time_shift.unwrap_or(recipe.augment.time_shift),
                freq_masks: self.freq_masks.unwrap_or(recipe.augment.freq_masks),
                freq_mask_width: self.freq_mask_width,
                time_masks: self.time_masks.unwrap_or(recipe.augment.time_masks),
                time_mask_width: self.time_mask_width,
            },
            waves: self.waves(&recipe.waves)?,
            // The built-in spec declares 10 classes, like the shipped ones: it is always fitted.
            fill_classes: self.fill_classes || self.model.is_none(),
            validation_split: self.validation_split,
            test_split: self.test_split,
            grouping: self.groups.grouping(),
            test_groups: self.test_groups.clone(),
            fit: self.fit.options(recipe.fit),
            model: match &self.model {
                Some(path) => path.display().to_string(),
                None => format!("built-in {}", Recipe::BUILT_IN_NAME),
            },
            out: self.fit.out()?.to_path_buf(),
        })
    }
}

fn train(a: &ClassificationArgs, device: &Device) -> Result<ClassificationTrained, TaskError> {
    let opts = a.training()?;
    let spec = match &a.model {
        Some(path) => load_model(path)?,
        None => Recipe::built_in_model(opts.features.features())?,
    };
    train_classifier(&opts, &spec, device, &Bars::default())
}

pub fn run_train(a: &ClassificationArgs, device: &Device) -> u8 {
    report(train(a, device), a.fit.json, ClassificationTrained::line)
}

#[derive(Args)]
#[command(
    after_help = "Examples:\n  soundcheck classify --run runs/sounds clip1.wav clip2.flac --top-k 3\n  soundcheck classify --run runs/sounds --files-from clips.txt --shard 3/8 --json > labels-3.json\n  soundcheck classify --model keras.keras --classes runs/sounds/classes.json clip1.wav\n  soundcheck classify --model keras.keras --labels dog,cat,siren --n-mfcc 20 --maxlen 44 clip1.wav\n  soundcheck classify --run runs/digits recording.flac --window 1 --window-hop 0.5   # a label per window\n\nA Keras model file (--model) holds the network, not how a clip becomes its input: give --classes (a soundcheck run's record of its features, frames per clip, standardisation and classes), or --labels with the feature flags the model was trained with (otherwise 13 MFCCs at 22050 Hz, n_fft 2048, hop 512, no deltas; --maxlen defaults to the model's input length), each clip then standardised by its own mean and deviation per feature (CMVN), padded and cut at the start (Keras's pad_sequences)."
)]
pub struct ClassifyArgs {
    /// Run directory of `soundcheck train classification`
    #[arg(long, required_unless_present = "model", conflicts_with = "model")]
    pub run: Option<PathBuf>,
    /// A classifier trained in Keras: .keras, or a full-model .h5 (with --classes, or --labels
    /// and the feature flags)
    #[arg(long)]
    pub model: Option<PathBuf>,
    /// With --model: the classes.json of a soundcheck run, holding the features, frames per
    /// clip, standardisation and class names the model was trained with
    #[arg(long, requires = "model", conflicts_with = "labels")]
    pub classes: Option<PathBuf>,
    /// With --model: the class names, in the order of the model's outputs (e.g. dog,cat,siren)
    #[arg(long, value_delimiter = ',', requires = "model")]
    pub labels: Vec<String>,
    #[command(flatten)]
    pub clip: FeatureArgs,
    #[command(flatten)]
    pub length: LengthArgs,
    /// Audio files
    #[arg(required_unless_present = "files_from")]
    pub files: Vec<PathBuf>,
    #[command(flatten)]
    pub batch: crate::batch_args::BatchArgs,
    /// Classes listed per file, most probable first
    #[arg(long, default_value_t = 3)]
    pub top_k: usize,
    /// Label each file window by window, this many seconds each (e.g. the length of the clips
    /// the model was trained on): each window is loaded and labelled as that excerpt saved as
    /// its own file would be, and memory holds 64 windows, never the whole recording
    #[arg(long)]
    pub window: Option<f64>,
    /// Seconds between window starts [default: --window, windows side by side]
    #[arg(long, requires = "window")]
    pub window_hop: Option<f64>,
    #[arg(long)]
    pub json: bool,
}

impl ClassifyArgs {
    /// Whether a feature or length flag was given: only `--labels` takes them.
    fn preprocessing_given(&self) -> bool {
        self.clip.any()
            || self.length.maxlen.is_some()
            || self.length.padding != "pre"
            || self.length.truncating != "pre"
    }

    /// The preprocessing of the Keras model: `--classes`, or `--labels` with the feature flags
    /// (the plain recipe's for those not given); `None` when neither is given.
    fn keras_preprocess(&self) -> Result<Option<KerasPreprocess>, TaskError> {
        if let Some(classes) = &self.classes {
            if self.preprocessing_given() {
                return Err(TaskError::Option {
                    name: "classes",
                    actual: classes.display().to_string(),
                    expected: "no feature or length flags beside it: the record holds the features and frames per clip the model was trained with".into(),
                });
            }
            return Ok(Some(KerasPreprocess::Record(classes.clone())));
        }
        if self.labels.is_empty() {
            return Ok(None);
        }
        let recipe = Recipe::plain();
        let rate = self
            .clip
            .sample_rate(recipe.sample_rate)?
            .ok_or_else(|| TaskError::Option {
                name: "sr",
                actual: "lowest".into(),
                expected: "the rate in Hz the model's features were computed at".into(),
            })?;
        let policy = self.length.policy()?;
        Ok(Some(KerasPreprocess::Given {
            labels: self.labels.clone(),
            features: self.clip.clip_features(&recipe, Some(rate))?,
            maxlen: policy.maxlen,
            padding: policy.padding,
            truncating: policy.truncating,
        }))
    }

    fn classifier(&self, device: &Device) -> Result<Classifier, TaskError> {
        match (&self.run, &self.model) {
            (Some(run), _) => {
                if self.preprocessing_given() {
                    return Err(TaskError::Option {
                        name: "run",
                        actual: run.display().to_string(),
                        expected: "no feature or length flags beside it: the run's classes.json holds the features it was trained with".into(),
                    });
                }
                Classifier::load(run, device)
            }
            (None, Some(model)) => {
                Classifier::from_keras(model, self.keras_preprocess()?.as_ref(), device)
            }
            (None, None) => Err(TaskError::Option {
                name: "run",
                actual: "not given".into(),
                expected: "a run folder (`run`) or a Keras model file (`model`)".into(),
            }),
        }
    }
}

/// What `classify` found.
#[derive(Serialize)]
struct Classified {
    shard: crate::batch_args::ShardRecord,
    files: Vec<Labelled>,
}

fn classify(a: &ClassifyArgs, device: &Device) -> Result<Classified, TaskError> {
    let classifier = a.classifier(device)?;
    let inputs = a.batch.inputs(&a.files)?;
    let files = match a.window {
        Some(length) => classifier.classify_windows(
            &inputs.mine,
            Windows::new(length, a.window_hop)?,
            a.top_k,
            &Bars::default(),
        )?,
        None => classifier.classify(&inputs.mine, a.top_k, &Bars::default())?,
    };
    Ok(Classified {
        shard: inputs.shard.into(),
        files,
    })
}

fn labelled_line(f: &Labelled) -> String {
    let top: Vec<String> = f
        .top
        .iter()
        .map(|c| format!("{} {:.3}", c.class, c.probability))
        .collect();
    let window = f
        .window
        .map(|w| format!(" [{:.2}-{:.2} s]", w.start, w.end))
        .unwrap_or_default();
    format!(
        "{}{window}: {} ({})",
        f.file.display(),
        f.label,
        top.join(", ")
    )
}

pub fn run_classify(a: &ClassifyArgs, device: &Device) -> u8 {
    report(classify(a, device), a.json, |c| {
        c.files
            .iter()
            .map(labelled_line)
            .collect::<Vec<_>>()
            .join("\n")
    })
}

#[derive(Args)]
#[command(
    after_help = "Examples:\n  soundcheck evaluate-classifier --run runs/sounds --data sounds/            # its test split\n  soundcheck evaluate-classifier --run runs/sounds --data heldout/ --split all"
)]
pub struct EvaluateClassifierArgs {
    #[arg(long)]
    pub run: PathBuf,
    /// Class folders or CSV manifest
    #[arg(long)]
    pub data: PathBuf,
    /// test: the run's test split of DATA (same seed and fractions); all: every clip of DATA
    #[arg(long, default_value = "test")]
    pub split: String,
    /// Accuracy per group as well (default: the run's grouping, if it had one)
    #[command(flatten)]
    pub groups: GroupArgs,
    /// Confusion-matrix picture (default RUN/confusion.png)
    #[arg(long)]
    pub png: Option<PathBuf>,
    #[arg(long)]
    pub json: bool,
}

/// What `evaluate-classifier` measured.
#[derive(Serialize)]
struct Evaluated {
    #[serde(flatten)]
    scores: Scores,
    clips: usize,
    png: PathBuf,
    text: String,
}

fn evaluate_classifier(
    a: &EvaluateClassifierArgs,
    device: &Device,
) -> Result<Evaluated, TaskError> {
    let selection = match a.split.as_str() {
        "all" => ClipSelection::All,
        "test" => ClipSelection::Test,
        other => {
            return Err(TaskError::Option {
                name: "split",
                actual: other.to_string(),
                expected: "test or all".into(),
            })
        }
    };
    let png = a
        .png
        .clone()
        .unwrap_or_else(|| a.run.join(RunDir::CONFUSION));
    // The picture belongs in the run folder by default, so the run's other files are what it
    // must not replace (the clips it reads are checked once they are listed).
    let run_files = RunDir::files_of(&a.run, &[RunDir::CONFUSION]);
    let reads: Vec<&Path> = run_files.iter().map(PathBuf::as_path).collect();
    TaskError::check_outputs("png", &reads, &[&png])?;
    let classifier = Classifier::load(&a.run, device)?;
    let (scores, clips) = classifier.evaluate(
        &a.data,
        selection,
        a.groups.grouping().as_ref(),
        &png,
        &Bars::default(),
    )?;
    Ok(Evaluated {
        text: scores.text(),
        scores,
        clips,
        png,
    })
}

pub fn run_evaluate(a: &EvaluateClassifierArgs, device: &Device) -> u8 {
    report(evaluate_classifier(a, device), a.json, |e| e.text.clone())
}
