//! `soundcheck train` and `predict` from the command line: the run directory, `--json`, resume,
//! and the errors a user meets first.

mod common;

use std::path::{Path, PathBuf};

use common::run;
use serde_json::Value;

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("sc-cli-train-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

const MODEL: &str = "input_shape = [4]\n\
    [[layers]]\ntype = \"Dense\"\nunits = 8\nactivation = \"relu\"\n\
    [[layers]]\ntype = \"Dense\"\nunits = 3\nactivation = \"softmax\"\n";

/// Three classes told apart by which of the first three features is largest.
fn write_data(dir: &Path, n: usize) {
    let mut rng = soundcheck_io::SplitMix64::new(1);
    let x: Vec<f32> = (0..n * 4).map(|_| rng.uniform() as f32).collect();
    let y: Vec<i64> = (0..n)
        .map(|i| {
            let r = &x[i * 4..i * 4 + 3];
            (0..3).fold(0, |b, k| if r[k] > r[b] { k } else { b }) as i64
        })
        .collect();
    soundcheck_npy::write(&dir.join("x.npy"), &[n, 4], &x).unwrap();
    soundcheck_npy::write(&dir.join("y.npy"), &[n], &y).unwrap();
}

#[test]
fn train_writes_a_run_that_resumes_and_predicts() {
    let d = tmp("run");
    std::fs::write(d.join("m.toml"), MODEL).unwrap();
    write_data(&d, 300);
    let (m, data, out) = (
        d.join("m.toml"),
        d.to_str().unwrap().to_string(),
        d.join("run"),
    );
    let (m, out) = (m.to_str().unwrap(), out.to_str().unwrap());
    let (code, stdout, stderr) = run(&[
        "train",
        "--model",
        m,
        "--data",
        &data,
        "--loss",
        "sparse_categorical_crossentropy",
        "--epochs",
        "3",
        "--learning-rate",
        "0.02",
        "--validation-split",
        "0.2",
        "--out",
        out,
        "--json",
    ]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    let v: Value = serde_json::from_str(&stdout).unwrap();
    for key in [
        "initial_loss",
        "final_loss",
        "final_val_loss",
        "epochs",
        "seconds",
    ] {
        assert!(!v[key].is_null(), "{key} missing: {v}");
    }
    assert_eq!(v["epochs"], 3);
    assert!(stderr.contains("epoch 3/3: loss"), "{stderr}");
    for f in [
        "model.json",
        "train.json",
        "weights.safetensors",
        "checkpoint.safetensors",
        "log.csv",
        "curves.png",
        "accuracy.png",
    ] {
        assert!(Path::new(out).join(f).exists(), "{f} missing");
    }

    // A second `train` into the same directory is refused; --resume continues it.
    let (code, _, stderr) = run(&["train", "--model", m, "--data", &data, "--out", out]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("already holds a run") && stderr.contains("--resume"),
        "{stderr}"
    );
    let (code, stdout, stderr) = run(&[
        "train", "--data", &data, "--out", out, "--resume", "--epochs", "12", "--json",
    ]);
    assert_eq!(code, 0, "{stderr}");
    let v: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(v["epochs"], 12);
    assert_eq!(v["resumed_from_epoch"], 3);
    assert!(v["final_val_accuracy"].as_f64().unwrap() > 0.8, "{v}");
    let log = std::fs::read_to_string(Path::new(out).join("log.csv")).unwrap();
    assert_eq!(log.lines().count(), 13);

    let pred = d.join("p.npy");
    let (code, stdout, stderr) = run(&[
        "predict",
        "--run",
        out,
        &format!("{data}/x.npy"),
        "-o",
        pred.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("[300,3]"), "{stdout}");
    let p = soundcheck_npy::read(&pred).unwrap();
    assert_eq!(p.shape, vec![300, 3]);
    let row_sum: f32 = p.data[..3].iter().sum();
    assert!(
        (row_sum - 1.0).abs() < 1e-5,
        "softmax rows sum to 1: {row_sum}"
    );

    // Inputs the model does not take: the shape engine's diagnosis, exit 1.
    soundcheck_npy::write(&d.join("bad.npy"), &[5, 6], &[0f32; 30]).unwrap();
    let (code, _, stderr) = run(&[
        "predict",
        "--run",
        out,
        d.join("bad.npy").to_str().unwrap(),
        "-o",
        pred.to_str().unwrap(),
    ]);
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("bad.npy") && stderr.contains("(5, 6)"),
        "{stderr}"
    );
    std::fs::remove_dir_all(d).unwrap();
}

#[test]
fn data_that_does_not_fit_the_model_is_refused_before_training() {
    let d = tmp("misfit");
    std::fs::write(d.join("m.toml"), MODEL).unwrap();
    write_data(&d, 20);
    let data = d.to_str().unwrap();
    let out = d.join("run");
    // Integer class labels with a one-hot loss.
    let (code, _, stderr) = run(&[
        "train",
        "--model",
        d.join("m.toml").to_str().unwrap(),
        "--data",
        data,
        "--loss",
        "categorical_crossentropy",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("to_categorical") || stderr.contains("sparse_categorical_crossentropy"),
        "{stderr}"
    );
    assert!(!out.join("checkpoint.safetensors").exists());
    // Bad options name the flag and the accepted values.
    let (code, _, stderr) = run(&[
        "train",
        "--model",
        d.join("m.toml").to_str().unwrap(),
        "--data",
        data,
        "--loss",
        "mse",
        "--schedule",
        "linear",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("--schedule linear") && stderr.contains("cosine"),
        "{stderr}"
    );
    let (code, _, stderr) = run(&[
        "train",
        "--data",
        data,
        "--out",
        out.to_str().unwrap(),
        "--resume",
    ]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("no checkpoint.safetensors to resume from"),
        "{stderr}"
    );
    std::fs::remove_dir_all(d).unwrap();
}

/// The Keras fixture of two inputs ('audio', 'meta') and two outputs ('genre', 'tempo').
fn two_inputs(file: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../soundcheck-nn/tests/fixtures/two_inputs")
        .join(file)
}

#[test]
fn a_model_of_two_inputs_trains_from_named_arrays_and_predicts_an_npz() {
    let d = tmp("two-inputs");
    let model = two_inputs("model.json");
    let (model, data, out) = (model.to_str().unwrap(), d.to_str().unwrap(), d.join("run"));
    let out = out.to_str().unwrap();
    // The reproduction: one x.npy for two inputs is a diagnosis with the fix, exit 1.
    std::fs::copy(two_inputs("x_meta.npy"), d.join("x.npy")).unwrap();
    std::fs::copy(two_inputs("target.npz"), d.join("y.npz")).unwrap();
    let (code, _, stderr) = run(&[
        "train", "--model", model, "--data", data, "--loss", "mse", "--out", out,
    ]);
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("no array for the model's input 'audio'"),
        "{stderr}"
    );
    assert!(stderr.contains("x_audio.npy, x_meta.npy"), "{stderr}");
    assert!(!Path::new(out).exists(), "a refused run leaves no folder");

    std::fs::remove_file(d.join("x.npy")).unwrap();
    for f in ["x_audio.npy", "x_meta.npy"] {
        std::fs::copy(two_inputs(f), d.join(f)).unwrap();
    }
    let (code, stdout, stderr) = run(&[
        "train", "--model", model, "--data", data, "--loss", "mse", "--epochs", "2", "--out", out,
        "--json",
    ]);
    assert_eq!(code, 0, "{stderr}");
    let v: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(v["epochs"], 2);

    let pred = d.join("p.npz");
    let (code, stdout, stderr) = run(&[
        "predict",
        "--run",
        out,
        two_inputs("x.npz").to_str().unwrap(),
        "-o",
        pred.to_str().unwrap(),
        "--json",
    ]);
    assert_eq!(code, 0, "{stderr}");
    let v: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(v["outputs"][1]["name"], "tempo", "{v}");
    let p = soundcheck_npy::read_npz(&pred).unwrap();
    assert_eq!(
        (p[0].0.as_str(), p[0].1.shape.clone()),
        ("genre", vec![6, 3])
    );
    assert_eq!(
        (p[1].0.as_str(), p[1].1.shape.clone()),
        ("tempo", vec![6, 1])
    );
    // Several outputs do not fit one .npy.
    let (code, _, stderr) = run(&[
        "predict",
        "--run",
        out,
        two_inputs("x.npz").to_str().unwrap(),
        "-o",
        d.join("p.npy").to_str().unwrap(),
    ]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("2 outputs (genre, tempo)"), "{stderr}");
    std::fs::remove_dir_all(d).unwrap();
}
