//! Audio classification from the command line: `train classification`, `classify`,
//! `evaluate-classifier` and `quickstart classification`.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use clap::Args;
use serde_json::{json, Value};
use soundcheck_data::{ClassSet, ClipFeatures, DataError, FeatureKind, Sequence, Side, Split};
use soundcheck_eval::ClassReport;
use soundcheck_nn::loss::argmax;
use soundcheck_nn::{Loss, Network, NnError, Trainer};
use soundcheck_shape::{Diagnosis, Kind, Model, ModelSpec};
use soundcheck_tasks::{fill_classes, write_classification_demo, LengthPolicy, Preprocess};

use crate::load::{load_spec, quickstart_folder, write_atomic};
use crate::picture::write_matrix_png;
use crate::predict::{load_run, read_run_json};
use crate::progress::Progress;
use crate::train::{fit, report, start_run, summary, trained_line, Failure, FitArgs};

/// The run's preprocessing and split, beside the model.
pub const CLASSES_FILE: &str = "classes.json";

impl From<DataError> for Failure {
    fn from(e: DataError) -> Failure {
        NnError::from(e).into()
    }
}

#[derive(Args, Clone)]
#[command(
    after_help = "Example:\n  soundcheck train classification --data sounds/ --model models/mfcc-lstm.toml --epochs 30 --out runs/sounds  --fill-classes\n\n--fill-classes sets the last Dense layer's units to the number of classes found (the shipped specs declare 10)."
)]
pub struct ClassificationArgs {
    /// A folder per class (DATA/<label>/*.wav|flac|ogg|mp3) or a CSV manifest (path,label[,split])
    #[arg(long)]
    pub data: PathBuf,
    /// Model spec: models/mfcc-lstm.toml, mfcc-conv1d.toml, mfcc-cnn-lstm.toml, or your own
    #[arg(long)]
    pub model: PathBuf,
    /// MFCCs per frame (librosa's n_mfcc)
    #[arg(long, default_value_t = 13)]
    pub n_mfcc: usize,
    /// Log-mel bands instead of MFCCs
    #[arg(long)]
    pub log_mel: Option<usize>,
    /// Append first and second deltas (width 9)
    #[arg(long)]
    pub deltas: bool,
    /// Frames per clip after padding/truncation; default the 95th percentile of training clips
    #[arg(long)]
    pub maxlen: Option<usize>,
    /// pre or post (Keras pad_sequences; default pre)
    #[arg(long, default_value = "pre")]
    pub padding: String,
    /// pre or post (Keras pad_sequences; default pre)
    #[arg(long, default_value = "pre")]
    pub truncating: String,
    /// Set the last Dense layer's units to the number of classes in DATA (the shipped specs
    /// declare 10); without it, a spec whose output does not fit the classes is diagnosed
    #[arg(long)]
    pub fill_classes: bool,
    /// Fraction of each class held out for validation
    #[arg(long, default_value_t = 0.15)]
    pub validation_split: f64,
    /// Fraction of each class held out for the final test
    #[arg(long, default_value_t = 0.15)]
    pub test_split: f64,
    #[command(flatten)]
    pub fit: FitArgs,
}

impl ClassificationArgs {
    fn features(&self) -> ClipFeatures {
        ClipFeatures {
            kind: match self.log_mel {
                Some(n_mels) => FeatureKind::LogMel { n_mels },
                None => FeatureKind::Mfcc {
                    n_mfcc: self.n_mfcc,
                },
            },
            deltas: self.deltas,
            ..Default::default()
        }
    }
}

/// Class probabilities of every sequence, in batches.
fn probabilities(
    net: &Network,
    pre: &Preprocess,
    seqs: Vec<Sequence>,
) -> Result<Vec<Vec<f32>>, Failure> {
    let k = pre.classes.len();
    let mut out = Vec::with_capacity(seqs.len());
    let mut rest = seqs;
    while !rest.is_empty() {
        let tail = rest.split_off(rest.len().min(64));
        let (shape, x) = pre.batch(rest);
        let (_, y) = net.forward(&shape, x)?;
        out.extend(y.chunks(k).map(<[f32]>::to_vec));
        rest = tail;
    }
    Ok(out)
}

/// Features of the clips, with a progress bar.
fn extract(features: &ClipFeatures, paths: &[&Path]) -> Result<Vec<Sequence>, Failure> {
    let bar = Progress::new("features", paths.len());
    let seqs = features.extract_all(paths, &|| bar.tick());
    bar.finish();
    Ok(seqs?)
}

/// Scores of the run's model on `clips` of `set` (whose classes are named as the run's).
fn score(
    net: &Network,
    pre: &Preprocess,
    set: &ClassSet,
    clips: &[usize],
) -> Result<ClassReport, Failure> {
    let truth: Vec<usize> = clips
        .iter()
        .map(|&i| {
            let name = &set.classes[set.clips[i].label];
            pre.classes
                .iter()
                .position(|c| c == name)
                .ok_or_else(|| Failure {
                    code: 2,
                    message: format!(
                        "class '{name}' of the data is not one the run was trained on ({})",
                        pre.classes.join(", ")
                    ),
                })
        })
        .collect::<Result<_, _>>()?;
    let paths: Vec<&Path> = clips.iter().map(|&i| set.clips[i].path.as_path()).collect();
    let probs = probabilities(net, pre, extract(&pre.features, &paths)?)?;
    let predicted: Vec<usize> = probs.iter().map(|p| argmax(p)).collect();
    Ok(ClassReport::new(&truth, &predicted, pre.classes.len()))
}

fn report_json(r: &ClassReport, classes: &[String]) -> Value {
    json!({
        "accuracy": r.accuracy,
        "macro_f1": ClassReport::macro_avg(&r.f1),
        "per_class": classes.iter().enumerate().map(|(i, c)| json!({
            "class": c, "precision": r.precision[i], "recall": r.recall[i], "f1": r.f1[i],
            "support": r.support[i]})).collect::<Vec<_>>(),
        "confusion": r.confusion,
    })
}

/// scikit-learn's classification_report layout, then the confusion matrix (rows: true class).
fn report_text(r: &ClassReport, classes: &[String]) -> String {
    let w = classes.iter().map(String::len).max().unwrap_or(5).max(9);
    let mut s = format!("{:>w$}  precision  recall  f1-score  support\n", "");
    for (i, c) in classes.iter().enumerate() {
        s.push_str(&format!(
            "{c:>w$}  {:>9.3}  {:>6.3}  {:>8.3}  {:>7}\n",
            r.precision[i], r.recall[i], r.f1[i], r.support[i]
        ));
    }
    let n: usize = r.support.iter().sum();
    s.push_str(&format!(
        "{:>w$}  {:>9}  {:>6}  {:>8.3}  {n:>7}\n",
        "accuracy", "", "", r.accuracy
    ));
    s.push_str(&format!(
        "{:>w$}  {:>9.3}  {:>6.3}  {:>8.3}  {n:>7}\n\nconfusion matrix (rows: true class, columns: predicted)\n",
        "macro avg",
        ClassReport::macro_avg(&r.precision),
        ClassReport::macro_avg(&r.recall),
        ClassReport::macro_avg(&r.f1)
    ));
    for (i, c) in classes.iter().enumerate() {
        let row: Vec<String> = r.confusion[i].iter().map(|v| format!("{v:>4}")).collect();
        s.push_str(&format!("{c:>w$}  {}\n", row.join("")));
    }
    s
}

/// The model's output must have one unit per class: integer labels alone cannot show a model
/// with 10 outputs trained on 7 classes, so the class count is checked here.
fn check_classes(spec: &ModelSpec, classes: usize) -> Result<(), Failure> {
    let diagnosis = |d: Diagnosis| Failure {
        code: 1,
        message: d.to_string(),
    };
    let model = Model::from_spec(spec).map_err(diagnosis)?;
    let report = model.check();
    if let Some(d) = report.error {
        return Err(diagnosis(d));
    }
    let Some(last) = report.layers.last() else {
        return Ok(());
    };
    match last.output_shape.last() {
        Some(units) if units != classes => Err(diagnosis(
            Diagnosis::new(
                Kind::LabelMismatch,
                format!("{classes} classes in the data but the model's output has {units} units"),
            )
            .received(format!("{classes} classes"))
            .expected(format!("an output of {units} class probabilities ({})", last.output_shape))
            .cause("a softmax over more or fewer units than classes either never predicts some units or cannot express some classes")
            .fix(format!("set the last Dense layer's units to {classes}, or pass --fill-classes")),
        )),
        _ => Ok(()),
    }
}

/// Trains a classifier and scores it on its test split.
pub fn train_classifier(a: &ClassificationArgs, spec_text: Option<&str>) -> Result<Value, Failure> {
    let t0 = Instant::now();
    let side = |name: &'static str, v: &str| Side::parse(name, v).map_err(Failure::from);
    let policy = LengthPolicy {
        maxlen: a.maxlen,
        padding: side("padding", &a.padding)?,
        truncating: side("truncating", &a.truncating)?,
    };
    let out = a.fit.new_out()?;
    let mut spec = match spec_text {
        Some(text) => ModelSpec::from_toml_str(text),
        None => load_spec(&a.model),
    }
    .map_err(|d| Failure {
        code: 1,
        message: d.to_string(),
    })?;
    let set = ClassSet::open(&a.data)?;
    if a.fill_classes {
        fill_classes(&mut spec, set.classes.len());
    }
    check_classes(&spec, set.classes.len())?;
    let splits = set.split(a.validation_split, a.test_split, a.fit.seed)?;
    let features = a.features();
    let paths: Vec<&Path> = set.clips.iter().map(|c| c.path.as_path()).collect();
    let mut seqs: Vec<Option<Sequence>> =
        extract(&features, &paths)?.into_iter().map(Some).collect();
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
    let pre = Preprocess::fit(set.classes.clone(), features, &policy, &train_x)?;
    let truncated = train_x.iter().filter(|s| s.frames > pre.maxlen).count();
    eprintln!(
        "{} clips of {} classes: {} train, {} validation, {} test; {} features per frame; clips padded/truncated to {} frames{} ({truncated} of the training clips truncated)",
        set.clips.len(), set.classes.len(), train_x.len(), val_x.len(), test.len(),
        pre.features.features(), pre.maxlen,
        if a.maxlen.is_none() { " (95th percentile of training lengths)" } else { "" }
    );
    let loss = Loss::parse(
        spec.loss
            .as_deref()
            .unwrap_or("sparse_categorical_crossentropy"),
    )?;
    let n_train = train_x.len();
    let train_ds = Arc::new(pre.dataset(train_x, &train_y)?);
    let cfg = a.fit.config(loss, n_train, 0.0)?;
    let mut net = Network::initialized(&spec, a.fit.seed, &crate::device::current())?;
    start_run(
        out,
        &spec,
        &json!({"task": "classification", "loss": loss.name(), "features": pre.features.describe(),
        "batch_size": a.fit.batch_size, "optimizer": a.fit.optimizer, "learning_rate": a.fit.learning_rate,
        "schedule": a.fit.schedule, "seed": a.fit.seed}),
    )?;
    let mut record = pre.to_json();
    record["split"] = json!({"data": a.data, "validation": a.validation_split, "test": a.test_split, "seed": a.fit.seed});
    write_atomic(&out.join(CLASSES_FILE), &record.to_string()).map_err(|d| d.to_string())?;
    let mut trainer = Trainer::new(&mut net, cfg);
    if !val_x.is_empty() {
        trainer = trainer.with_validation(Arc::new(pre.dataset(val_x, &val_y)?));
    }
    let (outcome, history) = fit(&mut trainer, train_ds, out, a.fit.epochs, &mut |_, _| None)?;
    drop(trainer);
    let mut v = summary(out, loss, &outcome, &history, None, 0.0);
    if !test.is_empty() {
        let r = score(&net, &pre, &set, &test)?;
        eprint!("test split:\n{}", report_text(&r, &pre.classes));
        write_matrix_png(
            &out.join("confusion.png"),
            "CONFUSION (TEST)",
            &pre.classes,
            &r.confusion,
        )?;
        v["test_accuracy"] = json!(r.accuracy);
        v["test"] = report_json(&r, &pre.classes);
    }
    v["classes"] = json!(pre.classes);
    v["maxlen"] = json!(pre.maxlen);
    v["seconds"] = json!(t0.elapsed().as_secs_f64());
    Ok(v)
}

fn classifier_line(v: &Value) -> String {
    let mut s = trained_line(v);
    if let Some(acc) = v["test_accuracy"].as_f64() {
        s.push_str(&format!("; test accuracy {:.1} %", 100.0 * acc));
    }
    s
}

pub fn run_train(a: &ClassificationArgs) -> u8 {
    report(train_classifier(a, None), a.fit.json, classifier_line)
}

/// A run's classifier: network and preprocessing.
fn load_classifier(run: &Path) -> Result<(Network, Preprocess, Value), Failure> {
    let net = load_run(run)?;
    let v = read_run_json(run, CLASSES_FILE, "soundcheck train classification")?;
    let pre = Preprocess::from_json(&v).ok_or_else(|| {
        format!(
            "{}: incomplete preprocessing record",
            run.join(CLASSES_FILE).display()
        )
    })?;
    Ok((net, pre, v))
}

#[derive(Args)]
#[command(
    after_help = "Example:\n  soundcheck classify --run runs/sounds clip1.wav clip2.flac --top-k 3"
)]
pub struct ClassifyArgs {
    /// Run directory of `soundcheck train classification`
    #[arg(long)]
    pub run: PathBuf,
    /// Audio files
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Classes listed per file, most probable first
    #[arg(long, default_value_t = 3)]
    pub top_k: usize,
    #[arg(long)]
    pub json: bool,
}

fn classify(a: &ClassifyArgs) -> Result<Value, Failure> {
    let (net, pre, _) = load_classifier(&a.run)?;
    let paths: Vec<&Path> = a.files.iter().map(PathBuf::as_path).collect();
    let probs = probabilities(&net, &pre, extract(&pre.features, &paths)?)?;
    let files: Vec<Value> = a
        .files
        .iter()
        .zip(&probs)
        .map(|(f, p)| {
            let mut order: Vec<usize> = (0..p.len()).collect();
            order.sort_by(|&x, &y| p[y].total_cmp(&p[x]));
            json!({"file": f, "label": pre.classes[order[0]],
                   "top": order.iter().take(a.top_k.max(1)).map(|&i| json!({"class": pre.classes[i], "probability": p[i]})).collect::<Vec<_>>()})
        })
        .collect();
    Ok(json!({"files": files}))
}

pub fn run_classify(a: &ClassifyArgs) -> u8 {
    report(classify(a), a.json, |v| {
        v["files"]
            .as_array()
            .map(|fs| {
                fs.iter()
                    .map(|f| {
                        let top: Vec<String> = f["top"]
                            .as_array()
                            .map(|t| {
                                t.iter()
                                    .map(|c| {
                                        format!(
                                            "{} {:.3}",
                                            c["class"].as_str().unwrap_or(""),
                                            c["probability"].as_f64().unwrap_or(0.0)
                                        )
                                    })
                                    .collect()
                            })
                            .unwrap_or_default();
                        format!(
                            "{}: {} ({})",
                            f["file"].as_str().unwrap_or(""),
                            f["label"].as_str().unwrap_or(""),
                            top.join(", ")
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("\n")
            })
            .unwrap_or_default()
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
    /// Confusion-matrix picture (default RUN/confusion.png)
    #[arg(long)]
    pub png: Option<PathBuf>,
    #[arg(long)]
    pub json: bool,
}

fn evaluate_classifier(a: &EvaluateClassifierArgs) -> Result<Value, Failure> {
    let (net, pre, record) = load_classifier(&a.run)?;
    let set = ClassSet::open(&a.data)?;
    let clips: Vec<usize> = match a.split.as_str() {
        "all" => (0..set.clips.len()).collect(),
        "test" => {
            let s = &record["split"];
            let splits = set.split(
                s["validation"].as_f64().unwrap_or(0.15),
                s["test"].as_f64().unwrap_or(0.15),
                s["seed"].as_u64().unwrap_or(0),
            )?;
            (0..set.clips.len())
                .filter(|&i| splits[i] == Split::Test)
                .collect()
        }
        other => return Err(format!("--split {other}: expected test or all").into()),
    };
    let r = score(&net, &pre, &set, &clips)?;
    let png = a.png.clone().unwrap_or_else(|| a.run.join("confusion.png"));
    write_matrix_png(&png, "CONFUSION", &pre.classes, &r.confusion)?;
    let mut v = report_json(&r, &pre.classes);
    v["clips"] = json!(clips.len());
    v["png"] = json!(png);
    v["text"] = json!(report_text(&r, &pre.classes));
    Ok(v)
}

pub fn run_evaluate(a: &EvaluateClassifierArgs) -> u8 {
    report(evaluate_classifier(a), a.json, |v| {
        v["text"].as_str().unwrap_or("").to_string()
    })
}

/// The shipped LSTM spec, built in so the quickstart runs from any directory.
const MFCC_LSTM: &str = include_str!("../../../models/mfcc-lstm.toml");

#[derive(Args)]
#[command(after_help = "Example:\n  soundcheck quickstart classification --out demo/ --json")]
pub struct QuickstartClassificationArgs {
    /// Where the demo data, the run and the report go
    #[arg(long, default_value = "soundcheck-quickstart-classification")]
    pub out: PathBuf,
    #[arg(long)]
    pub json: bool,
}

fn quickstart(a: &QuickstartClassificationArgs) -> Result<Value, Failure> {
    let t0 = Instant::now();
    let data = a.out.join("data");
    let run = a.out.join("run");
    quickstart_folder(&a.out, &["data", "run"])?;
    eprintln!("synthesising 7 classes × 40 clips in {}", data.display());
    write_classification_demo(&data, 40, 2026).map_err(|e| e.to_string())?;
    let args = ClassificationArgs {
        data,
        model: PathBuf::from("models/mfcc-lstm.toml"),
        n_mfcc: 13,
        log_mel: None,
        deltas: false,
        maxlen: None,
        padding: "pre".into(),
        truncating: "pre".into(),
        fill_classes: true,
        validation_split: 0.15,
        test_split: 0.15,
        fit: FitArgs {
            epochs: 40,
            batch_size: 32,
            optimizer: "adam".into(),
            learning_rate: 5e-3,
            schedule: "constant".into(),
            clip_norm: Some(1.0),
            patience: Some(8),
            seed: 0,
            out: Some(run),
            json: a.json,
        },
    };
    let mut v = train_classifier(&args, Some(MFCC_LSTM))?;
    v["seconds"] = json!(t0.elapsed().as_secs_f64());
    let report_path = a.out.join("report.json");
    write_atomic(&report_path, &v.to_string()).map_err(|d| d.to_string())?;
    Ok(json!({
        "test_accuracy": v["test_accuracy"], "classes": v["classes"], "seconds": v["seconds"],
        "epochs": v["epochs"], "final_val_accuracy": v["final_val_accuracy"],
        "run_dir": v["run_dir"], "report": report_path,
    }))
}

pub fn run_quickstart(a: &QuickstartClassificationArgs) -> u8 {
    report(quickstart(a), a.json, |v| {
        format!(
            "quickstart classification: test accuracy {:.1} % over {} classes in {:.0} s; run in {}, report {}",
            100.0 * v["test_accuracy"].as_f64().unwrap_or(0.0),
            v["classes"].as_array().map_or(0, Vec::len),
            v["seconds"].as_f64().unwrap_or(0.0),
            v["run_dir"].as_str().unwrap_or(""),
            v["report"].as_str().unwrap_or("")
        )
    })
}
