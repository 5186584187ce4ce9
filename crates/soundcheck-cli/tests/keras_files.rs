//! Trained Keras models from the command line: `predict --model model.keras`, `convert
//! model.keras RUN/` and `export RUN out.keras`, on the nn crate's Keras fixtures
//! (`tools/fixtures/keras_files.py`, `keras_export.py`), and `separate --model model.keras`
//! against the seed's own inference in Keras (`tools/fixtures/keras_separator.py`).

mod common;

use std::path::{Path, PathBuf};

use common::run;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../soundcheck-nn/tests/fixtures")
        .join(name)
}

fn temp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("sc-cli-keras-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// The largest difference between two `.npy` files, over the second's peak.
fn relative_error(got: &Path, want: &Path) -> f32 {
    let got = soundcheck_npy::read(got).unwrap();
    let want = soundcheck_npy::read(want).unwrap();
    assert_eq!(got.shape, want.shape);
    let err = got
        .data
        .iter()
        .zip(&want.data)
        .fold(0f32, |m, (a, b)| m.max((a - b).abs()));
    err / want.data.iter().fold(1e-3f32, |m, v| m.max(v.abs()))
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn a_keras_model_predicts_converts_and_exports() {
    let d = temp("roundtrip");
    let m = fixture("td_conv1d_lstm");
    for model in ["model.keras", "model.h5"] {
        let y = d.join(format!("{model}.npy"));
        let (code, _, err) = run(&[
            "predict",
            "--model",
            s(&m.join(model)),
            s(&m.join("x.npy")),
            "-o",
            s(&y),
        ]);
        assert_eq!(code, 0, "{err}");
        assert!(relative_error(&y, &m.join("predict.npy")) <= 1e-4);
    }
    // Keras → run → Keras: the run predicts as Keras, its export reads back the same.
    let runs = d.join("run");
    let (code, _, err) = run(&[
        "convert",
        s(&m.join("model.keras")),
        &format!("{}/", s(&runs)),
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(runs.join("weights.safetensors").exists() && runs.join("model.json").exists());
    let y = d.join("run.npy");
    let (code, _, err) = run(&[
        "predict",
        "--run",
        s(&runs),
        s(&m.join("x.npy")),
        "-o",
        s(&y),
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(relative_error(&y, &m.join("predict.npy")) <= 1e-4);
    let out = d.join("out.keras");
    let (code, _, err) = run(&["export", s(&runs), s(&out)]);
    assert_eq!(code, 0, "{err}");
    let y = d.join("export.npy");
    let (code, _, err) = run(&[
        "predict",
        "--model",
        s(&out),
        s(&m.join("x.npy")),
        "-o",
        s(&y),
    ]);
    assert_eq!(code, 0, "{err}");
    // What Keras predicted on soundcheck's export of this run (keras_export.py).
    assert!(relative_error(&y, &m.join("export_predict.npy")) <= 1e-4);
    // A converted run is never written over, nor an export over its run's files.
    let (code, _, err) = run(&[
        "convert",
        s(&m.join("model.keras")),
        &format!("{}/", s(&runs)),
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("already holds"), "{err}");
    let (code, _, err) = run(&["export", s(&runs), s(&runs.join("model.json"))]);
    assert_eq!(code, 2, "{err}");
    std::fs::remove_dir_all(d).unwrap();
}

#[test]
fn a_damaged_keras_file_is_named_with_its_layer_and_variable() {
    let d = temp("damaged");
    let m = fixture("pools_1d");
    let file = fixture("keras_files").join("wider_kernel.keras");
    let (code, _, err) = run(&[
        "predict",
        "--model",
        s(&file),
        s(&m.join("x.npy")),
        "-o",
        s(&d.join("y.npy")),
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("wider_kernel.keras")
            && err.contains("layer 'dense': variable 'dense/kernel'"),
        "{err}"
    );
    assert!(!d.join("y.npy").exists());
    // A spec has no weights to run.
    let (code, _, err) = run(&[
        "predict",
        "--model",
        s(&m.join("model.json")),
        s(&m.join("x.npy")),
        "-o",
        s(&d.join("y.npy")),
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("not a Keras model file with weights"), "{err}");
    std::fs::remove_dir_all(d).unwrap();
}

#[test]
fn a_keras_separator_separates_as_the_seeds_own_inference_does() {
    let f = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/keras_separator");
    let d = temp("separator");
    let out = d.join("out");
    let (code, stdout, stderr) = run(&[
        "separate",
        s(&f.join("mixture.wav")),
        "--model",
        s(&f.join("model.keras")),
        "-o",
        s(&out),
    ]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    // The seed's settings by default: 22050 Hz, n_fft 1024, hop 256, side-by-side 25-frame
    // patches over the track's peak magnitude.
    let got = soundcheck_audio::decode(&out.join("mixture/vocals.wav")).unwrap();
    let want = soundcheck_npy::read(&f.join("vocals.npy")).unwrap();
    assert_eq!(got.channels[0].len(), want.data.len());
    let err = got.channels[0]
        .iter()
        .zip(&want.data)
        .fold(0f32, |m, (a, b)| m.max((a - b).abs()));
    assert!(err < 1e-5, "{err}");
    let rest = soundcheck_audio::decode(&out.join("mixture/accompaniment.wav")).unwrap();
    let mix = soundcheck_audio::decode(&f.join("mixture.wav")).unwrap();
    let sum_err = mix.channels[0]
        .iter()
        .zip(&got.channels[0])
        .zip(&rest.channels[0])
        .fold(0f32, |m, ((x, v), r)| m.max((x - v - r).abs()));
    assert!(sum_err < 1e-6, "{sum_err}");

    // Settings the model does not take are named with its shapes; a run and a model at once,
    // or an unknown scaling, are refused.
    let (code, stdout, stderr) = run(&[
        "separate",
        s(&f.join("mixture.wav")),
        "--model",
        s(&f.join("model.keras")),
        "--n-fft",
        "2048",
        "-o",
        s(&d.join("bad")),
    ]);
    assert_eq!(code, 2, "{stdout}");
    assert!(
        stderr.contains("(None, 513, 25, 1)") && stderr.contains("1025 bins"),
        "{stderr}"
    );
    assert!(!d.join("bad").exists());
    let (code, _, stderr) = run(&[
        "separate",
        s(&f.join("mixture.wav")),
        "--model",
        s(&f.join("model.keras")),
        "--scaling",
        "loudest",
        "-o",
        s(&d.join("bad")),
    ]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("--scaling") && stderr.contains("track-max"),
        "{stderr}"
    );
    let (code, _, stderr) = run(&[
        "separate",
        s(&f.join("mixture.wav")),
        "--model",
        s(&f.join("model.keras")),
        "--run",
        s(&d),
        "-o",
        s(&d.join("bad")),
    ]);
    assert_eq!(code, 2, "{stderr}");
    std::fs::remove_dir_all(&d).unwrap();
}
