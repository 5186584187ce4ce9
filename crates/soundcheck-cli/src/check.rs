//! `soundcheck check MODEL`: the Keras-style summary, or the diagnosis of what does not fit.

use std::path::PathBuf;

use clap::Args;
use serde_json::{json, Value};
use soundcheck_shape::feed::{check_feed, check_feed_dtype};
use soundcheck_shape::labels::check_labels;
use soundcheck_shape::summary::summary;
use soundcheck_shape::{Diagnosis, Model, Report};

use crate::load::{load_spec, parse_shape, read_npy_header};

/// Check a model spec: infer every layer's shape and parameters as Keras does, and explain
/// anything that does not fit, with the fix.
#[derive(Args)]
#[command(
    after_help = "Examples:\n  soundcheck check models/vocal-mask.toml\n  soundcheck check models/vocal-mask.toml --feed 32,2584\n  soundcheck check model.keras --data x_train.npy --labels y_train.npy --json\n  soundcheck check models/mfcc-lstm.toml --data DATASET_DIR   (x.npy and y.npy)\n  soundcheck check models/mfcc-lstm.toml --min-input\n\nExit status: 0 everything fits, 1 a shape problem was found, 2 a file or argument cannot be used."
)]
pub struct CheckArgs {
    /// Model: soundcheck .toml/.json spec, Keras model.to_json() file, or .keras archive
    model: PathBuf,
    /// Full shape of the array you will feed, batch first, as numpy prints it (e.g. 32,2584)
    #[arg(long, value_name = "SHAPE", conflicts_with = "data")]
    feed: Option<String>,
    /// A .npy file to feed, or a dataset folder holding x.npy (inputs) and y.npy (targets, checked
    /// as --labels); only the headers are read
    #[arg(long, value_name = "FILE.npy|DIR")]
    data: Option<PathBuf>,
    /// Labels to check against the output and loss: a shape (32,10) or a .npy file
    #[arg(long, value_name = "SHAPE|FILE.npy")]
    labels: Option<String>,
    /// Keras loss name (overrides the spec's `loss`)
    #[arg(long)]
    loss: Option<String>,
    /// Report the smallest size each input axis may have
    #[arg(long)]
    min_input: bool,
    /// Print one JSON object instead of the summary
    #[arg(long)]
    json: bool,
}

/// Everything `check` found, for text or JSON output.
struct Outcome {
    model: Option<Model>,
    report: Option<Report>,
    error: Option<Diagnosis>,
    predict: Option<Value>,
    min_input: Option<Value>,
    /// The spec declares no input shape and the fed array's shape built it (Keras's deferred build).
    built_from_feed: bool,
}

fn analyse(a: &CheckArgs) -> Outcome {
    let mut out = Outcome {
        model: None,
        report: None,
        error: None,
        predict: None,
        min_input: None,
        built_from_feed: false,
    };
    let spec = match load_spec(&a.model) {
        Ok(s) => s,
        Err(e) => {
            out.error = Some(e);
            return out;
        }
    };
    let built = match feed_shape(a).ok().flatten() {
        Some(feed) => Model::from_spec_on_feed(&spec, &feed),
        None => Model::from_spec(&spec).map(|m| (m, false)),
    };
    let model = match built {
        Ok((m, from_feed)) => {
            out.built_from_feed = from_feed;
            m
        }
        Err(mut e) => {
            if e.layer.is_none() {
                e.title = format!("{}: {}", a.model.display(), e.title);
            }
            out.error = Some(e);
            return out;
        }
    };
    let report = model.check();
    out.error = report.error.clone();
    if a.min_input {
        out.min_input = Some(Value::Array(
            model
                .min_input()
                .iter()
                .map(|m| json!({"axis": m.axis, "declared": m.declared, "min": m.min, "limited_by": m.limited_by, "exact": m.exact}))
                .collect(),
        ));
    }
    if out.error.is_none() {
        out.error = feed_and_labels(a, &model).err();
        if out.error.is_none() {
            if let Some(feed) = feed_shape(a).ok().flatten() {
                out.predict = check_feed(&model, &feed).ok().map(|p| json!(p));
            }
        }
    }
    out.model = Some(model);
    out.report = Some(report);
    out
}

fn feed_shape(a: &CheckArgs) -> Result<Option<Vec<usize>>, Diagnosis> {
    if let Some(f) = &a.feed {
        return parse_shape(f, "--feed").map(Some);
    }
    if let Some(x) = data_inputs(a) {
        return read_npy_header(&x).map(|h| Some(h.shape));
    }
    Ok(None)
}

/// The inputs array `--data` names: the file, or `x.npy` of a dataset folder.
fn data_inputs(a: &CheckArgs) -> Option<PathBuf> {
    a.data.as_ref().map(|p| {
        if p.is_dir() {
            p.join("x.npy")
        } else {
            p.clone()
        }
    })
}

/// The labels to check: `--labels` (a shape or a .npy file), or `y.npy` of a `--data` folder.
fn labels_source(a: &CheckArgs) -> Option<String> {
    a.labels.clone().or_else(|| {
        a.data
            .as_ref()
            .filter(|d| d.is_dir())
            .map(|d| d.join("y.npy").display().to_string())
    })
}

fn feed_and_labels(a: &CheckArgs, model: &Model) -> Result<(), Diagnosis> {
    let feed = feed_shape(a)?;
    if let Some(feed) = &feed {
        check_feed(model, feed)?;
    }
    if let Some(x) = data_inputs(a) {
        check_feed_dtype(model, read_npy_header(&x)?.is_integer())?;
    }
    if let Some(l) = &labels_source(a) {
        let (shape, integer) = if l.to_lowercase().ends_with(".npy") {
            let h = read_npy_header(std::path::Path::new(l))?;
            let int = h.is_integer();
            (h.shape, Some(int))
        } else {
            (parse_shape(l, "--labels")?, None)
        };
        if let (Some(f), Some(&n)) = (&feed, shape.first()) {
            if f[0] != n {
                return Err(Diagnosis::new(
                    soundcheck_shape::Kind::LabelMismatch,
                    format!("{} examples but {n} labels", f[0]),
                )
                .received(format!(
                    "labels {}",
                    soundcheck_shape::shape::fmt_array_shape(&shape)
                ))
                .expected(format!("{} label rows, one per example", f[0]))
                .fix("give exactly one label per example (same first axis as the data)"));
            }
        }
        check_labels(model, &shape, integer, a.loss.as_deref())?;
    }
    Ok(())
}

fn layers_json(report: &Option<Report>) -> Value {
    Value::Array(
        report
            .iter()
            .flat_map(|r| &r.layers)
            .map(|l| json!({"name": l.name, "type": l.type_name, "output_shape": l.output_shape.to_json_with_batch(), "params": l.params()}))
            .collect(),
    )
}

fn print_json(o: &Outcome) {
    let mut v = json!({"ok": o.error.is_none(), "layers": layers_json(&o.report)});
    match &o.error {
        None => {
            let r = o
                .report
                .as_ref()
                .expect("a report exists when nothing failed");
            v["total_params"] = json!(r.total_params());
            v["trainable_params"] = json!(r.trainable_params());
            v["non_trainable_params"] = json!(r.non_trainable_params());
        }
        Some(e) => v["error"] = e.to_json(),
    }
    if let Some(p) = &o.predict {
        v["predict_output_shapes"] = p.clone();
    }
    if let Some(m) = &o.min_input {
        v["min_input"] = m.clone();
    }
    if o.built_from_feed {
        v["built_from_feed"] = json!(true);
    }
    outln!("{v}");
}

fn print_text(o: &Outcome) {
    if o.built_from_feed {
        outln!("The spec declares no input shape: built on the fed array's shape, as Keras builds on its first batch.");
    }
    if let (Some(m), Some(r)) = (&o.model, &o.report) {
        if !r.layers.is_empty() || r.ok() {
            if !r.ok() {
                outln!("Layers inferred before the problem:");
            }
            out!("{}", summary(m, r));
        }
    }
    if let Some(mins) = o.min_input.as_ref().and_then(Value::as_array) {
        outln!("\nSmallest input per axis (batch axis = 0):");
        for m in mins {
            let declared = m["declared"]
                .as_u64()
                .map(|d| d.to_string())
                .unwrap_or_else(|| "None".into());
            let line = match m["min"].as_u64() {
                None => "no size up to 16777216 works".to_string(),
                Some(1) => "any size".to_string(),
                Some(n) if m["exact"] == true => format!("exactly {n}"),
                Some(n) => format!(
                    "at least {n}{}",
                    m["limited_by"]
                        .as_str()
                        .map(|l| format!(" (limited by '{l}')"))
                        .unwrap_or_default()
                ),
            };
            outln!("  axis {} (declared {declared}): {line}", m["axis"]);
        }
    }
    match &o.error {
        None => outln!("\nok: every layer fits"),
        Some(e) => {
            if o.report.is_some() {
                outln!();
            }
            out!("{}", e.render());
        }
    }
    if let Some(p) = o.predict.as_ref().and_then(Value::as_array) {
        let shapes: Vec<String> = p.iter().map(Value::to_string).collect();
        outln!("the fed array gives output shape(s) {}", shapes.join(", "));
    }
}

pub fn run(a: &CheckArgs) -> u8 {
    let o = analyse(a);
    if a.json {
        print_json(&o);
    } else {
        print_text(&o);
    }
    crate::report::diagnosis_code(o.error.as_ref())
}
