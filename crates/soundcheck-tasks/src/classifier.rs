//! A classifier as a whole: trained on class folders or a CSV manifest in a run folder (with
//! its test split scored at the end), loaded back, applied to clips, and scored.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use serde::Serialize;
use serde_json::{json, Value};
use soundcheck_data::{ClassSet, ClipFeatures, Sequence, Split};
use soundcheck_eval::ClassReport;
use soundcheck_nn::loss::argmax;
use soundcheck_nn::{Device, Loss, Network, Trainer};
use soundcheck_shape::{Diagnosis, Kind, Model, ModelSpec};

use crate::classification::{fill_classes, LengthPolicy, Preprocess};
use crate::error::{Result, TaskError};
use crate::fit::{check_data, fit, FitOptions, TrainSummary};
use crate::plot::write_matrix_png;
use crate::progress::Progress;
use crate::run_dir::RunDir;

/// What a classifier is trained on and how.
#[derive(Clone, Debug)]
pub struct ClassificationTraining {
    /// A folder per class (`DATA/<label>/*.wav`) or a CSV manifest (`path,label[,split]`).
    pub data: PathBuf,
    /// The features computed per clip.
    pub features: ClipFeatures,
    /// How clips are padded or cut to one length.
    pub length: LengthPolicy,
    /// Set the last Dense layer's units to the number of classes.
    pub fill_classes: bool,
    /// Fractions of each class held out for validation and for the final test.
    pub validation_split: f64,
    /// Fraction of each class held out for the final test.
    pub test_split: f64,
    /// The training options.
    pub fit: FitOptions,
    /// The run folder.
    pub out: PathBuf,
}

/// Accuracy, per-class scores and the confusion matrix of a classifier on some clips.
#[derive(Clone, Debug, Serialize)]
pub struct Scores {
    /// Share of clips predicted right.
    pub accuracy: f64,
    /// The mean F1 over classes.
    pub macro_f1: f64,
    /// Each class's scores.
    pub per_class: Vec<ClassScores>,
    /// `confusion[true][predicted]`.
    pub confusion: Vec<Vec<usize>>,
}

/// One class's scores.
#[derive(Clone, Debug, Serialize)]
pub struct ClassScores {
    /// The class.
    pub class: String,
    /// Right predictions of it among all predictions of it.
    pub precision: f64,
    /// Its clips predicted right among all its clips.
    pub recall: f64,
    /// The harmonic mean of precision and recall.
    pub f1: f64,
    /// Its clips.
    pub support: usize,
}

impl Scores {
    fn new(r: &ClassReport, classes: &[String]) -> Scores {
        Scores {
            accuracy: r.accuracy,
            macro_f1: ClassReport::macro_avg(&r.f1),
            per_class: classes
                .iter()
                .enumerate()
                .map(|(i, c)| ClassScores {
                    class: c.clone(),
                    precision: r.precision[i],
                    recall: r.recall[i],
                    f1: r.f1[i],
                    support: r.support[i],
                })
                .collect(),
            confusion: r.confusion.clone(),
        }
    }

    /// scikit-learn's classification_report layout, then the confusion matrix (rows: true
    /// class).
    pub fn text(&self) -> String {
        let classes: Vec<&str> = self.per_class.iter().map(|c| c.class.as_str()).collect();
        let w = classes.iter().map(|c| c.len()).max().unwrap_or(5).max(9);
        let mut s = format!("{:>w$}  precision  recall  f1-score  support\n", "");
        for c in &self.per_class {
            s.push_str(&format!(
                "{:>w$}  {:>9.3}  {:>6.3}  {:>8.3}  {:>7}\n",
                c.class, c.precision, c.recall, c.f1, c.support
            ));
        }
        let n: usize = self.per_class.iter().map(|c| c.support).sum();
        let avg = |f: fn(&ClassScores) -> f64| {
            ClassReport::macro_avg(&self.per_class.iter().map(f).collect::<Vec<_>>())
        };
        s.push_str(&format!(
            "{:>w$}  {:>9}  {:>6}  {:>8.3}  {n:>7}\n",
            "accuracy", "", "", self.accuracy
        ));
        s.push_str(&format!(
            "{:>w$}  {:>9.3}  {:>6.3}  {:>8.3}  {n:>7}\n\nconfusion matrix (rows: true class, columns: predicted)\n",
            "macro avg",
            avg(|c| c.precision),
            avg(|c| c.recall),
            avg(|c| c.f1)
        ));
        for (c, row) in classes.iter().zip(&self.confusion) {
            let cells: Vec<String> = row.iter().map(|v| format!("{v:>4}")).collect();
            s.push_str(&format!("{c:>w$}  {}\n", cells.join("")));
        }
        s
    }
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

/// Features of the clips, as a progress stage.
fn extract(
    features: &ClipFeatures,
    paths: &[&Path],
    progress: &dyn Progress,
) -> Result<Vec<Sequence>> {
    progress.start("features", paths.len());
    let seqs = features.extract_all(paths, &|| progress.step());
    progress.finish();
    Ok(seqs?)
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
    RunDir::check_new(&opts.out)?;
    opts.features.validate()?;
    let set = ClassSet::open(&opts.data)?;
    let mut spec = spec.clone();
    if opts.fill_classes {
        fill_classes(&mut spec, set.classes.len());
    }
    check_classes(&spec, set.classes.len())?;
    let splits = set.split(opts.validation_split, opts.test_split, opts.fit.seed)?;
    let paths: Vec<&Path> = set.clips.iter().map(|c| c.path.as_path()).collect();
    let mut seqs: Vec<Option<Sequence>> = extract(&opts.features, &paths, progress)?
        .into_iter()
        .map(Some)
        .collect();
    let mut take = |split: Split| -> (Vec<Sequence>, Vec<usize>) {
        (0..set.clips.len())
            .filter(|&i| splits[i] == split)
            .map(|i| (seqs[i].take().expect("each clip once"), set.clips[i].label))
            .unzip()
    };
    let (train_x, train_y) = take(Split::Train);
    let (val_x, val_y) = take(Split::Validation);
    let test: Vec<usize> = (0..set.clips.len())
        .filter(|&i| splits[i] == Split::Test)
        .collect();
    let pre = Preprocess::fit(
        set.classes.clone(),
        opts.features.clone(),
        &opts.length,
        &train_x,
    )?;
    let truncated = train_x.iter().filter(|s| s.frames > pre.maxlen).count();
    progress.note(&format!(
        "{} clips of {} classes: {} train, {} validation, {} test; {} features per frame; clips padded/truncated to {} frames{} ({truncated} of the training clips truncated)",
        set.clips.len(), set.classes.len(), train_x.len(), val_x.len(), test.len(),
        pre.features.features(), pre.maxlen,
        if opts.length.maxlen.is_none() { " (95th percentile of training lengths)" } else { "" }
    ));
    let loss = Loss::parse(
        spec.loss
            .as_deref()
            .unwrap_or("sparse_categorical_crossentropy"),
    )?;
    let n_train = train_x.len();
    let train_ds = Arc::new(pre.dataset(train_x, &train_y)?);
    let cfg = opts.fit.config(loss, n_train, 0.0)?;
    let mut net = Network::initialized(&spec, opts.fit.seed, device)?;
    let options = json!({"task": "classification", "loss": loss.name(), "features": pre.features.describe(),
        "batch_size": opts.fit.batch_size, "optimizer": opts.fit.optimizer, "learning_rate": opts.fit.learning_rate,
        "schedule": opts.fit.schedule, "seed": opts.fit.seed});
    check_data(&net, train_ds.as_ref(), &cfg)?;
    let run = RunDir::create(&opts.out, &spec, &options)?;
    let mut record = pre.to_json();
    record["split"] = json!({"data": opts.data, "validation": opts.validation_split, "test": opts.test_split, "seed": opts.fit.seed});
    run.write_json(RunDir::CLASSES, &record)?;
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
    let classifier = Classifier { net, pre, record };
    let test = if test.is_empty() {
        None
    } else {
        let scores = classifier.score(&set, &test, progress)?;
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

/// A trained classifier: the network, the preprocessing it was trained with, and the run's
/// record (`classes.json`).
pub struct Classifier {
    /// The trained network.
    pub net: Network,
    /// The preprocessing it was trained with.
    pub pre: Preprocess,
    record: Value,
}

/// A clip's label and the most probable classes.
#[derive(Clone, Debug, Serialize)]
pub struct Labelled {
    /// The audio file.
    pub file: PathBuf,
    /// The most probable class.
    pub label: String,
    /// The most probable classes, most probable first.
    pub top: Vec<ClassProbability>,
}

/// A class with its probability.
#[derive(Clone, Debug, Serialize)]
pub struct ClassProbability {
    /// The class.
    pub class: String,
    /// The model's probability for it.
    pub probability: f32,
}

/// Which clips of a dataset to score.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClipSelection {
    /// The run's test split of the data (its seed and fractions).
    Test,
    /// Every clip.
    All,
}

impl Classifier {
    /// The classifier of a `train classification` run.
    pub fn load(run: &Path, device: &Device) -> Result<Classifier> {
        let run = RunDir::open(run);
        let net = run.network(device)?;
        let record = run.read_json(RunDir::CLASSES, "soundcheck train classification")?;
        let bad = |actual: String| TaskError::Folder {
            path: run.file(RunDir::CLASSES),
            actual,
            hint: "the record does not belong to this model or is damaged: train the run again"
                .into(),
        };
        let pre = Preprocess::from_json(&record)
            .ok_or_else(|| bad("incomplete preprocessing record".into()))?;
        // Each of these would otherwise panic, give wrong labels with exit 0, or blame every
        // audio file for the record's fault.
        pre.features
            .validate()
            .map_err(|e| bad(format!("its feature settings cannot be used ({e})")))?;
        let features = pre.features.features();
        let units = net
            .model()
            .check()
            .layers
            .last()
            .and_then(|l| l.output_shape.last());
        if pre.maxlen == 0 {
            return Err(bad(
                "maxlen is 0; expected at least one frame per clip".into()
            ));
        }
        if pre.standardiser.mean.len() != features || pre.standardiser.std.len() != features {
            return Err(bad(format!(
                "standardisation vectors of {} and {} values for {features} features per frame",
                pre.standardiser.mean.len(),
                pre.standardiser.std.len()
            )));
        }
        if units.is_some_and(|u| u != pre.classes.len()) {
            return Err(bad(format!(
                "{} classes for a model with {} outputs",
                pre.classes.len(),
                units.unwrap_or(0)
            )));
        }
        Ok(Classifier { net, pre, record })
    }

    /// Class probabilities of every sequence, in batches.
    fn probabilities(&self, seqs: Vec<Sequence>) -> Result<Vec<Vec<f32>>> {
        let k = self.pre.classes.len();
        let mut out = Vec::with_capacity(seqs.len());
        let mut rest = seqs;
        while !rest.is_empty() {
            let tail = rest.split_off(rest.len().min(64));
            let (shape, x) = self.pre.batch(rest);
            let (_, y) = self.net.forward(&shape, x)?;
            out.extend(y.chunks(k).map(<[f32]>::to_vec));
            rest = tail;
        }
        Ok(out)
    }

    /// Labels `files` with the `top_k` most probable classes each.
    pub fn classify(
        &self,
        files: &[PathBuf],
        top_k: usize,
        progress: &dyn Progress,
    ) -> Result<Vec<Labelled>> {
        let paths: Vec<&Path> = files.iter().map(PathBuf::as_path).collect();
        let probs = self.probabilities(extract(&self.pre.features, &paths, progress)?)?;
        Ok(files
            .iter()
            .zip(&probs)
            .map(|(f, p)| {
                let mut order: Vec<usize> = (0..p.len()).collect();
                order.sort_by(|&x, &y| p[y].total_cmp(&p[x]));
                Labelled {
                    file: f.clone(),
                    label: self.pre.classes[order[0]].clone(),
                    top: order
                        .iter()
                        .take(top_k.max(1))
                        .map(|&i| ClassProbability {
                            class: self.pre.classes[i].clone(),
                            probability: p[i],
                        })
                        .collect(),
                }
            })
            .collect())
    }

    /// Scores on `clips` of `set`, whose classes must be the run's.
    fn score(&self, set: &ClassSet, clips: &[usize], progress: &dyn Progress) -> Result<Scores> {
        let classes = &self.pre.classes;
        let truth: Vec<usize> = clips
            .iter()
            .map(|&i| {
                let name = &set.classes[set.clips[i].label];
                classes
                    .iter()
                    .position(|c| c == name)
                    .ok_or_else(|| TaskError::Option {
                        name: "data",
                        actual: format!("class '{name}'"),
                        expected: format!(
                            "one of the classes the run was trained on ({})",
                            classes.join(", ")
                        ),
                    })
            })
            .collect::<Result<_>>()?;
        let paths: Vec<&Path> = clips.iter().map(|&i| set.clips[i].path.as_path()).collect();
        let probs = self.probabilities(extract(&self.pre.features, &paths, progress)?)?;
        let predicted: Vec<usize> = probs.iter().map(|p| argmax(p)).collect();
        Ok(Scores::new(
            &ClassReport::new(&truth, &predicted, classes.len()),
            classes,
        ))
    }

    /// Scores on the clips of `data`, drawing the confusion matrix to `png`.
    pub fn evaluate(
        &self,
        data: &Path,
        selection: ClipSelection,
        png: &Path,
        progress: &dyn Progress,
    ) -> Result<(Scores, usize)> {
        let set = ClassSet::open(data)?;
        let clips: Vec<usize> = match selection {
            ClipSelection::All => (0..set.clips.len()).collect(),
            ClipSelection::Test => {
                let s = &self.record["split"];
                let splits = set.split(
                    s["validation"].as_f64().unwrap_or(0.15),
                    s["test"].as_f64().unwrap_or(0.15),
                    s["seed"].as_u64().unwrap_or(0),
                )?;
                (0..set.clips.len())
                    .filter(|&i| splits[i] == Split::Test)
                    .collect()
            }
        };
        let scores = self.score(&set, &clips, progress)?;
        self.draw_confusion(png, "confusion", &scores)?;
        Ok((scores, clips.len()))
    }

    fn draw_confusion(&self, png: &Path, title: &str, scores: &Scores) -> Result<()> {
        write_matrix_png(png, title, &self.pre.classes, &scores.confusion).map_err(|e| {
            TaskError::Folder {
                path: png.to_path_buf(),
                actual: format!("the confusion matrix could not be drawn ({e})"),
                hint: "check the folder, its permissions and the free space".into(),
            }
        })
    }
}
