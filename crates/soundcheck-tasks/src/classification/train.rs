//! A classifier trained on class folders or a CSV manifest in a run folder: the clips split by
//! class, their features fitted into one preprocessing, and the test split scored at the end.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use serde::Serialize;
use serde_json::json;
use soundcheck_data::{ClassSet, Dataset, Grouping, Sequence, Split};

use super::clip_features::{lowest_rate, ClipFeatures};
use soundcheck_nn::{Device, Loss, Network, Trainer};
use soundcheck_shape::{Diagnosis, Kind, Model, ModelSpec};

use crate::error::Result;
use crate::fit::{check_data, fit, FitOptions, TrainSummary};
use crate::progress::Progress;
use crate::run_dir::RunDir;

use super::augment::{Augment, AugmentedClips};
use super::classify::Classifier;
use super::preprocess::{extract, LengthPolicy, Normalisation, Preprocess};
use super::record::{ClassesRecord, SplitRecord};
use super::scores::Scores;
use super::waveform::WaveAugment;

/// What a classifier is trained on and how.
#[derive(Clone, Debug)]
pub struct ClassificationTraining {
    /// A folder per class (`DATA/<label>/*.wav`) or a CSV manifest (`path,label[,split]`).
    pub data: PathBuf,
    /// The features computed per clip.
    pub features: ClipFeatures,
    /// Load the clips at the lowest rate among them ([`lowest_rate`]) instead of
    /// `features.sample_rate`.
    pub lowest_rate: bool,
    /// How clips are padded or cut to one length.
    pub length: LengthPolicy,
    /// Global or per-clip (CMVN) standardisation.
    pub normalisation: Normalisation,
    /// What the training clips draw anew every epoch.
    pub augment: Augment,
    /// The waveform copies drawn of each training clip before training.
    pub waves: WaveAugment,
    /// Set the last Dense layer's units to the number of classes.
    pub fill_classes: bool,
    /// Fractions of each class held out for validation and for the final test.
    pub validation_split: f64,
    /// Fraction of each class held out for the final test.
    pub test_split: f64,
    /// Keep each group (a speaker, a session) wholly in one part of the split; the fractions
    /// are then of the clips, in whole groups.
    pub grouping: Option<Grouping>,
    /// Groups held out for the test (with `grouping`), instead of `test_split`'s draw.
    pub test_groups: Vec<String>,
    /// The training options.
    pub fit: FitOptions,
    /// Where the model spec came from (its path, or `built-in NAME`), recorded in train.json so
    /// a run says which model it trained.
    pub model: String,
    /// The run folder.
    pub out: PathBuf,
}

/// A trained classifier's report.
#[derive(Clone, Debug, Serialize)]
pub struct ClassificationTrained {
    /// The training run's summary.
    #[serde(flatten)]
    pub training: TrainSummary,
    /// The class names, in label order.
    pub classes: Vec<String>,
    /// Frames every clip is padded or truncated to.
    pub maxlen: usize,
    /// The test split's accuracy, when there is one.
    pub test_accuracy: Option<f64>,
    /// The test split's scores, when there is one.
    pub test: Option<Scores>,
}

impl ClassificationTrained {
    /// The one-line account of the run.
    pub fn line(&self) -> String {
        let mut s = self.training.line();
        if let Some(acc) = self.test_accuracy {
            s.push_str(&format!("; test accuracy {:.1} %", 100.0 * acc));
        }
        s
    }
}

/// The model's output must have one unit per class: integer labels alone cannot show a model
/// with 10 outputs trained on 7 classes, so the class count is checked here.
fn check_classes(spec: &ModelSpec, classes: usize) -> Result<()> {
    let report = Model::from_spec(spec)?.check();
    if let Some(d) = report.error {
        return Err(d.into());
    }
    let Some(last) = report.layers.last() else {
        return Ok(());
    };
    match last.output_shape.last() {
        Some(units) if units != classes => Err(Diagnosis::new(
            Kind::LabelMismatch,
            format!("{classes} classes in the data but the model's output has {units} units"),
        )
        .received(format!("{classes} classes"))
        .expected(format!("an output of {units} class probabilities ({})", last.output_shape))
        .cause("a softmax over more or fewer units than classes either never predicts some units or cannot express some classes")
        .fix(format!("set the last Dense layer's units to {classes}, or pass `fill_classes`"))
        .into()),
        _ => Ok(()),
    }
}

/// Trains a classifier in `opts.out` and scores it on its test split.
pub fn train_classifier(
    opts: &ClassificationTraining,
    spec: &ModelSpec,
    device: &Device,
    progress: &dyn Progress,
) -> Result<ClassificationTrained> {
    let t0 = Instant::now();
    opts.fit.check()?;
    opts.waves.check()?;
    RunDir::check_new(&opts.out, progress)?;
    let set = ClassSet::open(&opts.data)?;
    let paths: Vec<&Path> = set.clips.iter().map(|c| c.path.as_path()).collect();
    let mut features = opts.features.clone();
    if opts.lowest_rate {
        features.sample_rate = lowest_rate(&paths)?;
    }
    features.validate()?;
    if opts.lowest_rate {
        progress.note(&format!(
            "clips loaded at {} Hz, the lowest rate among them",
            features.sample_rate
        ));
    }
    let noises = opts.waves.noises(features.sample_rate)?;
    let mut spec = spec.clone();
    if opts.fill_classes {
        fill_classes(&mut spec, set.classes.len());
    }
    check_classes(&spec, set.classes.len())?;
    if !opts.test_groups.is_empty() && opts.grouping.is_none() {
        return Err(crate::TaskError::Option {
            name: "test_groups",
            actual: opts.test_groups.join(","),
            expected: "groups of `group_by` or `group_pattern`, given with one of them".into(),
        });
    }
    let split = SplitRecord {
        data: opts.data.clone(),
        validation: opts.validation_split,
        test: opts.test_split,
        seed: opts.fit.seed,
        group_by: match &opts.grouping {
            Some(Grouping::Column(c)) => Some(c.clone()),
            _ => None,
        },
        group_pattern: match &opts.grouping {
            Some(Grouping::Pattern(p)) => Some(p.clone()),
            _ => None,
        },
        test_groups: opts.test_groups.clone(),
    };
    let groups = opts.grouping.as_ref().map(|g| g.groups(&set)).transpose()?;
    let splits = split.splits(&set, groups.as_deref())?;
    let mut seqs: Vec<Option<Sequence>> = extract(&features, &paths, progress)?
        .into_iter()
        .map(Some)
        .collect();
    let mut take = |split: Split| -> (Vec<Sequence>, Vec<usize>) {
        (0..set.clips.len())
            .filter(|&i| splits[i] == split)
            .map(|i| (seqs[i].take().expect("each clip once"), set.clips[i].label))
            .unzip()
    };
    let train_paths: Vec<&Path> = (0..set.clips.len())
        .filter(|&i| splits[i] == Split::Train)
        .map(|i| paths[i])
        .collect();
    let (train_x, train_y) = take(Split::Train);
    let (val_x, val_y) = take(Split::Validation);
    let test: Vec<usize> = (0..set.clips.len())
        .filter(|&i| splits[i] == Split::Test)
        .collect();
    let pre = Preprocess::fit(
        set.classes.clone(),
        features.clone(),
        &opts.length,
        opts.normalisation,
        &train_x,
    )?;
    let truncated = train_x.iter().filter(|s| s.frames > pre.maxlen).count();
    let part_groups = |part: Split| -> String {
        let Some(g) = &groups else {
            return String::new();
        };
        let mut names: Vec<&str> = (0..set.clips.len())
            .filter(|&i| splits[i] == part)
            .map(|i| g[i].as_str())
            .collect();
        names.sort_unstable();
        names.dedup();
        if names.is_empty() {
            return String::new();
        }
        format!(
            " ({} group(s){})",
            names.len(),
            if names.len() <= 8 {
                format!(": {}", names.join(", "))
            } else {
                String::new()
            }
        )
    };
    progress.note(&format!(
        "{} clips of {} classes: {} train{}, {} validation{}, {} test{}; {} features per frame at {} Hz ({} standardisation); clips padded/truncated to {} frames{} ({truncated} of the training clips truncated)",
        set.clips.len(), set.classes.len(), train_x.len(), part_groups(Split::Train), val_x.len(),
        part_groups(Split::Validation), test.len(), part_groups(Split::Test),
        pre.features.features(), pre.features.sample_rate, pre.normalisation.name(), pre.maxlen,
        if opts.length.maxlen.is_none() { " (95th percentile of training lengths)" } else { "" }
    ));
    let short = features.short_for_deltas(&train_x) + features.short_for_deltas(&val_x);
    if short > 0 {
        progress.note(&format!(
            "{short} training/validation clip(s) shorter than the 9-frame delta window: their deltas use librosa's mode='nearest' (edge frames repeated) instead of 'interp'"
        ));
    }
    let loss = Loss::parse(
        spec.loss
            .as_deref()
            .unwrap_or("sparse_categorical_crossentropy"),
    )?;
    let n_train = train_x.len();
    let train_ds: Arc<dyn Dataset> = if opts.augment.is_active() || opts.waves.is_active() {
        let copies = if opts.waves.is_active() {
            opts.waves.budget(&train_x)?;
            opts.waves
                .extract(&features, &train_paths, opts.fit.seed, &noises, progress)?
        } else {
            vec![Vec::new(); train_x.len()]
        };
        let variants = train_x
            .into_iter()
            .zip(copies)
            .map(|(clip, copies)| {
                let mut v = vec![clip];
                v.extend(copies);
                pre.standardise(&mut v);
                v
            })
            .collect();
        Arc::new(AugmentedClips::new(
            variants,
            &train_y,
            pre.maxlen,
            (pre.padding, pre.truncating),
            opts.augment.clone(),
            opts.fit.seed,
        ))
    } else {
        Arc::new(pre.dataset(train_x, &train_y)?)
    };
    let cfg = opts.fit.config(loss, n_train, 0.0)?;
    let mut net = Network::initialized(&spec, opts.fit.seed, device)?;
    let options = json!({"task": "classification", "model": opts.model, "loss": loss.name(), "features": pre.features.describe(),
        "normalisation": pre.normalisation.name(), "augment": opts.augment.describe(), "waveform_augment": opts.waves.describe(), "grouping": opts.grouping.as_ref().map(Grouping::describe),
        "epochs": opts.fit.epochs, "batch_size": opts.fit.batch_size, "optimizer": opts.fit.optimizer, "learning_rate": opts.fit.learning_rate,
        "schedule": opts.fit.schedule, "seed": opts.fit.seed});
    check_data(&net, train_ds.as_ref(), &cfg)?;
    let run = RunDir::create(&opts.out, &spec, &options)?;
    run.write_record(RunDir::CLASSES, &ClassesRecord::new(&pre, split.clone()))?;
    let mut trainer = Trainer::new(&mut net, cfg);
    if !val_x.is_empty() {
        trainer = trainer.with_validation(Arc::new(pre.dataset(val_x, &val_y)?));
    }
    let mut training = fit(
        &mut trainer,
        train_ds,
        &run,
        loss,
        progress,
        &mut |_, _| None,
        opts.fit.max_minutes,
    )?;
    drop(trainer);
    let classifier = Classifier { net, pre, split };
    let test = if test.is_empty() {
        None
    } else {
        let scores = classifier.score(&set, &test, groups.as_deref(), progress)?;
        progress.note(&format!("test split:\n{}", scores.text()));
        classifier.draw_confusion(
            &run.file(RunDir::CONFUSION),
            "confusion (test split)",
            &scores,
        )?;
        Some(scores)
    };
    training.seconds = t0.elapsed().as_secs_f64();
    Ok(ClassificationTrained {
        training,
        test_accuracy: test.as_ref().map(|s| s.accuracy),
        test,
        classes: classifier.pre.classes.clone(),
        maxlen: classifier.pre.maxlen,
    })
}

/// Sets the last layer's `units` (a Dense classifier) to the class count, for the shipped specs
/// (`--fill-classes`). Without it a spec is the user's and is checked as given: an output that
/// does not match the classes or loss gets the shape engine's `label_mismatch` diagnosis.
pub fn fill_classes(spec: &mut ModelSpec, classes: usize) {
    if let Some(last) = spec.layers.last_mut() {
        if last.type_name == "Dense" {
            last.config.insert("units".into(), json!(classes));
        }
    }
}
