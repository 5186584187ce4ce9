//! `separate` with neither `--run` nor `--model` uses the pretrained separator built into the
//! binary: run from a folder that is not the checkout, on a clip of one of the project's own
//! rendered songs that it was not trained on (tests/fixtures/song_clip, made by
//! tools/fixtures/song_clip.py), it writes finite stems that sum to the mixture, and its vocals
//! are closer to the true vocals of the same rendering than the mixture is (by 3 dB of SNR; the
//! shipped model gives 7.75 dB against the mixture's 0.11).

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;
use soundcheck_audio::{load, LoadOptions};

fn clip(name: &str) -> Vec<f32> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/song_clip")
        .join(name);
    let opts = LoadOptions {
        sr: None,
        mono: false,
        ..Default::default()
    };
    let audio = load(&path, &opts).unwrap();
    assert_eq!((audio.sample_rate, audio.channels.len()), (22050, 1));
    audio.channels.into_iter().next().unwrap()
}

/// 10·log10(|truth|² / |truth − estimate|²), dB.
fn snr(truth: &[f32], estimate: &[f32]) -> f64 {
    let (signal, error) = truth
        .iter()
        .zip(estimate)
        .fold((0f64, 0f64), |(s, e), (&t, &y)| {
            (s + f64::from(t).powi(2), e + f64::from(t - y).powi(2))
        });
    10.0 * (signal / error).log10()
}

#[test]
fn separate_without_a_run_uses_the_built_in_separator_from_any_folder() {
    let d = std::env::temp_dir().join(format!("sc-cli-builtin-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    let mixture_path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/song_clip/mixture.wav");
    let out = Command::new(env!("CARGO_BIN_EXE_soundcheck"))
        .current_dir(&d)
        .arg("separate")
        .arg(&mixture_path)
        .args(["-o", "separated", "--json"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["target"], "vocals", "{v}");
    let dir: PathBuf = d.join("separated/mixture");
    let opts = LoadOptions {
        sr: None,
        mono: false,
        ..Default::default()
    };
    let stem = |name: &str| {
        let a = load(&dir.join(name), &opts).unwrap();
        assert_eq!((a.sample_rate, a.channels.len()), (22050, 1), "{name}");
        a.channels.into_iter().next().unwrap()
    };
    let (vocals, accompaniment) = (stem("vocals.wav"), stem("accompaniment.wav"));
    let (mixture, truth) = (clip("mixture.wav"), clip("vocals.wav"));
    assert_eq!(vocals.len(), mixture.len());
    assert!(vocals.iter().chain(&accompaniment).all(|v| v.is_finite()));
    // Float WAVs of a 16-bit input: only float rounding separates the sum from the input.
    let worst = mixture.iter().enumerate().fold(0f32, |m, (i, x)| {
        m.max((vocals[i] + accompaniment[i] - x).abs())
    });
    assert!(
        worst < 1e-4,
        "vocals + accompaniment differ from the mixture by {worst}"
    );
    let (separated, unseparated) = (snr(&truth, &vocals), snr(&truth, &mixture));
    assert!(
        separated > unseparated + 3.0,
        "vocals' SNR {separated:.2} dB, the mixture's {unseparated:.2} dB"
    );

    // Without a run the guards still hold: a stem that would replace its mixture is refused.
    let inside = d.join("g/vocals/vocals.wav");
    std::fs::create_dir_all(inside.parent().unwrap()).unwrap();
    std::fs::copy(&mixture_path, &inside).unwrap();
    let (code, _, stderr) = common::run(&[
        "separate",
        inside.to_str().unwrap(),
        "-o",
        d.join("g").to_str().unwrap(),
    ]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("--out"), "{stderr}");
    assert_eq!(
        std::fs::read(&inside).unwrap(),
        std::fs::read(&mixture_path).unwrap()
    );
    std::fs::remove_dir_all(&d).unwrap();
}
