//! Reading the librosa fixtures and comparing with them, for the `librosa_*` test files.

use ndarray::Array2;
use realfft::num_complex::Complex32;
use serde_json::Value;
use soundcheck_audio::{MelConfig, PadMode, StftConfig};

use super::npy;

pub fn vec1(name: &str) -> Vec<f32> {
    npy(name).data
}

/// A 2-D real fixture as an (rows, cols) array.
pub fn mat(name: &str) -> Array2<f32> {
    let a = npy(name);
    Array2::from_shape_vec((a.shape[0], a.shape[1]), a.data).unwrap()
}

pub fn cmat(name: &str) -> Array2<Complex32> {
    complex_matrix(npy(name))
}

/// A 2-D complex fixture from another fixture folder.
pub fn cmat_in(dir: &std::path::Path, name: &str) -> Array2<Complex32> {
    complex_matrix(soundcheck_npy::read(&dir.join(name)).unwrap())
}

pub fn complex_matrix(a: soundcheck_npy::Array) -> Array2<Complex32> {
    assert!(a.complex);
    let data: Vec<Complex32> = a
        .data
        .chunks_exact(2)
        .map(|c| Complex32::new(c[0], c[1]))
        .collect();
    Array2::from_shape_vec((a.shape[0], a.shape[1]), data).unwrap()
}

pub fn input(c: &Value) -> Vec<f32> {
    let y = vec1(c["inputs"][0].as_str().unwrap());
    let tile = c["params"]["tile"].as_u64().unwrap_or(1) as usize;
    y.repeat(tile)
}

pub fn stft_cfg(p: &Value) -> StftConfig {
    StftConfig {
        n_fft: p["n_fft"].as_u64().unwrap_or(2048) as usize,
        hop_length: p["hop_length"].as_u64().map(|v| v as usize),
        win_length: p["win_length"].as_u64().map(|v| v as usize),
        center: p["center"].as_bool().unwrap_or(true),
        pad_mode: match p["pad_mode"].as_str() {
            Some("reflect") => PadMode::Reflect,
            _ => PadMode::Constant,
        },
        ..StftConfig::default()
    }
}

pub fn mel_cfg(p: &Value) -> MelConfig {
    MelConfig {
        n_mels: p["n_mels"].as_u64().unwrap_or(128) as usize,
        fmin: p["fmin"].as_f64().unwrap_or(0.0),
        fmax: p["fmax"].as_f64(),
        htk: p["htk"].as_bool().unwrap_or(false),
        slaney_norm: !p.get("norm").is_some_and(Value::is_null),
    }
}

pub fn sr(p: &Value) -> u32 {
    p["sr"].as_u64().unwrap_or(22050) as u32
}

/// Largest |a − b|, and the peak |b|.
pub fn max_err<'a>(
    a: impl IntoIterator<Item = &'a f32>,
    b: impl IntoIterator<Item = &'a f32>,
) -> (f32, f32) {
    a.into_iter().zip(b).fold((0f32, 0f32), |(e, p), (x, y)| {
        (e.max((x - y).abs()), p.max(y.abs()))
    })
}

pub fn assert_shape<A, B>(got: &Array2<A>, want: &Array2<B>, what: &str) {
    assert_eq!(got.dim(), want.dim(), "{what}: shape");
}

pub fn check_rel(what: &str, got: &Array2<f32>, want: &Array2<f32>, tol: f32) {
    assert_shape(got, want, what);
    let (e, peak) = max_err(got.iter(), want.iter());
    eprintln!(
        "{what}: max error {:.3e} of peak {peak:.3e} ({:.2e})",
        e,
        e / peak
    );
    assert!(
        e <= tol * peak,
        "{what}: max error {e} > {tol} × peak {peak}"
    );
}

pub fn check_abs(what: &str, got: &[f32], want: &[f32], tol: f32) {
    assert_eq!(got.len(), want.len(), "{what}: length");
    let (e, _) = max_err(got, want);
    eprintln!("{what}: max abs error {e:.3e}");
    assert!(e <= tol, "{what}: max abs error {e} > {tol}");
}

pub fn std_layout(a: &Array2<f32>) -> Vec<f32> {
    a.as_standard_layout().iter().copied().collect()
}

/// Compares `got` with the case's output matrix relative to its peak.
pub fn check_output_rel(c: &Value, got: &Array2<f32>, tol: f32) {
    let name = c["output"].as_str().unwrap();
    check_rel(name, got, &mat(name), tol);
}

/// Compares `got` with the case's output matrix, element by element.
pub fn check_output_abs(c: &Value, got: &Array2<f32>, tol: f32) {
    let name = c["output"].as_str().unwrap();
    let want = mat(name);
    assert_eq!(got.dim(), want.dim(), "{name}: shape");
    check_abs(name, &std_layout(got), &std_layout(&want), tol);
}

pub const REL: f32 = 2e-6;
pub const DB: f32 = 1e-3;

/// A fixture folder under `tests/` and its `index.json`.
pub fn folder(name: &str) -> (std::path::PathBuf, Value) {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join(name);
    let index =
        serde_json::from_str(&std::fs::read_to_string(dir.join("index.json")).unwrap()).unwrap();
    (dir, index)
}

/// The largest absolute difference and the reference's peak.
pub fn max_error(got: &[f32], want: &[f32]) -> (f32, f32) {
    let err = got
        .iter()
        .zip(want)
        .fold(0f32, |m, (a, b)| m.max((a - b).abs()));
    (err, want.iter().fold(0f32, |m, v| m.max(v.abs())))
}
