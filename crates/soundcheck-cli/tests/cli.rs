//! The `soundcheck` binary: every seed case through `check --json`, exit statuses, Keras
//! import, conversion, labels, minimum input, and errors on unusable files.

use std::path::{Path, PathBuf};

use serde_json::Value;

const SEEDS: &str = include_str!("../../soundcheck-shape/tests/fixtures/seed_cases.jsonl");

fn repo(p: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").join(p)
}

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("soundcheck-cli-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d.join(name)
}

mod common;
use common::run;

fn json_of(args: &[&str]) -> (i32, Value) {
    let (code, stdout, stderr) = run(args);
    let v = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("not one JSON object ({e}): {stdout} {stderr}"));
    (code, v)
}

#[test]
fn every_seed_case_through_the_cli() {
    for line in SEEDS.lines() {
        let c: Value = serde_json::from_str(line).unwrap();
        let id = c["id"].as_str().unwrap();
        let path = tmp(&format!("{id}.json"));
        std::fs::write(&path, c["model"].to_string()).unwrap();
        let mut args = vec!["check", path.to_str().unwrap(), "--json"];
        let feed;
        if let Some(f) = c["feed_shape"].as_array() {
            feed = f
                .iter()
                .map(|d| d.to_string())
                .collect::<Vec<_>>()
                .join(",");
            args.extend(["--feed", &feed]);
        }
        let (code, v) = json_of(&args);
        let e = &c["expected"];
        let feed_differs = c["feed_shape"]
            .as_array()
            .is_some_and(|f| f[1..] != *c["model"]["input_shape"].as_array().unwrap());
        let should_fit = e["ok"] == true && !feed_differs;
        assert_eq!(v["ok"], should_fit, "{id}: {v}");
        assert_eq!(code, if should_fit { 0 } else { 1 }, "{id}");
        if should_fit {
            assert_eq!(v["total_params"], e["total_params"], "{id}");
            assert_eq!(v["non_trainable_params"], e["non_trainable_params"], "{id}");
            let names: Vec<&Value> = v["layers"]
                .as_array()
                .unwrap()
                .iter()
                .map(|l| &l["output_shape"])
                .collect();
            let want: Vec<&Value> = e["layers"]
                .as_array()
                .unwrap()
                .iter()
                .map(|l| &l["output_shape"])
                .collect();
            assert_eq!(names, want, "{id}");
            if let Some(p) = e.get("predict_output_shapes") {
                assert_eq!(&v["predict_output_shapes"], p, "{id}");
            }
        } else {
            let err = &v["error"];
            for key in ["kind", "layer", "message", "fix"] {
                assert!(err.get(key).is_some(), "{id}: error lacks {key}: {err}");
            }
            assert!(!err["fix"].as_str().unwrap().is_empty(), "{id}");
        }
    }
}

#[test]
fn text_output_is_a_keras_summary_and_exit_0() {
    let (code, out, _) = run(&["check", repo("models/vocal-mask.toml").to_str().unwrap()]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("Model: \"vocal-mask\""));
    assert!(
        out.contains("│ mask (Conv2D)       │ (None, 513, 25,   │         33 │"),
        "{out}"
    );
    assert!(out.contains(" Total params: 56,737 (221.63 KB)"));
    assert!(out.contains(" Non-trainable params: 448 (1.75 KB)"));
}

#[test]
fn flattened_feed_is_diagnosed_rustc_style_with_exit_1() {
    let (code, out, _) = run(&[
        "check",
        repo("models/vocal-mask.toml").to_str().unwrap(),
        "--feed",
        "32,2584",
    ]);
    assert_eq!(code, 1);
    assert!(out.contains("error[flattened_input]"), "{out}");
    assert!(
        out.contains("= fix: compute the spectrogram with its 513 bins"),
        "{out}"
    );
}

#[test]
fn json_on_failure_lists_the_layers_inferred_before_it() {
    let c: Value = SEEDS
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .find(|c| c["id"] == "seed-conv1d-pool-stack-L105-fails")
        .unwrap();
    let path = tmp("pool105.json");
    std::fs::write(&path, c["model"].to_string()).unwrap();
    let (code, v) = json_of(&["check", path.to_str().unwrap(), "--json", "--min-input"]);
    assert_eq!(code, 1);
    assert_eq!(v["ok"], false);
    assert_eq!(v["layers"].as_array().unwrap().len(), 5);
    assert_eq!(
        v["layers"][4]["output_shape"],
        serde_json::json!([null, 3, 32])
    );
    assert_eq!(v["error"]["kind"], "negative_dimension");
    assert_eq!(v["error"]["layer"], "max_pooling1d_2");
    assert_eq!(v["min_input"][0]["min"], 106);
    assert_eq!(v["min_input"][0]["limited_by"], "max_pooling1d_2");
}

#[test]
fn unusable_files_exit_2_and_name_the_file() {
    let empty = tmp("empty.toml");
    std::fs::write(&empty, "").unwrap();
    let garbage = tmp("garbage.json");
    std::fs::write(
        &garbage,
        "{\"input_shape\": [8, 1], \"layers\": [{\"type\": \"Conv2d\", \"filters\": 3}]}",
    )
    .unwrap();
    let no_input = tmp("no_input.toml");
    std::fs::write(&no_input, "[[layers]]\ntype = \"Dense\"\nunits = 3\n").unwrap();
    let bad_keras = tmp("bad.keras");
    std::fs::write(&bad_keras, b"PK\x03\x04 not really a zip").unwrap();
    for (path, needle) in [
        (empty.to_str().unwrap(), "the file is empty"),
        ("/nonexistent/model.toml", "cannot read the file"),
        (garbage.to_str().unwrap(), "did you mean 'Conv2D'"),
        (bad_keras.to_str().unwrap(), "not a readable .keras archive"),
        (
            no_input.to_str().unwrap(),
            "no_input.toml: the model has no input shape",
        ),
    ] {
        let (code, out, _) = run(&["check", path]);
        assert_eq!(code, 2, "{path}: {out}");
        assert!(out.contains("error[invalid_spec]"), "{out}");
        assert!(out.contains(needle), "{path}: {out}");
    }
    // The shape engine names its arguments; the CLI's report names its flags.
    let (_, out, _) = run(&["check", no_input.to_str().unwrap()]);
    assert!(out.contains("given as --feed (e.g. 32,100,13)"), "{out}");
    // Keras's deferred build: the fed array's shape builds a spec that declares none.
    let (code, out, _) = run(&["check", no_input.to_str().unwrap(), "--feed", "32,13"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("built on the fed array's shape"), "{out}");
    let (code, v) = json_of(&[
        "check",
        no_input.to_str().unwrap(),
        "--feed",
        "32,13",
        "--json",
    ]);
    assert_eq!(code, 0);
    assert_eq!(v["built_from_feed"], true);
    assert_eq!(v["predict_output_shapes"], serde_json::json!([[32, 3]]));
    let (code, v) = json_of(&["check", empty.to_str().unwrap(), "--json"]);
    assert_eq!(code, 2);
    assert_eq!(v["error"]["kind"], "invalid_spec");
    let (code, out, _) = run(&[
        "check",
        repo("models/mfcc-lstm.toml").to_str().unwrap(),
        "--feed",
        "32xx",
    ]);
    assert_eq!(code, 2);
    assert!(out.contains("--feed '32xx' is not a shape"), "{out}");
}

#[test]
fn keras_archive_imports_and_converts_round_trip() {
    let keras_file =
        repo("crates/soundcheck-shape/tests/fixtures/keras_json/sequential-mfcc-lstm.keras");
    let (code, v) = json_of(&["check", keras_file.to_str().unwrap(), "--json"]);
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["total_params"], 20618);
    let toml = tmp("mfcc.toml");
    let (code, _, err) = run(&[
        "convert",
        keras_file.to_str().unwrap(),
        toml.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    let (_, v2) = json_of(&["check", toml.to_str().unwrap(), "--json"]);
    assert_eq!(v2["layers"], v["layers"]);
    let kjson = tmp("vocal.keras.json");
    let (code, _, err) = run(&[
        "convert",
        repo("models/vocal-mask.toml").to_str().unwrap(),
        kjson.to_str().unwrap(),
        "--to",
        "keras",
    ]);
    assert_eq!(code, 0, "{err}");
    let (_, v3) = json_of(&["check", kjson.to_str().unwrap(), "--json"]);
    assert_eq!(v3["total_params"], 56737);
}

fn write_npy(path: &Path, descr: &str, shape: &[usize]) {
    let dims: Vec<String> = shape.iter().map(|d| d.to_string()).collect();
    let tuple = if dims.len() == 1 {
        format!("({},)", dims[0])
    } else {
        format!("({})", dims.join(", "))
    };
    let mut h = format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {tuple}, }}");
    while (10 + h.len() + 1) % 64 != 0 {
        h.push(' ');
    }
    h.push('\n');
    let mut bytes = b"\x93NUMPY\x01\x00".to_vec();
    bytes.extend((h.len() as u16).to_le_bytes());
    bytes.extend(h.as_bytes());
    std::fs::write(path, bytes).unwrap();
}

#[test]
fn labels_are_checked_against_output_and_loss() {
    let spec = repo("models/mfcc-lstm.toml");
    let x = tmp("x.npy");
    write_npy(&x, "<f4", &[32, 100, 13]);
    let y = tmp("y.npy");
    write_npy(&y, "<i8", &[32]);
    let s = spec.to_str().unwrap();
    let (code, v) = json_of(&[
        "check",
        s,
        "--data",
        x.to_str().unwrap(),
        "--labels",
        y.to_str().unwrap(),
        "--json",
    ]);
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["predict_output_shapes"], serde_json::json!([[32, 10]]));
    let (code, v) = json_of(&[
        "check",
        s,
        "--labels",
        y.to_str().unwrap(),
        "--loss",
        "categorical_crossentropy",
        "--json",
    ]);
    assert_eq!(code, 1);
    assert_eq!(v["error"]["kind"], "label_mismatch");
    assert!(
        v["error"]["fix"]
            .as_str()
            .unwrap()
            .contains("to_categorical(y, 10)"),
        "{v}"
    );
    let (_, v) = json_of(&[
        "check",
        s,
        "--data",
        x.to_str().unwrap(),
        "--labels",
        "30",
        "--json",
    ]);
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("32 examples but 30 labels"),
        "{v}"
    );
}

#[test]
fn help_shows_examples() {
    let (code, out, _) = run(&["check", "--help"]);
    assert_eq!(code, 0);
    assert!(out.contains("soundcheck check models/vocal-mask.toml --feed 32,2584"));
}

#[test]
fn absurd_sizes_are_errors_not_panics() {
    for spec in [
        r#"{"input_shape":[99999999999,3],"layers":[{"type":"Dense","units":3}]}"#,
        r#"{"input_shape":[4,3],"layers":[{"type":"UpSampling1D","size":2147483647},{"type":"UpSampling1D","size":2147483647}]}"#,
        r#"{"input_shape":[4,3],"layers":[{"type":"Conv1DTranspose","filters":2147483647,"kernel_size":2147483647,"strides":2147483647}]}"#,
        r#"{"input_shape":[4,2147483647],"layers":[{"type":"LSTM","units":2147483647,"return_sequences":true},{"type":"LSTM","units":2147483647}]}"#,
        r#"{"input_shape":[4,3],"layers":[{"type":"Dense","units":99999999999}]}"#,
    ] {
        let path = tmp("absurd.json");
        std::fs::write(&path, spec).unwrap();
        let (code, out, err) = run(&["check", path.to_str().unwrap(), "--min-input"]);
        assert!(code <= 2, "{spec}: exit {code}\n{out}\n{err}");
        assert!(!err.contains("panicked"), "{spec}: {err}");
    }
}

#[test]
fn a_dataset_folder_is_checked_inputs_and_labels_together() {
    let dir = tmp("dataset");
    std::fs::create_dir_all(&dir).unwrap();
    write_npy(&dir.join("x.npy"), "<f4", &[12, 100, 13]);
    write_npy(&dir.join("y.npy"), "<i8", &[12]);
    let spec = repo("models/mfcc-lstm.toml");
    let (code, v) = json_of(&[
        "check",
        spec.to_str().unwrap(),
        "--data",
        dir.to_str().unwrap(),
        "--json",
    ]);
    assert_eq!(code, 0, "{v}");
    write_npy(&dir.join("y.npy"), "<f4", &[12, 10]);
    let (code, v) = json_of(&[
        "check",
        spec.to_str().unwrap(),
        "--data",
        dir.to_str().unwrap(),
        "--json",
    ]);
    assert_eq!(code, 1);
    assert_eq!(v["error"]["kind"], "label_mismatch", "{v}");
    write_npy(&dir.join("y.npy"), "<i8", &[11]);
    let (_, v) = json_of(&[
        "check",
        spec.to_str().unwrap(),
        "--data",
        dir.to_str().unwrap(),
        "--json",
    ]);
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("12 examples but 11 labels"),
        "{v}"
    );
}

#[test]
fn devices_this_build_lacks_are_named() {
    let model = repo("models/vocal-mask.toml");
    let (code, _, err) = run(&["--device", "tpu", "check", model.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(err.contains("--device tpu: expected one of cpu"), "{err}");
    if !cfg!(feature = "wgpu") {
        let (code, _, err) = run(&["check", model.to_str().unwrap(), "--device", "wgpu"]);
        assert_eq!(code, 2);
        assert!(err.contains("--features wgpu"), "{err}");
    }
}
