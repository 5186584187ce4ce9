//! `soundcheck features`: the whole chain (load → features → .npy) against librosa 0.11
//! (`chain_*` fixtures from `tools/fixtures/librosa_features.py`), layouts, pictures, errors.

use std::path::{Path, PathBuf};
mod common;

fn fixture(p: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../soundcheck-audio/tests/fixtures")
        .join(p)
}

const STEREO: &str = "audio/wav_44100_2ch_pcm_16.wav";

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("soundcheck-features-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d.join(name)
}

fn run(args: &[&str]) -> (i32, String, String) {
    common::run(&[&["features"], args].concat())
}

fn written(args: &[&str], out: &Path) -> soundcheck_npy::Array {
    let mut all = args.to_vec();
    all.extend(["-o", out.to_str().unwrap()]);
    let (code, stdout, stderr) = run(&all);
    assert_eq!(code, 0, "{stdout}{stderr}");
    soundcheck_npy::read(out).unwrap()
}

fn max_err(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter().zip(b).fold(0f32, |m, (x, y)| m.max((x - y).abs()))
}

#[test]
fn mfcc_chain_matches_librosa() {
    let got = written(
        &["mfcc", fixture(STEREO).to_str().unwrap()],
        &tmp("mfcc.npy"),
    );
    let want = soundcheck_npy::read(&fixture("chain_mfcc.npy")).unwrap();
    assert_eq!(got.shape, want.shape);
    // The load resamples 44.1 → 22.05 kHz as soxr does (float rounding); MFCCs (values ±180)
    // agree to 8e-5.
    let e = max_err(&got.data, &want.data);
    assert!(e < 1e-3, "{e}");
}

#[test]
fn magnitude_patches_are_channels_last_slices_of_the_spectrogram() {
    let stereo = fixture(STEREO);
    let args = [
        "magnitude",
        stereo.to_str().unwrap(),
        "--n-fft",
        "1024",
        "--hop-length",
        "256",
    ];
    let full = written(&args, &tmp("mag.npy"));
    let want = soundcheck_npy::read(&fixture("chain_mag.npy")).unwrap();
    assert_eq!(full.shape, want.shape);
    let peak = want.data.iter().fold(0f32, |m, v| m.max(*v));
    assert!(max_err(&full.data, &want.data) < 2e-3 * peak);
    let mut with_patch = args.to_vec();
    with_patch.extend(["--patch", "5"]);
    let out = tmp("patches.npy");
    let mut all = with_patch.clone();
    all.extend(["-o", out.to_str().unwrap()]);
    let (code, stdout, _) = run(&all);
    assert_eq!(code, 0);
    let (f, t) = (full.shape[0], full.shape[1]);
    assert!(
        stdout.contains(&format!(
            "; {} frame(s) after the last whole patch dropped",
            t % 5
        )),
        "{stdout}"
    );
    let p = soundcheck_npy::read(&out).unwrap();
    assert_eq!(p.shape, vec![t / 5, f, 5, 1]);
    // patches[k, i, j, 0] == S[i, 5k + j]
    for (k, i, j) in [(0, 0, 0), (1, 100, 3), (t / 5 - 1, f - 1, 4)] {
        assert_eq!(p.data[(k * f + i) * 5 + j], full.data[i * t + 5 * k + j]);
    }
}

#[test]
fn stft_is_complex64_and_time_major_transposes() {
    let s = written(
        &["stft", fixture(STEREO).to_str().unwrap(), "--n-fft", "512"],
        &tmp("stft.npy"),
    );
    assert!(s.complex);
    assert_eq!(
        soundcheck_npy::read_header(&tmp("stft.npy")).unwrap().descr,
        "<c8"
    );
    let m = written(
        &["mel", fixture(STEREO).to_str().unwrap(), "--n-mels", "40"],
        &tmp("mel.npy"),
    );
    let tm = written(
        &[
            "mel",
            fixture(STEREO).to_str().unwrap(),
            "--n-mels",
            "40",
            "--time-major",
        ],
        &tmp("mel_t.npy"),
    );
    let (f, t) = (m.shape[0], m.shape[1]);
    assert_eq!(tm.shape, vec![t, f]);
    assert_eq!(tm.data[3 * f + 7], m.data[7 * t + 3]);
    let st = written(
        &[
            "waveform",
            fixture(STEREO).to_str().unwrap(),
            "--no-mono",
            "--sr",
            "native",
        ],
        &tmp("wave.npy"),
    );
    assert_eq!(st.shape, vec![2, 11025]);
    // librosa's spelling of the default, mono=True, is accepted and means the same.
    let mono = written(
        &[
            "waveform",
            fixture(STEREO).to_str().unwrap(),
            "--mono",
            "--sr",
            "native",
        ],
        &tmp("wave_mono.npy"),
    );
    assert_eq!(mono.shape, vec![11025]);
    // The frame-wise descriptors: one row per channel, librosa's frame count (center=True).
    let frames = 1 + 11025 / 512;
    for kind in [
        "rms",
        "zero_crossing_rate",
        "spectral-centroid",
        "spectral_rolloff",
    ] {
        let f = written(
            &[
                kind,
                fixture(STEREO).to_str().unwrap(),
                "--no-mono",
                "--sr",
                "native",
            ],
            &tmp(&format!("{kind}.npy")),
        );
        assert_eq!(f.shape, vec![2, 1, frames], "{kind}");
    }
    // librosa's shapes: contrast (n_bands + 1, frames) per channel; onset strength (frames,),
    // (channels, frames) with --no-mono.
    let src = fixture(STEREO);
    let src = src.to_str().unwrap();
    let contrast = written(
        &["spectral_contrast", src, "--no-mono", "--sr", "native"],
        &tmp("contrast.npy"),
    );
    assert_eq!(contrast.shape, vec![2, 7, frames]);
    let chroma = written(&["chroma_stft", src, "--sr", "native"], &tmp("chroma.npy"));
    assert_eq!(chroma.shape, vec![12, frames]);
    let onset = written(
        &["onset_strength", src, "--sr", "native"],
        &tmp("onset.npy"),
    );
    assert_eq!(onset.shape, vec![frames]);
    let onsets = written(
        &["onset-strength", src, "--no-mono", "--sr", "native"],
        &tmp("onsets.npy"),
    );
    assert_eq!(onsets.shape, vec![2, frames]);
    // The constant-Q kinds: cqt complex (84, frames); chroma_cqt (12, frames) per channel;
    // tonnetz (6, frames), the library's values (checked against librosa in its own tests).
    let cqt = written(&["cqt", src, "--sr", "native"], &tmp("cqt.npy"));
    assert!(cqt.complex);
    assert_eq!(cqt.shape, vec![84, frames]);
    let chromas = written(
        &["chroma_cqt", src, "--no-mono", "--sr", "native"],
        &tmp("chroma_cqt.npy"),
    );
    assert_eq!(chromas.shape, vec![2, 12, frames]);
    let ton = written(&["tonnetz", src, "--sr", "native"], &tmp("tonnetz.npy"));
    assert_eq!(ton.shape, vec![6, frames]);
    let opts = soundcheck_audio::LoadOptions {
        sr: None,
        ..Default::default()
    };
    let y = soundcheck_audio::load(Path::new(src), &opts).unwrap();
    let cfg = soundcheck_audio::CqtConfig::for_chroma(512);
    let chroma =
        soundcheck_audio::chroma_cqt(&[&y.channels[0]], y.sample_rate, &cfg, None, 12).unwrap();
    let want = soundcheck_audio::tonnetz_from_chroma(&chroma[0]);
    assert_eq!(ton.data, want.as_standard_layout().as_slice().unwrap());
    // --delta 2: [F; delta(F); delta(F, order=2)], the deltas as soundcheck_audio computes them
    // (checked against librosa in its own tests).
    let plain = written(
        &["mfcc", fixture(STEREO).to_str().unwrap()],
        &tmp("m20.npy"),
    );
    let stacked = written(
        &["mfcc", fixture(STEREO).to_str().unwrap(), "--delta", "2"],
        &tmp("m60.npy"),
    );
    let t = plain.shape[1];
    assert_eq!(stacked.shape, vec![60, t]);
    assert_eq!(&stacked.data[..20 * t], &plain.data[..]);
    let m = ndarray::Array2::from_shape_vec((20, t), plain.data).unwrap();
    let d2 = soundcheck_audio::delta(&m, 9, 2).unwrap();
    assert_eq!(
        &stacked.data[40 * t..],
        d2.as_standard_layout().as_slice().unwrap()
    );
}

#[test]
fn png_is_written() {
    let png = tmp("spec.png");
    written(
        &[
            "mel",
            fixture(STEREO).to_str().unwrap(),
            "--db",
            "--png",
            png.to_str().unwrap(),
        ],
        &tmp("m.npy"),
    );
    let bytes = std::fs::read(&png).unwrap();
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
}

#[test]
fn bad_inputs_and_arguments_are_named() {
    let out = tmp("bad.npy");
    let o = out.to_str().unwrap();
    let (stereo, truncated) = (fixture(STEREO), fixture("audio/bad_truncated.wav"));
    let (s, t) = (stereo.to_str().unwrap(), truncated.to_str().unwrap());
    let cases: [(&[&str], &str); 8] = [
        (
            &["mel", t, "-o", o],
            "bad_truncated.wav: the audio data is damaged or truncated",
        ),
        (
            &["mel", s, "-o", o, "--hop-length", "0"],
            "hop_length=0 is invalid",
        ),
        (&["mel", s, "-o", o, "--n-fft", "256"], "use n_mels ≤ 79"),
        (
            &["magnitude", s, "-o", o, "--patch", "500"],
            "each patch needs 500 frames",
        ),
        (
            &[
                "magnitude",
                s,
                "-o",
                o,
                "--center",
                "false",
                "--n-fft",
                "20000",
            ],
            "expected at least 20000",
        ),
        (&["mfcc", s, "-o", o, "--db"], "--db=set is invalid"),
        (
            &["rms", s, "-o", o, "--png", "x.png"],
            "--png=set is invalid",
        ),
        (
            &["mfcc", s, "-o", o, "--power", "1"],
            "--power=1 is invalid",
        ),
    ];
    for (args, needle) in cases {
        let (code, stdout, stderr) = run(args);
        assert_eq!(code, 2, "{args:?}: {stdout}{stderr}");
        assert!(stderr.contains(needle), "{args:?}: {stderr}");
    }
    assert!(!out.exists(), "no partial output is left behind");
}

#[test]
fn several_inputs_write_one_file_each_and_report_failures() {
    let dir = tmp("batch");
    let (code, stdout, stderr) = run(&[
        "mfcc",
        fixture("audio/wav_22050_1ch_pcm_16.wav").to_str().unwrap(),
        fixture("audio/bad_empty.wav").to_str().unwrap(),
        fixture("audio/flac_44100_2ch.flac").to_str().unwrap(),
        "-o",
        dir.to_str().unwrap(),
        "--json",
    ]);
    assert_eq!(code, 2, "{stderr}");
    let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(v["ok"], false);
    assert!(v["outputs"][1]["error"]
        .as_str()
        .unwrap()
        .contains("bad_empty.wav: the file holds no audio samples"));
    assert!(
        dir.join("wav_22050_1ch_pcm_16.npy").exists() && dir.join("flac_44100_2ch.npy").exists()
    );
}

#[test]
fn shards_of_a_listed_job_write_exactly_the_files_of_one_run_and_a_rerun_completes_a_killed_one() {
    let root = tmp("shards");
    let _ = std::fs::remove_dir_all(&root);
    // Seven clips in nested folders, two of them sharing a file name.
    let names = [
        "a/x.wav",
        "a/y.wav",
        "b/x.wav",
        "b/c/z.wav",
        "w.wav",
        "b/v.wav",
        "a/u.wav",
    ];
    let mut list = String::from("# clips\n");
    for (i, name) in names.iter().enumerate() {
        let p = root.join("data").join(name);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        let y: Vec<f32> = (0..4000)
            .map(|t| (t as f32 * 0.01 * (i + 1) as f32).sin() * 0.3)
            .collect();
        soundcheck_audio::write_wav(&p, &[y], 16000).unwrap();
        list.push_str(&format!("{}\n", p.display()));
    }
    let listed = root.join("list.txt");
    std::fs::write(&listed, list).unwrap();
    let l = listed.to_str().unwrap();
    let job = |out: &Path, extra: &[&str]| {
        let mut args = vec![
            "mfcc",
            "--files-from",
            l,
            "-o",
            out.to_str().unwrap(),
            "--json",
        ];
        args.extend(extra);
        let (code, stdout, stderr) = run(&args);
        assert_eq!(code, 0, "{stdout}{stderr}");
        serde_json::from_str::<serde_json::Value>(&stdout).unwrap()
    };
    let (whole, sharded) = (root.join("whole"), root.join("sharded"));
    assert_eq!(job(&whole, &[])["done"], 7);
    let mut sizes = Vec::new();
    for i in 0..3 {
        let report = job(&sharded, &["--shard", &format!("{i}/3")]);
        assert_eq!(report["shard"], serde_json::json!({"index": i, "count": 3}));
        sizes.push(report["done"].as_u64().unwrap());
    }
    assert_eq!(sizes, [3, 2, 2]);
    assert_eq!(
        common::tree(&whole),
        common::tree(&sharded),
        "byte for byte"
    );
    assert_eq!(
        common::tree(&whole).len(),
        7,
        "no two clips share an output"
    );
    // Shard 1 killed after one output: the other is missing and a temporary file is left.
    let outputs: Vec<PathBuf> = job(&sharded, &["--shard", "1/3", "--skip-existing"])["outputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| PathBuf::from(o["output"].as_str().unwrap()))
        .collect();
    std::fs::remove_file(&outputs[1]).unwrap();
    let partial = outputs[1].with_file_name(".z.npy.4242-0.tmp");
    std::fs::write(&partial, b"partial").unwrap();
    let rerun = job(&sharded, &["--shard", "1/3", "--skip-existing"]);
    assert_eq!(
        (rerun["done"].as_u64(), rerun["skipped"].as_u64()),
        (Some(1), Some(1))
    );
    std::fs::remove_file(&partial).unwrap();
    assert_eq!(common::tree(&whole), common::tree(&sharded));
    // Slurm's variables choose the shard when --shard is absent.
    let (code, stdout, stderr) = common::run_with(
        &[
            ("SLURM_ARRAY_TASK_ID", "2"),
            ("SLURM_ARRAY_TASK_COUNT", "3"),
        ],
        &[
            "features",
            "mfcc",
            "--files-from",
            l,
            "-o",
            sharded.to_str().unwrap(),
            "--skip-existing",
            "--json",
        ],
    );
    assert_eq!(code, 0, "{stdout}{stderr}");
    let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(
        (v["shard"]["index"].as_u64(), v["skipped"].as_u64()),
        (Some(2), Some(2))
    );
    // A list with `..` would write outside -o; a repeated line would write one output twice.
    std::fs::write(&listed, "../x.wav\n").unwrap();
    let (code, _, err) = run(&["mfcc", "--files-from", l, "-o", whole.to_str().unwrap()]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("a path without `..`"), "{err}");
    std::fs::write(&listed, "a.wav\na.wav\n").unwrap();
    let (code, _, err) = run(&["mfcc", "--files-from", l, "-o", whole.to_str().unwrap()]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("line 2") && err.contains("each path once"),
        "{err}"
    );
    std::fs::remove_dir_all(&root).unwrap();
}

#[test]
fn chroma_takes_librosas_tuning_and_refuses_a_non_finite_one() {
    let wav = fixture(STEREO);
    let w = wav.to_str().unwrap();
    let got = written(
        &["chroma", w, "--tuning", "-0.25"],
        &tmp("chroma_tuned.npy"),
    );
    // The library's chroma_stft (held to librosa with a given tuning by the spectral fixtures)
    // on the same loaded signal.
    let audio = soundcheck_audio::load(&wav, &soundcheck_audio::LoadOptions::default()).unwrap();
    let channels: Vec<&[f32]> = audio.channels.iter().map(Vec::as_slice).collect();
    let want = soundcheck_audio::chroma_stft(
        &channels,
        audio.sample_rate,
        &soundcheck_audio::StftConfig::default(),
        &soundcheck_audio::ChromaConfig {
            tuning: Some(-0.25),
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(got.shape, [12, want[0].ncols()]);
    assert!(max_err(&got.data, want[0].as_standard_layout().as_slice().unwrap()) < 1e-6);
    let estimated = written(&["chroma", w], &tmp("chroma_estimated.npy"));
    assert_ne!(got.data, estimated.data, "the given tuning is used");
    let (code, _, err) = run(&[
        "chroma",
        w,
        "-o",
        tmp("nan.npy").to_str().unwrap(),
        "--tuning",
        "NaN",
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("tuning=NaN is invalid"), "{err}");
}
