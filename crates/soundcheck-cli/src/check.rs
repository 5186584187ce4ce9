//! `soundcheck check MODEL`: the Keras-style summary, or the diagnosis of what does not fit.

use std::path::{Path, PathBuf};

use clap::Args;
use serde_json::{json, Value};
use soundcheck_shape::inspect::{inspect, Data, Inspection};
use soundcheck_shape::{load_model, Diagnosis, Kind};

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
    inspection: Inspection,
    min_input: Option<Value>,
}

fn analyse(a: &CheckArgs) -> Outcome {
    let inspection = match load_model(&a.model).and_then(|spec| {
        let data = data_of(a)?;
        Ok(inspect(&spec, &data, Some(&a.model.display().to_string())))
    }) {
        Ok(i) => i,
        Err(e) => Inspection::failed(e),
    };
    let min_input = inspection
        .model
        .as_ref()
        .filter(|_| a.min_input)
        .map(|model| {
            Value::Array(
                model
                    .min_input()
                    .iter()
                    .map(|m| json!({"axis": m.axis, "declared": m.declared, "min": m.min, "limited_by": m.limited_by, "exact": m.exact}))
                    .collect(),
            )
        });
    Outcome {
        inspection,
        min_input,
    }
}

/// The flags' data: `--feed` or the `--data` array's header, and `--labels` (a shape or a .npy
/// header) or the `--data` folder's `y.npy`.
fn data_of(a: &CheckArgs) -> Result<Data, Diagnosis> {
    let mut data = Data {
        loss: a.loss.clone(),
        ..Data::default()
    };
    if let Some(f) = &a.feed {
        data.feed = Some(parse_shape(f, "--feed")?);
    } else if let Some(x) = data_inputs(a) {
        let h = read_npy_header(&x)?;
        data.feed_integer = Some(h.is_integer());
        data.feed = Some(h.shape);
    }
    if let Some(l) = labels_source(a) {
        if l.to_lowercase().ends_with(".npy") {
            let h = read_npy_header(Path::new(&l))?;
            data.labels_integer = Some(h.is_integer());
            data.labels = Some(h.shape);
        } else {
            data.labels = Some(parse_shape(&l, "--labels")?);
        }
    }
    Ok(data)
}

/// The header of a `.npy` file (shape and element type), as a diagnosis when unreadable.
fn read_npy_header(path: &Path) -> Result<soundcheck_npy::Header, Diagnosis> {
    soundcheck_npy::read_header(path).map_err(|e| {
        Diagnosis::new(
            Kind::InvalidSpec,
            format!("{}: {}", e.path.display(), e.actual),
        )
        .expected("a .npy file written by numpy.save")
        .fix("save the array with np.save('x.npy', x), or give its shape with --feed")
    })
}

/// Parses `32,2584`, `(32, 2584)` or `[32, 2584]` into a shape.
fn parse_shape(text: &str, flag: &str) -> Result<Vec<usize>, Diagnosis> {
    let t = text
        .trim()
        .trim_start_matches(['(', '['])
        .trim_end_matches([')', ']']);
    t.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| s.parse::<usize>())
        .collect::<Result<Vec<_>, _>>()
        .ok()
        .filter(|v| !v.is_empty())
        .ok_or_else(|| {
            Diagnosis::new(Kind::InvalidSpec, format!("{flag} '{text}' is not a shape"))
                .expected("comma-separated sizes, batch first, e.g. 32,513,25,1")
                .fix(format!(
                    "write the array's full shape as numpy prints it: {flag} 32,2584"
                ))
        })
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

fn print_json(o: &Outcome) {
    let mut v = o.inspection.to_json();
    if let Some(m) = &o.min_input {
        v["min_input"] = m.clone();
    }
    outln!("{}", crate::report::with_flags(&v.to_string()));
}

/// The inspection's report, with the smallest input per axis between the table and the verdict.
fn print_text(o: &Outcome) {
    out!("{}", o.inspection.render_layers());
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
    out!(
        "{}",
        crate::report::with_flags(&o.inspection.render_verdict())
    );
}

pub fn run(a: &CheckArgs) -> u8 {
    let o = analyse(a);
    if a.json {
        print_json(&o);
    } else {
        print_text(&o);
    }
    crate::report::diagnosis_code(o.inspection.error.as_ref())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes_parse_in_numpy_forms() {
        assert_eq!(parse_shape("32,2584", "--feed").unwrap(), vec![32, 2584]);
        assert_eq!(
            parse_shape("(32, 513, 25, 1)", "--feed").unwrap(),
            vec![32, 513, 25, 1]
        );
        let e = parse_shape("32xx", "--feed").unwrap_err();
        assert!(e.title.contains("--feed"));
    }
}
