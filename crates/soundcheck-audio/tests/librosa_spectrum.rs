//! soundcheck-audio's spectra, mel, MFCC, dB, deltas and framing against librosa 0.11.0 (fixtures from `tools/fixtures/librosa_features.py`;
//! versions in `fixtures/versions.json`).
//!
//! Tolerances, as the largest error over the whole array:
//! - STFT, magnitude, power, mel spectrogram, filterbanks: 2e-6 of the array's peak (float32
//!   FFTs here; librosa multiplies a float64 window and runs the FFT in float64, then rounds).
//! - dB values, MFCCs, deltas: 1e-3 dB / coefficient units (log10 in float32 of the above).
//! - iSTFT: 1e-6 absolute on signals of peak 0.8.
//! - iSTFT with `center=False`: samples where the summed squared window is below 1e-3 of its
//!   maximum (the outer edges of the first and last frame) are a ratio of two near-zero numbers
//!   in both implementations; they are held to 1e-2, the rest to 1e-6.

use ndarray::{Array2, ShapeBuilder};
use serde_json::Value;
use soundcheck_audio as audio;
use soundcheck_audio::{MelConfig, Ref, StftConfig};

mod common;
use common::cases;
use common::librosa::*;

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
        let got = audio::melspectrogram(&input(&c), sr(p), &stft_cfg(p), &mel_cfg(p), 2.0).unwrap();
        check_output_rel(&c, &got, REL);
    }
}

#[test]
fn mfccs_match() {
    for c in cases("mfcc") {
        let p = &c["params"];
        let got = audio::mfcc(
            &[&input(&c)],
            sr(p),
            &stft_cfg(p),
            &mel_cfg(p),
            p["n_mfcc"].as_u64().unwrap() as usize,
            p["lifter"].as_f64().unwrap_or(0.0) as f32,
        )
        .unwrap()
        .remove(0);
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
