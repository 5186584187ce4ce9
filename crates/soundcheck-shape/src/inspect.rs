//! The whole check of a model against the data it will get: build the spec (on the fed array's
//! shape when the spec declares none, as Keras builds on its first batch), infer every layer, then
//! check the inputs' shape and element type and the labels against the output and loss.
//!
//! The CLI's `check` and the Python package's `soundcheck.check` both print what this returns,
//! so a diagnosis reads the same wherever it is asked for.

use serde_json::{json, Value};

use crate::diagnosis::{Diagnosis, Kind};
use crate::feed::{check_feed, check_feed_dtype, PredictShapes};
use crate::labels::check_labels;
use crate::model::{Model, Report};
use crate::shape::fmt_array_shape;
use crate::spec::ModelSpec;
use crate::summary::summary;

/// What the model will be given, each part optional.
#[derive(Clone, Debug, Default)]
pub struct Data {
    /// Full shape of the inputs array, batch axis first.
    pub feed: Option<Vec<usize>>,
    /// Whether the inputs are integers, when known (a numpy dtype or a .npy header).
    pub feed_integer: Option<bool>,
    /// Full shape of the labels array, batch axis first.
    pub labels: Option<Vec<usize>>,
    /// Whether the labels are integers, when known.
    pub labels_integer: Option<bool>,
    /// Keras loss name; the spec's own loss when `None`.
    pub loss: Option<String>,
}

/// Everything a check found.
#[derive(Debug)]
pub struct Inspection {
    /// The model, when the spec could be built.
    pub model: Option<Model>,
    /// Every layer inferred, up to the first problem.
    pub report: Option<Report>,
    /// The first problem, if any.
    pub error: Option<Diagnosis>,
    /// Output shapes for the fed array, when it fits.
    pub predict: Option<PredictShapes>,
    /// The spec declares no input shape and the fed array's shape built it.
    pub built_from_feed: bool,
}

impl Inspection {
    /// A check that stopped before a model existed (an unreadable spec).
    pub fn failed(error: Diagnosis) -> Inspection {
        Inspection {
            model: None,
            report: None,
            error: Some(error),
            predict: None,
            built_from_feed: false,
        }
    }

    /// Everything fits.
    pub fn ok(&self) -> bool {
        self.error.is_none()
    }

    /// One JSON object: `ok`, `layers` (name, type, output shape, params), the parameter totals
    /// or the `error`, and the fed array's output shapes.
    pub fn to_json(&self) -> Value {
        let layers: Vec<Value> = self
            .report
            .iter()
            .flat_map(|r| &r.layers)
            .map(|l| {
                json!({"name": l.name, "type": l.type_name,
                       "output_shape": l.output_shape.to_json_with_batch(), "params": l.params()})
            })
            .collect();
        let mut v = json!({"ok": self.ok(), "layers": layers});
        match (&self.error, &self.report) {
            (Some(e), _) => v["error"] = e.to_json(),
            (None, Some(r)) => {
                v["total_params"] = json!(r.total_params());
                v["trainable_params"] = json!(r.trainable_params());
                v["non_trainable_params"] = json!(r.non_trainable_params());
            }
            (None, None) => {}
        }
        if let Some(p) = &self.predict {
            v["predict_output_shapes"] = json!(p);
        }
        if self.built_from_feed {
            v["built_from_feed"] = json!(true);
        }
        v
    }

    /// Keras's `model.summary()` table of the layers inferred (up to the problem, if any).
    pub fn summary(&self) -> String {
        match (&self.model, &self.report) {
            (Some(m), Some(r)) if !r.layers.is_empty() || r.ok() => summary(m, r),
            _ => String::new(),
        }
    }

    /// The report for a terminal: [`Inspection::render_layers`] then
    /// [`Inspection::render_verdict`].
    pub fn render(&self) -> String {
        self.render_layers() + &self.render_verdict()
    }

    /// How the model was built, and the summary table of the layers inferred.
    pub fn render_layers(&self) -> String {
        let mut out = String::new();
        if self.built_from_feed {
            out.push_str("The spec declares no input shape: built on the fed array's shape, as Keras builds on its first batch.\n");
        }
        let table = self.summary();
        if !table.is_empty() {
            if !self.ok() {
                out.push_str("Layers inferred before the problem:\n");
            }
            out.push_str(&table);
        }
        out
    }

    /// "ok" or the rustc-style diagnosis with its fix, then the fed array's output shapes.
    pub fn render_verdict(&self) -> String {
        let mut out = String::new();
        match &self.error {
            None => out.push_str("\nok: every layer fits\n"),
            Some(e) => {
                if self.report.is_some() {
                    out.push('\n');
                }
                out.push_str(&e.render());
            }
        }
        if let Some(p) = &self.predict {
            let shapes: Vec<String> = p.iter().map(|s| json!(s).to_string()).collect();
            out.push_str(&format!(
                "the fed array gives output shape(s) {}\n",
                shapes.join(", ")
            ));
        }
        out
    }
}

/// Builds `spec` and checks it against `data`. `origin` names where the spec came from (a path),
/// prefixed to problems of the spec as a whole so the message says which file is wrong.
pub fn inspect(spec: &ModelSpec, data: &Data, origin: Option<&str>) -> Inspection {
    let built = match &data.feed {
        Some(feed) => Model::from_spec_on_feed(spec, feed),
        None => Model::from_spec(spec).map(|m| (m, false)),
    };
    let (model, built_from_feed) = match built {
        Ok(b) => b,
        Err(mut e) => {
            if let (None, Some(o)) = (&e.layer, origin) {
                e.title = format!("{o}: {}", e.title);
            }
            return Inspection::failed(e);
        }
    };
    let report = model.check();
    let mut error = report.error.clone();
    let mut predict = None;
    if error.is_none() {
        match check_data(&model, data) {
            Ok(p) => predict = p,
            Err(e) => error = Some(e),
        }
    }
    Inspection {
        model: Some(model),
        report: Some(report),
        error,
        predict,
        built_from_feed,
    }
}

/// The inputs' shape and dtype, then the labels (count, shape, dtype, loss).
fn check_data(model: &Model, data: &Data) -> Result<Option<PredictShapes>, Diagnosis> {
    let predict = data
        .feed
        .as_deref()
        .map(|feed| check_feed(model, feed))
        .transpose()?;
    if let Some(integer) = data.feed_integer {
        check_feed_dtype(model, integer)?;
    }
    if let Some(labels) = &data.labels {
        let examples = data.feed.as_ref().and_then(|f| f.first().copied());
        if let (Some(examples), Some(&n)) = (examples, labels.first()) {
            if examples != n {
                return Err(Diagnosis::new(
                    Kind::LabelMismatch,
                    format!("{examples} examples but {n} labels"),
                )
                .received(format!("labels {}", fmt_array_shape(labels)))
                .expected(format!("{examples} label rows, one per example"))
                .fix("give exactly one label per example (same first axis as the data)"));
            }
        }
        check_labels(model, labels, data.labels_integer, data.loss.as_deref())?;
    }
    Ok(predict)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lstm_spec() -> ModelSpec {
        ModelSpec::from_toml_str(
            "input_shape = [100, 13]\nloss = \"sparse_categorical_crossentropy\"\n[[layers]]\ntype = \"LSTM\"\nunits = 8\n[[layers]]\ntype = \"Dense\"\nunits = 4\nactivation = \"softmax\"\n",
        )
        .unwrap()
    }

    #[test]
    fn a_fitting_model_reports_its_output_for_the_feed() {
        let data = Data {
            feed: Some(vec![32, 100, 13]),
            labels: Some(vec![32]),
            labels_integer: Some(true),
            ..Data::default()
        };
        let i = inspect(&lstm_spec(), &data, None);
        assert!(i.ok(), "{}", i.render());
        assert_eq!(i.predict, Some(vec![vec![Some(32), Some(4)]]));
        assert!(i.render().contains("ok: every layer fits"));
        assert_eq!(
            i.to_json()["total_params"],
            4 * (8 * (13 + 8 + 1)) + 8 * 4 + 4
        );
    }

    #[test]
    fn more_labels_than_examples_is_named_with_both_counts() {
        let data = Data {
            feed: Some(vec![32, 100, 13]),
            labels: Some(vec![31]),
            ..Data::default()
        };
        let e = inspect(&lstm_spec(), &data, None).error.unwrap();
        assert_eq!(e.kind, Kind::LabelMismatch);
        assert!(e.title.contains("32 examples but 31 labels"), "{}", e.title);
    }

    #[test]
    fn a_flattened_feed_is_diagnosed_after_the_layers_are_listed() {
        let data = Data {
            feed: Some(vec![32, 1300]),
            ..Data::default()
        };
        let i = inspect(&lstm_spec(), &data, Some("m.toml"));
        assert_eq!(i.error.as_ref().unwrap().kind, Kind::FlattenedInput);
        assert!(i.render().contains("error[flattened_input]"));
        assert_eq!(i.to_json()["ok"], false);
    }
}
