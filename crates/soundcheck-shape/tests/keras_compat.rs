//! The engine against a few hundred models built in real Keras by
//! `tools/fixtures/keras_shapes.py` (versions in `fixtures/keras_versions.json`): identical
//! shapes and parameter counts where Keras builds and runs the model, a diagnosis of a matching
//! kind where Keras fails, and `negative_dimension` for zero-length outputs Keras lets through.

use serde_json::Value;
use soundcheck_shape::{keras, summary::summary, Kind, Model, ModelSpec};

fn jsonl(text: &str) -> Vec<Value> {
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn generated() -> Vec<Value> {
    jsonl(include_str!("fixtures/keras_generated.jsonl"))
}

/// The kinds that explain each Keras error message.
fn kinds_for(message: &str) -> &'static [Kind] {
    const RANK: &[Kind] = &[
        Kind::RankMismatch,
        Kind::MissingChannelAxis,
        Kind::FlattenedInput,
    ];
    if message.contains("expected ndim")
        || message.contains("expected min_ndim")
        || message.contains("at least 3 dimension")
        || message.contains("Kernel shape must have the same length")
    {
        RANK
    } else if message.contains("Computed output size would be zero or negative")
        || message.contains("negative")
        || message.contains("should be smaller than")
    {
        &[Kind::NegativeDimension, Kind::ChannelsOrder]
    } else if message.contains("Inputs have incompatible shapes") || message.contains("Concatenate")
    {
        &[Kind::MergeMismatch]
    } else if message.contains("Reshape") || message.contains("total size") {
        &[Kind::ReshapeSize]
    } else if message.contains("divisible by the number of groups") {
        &[Kind::ChannelMismatch]
    } else {
        &[]
    }
}

/// Models Keras builds whose call then fails inside TensorFlow's kernel, for reasons the shape
/// engine does not model yet. Each is named with the reason; the list must not grow silently.
const KNOWN_GAPS: &[(&str, &str)] = &[(
    "conv1d-053",
    "Conv1DTranspose(padding='same', kernel 6, strides 3, output_padding=0): TF aborts at call although Keras's symbolic shape is valid",
)];

#[test]
fn generated_suite_matches_keras() {
    let cases = generated();
    assert!(cases.len() >= 300, "{} cases", cases.len());
    let (ok, rejected) = compare_with_keras(&cases, &[]);
    assert!(
        ok >= 200 && rejected >= 40,
        "{ok} accepted, {rejected} rejected"
    );
}

/// Every shape-relevant argument of every layer class with the values users get wrong, as
/// `tools/fixtures/keras_arguments.py` recorded Keras taking or refusing them.
#[test]
fn argument_rules_match_keras() {
    let cases = jsonl(include_str!("fixtures/keras_arguments.jsonl"));
    const BATCH_AXIS: &str = "Concatenate along the batch axis: Keras builds it, but the output holds more examples than the input";
    // Concatenate over the batch axis of (batch, 16, 4) inputs: axis 0 or -3.
    let refused: Vec<(&str, &str)> = cases
        .iter()
        .filter(|c| {
            let last = c["model"]["layers"].as_array().unwrap().last().unwrap();
            last["type"] == "Concatenate" && matches!(last["config"]["axis"].as_i64(), Some(0 | -3))
        })
        .map(|c| (c["id"].as_str().unwrap(), BATCH_AXIS))
        .collect();
    assert_eq!(refused.len(), 2);
    let (ok, rejected) = compare_with_keras(&cases, &refused);
    assert!(
        ok >= 250 && rejected >= 250,
        "{ok} accepted, {rejected} rejected"
    );
}

/// Checks each case as Keras did: the same shapes and parameter counts where Keras builds and
/// runs the model, a diagnosis of a matching kind where it fails. `refused` names the cases
/// soundcheck refuses on purpose although Keras builds them, each with the reason.
/// Returns (accepted, rejected).
fn compare_with_keras(cases: &[Value], refused: &[(&str, &str)]) -> (usize, usize) {
    let (mut ok, mut rejected, mut zero) = (0, 0, 0);
    let mut failures = Vec::new();
    for c in cases {
        let id = c["id"].as_str().unwrap();
        let e = &c["expected"];
        // A spec Keras's arguments make unreadable is a refusal like any other.
        let outcome = match ModelSpec::from_value(&c["model"]) {
            Ok(spec) => Model::from_spec(&spec).map(|m| m.check()),
            Err(d) => Err(d),
        };
        // Keras's symbolic shape can disagree with what its call returns (e.g.
        // TimeDistributed(GlobalAveragePooling1D) over (T, F)): such a model is broken, and
        // soundcheck must reject it.
        let symbolic_matches_call = match (
            e["layers"].as_array().and_then(|l| l.last()),
            e["call_output_shape"].as_array(),
        ) {
            (Some(last), Some(call)) => {
                let sym = last["output_shape"].as_array().unwrap();
                sym.len() == call.len()
                    && sym[1..]
                        .iter()
                        .zip(&call[1..])
                        .all(|(s, c)| s.is_null() || s == c)
            }
            _ => true,
        };
        let keras_ok = e["ok"] == true && symbolic_matches_call;
        let zero_length = e["zero_length"] == true;
        if let Some((_, why)) = refused.iter().find(|(r, _)| *r == id) {
            let refusal = match &outcome {
                Ok(report) => report.error.as_ref(),
                Err(d) => Some(d),
            };
            assert!(
                keras_ok,
                "{id} is listed as refused ({why}) but Keras fails too"
            );
            match refusal {
                Some(d) if !d.fix.is_empty() => rejected += 1,
                _ => failures.push(format!("{id}: should be refused ({why})")),
            }
            continue;
        }
        match (&outcome, keras_ok && !zero_length) {
            (Ok(report), true) => {
                if let Some(err) = &report.error {
                    failures.push(format!("{id}: Keras builds it, soundcheck says {err}"));
                    continue;
                }
                let layers = e["layers"].as_array().unwrap();
                for (got, want) in report.layers.iter().zip(layers) {
                    if got.name != want["name"]
                        || got.output_shape.to_json_with_batch() != want["output_shape"]
                        || got.params() != want["params"].as_u64().unwrap()
                    {
                        failures.push(format!(
                            "{id}: layer {} → {} {} params; Keras {} {} {}",
                            got.name,
                            got.output_shape,
                            got.params(),
                            want["name"],
                            want["output_shape"],
                            want["params"]
                        ));
                    }
                }
                if report.total_params() != e["total_params"].as_u64().unwrap()
                    || report.trainable_params() != e["trainable_params"].as_u64().unwrap()
                    || report.non_trainable_params() != e["non_trainable_params"].as_u64().unwrap()
                {
                    failures.push(format!("{id}: totals differ"));
                }
                ok += 1;
            }
            (Err(d), true) => failures.push(format!(
                "{id}: Keras builds it, soundcheck rejects the spec: {d}"
            )),
            (Ok(report), false) if report.error.is_none() => {
                if !KNOWN_GAPS.iter().any(|(g, _)| *g == id) {
                    failures.push(format!(
                        "{id}: Keras fails ({}), soundcheck accepts it",
                        e["message"]
                    ))
                }
            }
            (outcome, false) => {
                let d = match outcome {
                    Ok(r) => r.error.clone().unwrap(),
                    Err(d) => d.clone(),
                };
                if zero_length {
                    zero += 1;
                    if d.kind != Kind::NegativeDimension {
                        failures.push(format!("{id}: zero-length output reported as {}", d.kind));
                    }
                    continue;
                }
                rejected += 1;
                let msg = e["message"].as_str().unwrap_or("");
                let allowed = kinds_for(msg);
                if !allowed.is_empty() && !allowed.contains(&d.kind) && d.kind != Kind::InvalidSpec
                {
                    failures.push(format!(
                        "{id}: Keras says \"{msg}\", soundcheck says {}",
                        d.kind
                    ));
                }
                if d.fix.is_empty() {
                    failures.push(format!("{id}: {} has no fix", d.kind));
                }
            }
        }
    }
    eprintln!(
        "{ok} accepted, {rejected} rejected, {zero} zero-length, {} cases",
        cases.len()
    );
    assert!(
        failures.is_empty(),
        "{} mismatches:\n{}",
        failures.len(),
        failures.join("\n")
    );
    (ok, rejected)
}

fn fixture(name: &str) -> String {
    std::fs::read_to_string(format!(
        "{}/tests/fixtures/keras_json/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

#[test]
fn keras_to_json_files_import_with_the_same_shapes() {
    let dir = format!("{}/tests/fixtures/keras_json", env!("CARGO_MANIFEST_DIR"));
    let cases = generated();
    let mut n = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let id = path.file_stem().unwrap().to_str().unwrap().to_string();
        let Some(case) = cases.iter().find(|c| c["id"] == id.as_str()) else {
            continue;
        };
        let v: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        assert!(keras::is_keras_config(&v));
        let spec = keras::from_keras(&v).unwrap_or_else(|d| panic!("{id}: {d}"));
        let report = Model::from_spec(&spec).unwrap().check();
        assert!(report.ok(), "{id}: {:?}", report.error);
        let want = case["expected"]["layers"].as_array().unwrap();
        assert_eq!(report.layers.len(), want.len(), "{id}");
        for (got, w) in report.layers.iter().zip(want) {
            assert_eq!(
                got.output_shape.to_json_with_batch(),
                w["output_shape"],
                "{id} {}",
                got.name
            );
            assert_eq!(
                got.params(),
                w["params"].as_u64().unwrap(),
                "{id} {}",
                got.name
            );
        }
        // Round trip: spec → Keras JSON → spec checks the same.
        let again = keras::from_keras(&keras::to_keras(&spec).unwrap()).unwrap();
        let r2 = Model::from_spec(&again).unwrap().check();
        assert_eq!(r2.layers, report.layers, "{id}");
        n += 1;
    }
    assert!(n >= 10, "only {n} Keras JSON files");
}

#[test]
fn summaries_match_keras_character_for_character() {
    let want: Value = serde_json::from_str(include_str!("fixtures/keras_summaries.json")).unwrap();
    let cases = generated();
    for (id, text) in want.as_object().unwrap() {
        let spec = if id == "sequential-mfcc-lstm" {
            keras::from_keras(&serde_json::from_str(&fixture("sequential-mfcc-lstm.json")).unwrap())
                .unwrap()
        } else {
            let c = cases.iter().find(|c| c["id"] == id.as_str()).unwrap();
            let mut spec = ModelSpec::from_value(&c["model"]).unwrap();
            spec.name = Some("functional".into());
            spec.api = Some(soundcheck_shape::Api::Functional);
            spec
        };
        let model = Model::from_spec(&spec).unwrap();
        let report = model.check();
        let got = summary(&model, &report);
        assert_eq!(got.trim_end(), text.as_str().unwrap().trim_end(), "{id}");
    }
}

fn inputs_fixture() -> Value {
    serde_json::from_str(include_str!("fixtures/keras_inputs.json")).unwrap()
}

fn sequential(layers: &Value) -> ModelSpec {
    ModelSpec::from_value(&serde_json::json!({"api": "sequential", "layers": layers})).unwrap()
}

/// Input shapes declared twice or in Keras 2's spelling, as `tools/fixtures/keras_inputs.py`
/// recorded Keras 3 building or refusing each Sequential model.
#[test]
fn input_declarations_match_keras() {
    let fixture = inputs_fixture();
    for c in fixture["declarations"].as_array().unwrap() {
        let (id, e) = (&c["id"], &c["expected"]);
        let outcome = Model::from_spec(&sequential(&c["layers"]));
        match (outcome, e["ok"] == true) {
            (Ok(m), true) => {
                let r = m.check();
                assert!(r.ok(), "{id}: {:?}", r.error);
                let input = m.inputs[0].shape.to_json_with_batch();
                assert_eq!(input, e["input_shape"], "{id}");
                let out = r.layers.last().unwrap().output_shape.to_json_with_batch();
                assert_eq!(out, e["output_shape"], "{id}");
            }
            (Err(d), false) => {
                assert_eq!(d.kind, Kind::InvalidSpec, "{id}");
                assert!(!d.fix.is_empty(), "{id}: no fix");
            }
            (Ok(_), false) => panic!(
                "{id}: Keras refuses it ({}), soundcheck builds it",
                e["message"]
            ),
            (Err(d), true) => panic!("{id}: Keras builds it, soundcheck says {d}"),
        }
    }
}

/// Models with no input shape: unbuilt until the first batch, then checked on its shape, as
/// Keras does.
#[test]
fn deferred_builds_match_keras() {
    let fixture = inputs_fixture();
    for c in fixture["deferred"].as_array().unwrap() {
        let (id, e) = (&c["id"], &c["expected"]);
        assert_eq!(e["built_before_call"], false, "{id}");
        let spec = sequential(&c["layers"]);
        let unbuilt = Model::from_spec(&spec).unwrap_err();
        assert!(
            unbuilt.title.contains("Keras builds it on the first batch"),
            "{id}: {unbuilt}"
        );
        assert!(unbuilt.fix.contains("`feed`"), "{id}");
        let feed: Vec<usize> = serde_json::from_value(c["feed"].clone()).unwrap();
        let (model, built_by_feed) = Model::from_spec_on_feed(&spec, &feed).unwrap();
        assert!(built_by_feed, "{id}");
        let outcome = match model.check().error {
            Some(d) => Err(d),
            None => soundcheck_shape::feed::check_feed(&model, &feed),
        };
        match (outcome, e["ok"] == true) {
            (Ok(outs), true) => {
                assert_eq!(serde_json::json!(outs[0]), e["output_shape"], "{id}");
            }
            (Err(d), false) => assert!(!d.fix.is_empty(), "{id}: no fix"),
            (Ok(o), false) => panic!(
                "{id}: Keras fails ({}), soundcheck gives {o:?}",
                e["message"]
            ),
            (Err(d), true) => panic!("{id}: Keras runs it, soundcheck says {d}"),
        }
    }
}

#[test]
fn an_unbuilt_model_says_which_arrays_it_accepts() {
    let layers = serde_json::json!([{"type": "LSTM", "config": {"units": 4}}]);
    let d = Model::from_spec(&sequential(&layers)).unwrap_err();
    assert_eq!(
        d.expected.as_deref(),
        Some("its layers accept arrays of ndim 3 (batch axis included), any size on the last axis")
    );
    let layers = serde_json::json!([{"type": "Dense", "config": {"units": 4}}]);
    let d = Model::from_spec(&sequential(&layers)).unwrap_err();
    assert!(
        d.expected
            .as_deref()
            .unwrap_or_default()
            .starts_with("its layers accept arrays of ndim 2 or ndim 3 or ndim 4"),
        "{:?}",
        d.expected
    );
}

/// Label shape × loss × output, as `tools/fixtures/keras_labels.py` recorded one Keras `fit`
/// step training or failing.
#[test]
fn labels_match_keras() {
    let cases = jsonl(include_str!("fixtures/keras_labels.jsonl"));
    let mut failures = Vec::new();
    for c in &cases {
        let id = c["id"].as_str().unwrap();
        let model = Model::from_spec(&ModelSpec::from_value(&c["model"]).unwrap()).unwrap();
        let shape: Vec<usize> = serde_json::from_value(c["labels_shape"].clone()).unwrap();
        let integer = c["labels_integer"].as_bool();
        let got =
            soundcheck_shape::labels::check_labels(&model, &shape, integer, c["loss"].as_str());
        match (got, c["expected"]["ok"] == true) {
            (Ok(()), true) => {}
            (Err(d), false) => {
                if d.fix.is_empty() {
                    failures.push(format!("{id}: {} has no fix", d.kind));
                }
            }
            (Ok(()), false) => failures.push(format!(
                "{id}: Keras fails ({}), soundcheck accepts",
                c["expected"]["message"]
            )),
            // Keras also trains where its loss broadcasts the labels, or where a categorical
            // loss over one unit is always 0: soundcheck refuses those on purpose and says why.
            (Err(d), true)
                if d.cause.contains("Keras would not stop you")
                    || d.cause.contains("Keras trains without a complaint") => {}
            (Err(d), true) => {
                failures.push(format!("{id}: Keras trains, soundcheck says {}", d.title))
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} label cases differ:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

/// soundcheck's copies of Keras's initializer, regularizer and constraint registries are the
/// lists Keras itself holds (`tools/fixtures/keras_arguments.py` writes them).
#[test]
fn identifier_registries_are_keras_own() {
    use soundcheck_shape::identifiers::{CONSTRAINTS, INITIALIZERS, REGULARIZERS};
    let v: Value = serde_json::from_str(include_str!("fixtures/keras_identifiers.json")).unwrap();
    for (module, registry) in [
        ("initializers", &INITIALIZERS),
        ("regularizers", &REGULARIZERS),
        ("constraints", &CONSTRAINTS),
    ] {
        assert_eq!(v[module], serde_json::json!(registry.names), "{module}");
    }
}
