//! The frame-wise features against librosa 0.11.0 (`tools/fixtures/librosa_spectral.py`).

use ndarray::Array2;
use serde_json::Value;
use soundcheck_audio as audio;
use soundcheck_audio::{MelConfig, OnsetConfig, StftConfig};

mod common;
use common::librosa::*;

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
            "spectral_centroid" => audio::spectral_centroid_from_spectrogram(&s(), sr, n_fft),
            "spectral_bandwidth" => {
                audio::spectral_bandwidth_from_spectrogram(&s(), sr, n_fft, 2.0)
            }
            "spectral_rolloff" => audio::spectral_rolloff_from_spectrogram(&s(), sr, n_fft, 0.85),
            "spectral_flatness" => audio::spectral_flatness_from_spectrogram(&s(), 2.0, 1e-10),
            "chroma_stft" | "chroma_stft_tuning0" => {
                let power = vec![audio::power(&audio::stft(&y, &cfg).unwrap())];
                // librosa.estimate_tuning's value for this spectrogram, the same histogram bin
                // (serde_json's default float parsing may be one ulp off the written value).
                let tuning = audio::estimate_tuning_from_spectrogram(&power, sr, n_fft, 12);
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
                audio::chroma_stft_from_spectrogram(&power, sr, n_fft, &chroma)
                    .map(|mut v| v.pop().unwrap())
            }
            "spectral_contrast" => {
                let contrast = audio::ContrastConfig::default();
                audio::spectral_contrast_from_spectrogram(&[s()], sr, n_fft, &contrast)
                    .map(|mut v| v.pop().unwrap())
            }
            "onset_strength" | "onset_strength_superflux" | "onset_strength_detrend" => {
                let onset = OnsetConfig {
                    lag: if kind.ends_with("superflux") { 2 } else { 1 },
                    max_size: if kind.ends_with("superflux") { 3 } else { 1 },
                    detrend: kind.ends_with("detrend"),
                    center,
                };
                audio::onset_strength(&[&y], sr, n_fft, hop, &MelConfig::default(), &onset).map(
                    |mut v| {
                        let v = v.pop().unwrap();
                        Array2::from_shape_vec((1, v.len()), v).unwrap()
                    },
                )
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
