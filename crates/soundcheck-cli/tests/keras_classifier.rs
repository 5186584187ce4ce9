//! `classify --model x.keras`: a classifier trained in Keras 3.15.1 on librosa 0.11.0's MFCCs of
//! four committed clips (`tools/fixtures/keras_classifier.py`), its preprocessing given as a
//! run's `classes.json` (`--classes`) or as flags (`--labels` and the feature flags). The
//! probabilities equal Keras's `predict` on librosa's features; what is missing or does not fit
//! the model is named with its flag.

mod common;

use std::path::{Path, PathBuf};

use common::run;
use serde_json::Value;

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/keras_classifier")
}

/// The four clips, as the fixture script read them.
fn clips() -> Vec<String> {
    let audio =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../soundcheck-audio/tests/fixtures/audio");
    recorded()["clips"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            audio
                .join(c["file"].as_str().unwrap())
                .display()
                .to_string()
        })
        .collect()
}

fn recorded() -> Value {
    serde_json::from_str(&std::fs::read_to_string(dir().join("predictions.json")).unwrap()).unwrap()
}

fn path(name: &str) -> String {
    dir().join(name).display().to_string()
}

/// `classify` with `args` before the clips; the probabilities of every class per clip, in
/// the recorded class order.
fn classify(args: &[&str]) -> Vec<Vec<f64>> {
    let clips = clips();
    let mut all: Vec<&str> = args.to_vec();
    all.extend(["--top-k", "3", "--json"]);
    all.extend(clips.iter().map(String::as_str));
    let (code, out, err) = run(&all);
    assert_eq!(code, 0, "{err}");
    let classes: Vec<String> = recorded()["classes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_string())
        .collect();
    let v: Value = serde_json::from_str(&out).unwrap();
    v["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            classes
                .iter()
                .map(|c| {
                    f["top"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .find(|t| t["class"] == c.as_str())
                        .unwrap()["probability"]
                        .as_f64()
                        .unwrap()
                })
                .collect()
        })
        .collect()
}

/// The largest difference from Keras's probabilities (recorded to 7 decimals), with features
/// computed by soundcheck where Keras had librosa's (three of the clips resampled from 8, 16 and
/// 44.1 kHz); measured: 1.7e-7.
fn assert_as_keras(got: &[Vec<f64>]) {
    let want = recorded();
    let mut worst = 0f64;
    for (clip, row) in want["clips"].as_array().unwrap().iter().zip(got) {
        for (w, g) in clip["probabilities"].as_array().unwrap().iter().zip(row) {
            worst = worst.max((w.as_f64().unwrap() - g).abs());
        }
    }
    eprintln!("max |Δp| against Keras: {worst:.2e}");
    assert!(worst <= 1e-4, "{worst}");
}

#[test]
fn a_keras_classifier_labels_clips_as_keras_with_its_preprocessing_as_flags() {
    assert_as_keras(&classify(&[
        "classify",
        "--model",
        &path("model.keras"),
        "--labels",
        "dog,cat,bird",
        "--n-mfcc",
        "13",
    ]));
    // The frames per clip are the model's input length, or given for a model without one.
    assert_as_keras(&classify(&[
        "classify",
        "--model",
        &path("any_length.keras"),
        "--labels",
        "dog,cat,bird",
        "--maxlen",
        "16",
    ]));
}

#[test]
fn a_keras_classifier_takes_a_runs_classes_json() {
    assert_as_keras(&classify(&[
        "classify",
        "--model",
        &path("model.keras"),
        "--classes",
        &path("classes.json"),
    ]));
}

/// `classify` of the first clip with `args`, expected to fail with exit `code`: its message.
fn refusal(args: &[&str], code: i32) -> String {
    let clip = clips().remove(0);
    let mut all = args.to_vec();
    all.push(&clip);
    let (got, _, err) = run(&all);
    assert_eq!(got, code, "{err}");
    err
}

#[test]
fn what_the_keras_file_lacks_is_named_with_its_flags() {
    let model = path("model.keras");
    let e = refusal(&["classify", "--model", &model], 2);
    assert!(
        e.contains("expected its preprocessing beside it")
            && e.contains("--classes, the classes.json of a soundcheck run")
            && e.contains("--labels, the class names in the order of the model's outputs"),
        "{e}"
    );
    let e = refusal(
        &[
            "classify",
            "--model",
            &path("any_length.keras"),
            "--labels",
            "a,b,c",
        ],
        2,
    );
    assert!(
        e.contains("--maxlen not given: expected the frames per clip the model was trained with")
            && e.contains("[null,null,13]"),
        "{e}"
    );
    let e = refusal(
        &[
            "classify", "--model", &model, "--labels", "a,b,c", "--n-mfcc", "20",
        ],
        2,
    );
    assert!(
        e.contains("the model takes 13 features per frame, the preprocessing gives 20 (mfcc 20)")
            && e.contains("--n-mfcc"),
        "{e}"
    );
    let e = refusal(
        &[
            "classify", "--model", &model, "--labels", "a,b,c", "--deltas", "true",
        ],
        2,
    );
    assert!(e.contains("gives 39 (mfcc 13, with deltas: ×3)"), "{e}");
    let e = refusal(
        &[
            "classify", "--model", &model, "--labels", "a,b,c", "--maxlen", "12",
        ],
        2,
    );
    assert!(
        e.contains("the model takes 16 frames per clip, --maxlen is 12"),
        "{e}"
    );
    let e = refusal(&["classify", "--model", &model, "--labels", "a,b"], 2);
    assert!(e.contains("2 classes for a model with 3 outputs"), "{e}");
    let e = refusal(
        &[
            "classify",
            "--model",
            &model,
            "--classes",
            &path("classes.json"),
            "--n-mfcc",
            "13",
        ],
        2,
    );
    assert!(
        e.contains("expected no feature or length flags beside it"),
        "{e}"
    );
    let e = refusal(
        &[
            "classify", "--model", &model, "--labels", "a,b,c", "--sr", "lowest",
        ],
        2,
    );
    assert!(e.contains("--sr lowest: expected the rate in Hz"), "{e}");
    // A classes.json from another model's run.
    let other = std::env::temp_dir().join(format!("sc-keras-classes-{}.json", std::process::id()));
    let text = std::fs::read_to_string(dir().join("classes.json"))
        .unwrap()
        .replace("\"n\": 13", "\"n\": 20")
        .replace("\"n\":13", "\"n\":20");
    std::fs::write(&other, text).unwrap();
    let e = refusal(
        &[
            "classify",
            "--model",
            &model,
            "--classes",
            other.to_str().unwrap(),
        ],
        2,
    );
    assert!(
        e.contains("standardisation vectors of 13 and 13 values for 20 features"),
        "{e}"
    );
    std::fs::remove_file(other).unwrap();
}
