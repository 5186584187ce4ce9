//! soundcheck-audio against librosa 0.11.0 (fixtures from `tools/fixtures/librosa_features.py`;
//! versions in `fixtures/versions.json`).
//!
//! Tolerances, as the largest error over the whole array:
//! - STFT, magnitude, power, mel spectrogram, filterbanks: 2e-6 of the array's peak (float32
//!   FFTs here; librosa multiplies a float64 window and runs the FFT in float64, then rounds).
//! - dB values, MFCCs, deltas: 1e-3 dB / coefficient units (log10 in float32 of the above).
//! - iSTFT: 1e-6 absolute on signals of peak 0.8.
//! - Resampling: same length (`ceil(n·target/orig)`), and within 1e-3 of the peak over the whole
//!   signal, edges included (the bound); measured: 1.5e-6 at worst over 48 rate pairs,
//!   chirps into the transition band, white noise and 1- to 300-sample files.
//! - iSTFT with `center=False`: samples where the summed squared window is below 1e-3 of its
//!   maximum (the outer edges of the first and last frame) are a ratio of two near-zero numbers
//!   in both implementations; they are held to 1e-2, the rest to 1e-6.

use ndarray::{Array2, ShapeBuilder};
use realfft::num_complex::Complex32;
use serde_json::Value;
use soundcheck_audio as audio;
use soundcheck_audio::{MelConfig, OnsetConfig, PadMode, Ref, StftConfig};

mod common;
use common::{cases, npy};

fn vec1(name: &str) -> Vec<f32> {
    npy(name).data
}

/// A 2-D real fixture as an (rows, cols) array.
fn mat(name: &str) -> Array2<f32> {
    let a = npy(name);
    Array2::from_shape_vec((a.shape[0], a.shape[1]), a.data).unwrap()
}

fn cmat(name: &str) -> Array2<Complex32> {
    complex_matrix(npy(name))
}

/// A 2-D complex fixture from another fixture folder.
fn cmat_in(dir: &std::path::Path, name: &str) -> Array2<Complex32> {
    complex_matrix(soundcheck_npy::read(&dir.join(name)).unwrap())
}

fn complex_matrix(a: soundcheck_npy::Array) -> Array2<Complex32> {
    assert!(a.complex);
    let data: Vec<Complex32> = a
        .data
        .chunks_exact(2)
        .map(|c| Complex32::new(c[0], c[1]))
        .collect();
    Array2::from_shape_vec((a.shape[0], a.shape[1]), data).unwrap()
}

fn input(c: &Value) -> Vec<f32> {
    let y = vec1(c["inputs"][0].as_str().unwrap());
    let tile = c["params"]["tile"].as_u64().unwrap_or(1) as usize;
    y.repeat(tile)
}

fn stft_cfg(p: &Value) -> StftConfig {
    StftConfig {
        n_fft: p["n_fft"].as_u64().unwrap_or(2048) as usize,
        hop_length: p["hop_length"].as_u64().map(|v| v as usize),
        win_length: p["win_length"].as_u64().map(|v| v as usize),
        center: p["center"].as_bool().unwrap_or(true),
        pad_mode: match p["pad_mode"].as_str() {
            Some("reflect") => PadMode::Reflect,
            _ => PadMode::Constant,
        },
    }
}

fn mel_cfg(p: &Value) -> MelConfig {
    MelConfig {
        n_mels: p["n_mels"].as_u64().unwrap_or(128) as usize,
        fmin: p["fmin"].as_f64().unwrap_or(0.0),
        fmax: p["fmax"].as_f64(),
        htk: p["htk"].as_bool().unwrap_or(false),
        slaney_norm: !p.get("norm").is_some_and(Value::is_null),
    }
}

fn sr(p: &Value) -> u32 {
    p["sr"].as_u64().unwrap_or(22050) as u32
}

/// Largest |a − b|, and the peak |b|.
fn max_err<'a>(
    a: impl IntoIterator<Item = &'a f32>,
    b: impl IntoIterator<Item = &'a f32>,
) -> (f32, f32) {
    a.into_iter().zip(b).fold((0f32, 0f32), |(e, p), (x, y)| {
        (e.max((x - y).abs()), p.max(y.abs()))
    })
}

fn assert_shape<A, B>(got: &Array2<A>, want: &Array2<B>, what: &str) {
    assert_eq!(got.dim(), want.dim(), "{what}: shape");
}

fn check_rel(what: &str, got: &Array2<f32>, want: &Array2<f32>, tol: f32) {
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

fn check_abs(what: &str, got: &[f32], want: &[f32], tol: f32) {
    assert_eq!(got.len(), want.len(), "{what}: length");
    let (e, _) = max_err(got, want);
    eprintln!("{what}: max abs error {e:.3e}");
    assert!(e <= tol, "{what}: max abs error {e} > {tol}");
}

fn std_layout(a: &Array2<f32>) -> Vec<f32> {
    a.as_standard_layout().iter().copied().collect()
}

/// Compares `got` with the case's output matrix relative to its peak.
fn check_output_rel(c: &Value, got: &Array2<f32>, tol: f32) {
    let name = c["output"].as_str().unwrap();
    check_rel(name, got, &mat(name), tol);
}

/// Compares `got` with the case's output matrix, element by element.
fn check_output_abs(c: &Value, got: &Array2<f32>, tol: f32) {
    let name = c["output"].as_str().unwrap();
    let want = mat(name);
    assert_eq!(got.dim(), want.dim(), "{name}: shape");
    check_abs(name, &std_layout(got), &std_layout(&want), tol);
}

const REL: f32 = 2e-6;
const DB: f32 = 1e-3;

#[test]
fn stft_matches() {
    for c in cases("stft") {
        let got = audio::stft(&input(&c), &stft_cfg(&c["params"])).unwrap();
        let want = cmat(c["output"].as_str().unwrap());
        assert_shape(&got, &want, c["output"].as_str().unwrap());
        let (e, peak) = got
            .iter()
            .zip(want.iter())
            .fold((0f32, 0f32), |(e, p), (a, b)| {
                (e.max((a - b).norm()), p.max(b.norm()))
            });
        eprintln!("{}: max error {e:.3e} of peak {peak:.3e}", c["output"]);
        assert!(e <= REL * peak, "{}: {e} > {REL} × {peak}", c["output"]);
    }
}

#[test]
fn magnitude_and_power_match() {
    for func in ["magnitude", "power"] {
        for c in cases(func) {
            let s = audio::stft(&input(&c), &stft_cfg(&c["params"])).unwrap();
            let got = if func == "magnitude" {
                audio::magnitude(&s)
            } else {
                audio::power(&s)
            };
            check_output_rel(&c, &got, REL);
        }
    }
}

#[test]
fn istft_round_trips_match() {
    for c in cases("istft") {
        let s = cmat(c["inputs"][0].as_str().unwrap());
        let cfg = stft_cfg(&c["params"]);
        let length = c["params"]["length"].as_u64().map(|v| v as usize);
        let got = audio::istft(s.view(), &cfg, length).unwrap();
        let want = vec1(c["output"].as_str().unwrap());
        assert_eq!(got.len(), want.len(), "{}", c["output"]);
        // The summed squared window at each output sample.
        let w = audio::stft::hann_window(cfg.win(), cfg.n_fft);
        let pad = if cfg.center { cfg.n_fft / 2 } else { 0 };
        let mut wss = vec![0f64; cfg.n_fft + cfg.hop() * (s.ncols() - 1)];
        for t in 0..s.ncols() {
            for (j, v) in w.iter().enumerate() {
                wss[t * cfg.hop() + j] += v * v;
            }
        }
        let top = wss.iter().cloned().fold(0.0, f64::max);
        let (mut well, mut ill) = (0f32, 0f32);
        for (i, (a, b)) in got.iter().zip(&want).enumerate() {
            let e = (a - b).abs();
            if wss.get(i + pad).is_some_and(|&v| v >= 1e-3 * top) {
                well = well.max(e);
            } else {
                ill = ill.max(e);
            }
        }
        eprintln!("{}: max error {well:.3e} (edges {ill:.3e})", c["output"]);
        assert!(
            well <= 1e-6 && ill <= 1e-2,
            "{}: {well} / {ill}",
            c["output"]
        );
    }
}

#[test]
fn mel_filterbanks_match() {
    for c in cases("mel_filters") {
        let p = &c["params"];
        let bank =
            audio::MelFilterbank::new(sr(p), p["n_fft"].as_u64().unwrap() as usize, &mel_cfg(p))
                .unwrap();
        check_output_rel(&c, &bank.weights, REL);
    }
}

#[test]
fn melspectrograms_match() {
    for c in cases("melspectrogram") {
        let p = &c["params"];
        let got = audio::melspectrogram(&input(&c), sr(p), &stft_cfg(p), &mel_cfg(p)).unwrap();
        check_output_rel(&c, &got, REL);
    }
}

#[test]
fn mfccs_match() {
    for c in cases("mfcc") {
        let p = &c["params"];
        let got = audio::mfcc(
            &input(&c),
            sr(p),
            &stft_cfg(p),
            &mel_cfg(p),
            p["n_mfcc"].as_u64().unwrap() as usize,
            p["lifter"].as_f64().unwrap_or(0.0) as f32,
        )
        .unwrap();
        check_output_abs(&c, &got, DB);
    }
}

#[test]
fn decibels_match() {
    for func in ["power_to_db", "amplitude_to_db"] {
        for c in cases(func) {
            let p = &c["params"];
            let s = mat(c["inputs"][0].as_str().unwrap());
            let reference = if p["ref"] == "max" {
                Ref::Max
            } else {
                Ref::Value(1.0)
            };
            let top_db = if p.get("top_db").is_some_and(Value::is_null) {
                None
            } else {
                Some(p["top_db"].as_f64().unwrap_or(80.0) as f32)
            };
            let got = if func == "power_to_db" {
                audio::power_to_db(&s, reference, 1e-10, top_db)
            } else {
                audio::amplitude_to_db(&s, reference, 1e-5, top_db)
            }
            .unwrap();
            check_output_abs(&c, &got, DB);
        }
    }
}

/// librosa's reductions over a `(channels, ...)` array span every channel: a stereo file whose
/// right channel is 50 dB down (`tools/fixtures/librosa_multichannel.py`) gives MFCCs and dB
/// spectrograms whose floor is set by the left channel. Per channel, the right channel would
/// differ by 27–148 units.
#[test]
fn multichannel_reductions_span_every_channel() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures_multichannel");
    let want = |name: &str| -> Vec<Array2<f32>> {
        let a = soundcheck_npy::read(&dir.join(format!("{name}.npy"))).unwrap();
        let (rows, cols) = (a.shape[1], a.shape[2]);
        a.data
            .chunks_exact(rows * cols)
            .map(|c| Array2::from_shape_vec((rows, cols), c.to_vec()).unwrap())
            .collect()
    };
    let opts = audio::LoadOptions {
        sr: None,
        mono: false,
        ..Default::default()
    };
    let y = audio::load(&dir.join("stereo_unequal.wav"), &opts).unwrap();
    let (sr, ch): (u32, Vec<&[f32]>) = (
        y.sample_rate,
        y.channels.iter().map(Vec::as_slice).collect(),
    );
    let defaults = StftConfig::default();
    let mel = MelConfig::default();
    let small = StftConfig {
        n_fft: 512,
        hop_length: Some(512),
        ..Default::default()
    };
    let spectra = |power: bool| -> Vec<Array2<f32>> {
        ch.iter()
            .map(|y| {
                let s = audio::stft(y, &small).unwrap();
                if power {
                    audio::power(&s)
                } else {
                    audio::magnitude(&s)
                }
            })
            .collect()
    };
    let mels = ch
        .iter()
        .map(|y| audio::melspectrogram(y, sr, &defaults, &mel).unwrap())
        .collect();
    let got = [
        (
            "mfcc",
            audio::mfcc_channels(&ch, sr, &defaults, &mel, 20, 0.0).unwrap(),
        ),
        (
            "mel_db",
            audio::power_to_db_channels(mels, Ref::Value(1.0), 1e-10, Some(80.0)).unwrap(),
        ),
        (
            "magnitude_db",
            audio::amplitude_to_db_channels(&spectra(false), Ref::Value(1.0), 1e-5, Some(80.0))
                .unwrap(),
        ),
        (
            "power_db_max",
            audio::power_to_db_channels(spectra(true), Ref::Max, 1e-10, Some(80.0)).unwrap(),
        ),
        (
            "spectral_contrast",
            audio::spectral_contrast_channels(
                &ch.iter()
                    .map(|y| audio::magnitude(&audio::stft(y, &defaults).unwrap()))
                    .collect::<Vec<_>>(),
                sr,
                2048,
                &audio::ContrastConfig::default(),
            )
            .unwrap(),
        ),
        (
            "chroma_stft",
            audio::chroma_stft_channels(
                &ch.iter()
                    .map(|y| audio::power(&audio::stft(y, &defaults).unwrap()))
                    .collect::<Vec<_>>(),
                sr,
                2048,
                &audio::ChromaConfig::default(),
            )
            .unwrap(),
        ),
        (
            "onset_strength",
            audio::onset_strength_channels(&ch, sr, 2048, 512, &mel, &OnsetConfig::default())
                .unwrap()
                .into_iter()
                .map(|v| Array2::from_shape_vec((1, v.len()), v).unwrap())
                .collect(),
        ),
    ];
    for (name, got) in got {
        for (c, (g, w)) in got.iter().zip(want(name)).enumerate() {
            let what = format!("{name} channel {c}");
            assert_shape(g, &w, &what);
            check_abs(&what, &std_layout(g), &std_layout(&w), DB);
        }
    }
}

/// rms, zero_crossing_rate, the spectral shape descriptors and a magnitude (power=1) mel
/// spectrogram against librosa
/// (`tools/fixtures/librosa_spectral.py`: a chirp with silent frames and white noise, librosa's
/// default frames and `n_fft` 1024 / hop 256 without centring). Within 1e-4 of each output's
/// peak; zero crossings exactly.
#[test]
fn frame_features_match() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures_spectral");
    let index: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("index.json")).unwrap()).unwrap();
    let read = |name: &str| soundcheck_npy::read(&dir.join(name)).unwrap();
    let cases = index["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 52);
    for c in cases {
        let y = read(c["signal"].as_str().unwrap()).data;
        let want = read(c["output"].as_str().unwrap());
        // onset_strength of a signal is 1-D in librosa; the others are (features, frames).
        let rows = if want.shape.len() == 1 {
            1
        } else {
            want.shape[0]
        };
        let want = Array2::from_shape_vec((rows, want.data.len() / rows), want.data).unwrap();
        let (n_fft, hop) = (
            c["n_fft"].as_u64().unwrap() as usize,
            c["hop_length"].as_u64().unwrap() as usize,
        );
        let center = c["center"].as_bool().unwrap();
        let sr = c["sr"].as_u64().unwrap() as u32;
        let cfg = StftConfig {
            n_fft,
            hop_length: Some(hop),
            center,
            ..Default::default()
        };
        let s = || audio::magnitude(&audio::stft(&y, &cfg).unwrap());
        let kind = c["kind"].as_str().unwrap();
        let got = match kind {
            "rms" => audio::rms(&y, n_fft, hop, center),
            "zero_crossing_rate" => audio::zero_crossing_rate(&y, n_fft, hop, center),
            "spectral_centroid" => audio::spectral_centroid(&s(), sr, n_fft),
            "spectral_bandwidth" => audio::spectral_bandwidth(&s(), sr, n_fft, 2.0),
            "spectral_rolloff" => audio::spectral_rolloff(&s(), sr, n_fft, 0.85),
            "spectral_flatness" => audio::spectral_flatness(&s(), 2.0, 1e-10),
            "chroma_stft" | "chroma_stft_tuning0" => {
                let power = vec![audio::power(&audio::stft(&y, &cfg).unwrap())];
                // librosa.estimate_tuning's value for this spectrogram, the same histogram bin
                // (serde_json's default float parsing may be one ulp off the written value).
                let tuning = audio::estimate_tuning(&power, sr, n_fft, 12);
                let want = c["tuning"].as_f64().unwrap();
                assert!(
                    (tuning - want).abs() < 1e-12,
                    "{}: tuning {tuning} vs {want}",
                    c["output"]
                );
                let chroma = audio::ChromaConfig {
                    tuning: kind.ends_with("tuning0").then_some(0.0),
                    ..Default::default()
                };
                audio::chroma_stft_channels(&power, sr, n_fft, &chroma)
                    .map(|mut v| v.pop().unwrap())
            }
            "spectral_contrast" => {
                audio::spectral_contrast(&s(), sr, n_fft, &audio::ContrastConfig::default())
            }
            "onset_strength" | "onset_strength_superflux" | "onset_strength_detrend" => {
                let onset = OnsetConfig {
                    lag: if kind.ends_with("superflux") { 2 } else { 1 },
                    max_size: if kind.ends_with("superflux") { 3 } else { 1 },
                    detrend: kind.ends_with("detrend"),
                    center,
                };
                audio::onset_strength_channels(&[&y], sr, n_fft, hop, &MelConfig::default(), &onset)
                    .map(|mut v| {
                        let v = v.pop().unwrap();
                        Array2::from_shape_vec((1, v.len()), v).unwrap()
                    })
            }
            "melspectrogram_power1" => {
                Ok(
                    audio::MelFilterbank::cached(sr, n_fft, &MelConfig::default())
                        .unwrap()
                        .apply(&s()),
                )
            }
            other => panic!("unknown kind {other}"),
        }
        .unwrap();
        let what = c["output"].as_str().unwrap();
        let tol = if kind == "zero_crossing_rate" {
            0.0
        } else {
            1e-4
        };
        check_rel(what, &got, &want, tol);
    }
}

#[test]
fn deltas_match() {
    for c in cases("delta") {
        let p = &c["params"];
        let data = mat(c["inputs"][0].as_str().unwrap());
        let got = audio::delta(
            &data,
            p["width"].as_u64().unwrap() as usize,
            p["order"].as_u64().unwrap() as usize,
        )
        .unwrap();
        check_output_abs(&c, &got, DB);
    }
}

#[test]
fn thirty_seconds_gives_the_seed_frame_count() {
    for c in cases("frame_count") {
        let p = &c["params"];
        let y = input(&c);
        let want: Vec<usize> = c["shape"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_u64().unwrap() as usize)
            .collect();
        let cfg = stft_cfg(p);
        assert_eq!(
            audio::n_frames(y.len(), cfg.n_fft, cfg.hop(), true),
            Some(want[1])
        );
        let s = audio::stft(&y, &cfg).unwrap();
        assert_eq!(vec![s.nrows(), s.ncols()], want);
        assert_eq!(
            want,
            vec![513, 2584],
            "30 s at 22050 Hz, n_fft 1024, hop 256"
        );
    }
}

/// A fixture folder under `tests/` and its `index.json`.
fn folder(name: &str) -> (std::path::PathBuf, Value) {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join(name);
    let index =
        serde_json::from_str(&std::fs::read_to_string(dir.join("index.json")).unwrap()).unwrap();
    (dir, index)
}

/// The largest absolute difference and the reference's peak.
fn max_error(got: &[f32], want: &[f32]) -> (f32, f32) {
    let err = got
        .iter()
        .zip(want)
        .fold(0f32, |m, (a, b)| m.max((a - b).abs()));
    (err, want.iter().fold(0f32, |m, v| m.max(v.abs())))
}

/// The bound for resampled signals: 1e-3 of the reference's peak, whole signal, edges
/// included. What is measured is far below it (see `resampling_matches_soxr_on_every_rate_pair`).
const RESAMPLE_TOL: f32 = 1e-3;

#[test]
fn resampling_matches_librosa_soxr_hq() {
    for c in cases("resample") {
        let p = &c["params"];
        let (orig, target) = (
            p["orig_sr"].as_u64().unwrap() as u32,
            p["target_sr"].as_u64().unwrap() as u32,
        );
        let got = audio::resample(&input(&c), orig, target).unwrap();
        let want = vec1(c["output"].as_str().unwrap());
        assert_eq!(
            got.len(),
            want.len(),
            "{}: ceil(n · target / orig) samples",
            c["output"]
        );
        let (err, peak) = max_error(&got, &want);
        assert!(
            err <= RESAMPLE_TOL * peak,
            "{}: {err} vs peak {peak}",
            c["output"]
        );
    }
}

/// Every ordered pair of 8–48 kHz rates and soxr's other paths, on a chirp into the transition
/// band, white noise and 1- to 300-sample files (fixtures from
/// `tools/fixtures/librosa_resample.py`). Prints the worst error per pair.
#[test]
fn resampling_matches_soxr_on_every_rate_pair() {
    let (dir, index) = folder("fixtures_resample");
    let read = |name: &str| soundcheck_npy::read(&dir.join(name)).unwrap().data;
    let outputs = read("outputs.npy");
    let mut worst = 0f32;
    let mut failed = Vec::new();
    for c in index["cases"].as_array().unwrap() {
        let field = |k: &str| c[k].as_u64().unwrap() as usize;
        let (orig, target) = (field("orig_sr") as u32, field("target_sr") as u32);
        let signal = c["signal"].as_str().unwrap();
        let x = read(&format!("in_{orig}_{signal}.npy"));
        let x = &x[..field("len")];
        let want = &outputs[field("offset")..field("offset") + field("out_len")];
        let got = audio::resample(x, orig, target).unwrap();
        let what = format!("{orig} -> {target} Hz, {signal}, {} samples", x.len());
        assert_eq!(got.len(), want.len(), "{what}");
        let (err, peak) = max_error(&got, want);
        let rel = if peak > 0.0 { err / peak } else { err };
        worst = worst.max(rel);
        eprintln!("{what}: max error {rel:.2e} of peak");
        if err > RESAMPLE_TOL * peak {
            failed.push(format!("{what}: {err} vs peak {peak}"));
        }
    }
    eprintln!("worst: {worst:.2e} of peak");
    assert!(failed.is_empty(), "{failed:#?}");
}

#[test]
fn frame_and_fix_length_are_exact() {
    for c in cases("frame") {
        let p = &c["params"];
        let got = audio::frame(
            &input(&c),
            p["frame_length"].as_u64().unwrap() as usize,
            p["hop_length"].as_u64().unwrap() as usize,
        )
        .unwrap();
        let want = mat(c["output"].as_str().unwrap());
        assert_eq!(got, want);
    }
    for c in cases("fix_length") {
        let got = audio::fix_length(&input(&c), c["params"]["size"].as_u64().unwrap() as usize);
        assert_eq!(got, vec1(c["output"].as_str().unwrap()));
    }
}

#[test]
fn fortran_layout_is_only_storage() {
    // The STFT is stored frame by frame but indexes as librosa's (freq, time).
    let s = audio::stft(
        &vec![0.5f32; 4096],
        &StftConfig {
            n_fft: 256,
            ..Default::default()
        },
    )
    .unwrap();
    let same = Array2::from_shape_vec(
        (s.nrows(), s.ncols()).f(),
        s.t().iter().copied().collect::<Vec<_>>(),
    )
    .unwrap();
    assert_eq!(s, same);
}

#[test]
fn too_many_mels_names_librosas_largest_working_value() {
    for c in cases("mel_largest_n_mels") {
        let p = &c["params"];
        let (rate, n_fft) = (sr(p), p["n_fft"].as_u64().unwrap() as usize);
        let largest = c["largest"].as_u64().unwrap() as usize;
        let ok = |n| {
            audio::MelFilterbank::new(
                rate,
                n_fft,
                &MelConfig {
                    n_mels: n,
                    ..Default::default()
                },
            )
        };
        assert!(ok(largest).is_ok());
        let e = ok(largest + 1).unwrap_err().to_string();
        assert!(
            e.contains(&format!(
                "expected at most {largest} at sr={rate}, n_fft={n_fft}"
            )),
            "{e}"
        );
        assert!(e.contains(&format!("use n_mels ≤ {largest}")), "{e}");
    }
}

/// `librosa.cqt` with its defaults and four other settings (fixtures from
/// `tools/fixtures/librosa_cqt.py`): same shape, every bin within 1e-4 of the array's peak
/// magnitude.
#[test]
fn cqt_matches_librosa() {
    let (dir, index) = folder("fixtures_cqt");
    let read = |name: &str| soundcheck_npy::read(&dir.join(name)).unwrap();
    let y = read("signal.npy").data;
    for c in index["cases"].as_array().unwrap() {
        let p = &c["params"];
        let d = audio::CqtConfig::default();
        let cfg = audio::CqtConfig {
            hop_length: p["hop_length"]
                .as_u64()
                .map_or(d.hop_length, |v| v as usize),
            fmin: p["fmin"].as_f64(),
            n_bins: p["n_bins"].as_u64().map_or(d.n_bins, |v| v as usize),
            bins_per_octave: p["bins_per_octave"]
                .as_u64()
                .map_or(d.bins_per_octave, |v| v as usize),
            tuning: p["tuning"].as_f64().unwrap_or(d.tuning),
            filter_scale: p["filter_scale"].as_f64().unwrap_or(d.filter_scale),
            sparsity: p["sparsity"].as_f64().unwrap_or(d.sparsity),
            scale: p["scale"].as_bool().unwrap_or(d.scale),
        };
        let got = audio::cqt(&y, 22050, &cfg).unwrap();
        let name = c["name"].as_str().unwrap();
        let want = cmat_in(&dir, &format!("{name}.npy"));
        assert_eq!(got.dim(), want.dim(), "{name}");
        let peak = want.iter().fold(0f32, |m, v| m.max(v.norm()));
        let err = got
            .iter()
            .zip(want.iter())
            .fold(0f32, |m, (a, b)| m.max((a - b).norm()));
        eprintln!("cqt {name}: max error {:.2e} of peak", err / peak);
        assert!(err <= 1e-4 * peak, "{name}: {err} vs peak {peak}");
    }
}

/// `librosa.feature.chroma_cqt` and `tonnetz` with their defaults (the tuning estimated from the
/// signal, as librosa does), and chroma_cqt of a stereo signal with tuning 0: same shapes,
/// within 1e-4 of the peak (fixtures from `tools/fixtures/librosa_cqt.py`).
#[test]
fn chroma_cqt_and_tonnetz_match_librosa() {
    let (dir, index) = folder("fixtures_cqt");
    let read = |name: &str| soundcheck_npy::read(&dir.join(name)).unwrap();
    let y = read("signal.npy").data;
    let cqt = audio::CqtConfig::for_chroma(512);
    let close = |what: &str, got: &Array2<f32>, want: soundcheck_npy::Array| {
        assert_eq!(got.shape(), &want.shape[want.shape.len() - 2..], "{what}");
        let peak = want.data.iter().fold(0f32, |m, v| m.max(v.abs()));
        let err = max_error(got.as_slice().unwrap(), &want.data[..got.len()]).0;
        eprintln!("{what}: max error {:.2e} of peak", err / peak);
        assert!(err <= 1e-4 * peak, "{what}: {err} vs peak {peak}");
    };
    // The tuning librosa estimates for this signal, from its magnitude spectrogram.
    let mag = audio::magnitude(&audio::stft(&y, &audio::StftConfig::default()).unwrap());
    let tuning = audio::estimate_tuning(&[mag], 22050, 2048, 36);
    // (serde_json may read the last digit one ulp off)
    assert!((tuning - index["features"]["tuning"].as_f64().unwrap()).abs() < 1e-12);
    let chroma = audio::chroma_cqt_channels(&[&y], 22050, &cqt, None, 12)
        .unwrap()
        .remove(0);
    close("chroma_cqt", &chroma, read("chroma_cqt.npy"));
    close("tonnetz", &audio::tonnetz(&chroma), read("tonnetz.npy"));
    let stereo = read("stereo.npy");
    let n = stereo.shape[1];
    let (left, right) = stereo.data.split_at(n);
    let got = audio::chroma_cqt_channels(&[left, right], 22050, &cqt, Some(0.0), 12).unwrap();
    let want = read("chroma_cqt_stereo_tuning0.npy");
    let half = want.data.len() / 2;
    for (k, g) in got.iter().enumerate() {
        let part = soundcheck_npy::Array {
            data: want.data[k * half..(k + 1) * half].to_vec(),
            shape: want.shape[1..].to_vec(),
            complex: false,
            integer: false,
        };
        close(&format!("chroma_cqt stereo channel {k}"), g, part);
    }
}
