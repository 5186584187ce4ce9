//! The data pipeline on `x.npy`/`y.npy` folders: damaged data is a named error, and data that
//! does not fit the model stops before the first step with the shape engine's diagnosis.

use std::path::{Path, PathBuf};

use soundcheck_data::{check_dataset, ArrayDataset, DataError, Dataset};
use soundcheck_shape::{Kind, Model, ModelSpec};

fn dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("sc-data-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn save_f32(d: &Path, file: &str, shape: &[usize], f: impl Fn(usize) -> f32) {
    let n: usize = shape.iter().product();
    soundcheck_npy::write(&d.join(file), shape, &(0..n).map(f).collect::<Vec<f32>>()).unwrap();
}

fn save_i64(d: &Path, file: &str, shape: &[usize], f: impl Fn(usize) -> i64) {
    let n: usize = shape.iter().product();
    soundcheck_npy::write(&d.join(file), shape, &(0..n).map(f).collect::<Vec<i64>>()).unwrap();
}

fn model(file: &str) -> Model {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../models")
        .join(file);
    Model::from_spec(&ModelSpec::from_toml_str(&std::fs::read_to_string(path).unwrap()).unwrap())
        .unwrap()
}

#[test]
fn damaged_or_inconsistent_arrays_are_named() {
    let d = dir("counts");
    save_f32(&d, "x.npy", &[100, 13], |i| i as f32);
    save_i64(&d, "y.npy", &[90], |i| (i % 10) as i64);
    let e = ArrayDataset::open_npy_dir(&d).unwrap_err().to_string();
    assert!(
        e.contains("x.npy and")
            && e.contains("y.npy")
            && e.contains("one target per input (100 inputs)")
            && e.contains("found 90 targets"),
        "{e}"
    );

    let d = dir("nan");
    save_f32(
        &d,
        "x.npy",
        &[10, 4],
        |i| if i == 29 { f32::NAN } else { 0.0 },
    );
    save_i64(&d, "y.npy", &[10], |_| 0);
    let e = ArrayDataset::open_npy_dir(&d).unwrap_err();
    assert!(matches!(e, DataError::NonFinite { example: 7, .. }), "{e}");
    assert!(
        e.to_string().contains("x.npy: example 7 contains NaN"),
        "{e}"
    );

    let e = ArrayDataset::open_npy_dir(&dir("missing"))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("x.npy") && e.contains("found none of them"),
        "{e}"
    );
}

#[test]
fn a_flattened_spectrogram_stops_before_training() {
    let d = dir("flat");
    save_f32(&d, "x.npy", &[8, 2584], |i| (i % 7) as f32);
    save_f32(&d, "y.npy", &[8, 513, 25, 1], |_| 0.5);
    let ds = ArrayDataset::open_npy_dir(&d).unwrap();
    let e = check_dataset(&model("vocal-mask.toml"), &ds, 16, None).unwrap_err();
    assert_eq!(e.kind, Kind::FlattenedInput, "{e}");
    assert!(e.fix.contains("(n_patches, 513, 25, 1)"));
}

#[test]
fn mfcc_sequences_with_integer_labels_fit_the_lstm() {
    let d = dir("mfcc");
    save_f32(&d, "x.npy", &[12, 100, 13], |i| (i % 11) as f32 * 0.1);
    save_i64(&d, "y.npy", &[12], |i| (i % 10) as i64);
    let ds = ArrayDataset::open_npy_dir(&d).unwrap();
    assert!(ds.targets()[0].integer);
    check_dataset(&model("mfcc-lstm.toml"), &ds, 32, None).unwrap();
    // The same labels one-hot, with the spec's sparse loss: the loss wants class indices.
    let d = dir("onehot");
    save_f32(&d, "x.npy", &[12, 100, 13], |_| 0.0);
    save_f32(&d, "y.npy", &[12, 10], |i| {
        if i % 10 == (i / 10) % 10 {
            1.0
        } else {
            0.0
        }
    });
    let ds = ArrayDataset::open_npy_dir(&d).unwrap();
    let e = check_dataset(&model("mfcc-lstm.toml"), &ds, 32, None).unwrap_err();
    assert_eq!(e.kind, Kind::LabelMismatch);
    assert!(
        e.fix.contains("categorical_crossentropy") || e.fix.contains("argmax"),
        "{}",
        e.fix
    );
    // Integer labels with categorical_crossentropy: one-hot them or use the sparse loss.
    let d = dir("ints");
    save_f32(&d, "x.npy", &[12, 100, 13], |_| 0.0);
    save_i64(&d, "y.npy", &[12], |i| (i % 10) as i64);
    let ds = ArrayDataset::open_npy_dir(&d).unwrap();
    let e = check_dataset(
        &model("mfcc-lstm.toml"),
        &ds,
        32,
        Some("categorical_crossentropy"),
    )
    .unwrap_err();
    assert!(e.fix.contains("to_categorical(y, 10)"), "{}", e.fix);
    // Transposed MFCCs (librosa's (n_mfcc, frames)).
    let d = dir("transposed");
    save_f32(&d, "x.npy", &[12, 13, 100], |_| 0.0);
    save_i64(&d, "y.npy", &[12], |_| 1);
    let ds = ArrayDataset::open_npy_dir(&d).unwrap();
    let e = check_dataset(&model("mfcc-lstm.toml"), &ds, 32, None).unwrap_err();
    assert!(e.fix.contains("np.transpose(x, (0, 2, 1))"), "{}", e.fix);
}

#[test]
fn float_ids_for_an_embedding_are_refused() {
    let spec = ModelSpec::from_toml_str(
        r#"
input_shape = [20]
input_dtype = "int32"
loss = "sparse_categorical_crossentropy"
[[layers]]
type = "Embedding"
input_dim = 100
output_dim = 8
[[layers]]
type = "GlobalAveragePooling1D"
[[layers]]
type = "Dense"
units = 3
activation = "softmax"
"#,
    )
    .unwrap();
    let m = Model::from_spec(&spec).unwrap();
    let d = dir("emb");
    save_f32(&d, "x.npy", &[5, 20], |i| (i % 100) as f32);
    save_i64(&d, "y.npy", &[5], |i| (i % 3) as i64);
    let ds = ArrayDataset::open_npy_dir(&d).unwrap();
    let e = check_dataset(&m, &ds, 32, None).unwrap_err();
    assert_eq!(e.kind, Kind::FeedMismatch);
    assert!(e.fix.contains("x.astype(np.int64)"));
    save_i64(&d, "x.npy", &[5, 20], |i| (i % 100) as i64);
    check_dataset(&m, &ArrayDataset::open_npy_dir(&d).unwrap(), 32, None).unwrap();
}
