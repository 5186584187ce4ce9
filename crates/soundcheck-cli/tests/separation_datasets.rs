//! `train separation` on the datasets singing-voice work uses: stereo files of voice and
//! accompaniment (MIR-1K, iKala) with `--voice-channel`, two-stem folders and Spleeter's CSV
//! manifests; a mixture computed from the stems is reported, mismatched files are named.

mod common;

use std::path::{Path, PathBuf};

use common::run;
use serde_json::Value;
use soundcheck_audio::write_wav;

const SR: u32 = 8000;

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("sc-cli-sepdata-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// A noise-like signal (an LCG), distinct per seed.
fn signal(seed: u32, n: usize) -> Vec<f32> {
    let mut s = seed.wrapping_mul(2_654_435_761).wrapping_add(7);
    (0..n)
        .map(|_| {
            s = s.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            0.2 * ((s >> 8) as f32 / (1u32 << 24) as f32 - 0.5)
        })
        .collect()
}

/// Trains one short epoch on `data`; returns (exit status, stdout, stderr).
fn train(data: &Path, out: &Path, extra: &[&str]) -> (i32, String, String) {
    let cache = out.with_extension("cache");
    let mut args = vec![
        "train",
        "separation",
        "--data",
        data.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--cache",
        cache.to_str().unwrap(),
        "--epochs",
        "1",
        "--mixes",
        "16",
        "--json",
    ];
    args.extend(extra);
    run(&args)
}

/// The message of a training run refused as unusable input (exit 2; with `--json` the error is
/// the JSON object's `error`).
fn refused(data: &Path, out: &Path, extra: &[&str]) -> String {
    let (code, stdout, stderr) = train(data, out, extra);
    assert_eq!(code, 2, "{stdout}{stderr}");
    let v: Value = serde_json::from_str(&stdout).unwrap();
    v["error"].as_str().unwrap().to_string()
}

#[test]
fn mir1k_style_stereo_files_train_with_the_voice_channel() {
    let d = tmp("mir1k");
    let wav = d.join("Wavfile");
    for subset in ["train", "test"] {
        std::fs::create_dir_all(wav.join(subset)).unwrap();
    }
    for (k, subset) in [(0, "train"), (1, "train"), (2, "test")] {
        let n = 2 * SR as usize;
        let (acc, voice) = (signal(2 * k, n), signal(2 * k + 1, n));
        write_wav(
            &wav.join(subset).join(format!("clip{k}.wav")),
            &[acc, voice],
            SR,
        )
        .unwrap();
    }
    // At the clips' own rate (`--sr`), which the run records for `separate`.
    let (code, out, err) = train(
        &wav,
        &d.join("run"),
        &["--voice-channel", "right", "--sr", "8000"],
    );
    assert_eq!(code, 0, "{out}{err}");
    let record: Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("run/separation.json")).unwrap())
            .unwrap();
    assert_eq!(record["sample_rate"], 8000, "{record}");
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        (v["computed_mixtures"].as_u64(), v["tracks"].as_u64()),
        (Some(3), Some(3))
    );
    assert!(
        err.contains("3 of 3 tracks have no mixture file: their mixture is computed as the sum of their stems"),
        "{err}"
    );
    assert!(
        err.contains("random mixes of the stems of 2 tracks"),
        "{err}"
    );

    // A spec's input frames set the patch (half of it the hop) when --patch is not given
    // (64 frames of hop 64 fit the 2 s clips).
    let ctx = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../models/vocal-unet-ctx.toml");
    let (code, out, err) = train(
        &wav,
        &d.join("run-ctx"),
        &[
            "--voice-channel",
            "right",
            "--sr",
            "8000",
            "--hop-length",
            "64",
            "--model",
            ctx.to_str().unwrap(),
        ],
    );
    assert_eq!(code, 0, "{out}{err}");
    let record: Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("run-ctx/separation.json")).unwrap())
            .unwrap();
    assert_eq!(
        (record["patch"].as_u64(), record["patch_hop"].as_u64()),
        (Some(64), Some(32)),
        "{record}"
    );
    // A hop past the patch is refused before training.
    let err = refused(
        &wav,
        &d.join("run-hop"),
        &[
            "--voice-channel",
            "right",
            "--sr",
            "8000",
            "--patch-hop",
            "26",
        ],
    );
    assert!(
        err.contains("--patch-hop 26: expected 1 to 25 frames (the patch)"),
        "{err}"
    );
    assert!(!d.join("run-hop").exists());

    let err = refused(
        &wav,
        &d.join("run-sr"),
        &["--voice-channel", "right", "--sr", "500"],
    );
    assert!(
        err.contains("--sr 500: expected 1000 to 192000 Hz"),
        "{err}"
    );

    // Without the channel the folder is refused with what to give; a bad value is named.
    let err = refused(&wav, &d.join("run2"), &[]);
    assert!(err.contains("give --voice-channel left or right"), "{err}");
    let err = refused(&wav, &d.join("run3"), &["--voice-channel", "middle"]);
    assert!(
        err.contains("--voice-channel \"middle\": expected left or right"),
        "{err}"
    );
    // A mono file among them is named.
    write_wav(&wav.join("train").join("clip9.wav"), &[signal(9, 4000)], SR).unwrap();
    let err = refused(&wav, &d.join("run4"), &["--voice-channel", "left"]);
    assert!(
        err.contains("clip9.wav: 1 channel(s), where a file of voice and accompaniment has 2"),
        "{err}"
    );
}

#[test]
fn two_stem_folders_and_manifests_train_and_mismatches_are_named() {
    let d = tmp("two");
    let n = 2 * SR as usize;
    for (k, subset) in [(0, "train"), (1, "train"), (2, "test")] {
        let t = d.join("data").join(subset).join(format!("song{k}"));
        std::fs::create_dir_all(&t).unwrap();
        let (v, a) = (signal(10 + k, n), signal(20 + k, n));
        if k == 0 {
            let mix: Vec<f32> = v.iter().zip(&a).map(|(x, y)| x + y).collect();
            write_wav(&t.join("mixture.wav"), &[mix], SR).unwrap();
        }
        write_wav(&t.join("vocals.wav"), &[v], SR).unwrap();
        write_wav(&t.join("accompaniment.wav"), &[a], SR).unwrap();
    }
    let (code, out, err) = train(&d.join("data"), &d.join("run"), &[]);
    assert_eq!(code, 0, "{out}{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        (v["computed_mixtures"].as_u64(), v["tracks"].as_u64()),
        (Some(2), Some(3))
    );
    let err = refused(
        &d.join("data"),
        &d.join("run-v"),
        &["--voice-channel", "right"],
    );
    assert!(
        err.contains("--voice-channel right: expected no voice channel"),
        "{err}"
    );

    // The same tracks as Spleeter's manifest, paths relative to it, the last one held out.
    let csv = d.join("data").join("tracks.csv");
    let rows = "mix_path,vocals_path,accompaniment_path,duration,split\n\
        train/song0/mixture.wav,train/song0/vocals.wav,train/song0/accompaniment.wav,2.0,train\n\
        ,train/song1/vocals.wav,train/song1/accompaniment.wav,2.0,train\n\
        ,test/song2/vocals.wav,test/song2/accompaniment.wav,2.0,test\n";
    std::fs::write(&csv, rows).unwrap();
    let (code, out, err) = train(&csv, &d.join("run-csv"), &[]);
    assert_eq!(code, 0, "{out}{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        (v["computed_mixtures"].as_u64(), v["tracks"].as_u64()),
        (Some(2), Some(3))
    );

    // An accompaniment of another rate, then of another length, is named with both values.
    let acc = d.join("data/train/song1/accompaniment.wav");
    write_wav(&acc, &[signal(21, n)], 16000).unwrap();
    let err = refused(&csv, &d.join("run-rate"), &[]);
    assert!(
        err.contains("accompaniment.wav: 16000 Hz, 1 channel(s), 16000 samples, where its vocals")
            && err.contains("has 8000 Hz, 1 channel(s), 16000 samples"),
        "{err}"
    );
    write_wav(&acc, &[signal(21, n - 1)], SR).unwrap();
    let err = refused(&d.join("data"), &d.join("run-len"), &[]);
    assert!(
        err.contains("8000 Hz, 1 channel(s), 15999 samples, where its vocals"),
        "{err}"
    );
    std::fs::write(&csv, rows.replace("2.0,test", "two,test")).unwrap();
    let err = refused(&csv, &d.join("run-dur"), &[]);
    assert!(
        err.contains("tracks.csv: line 4: duration 'two' is not a number of seconds"),
        "{err}"
    );
}
