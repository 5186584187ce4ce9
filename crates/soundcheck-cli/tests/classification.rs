//! Audio classification from the command line: the quickstart's accuracy on its demo data, then
//! `classify` and `evaluate-classifier` on its run, and a spec that does not fit the classes.

mod common;

use std::path::PathBuf;

use common::run;
use serde_json::Value;

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("sc-cli-cls-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

#[test]
fn quickstart_classifies_its_demo_sounds_and_the_run_serves_classify_and_evaluate() {
    let d = tmp("quickstart");
    let out = d.to_str().unwrap();
    let (code, stdout, stderr) = run(&["quickstart", "classification", "--out", out, "--json"]);
    assert_eq!(code, 0, "{stderr}");
    let v: Value = serde_json::from_str(&stdout).unwrap();
    assert!(v["test_accuracy"].as_f64().unwrap() >= 0.95, "{v}");
    assert_eq!(v["classes"].as_array().unwrap().len(), 7);
    assert!(v["seconds"].as_f64().unwrap() > 0.0);
    assert!(stderr.contains("95th percentile"), "{stderr}");
    let run_dir = d.join("run");
    for f in [
        "classes.json",
        "weights.safetensors",
        "confusion.png",
        "curves.png",
        "accuracy.png",
    ] {
        assert!(run_dir.join(f).exists(), "{f}");
    }

    let clip = d.join("data/siren/003.wav");
    let (code, stdout, stderr) = run(&[
        "classify",
        "--run",
        run_dir.to_str().unwrap(),
        clip.to_str().unwrap(),
        "--top-k",
        "2",
        "--json",
    ]);
    assert_eq!(code, 0, "{stderr}");
    let v: Value = serde_json::from_str(&stdout).unwrap();
    let f = &v["files"][0];
    assert_eq!(f["top"].as_array().unwrap().len(), 2);
    let p: f64 = f["top"][0]["probability"].as_f64().unwrap();
    assert!(p >= f["top"][1]["probability"].as_f64().unwrap() && p <= 1.0);

    // A listed job in three shards labels exactly the clips of one run, each once, alike.
    let clips: Vec<String> = [
        "siren/003.wav",
        "siren/004.wav",
        "hum/000.wav",
        "hiss/001.wav",
        "knock/002.wav",
    ]
    .iter()
    .map(|c| d.join("data").join(c).display().to_string())
    .filter(|c| std::path::Path::new(c).exists())
    .collect();
    assert!(clips.len() >= 2, "{clips:?}");
    let listed = d.join("clips.txt");
    std::fs::write(&listed, clips.join("\n")).unwrap();
    let labels = |extra: &[&str]| -> Vec<Value> {
        let mut args = vec![
            "classify",
            "--run",
            run_dir.to_str().unwrap(),
            "--files-from",
            listed.to_str().unwrap(),
            "--json",
        ];
        args.extend(extra);
        let (code, stdout, stderr) = run(&args);
        assert_eq!(code, 0, "{stderr}");
        let v: Value = serde_json::from_str(&stdout).unwrap();
        v["files"].as_array().unwrap().clone()
    };
    let mut whole = labels(&[]);
    let mut sharded: Vec<Value> = (0..3)
        .flat_map(|i| labels(&["--shard", &format!("{i}/3")]))
        .collect();
    let by_file = |v: &Value| v["file"].as_str().unwrap_or_default().to_string();
    whole.sort_by_key(by_file);
    sharded.sort_by_key(by_file);
    assert_eq!(whole, sharded);

    let (code, stdout, stderr) = run(&[
        "evaluate-classifier",
        "--run",
        run_dir.to_str().unwrap(),
        "--data",
        d.join("data").to_str().unwrap(),
        "--json",
    ]);
    assert_eq!(code, 0, "{stderr}");
    let v: Value = serde_json::from_str(&stdout).unwrap();
    // The same test split as the quickstart's: 15 % of 40 clips in each of 7 classes.
    assert_eq!(v["clips"], 42);
    assert_eq!(v["per_class"].as_array().unwrap().len(), 7);
    let confusion: usize = v["confusion"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|r| {
            r.as_array()
                .unwrap()
                .iter()
                .map(|c| c.as_u64().unwrap() as usize)
        })
        .sum();
    assert_eq!(confusion, 42);

    // One epoch of `train classification` on the quickstart's clips, into d/OUT.
    let train = |spec: &str, out: &str, extra: &[&str]| {
        let data = d.join("data");
        let out = d.join(out);
        let mut args = vec![
            "train",
            "classification",
            "--data",
            data.to_str().unwrap(),
            "--model",
            spec,
            "--out",
            out.to_str().unwrap(),
            "--epochs",
            "1",
        ];
        args.extend_from_slice(extra);
        run(&args)
    };
    // The shipped spec says 10 classes; without --fill-classes 7 classes are a label_mismatch.
    let spec = concat!(env!("CARGO_MANIFEST_DIR"), "/../../models/mfcc-conv1d.toml");
    let (code, _, stderr) = train(spec, "run2", &[]);
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("label_mismatch") && stderr.contains("10"),
        "{stderr}"
    );

    // Stacked features (the np.vstack([mfcc, chroma, contrast]).T recipe): 13 + 12 + 7 = 32 per
    // frame. A spec declaring 32 trains and its run classifies; the shipped 13 is diagnosed.
    let stacked_spec = d.join("stacked.toml");
    std::fs::write(
        &stacked_spec,
        "input_shape = [\"None\", 32]\nloss = \"sparse_categorical_crossentropy\"\n[[layers]]\ntype = \"LSTM\"\nunits = 8\n[[layers]]\ntype = \"Dense\"\nunits = 7\nactivation = \"softmax\"\n",
    )
    .unwrap();
    let stacked = ["--features", "mfcc,chroma_stft,contrast", "--fill-classes"];
    let (code, _, stderr) = train(stacked_spec.to_str().unwrap(), "run3", &stacked);
    assert_eq!(code, 0, "{stderr}");
    let record: Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("run3/classes.json")).unwrap())
            .unwrap();
    let kinds: Vec<&str> = record["features"]["kinds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["mfcc", "chroma", "contrast"]);
    let (code, _, stderr) = run(&[
        "classify",
        "--run",
        d.join("run3").to_str().unwrap(),
        clip.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{stderr}");
    let lstm = concat!(env!("CARGO_MANIFEST_DIR"), "/../../models/mfcc-lstm.toml");
    let (code, _, stderr) = train(lstm, "run4", &stacked);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("32"), "{stderr}");
    std::fs::remove_dir_all(d).unwrap();
}

#[test]
fn the_quickstart_never_clears_a_folder_it_did_not_write() {
    let d = tmp("foreign");
    std::fs::create_dir_all(d.join("data")).unwrap();
    std::fs::write(d.join("data/mine.txt"), b"keep").unwrap();
    let (code, _, stderr) = run(&["quickstart", "classification", "--out", d.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("did not write") && stderr.contains("--out"),
        "{stderr}"
    );
    assert!(d.join("data/mine.txt").exists());
    std::fs::remove_dir_all(d).unwrap();
}

/// A 16-bit mono WAV of a tone.
fn write_tone(path: &std::path::Path, freq: f32, seconds: f32, rate: u32) {
    let n = (rate as f32 * seconds) as u32;
    let mut b = Vec::new();
    b.extend_from_slice(b"RIFF");
    b.extend_from_slice(&(36 + 2 * n).to_le_bytes());
    b.extend_from_slice(b"WAVEfmt ");
    b.extend_from_slice(&16u32.to_le_bytes());
    b.extend_from_slice(&1u16.to_le_bytes());
    b.extend_from_slice(&1u16.to_le_bytes());
    b.extend_from_slice(&rate.to_le_bytes());
    b.extend_from_slice(&(2 * rate).to_le_bytes());
    b.extend_from_slice(&2u16.to_le_bytes());
    b.extend_from_slice(&16u16.to_le_bytes());
    b.extend_from_slice(b"data");
    b.extend_from_slice(&(2 * n).to_le_bytes());
    for i in 0..n {
        let v =
            (0.5 * (std::f32::consts::TAU * freq * i as f32 / rate as f32).sin() * 32767.0) as i16;
        b.extend_from_slice(&v.to_le_bytes());
    }
    std::fs::write(path, b).unwrap();
}

#[test]
fn a_split_by_speaker_holds_out_whole_speakers_trains_on_short_clips_and_scores_each() {
    let d = tmp("groups");
    std::fs::create_dir_all(&d).unwrap();
    // Three tones said by three speakers (each a little sharper), 0.1 s each: 5 frames, fewer
    // than the 9 of the delta window. Speaker s1 records at 16 kHz, the others at 22050 Hz.
    let mut rows = vec!["path,label,speaker".to_string()];
    for (c, class) in ["low", "mid", "high"].iter().enumerate() {
        for s in 0..3 {
            for i in 0..4 {
                let name = format!("{class}_s{s}_{i}.wav");
                write_tone(
                    &d.join(&name),
                    300.0 * (c + 1) as f32 * (1.0 + 0.03 * s as f32),
                    0.1,
                    if s == 1 { 16000 } else { 22050 },
                );
                rows.push(format!("{name},{class},s{s}"));
            }
        }
    }
    let manifest = d.join("clips.csv");
    std::fs::write(&manifest, rows.join("\n")).unwrap();
    let spec = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../models/mfcc-deltas-conv1d.toml"
    );
    let run_dir = d.join("run");
    let train = |extra: &[&str], out: &std::path::Path| {
        let mut args = vec![
            "train",
            "classification",
            "--data",
            manifest.to_str().unwrap(),
            "--model",
            spec,
            "--fill-classes",
            "--n-mfcc",
            "20",
            "--deltas",
            "--epochs",
            "2",
            "--validation-split",
            "0",
            "--out",
            out.to_str().unwrap(),
            "--json",
        ];
        args.extend_from_slice(extra);
        run(&args)
    };
    let (code, stdout, stderr) = train(
        &[
            "--group-by",
            "speaker",
            "--test-groups",
            "s2",
            "--normalisation",
            "per-clip",
            "--time-shift",
            "--freq-masks",
            "1",
            "--time-masks",
            "1",
        ],
        &run_dir,
    );
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains("24 train (2 group(s): s0, s1)")
            && stderr.contains("12 test (1 group(s): s2)"),
        "{stderr}"
    );
    assert!(
        stderr.contains("24 training/validation clip(s) shorter than the 9-frame delta window"),
        "{stderr}"
    );
    let v: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(v["test"]["per_group"].as_array().unwrap().len(), 1);
    assert_eq!(v["test"]["per_group"][0]["group"], "s2");
    assert_eq!(v["test"]["per_group"][0]["clips"], 12);
    let record = std::fs::read_to_string(run_dir.join("classes.json")).unwrap();
    assert!(
        record.contains(r#""normalisation":"per-clip""#)
            && record.contains(r#""group_by":"speaker""#),
        "{record}"
    );

    // The run's test split is drawn again: the held-out speaker, scored per speaker.
    let (code, stdout, stderr) = run(&[
        "evaluate-classifier",
        "--run",
        run_dir.to_str().unwrap(),
        "--data",
        manifest.to_str().unwrap(),
        "--json",
    ]);
    assert_eq!(code, 0, "{stderr}");
    let v: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(v["clips"], 12);
    assert_eq!(v["per_group"][0]["group"], "s2");
    // Every clip, per speaker by a file-name pattern.
    let (code, stdout, stderr) = run(&[
        "evaluate-classifier",
        "--run",
        run_dir.to_str().unwrap(),
        "--data",
        manifest.to_str().unwrap(),
        "--split",
        "all",
        "--group-pattern",
        r"_(s\d)_",
        "--png",
        d.join("all.png").to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.contains("accuracy per group (mean") && stdout.contains("s1"),
        "{stdout}"
    );

    // Without --model: the built-in classifier, fitted to the 3 classes and 13 MFCCs, with its
    // recipe's rate (the lowest of the clips': s1's 16 kHz), frames, CMVN and augmentation;
    // the run records what it used. One epoch, not its 80.
    let default_run = d.join("run-default");
    let (code, stdout, stderr) = run(&[
        "train",
        "classification",
        "--data",
        manifest.to_str().unwrap(),
        "--group-by",
        "speaker",
        "--test-groups",
        "s2",
        "--validation-split",
        "0",
        "--epochs",
        "1",
        "--out",
        default_run.to_str().unwrap(),
        "--json",
    ]);
    assert_eq!(code, 0, "{stderr}");
    let v: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(v["test"]["per_group"][0]["group"], "s2");
    let options: Value =
        serde_json::from_str(&std::fs::read_to_string(default_run.join("train.json")).unwrap())
            .unwrap();
    assert_eq!(options["model"], "built-in models/mfcc-bn-conv1d.toml");
    assert_eq!(
        options["features"],
        "sr=16000 mfcc n_mfcc=13 deltas=false n_fft=512 hop=128"
    );
    assert_eq!(options["normalisation"], "per-clip");
    assert_eq!(
        options["augment"],
        "time_shift=true freq_masks=2x4 time_masks=2x4"
    );
    assert_eq!(
        options["waveform_augment"],
        "copies=4 speed=0.9..1.1 noise=white at 10..30 dB SNR"
    );
    assert_eq!(options["schedule"], "cosine");
    assert_eq!(options["epochs"], 1);
    let record = std::fs::read_to_string(default_run.join("classes.json")).unwrap();
    assert!(record.contains(r#""normalisation":"per-clip""#), "{record}");
    // The rate resolved from the clips is the run's: classify loads new clips at it.
    assert!(record.contains(r#""sample_rate":16000"#), "{record}");
    let (code, stdout, stderr) = run(&[
        "classify",
        "--run",
        default_run.to_str().unwrap(),
        d.join("high_s0_0.wav").to_str().unwrap(),
        "--json",
    ]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("high_s0_0.wav"), "{stdout}");
    // A flag given overrides its part of the recipe.
    let (code, _, stderr) = run(&[
        "train",
        "classification",
        "--data",
        manifest.to_str().unwrap(),
        "--normalisation",
        "global",
        "--time-shift",
        "false",
        "--augment-copies",
        "0",
        "--sr",
        "11025",
        "--hop-length",
        "256",
        "--epochs",
        "1",
        "--out",
        d.join("run-default-global").to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{stderr}");
    let options = std::fs::read_to_string(d.join("run-default-global").join("train.json")).unwrap();
    assert!(
        options.contains(r#""normalisation":"global""#)
            && options.contains("time_shift=false")
            && options.contains(r#""waveform_augment":"none""#)
            && options.contains("sr=11025 mfcc n_mfcc=13 deltas=false n_fft=512 hop=256"),
        "{options}"
    );

    // Waveform copies: speed, gain and noise from a folder of recordings, recorded in the run.
    let noise = d.join("noise");
    std::fs::create_dir_all(&noise).unwrap();
    write_tone(&noise.join("hum.wav"), 50.0, 0.05, 22050);
    let waves = |extra: &[&str], out: &str| {
        let mut args = vec![
            "train",
            "classification",
            "--data",
            manifest.to_str().unwrap(),
            "--epochs",
            "1",
            "--out",
        ];
        let out = d.join(out);
        args.push(out.to_str().unwrap());
        args.extend_from_slice(extra);
        let (code, _, stderr) = run(&args);
        (
            code,
            stderr,
            std::fs::read_to_string(out.join("train.json")),
        )
    };
    let (code, stderr, options) = waves(
        &[
            "--speed",
            "0.9,1.1",
            "--gain-db",
            "6",
            "--noise-snr",
            "10,30",
            "--noise-dir",
            noise.to_str().unwrap(),
            "--augment-copies",
            "2",
        ],
        "run-waves",
    );
    assert_eq!(code, 0, "{stderr}");
    let options = options.unwrap();
    assert!(
        options.contains(&format!(
            "copies=2 speed=0.9..1.1 gain=±6 dB noise={} at 10..30 dB SNR",
            noise.display()
        )),
        "{options}"
    );
    // Negative SNRs are values, not flags; `off` turns one part off.
    let (code, stderr, options) = waves(
        &["--noise-snr", "-5,10", "--speed", "off"],
        "run-waves-negative",
    );
    assert_eq!(code, 0, "{stderr}");
    assert!(
        options
            .unwrap()
            .contains("copies=4 noise=white at -5..10 dB SNR"),
        "{stderr}"
    );
    // Half a range, a range out of order, a folder with no audio, a rate that is no number:
    // named before any training.
    for (extra, named) in [
        (&["--speed", "0.9"][..], "--speed"),
        (&["--noise-snr", "30,10"][..], "--noise-snr"),
        (&["--sr", "fast"][..], "--sr"),
        (
            &[
                "--noise-snr",
                "10,30",
                "--noise-dir",
                d.join("run-waves").to_str().unwrap(),
            ][..],
            "no audio files",
        ),
    ] {
        let (code, stderr, _) = waves(extra, "run-waves-bad");
        assert_eq!(code, 2, "{extra:?}: {stderr}");
        assert!(stderr.contains(named), "{extra:?}: {stderr}");
        assert!(!d.join("run-waves-bad").join("weights.safetensors").exists());
    }

    // A class spoken only by the held-out speaker cannot be learnt.
    std::fs::write(
        &manifest,
        format!("{}\nlow_s0_0.wav,extra,s2", rows.join("\n")),
    )
    .unwrap();
    // (With --json the error is the printed object.)
    let (code, stdout, _) = train(
        &["--group-by", "speaker", "--test-groups", "s2"],
        &d.join("run2"),
    );
    assert_eq!(code, 2, "{stdout}");
    assert!(
        stdout.contains("class 'extra'")
            && stdout.contains("s2 → test")
            && stdout.contains("--test-groups"),
        "{stdout}"
    );
    // A column the manifest does not have is named with those it has.
    let (code, stdout, _) = train(&["--group-by", "session"], &d.join("run3"));
    assert_eq!(code, 2, "{stdout}");
    assert!(
        stdout.contains("'session'") && stdout.contains("speaker"),
        "{stdout}"
    );
    std::fs::remove_dir_all(d).unwrap();
}

#[test]
fn a_long_recording_is_labelled_window_by_window_as_its_excerpts_would_be() {
    let d = tmp("windows");
    let tone = |freq: f32, n: usize, rate: f32| -> Vec<f32> {
        (0..n)
            .map(|i| 0.5 * (std::f32::consts::TAU * freq * i as f32 / rate).sin())
            .collect()
    };
    for (class, freq) in [("low", 300.0), ("mid", 600.0), ("high", 1200.0)] {
        let folder = d.join("data").join(class);
        std::fs::create_dir_all(&folder).unwrap();
        for i in 0..4 {
            let y = tone(freq * (1.0 + 0.02 * i as f32), 11025, 22050.0);
            soundcheck_audio::write_wav(&folder.join(format!("{i}.wav")), &[y], 22050).unwrap();
        }
    }
    let run_dir = d.join("run");
    let spec = concat!(env!("CARGO_MANIFEST_DIR"), "/../../models/mfcc-conv1d.toml");
    let (code, _, stderr) = run(&[
        "train",
        "classification",
        "--data",
        d.join("data").to_str().unwrap(),
        "--model",
        spec,
        "--fill-classes",
        "--epochs",
        "2",
        "--validation-split",
        "0",
        "--out",
        run_dir.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{stderr}");
    // A recording at 16 kHz (each window is resampled to the run's 22050 Hz on its own):
    // 0.5 s of each tone, then 0.2 s more of the last; and the same windows as files.
    let parts: Vec<Vec<f32>> = [(300.0, 8000), (600.0, 8000), (1200.0, 8000), (1200.0, 3200)]
        .iter()
        .map(|&(f, n)| tone(f, n, 16000.0))
        .collect();
    let recording = d.join("recording.wav");
    soundcheck_audio::write_wav(&recording, &[parts.concat()], 16000).unwrap();
    let excerpts: Vec<String> = parts
        .iter()
        .enumerate()
        .map(|(i, y)| {
            let p = d.join(format!("excerpt{i}.wav"));
            soundcheck_audio::write_wav(&p, std::slice::from_ref(y), 16000).unwrap();
            p.display().to_string()
        })
        .collect();
    let classify = |files: &[&str], extra: &[&str]| -> Value {
        let mut args = vec!["classify", "--run", run_dir.to_str().unwrap(), "--json"];
        args.extend(files);
        args.extend(extra);
        let (code, stdout, stderr) = run(&args);
        assert_eq!(code, 0, "{stderr}");
        serde_json::from_str(&stdout).unwrap()
    };
    let windows = classify(&[recording.to_str().unwrap()], &["--window", "0.5"]);
    let files = classify(
        &excerpts.iter().map(String::as_str).collect::<Vec<_>>(),
        &[],
    );
    let (windows, files) = (
        windows["files"].as_array().unwrap(),
        files["files"].as_array().unwrap(),
    );
    assert_eq!(windows.len(), 4, "{windows:?}");
    for (i, (w, f)) in windows.iter().zip(files).enumerate() {
        let span = [&w["window"]["start"], &w["window"]["end"]].map(|v| v.as_f64().unwrap());
        assert_eq!(span, [0.5 * i as f64, (0.5 * i as f64 + 0.5).min(1.7)]);
        assert_eq!(w["label"], f["label"], "window {i}");
        for (a, b) in w["top"]
            .as_array()
            .unwrap()
            .iter()
            .zip(f["top"].as_array().unwrap())
        {
            assert_eq!(a["class"], b["class"], "window {i}");
            let (pa, pb) = (
                a["probability"].as_f64().unwrap(),
                b["probability"].as_f64().unwrap(),
            );
            assert!((pa - pb).abs() < 1e-6, "window {i}: {pa} vs {pb}");
        }
    }
    // The text form names each window; bad windows are named as flags.
    let (code, stdout, _) = run(&[
        "classify",
        "--run",
        run_dir.to_str().unwrap(),
        recording.to_str().unwrap(),
        "--window",
        "1",
        "--window-hop",
        "0.5",
    ]);
    assert_eq!(code, 0);
    assert!(
        stdout.contains("[0.50-1.50 s]") && stdout.contains("[1.00-1.70 s]"),
        "{stdout}"
    );
    for (flags, says) in [
        (["--window", "0", "--top-k", "1"], "--window 0"),
        (["--window", "1", "--window-hop", "NaN"], "--window-hop NaN"),
    ] {
        let mut args = vec![
            "classify",
            "--run",
            run_dir.to_str().unwrap(),
            recording.to_str().unwrap(),
        ];
        args.extend(flags);
        let (code, _, stderr) = run(&args);
        assert_eq!(code, 2, "{stderr}");
        assert!(stderr.contains(says), "{stderr}");
    }
    // A hop of a nanosecond: one window per sample, 27 201 of them, whose labels
    // (27 201 × 5 × 64 bytes = 8.3 MiB) are past a 1 MiB limit: refused before any is read.
    let (code, _, stderr) = common::run_with(
        &[("SOUNDCHECK_MEMORY_LIMIT", "1M")],
        &[
            "classify",
            "--run",
            run_dir.to_str().unwrap(),
            recording.to_str().unwrap(),
            "--window",
            "0.01",
            "--window-hop",
            "0.000000001",
        ],
    );
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("--window-hop 0.000000001 s") && stderr.contains("fewer windows"),
        "{stderr}"
    );
    std::fs::remove_dir_all(&d).unwrap();
}
