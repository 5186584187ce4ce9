//! What a hostile environment does to the binary: a closed pipe, a full disk, a model the engine
//! cannot run. Never a panic; a quiet exit or a named error.

mod common;

use std::process::{Command, Stdio};

use proptest::prelude::{any, ProptestConfig};
use proptest::sample::Index;

use common::{run, run_with};

fn repo(p: &str) -> String {
    format!("{}/../../{p}", env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn a_closed_pipe_ends_the_output_quietly() {
    // `soundcheck check ... --json | head -c 0`: the report (≈ 300 KB, far more than a pipe
    // holds) is written after the reader is gone, so the write surely meets a closed pipe.
    let dir = std::env::temp_dir().join(format!("sc-cli-pipe-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let spec = dir.join("long.toml");
    let mut text = String::from("input_shape = [4]\n");
    for _ in 0..4000 {
        text.push_str("[[layers]]\ntype = \"Activation\"\nactivation = \"relu\"\n");
    }
    std::fs::write(&spec, text).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_soundcheck"))
        .args(["check", spec.to_str().unwrap(), "--json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.is_empty(), "{stderr}");
}

#[cfg(target_os = "linux")]
#[test]
fn a_full_disk_behind_standard_output_is_named() {
    let full = std::fs::File::create("/dev/full").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_soundcheck"))
        .args(["check", &repo("models/vocal-mask.toml")])
        .stdout(full)
        .output()
        .unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("cannot write to standard output") && !stderr.contains("panicked"),
        "{stderr}"
    );
}

#[test]
fn a_model_of_more_axes_than_the_engine_runs_is_refused_by_check_and_train() {
    let dir = std::env::temp_dir().join(format!("sc-cli-hostile-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let spec = dir.join("six.toml");
    std::fs::write(
        &spec,
        "input_shape = [2, 2, 2, 2, 2]\nloss = \"mse\"\n[[layers]]\ntype = \"Dense\"\nunits = 1\n",
    )
    .unwrap();
    let (code, out, _) = run(&["check", spec.to_str().unwrap()]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("error[rank_mismatch]") && out.contains("6 axes"),
        "{out}"
    );
    let x: Vec<f32> = vec![0.5; 4 * 32];
    soundcheck_npy::write(&dir.join("x.npy"), &[4, 2, 2, 2, 2, 2], &x).unwrap();
    soundcheck_npy::write(&dir.join("y.npy"), &[4, 2, 2, 2, 2, 1], &[0.0f32; 64]).unwrap();
    let run_dir = dir.join("run");
    let (code, _, err) = run(&[
        "train",
        "--model",
        spec.to_str().unwrap(),
        "--data",
        dir.to_str().unwrap(),
        "--epochs",
        "1",
        "--out",
        run_dir.to_str().unwrap(),
    ]);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("rank_mismatch") && !err.contains("panicked"),
        "{err}"
    );
    assert!(
        !run_dir.join("model.json").exists(),
        "a refused run leaves nothing"
    );
}

#[test]
fn an_output_that_is_an_input_is_refused_and_the_input_kept() {
    let dir = std::env::temp_dir().join(format!("sc-cli-inplace-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let wav = dir.join("clip.wav");
    let tone: Vec<f32> = (0..22050).map(|i| (i as f32 * 0.05).sin() * 0.3).collect();
    soundcheck_audio::write_wav(&wav, &[tone], 22050).unwrap();
    let before = std::fs::read(&wav).unwrap();
    // The same file spelled through a `..` detour.
    let sneaky = dir.join("sub").join("..").join("clip.wav");
    std::fs::create_dir_all(dir.join("sub")).unwrap();
    let (code, _, err) = run(&[
        "features",
        "mel",
        wav.to_str().unwrap(),
        "-o",
        sneaky.to_str().unwrap(),
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("other than the input"), "{err}");
    assert_eq!(std::fs::read(&wav).unwrap(), before, "the input is intact");

    let spec = repo("models/mfcc-lstm.toml");
    let copy = dir.join("m.toml");
    std::fs::copy(&spec, &copy).unwrap();
    let (code, _, err) = run(&["convert", copy.to_str().unwrap(), copy.to_str().unwrap()]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("the output is the input"), "{err}");
    assert_eq!(std::fs::read(&copy).unwrap(), std::fs::read(&spec).unwrap());
}

/// A fresh folder holding a short tone `clip.wav`.
fn folder_with_clip(name: &str) -> (std::path::PathBuf, std::path::PathBuf) {
    let dir = std::env::temp_dir().join(format!("sc-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let wav = dir.join("clip.wav");
    let tone: Vec<f32> = (0..22050).map(|i| (i as f32 * 0.05).sin() * 0.3).collect();
    soundcheck_audio::write_wav(&wav, &[tone], 22050).unwrap();
    (dir, wav)
}

#[test]
fn a_secondary_output_naming_an_input_or_another_output_is_refused() {
    let (dir, wav) = folder_with_clip("png-clash");
    let before = std::fs::read(&wav).unwrap();
    let npy = dir.join("x.npy");
    let w = wav.to_str().unwrap();
    let n = npy.to_str().unwrap();
    // `--png` onto the audio, through a folder that does not exist yet.
    let sneaky = dir.join("nosuch").join("..").join("clip.wav");
    let (code, _, err) = run(&[
        "features",
        "mel",
        w,
        "-o",
        n,
        "--png",
        sneaky.to_str().unwrap(),
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("--png") && err.contains("other than the input"),
        "{err}"
    );
    // `--png` onto the `.npy` being written.
    let (code, _, err) = run(&["features", "mel", w, "-o", n, "--png", n]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("other than the output"), "{err}");
    assert_eq!(std::fs::read(&wav).unwrap(), before, "the input is intact");
    assert!(!npy.exists(), "nothing written before the check");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_users_tmp_files_and_inputs_named_tmp_survive_a_write() {
    let (dir, wav) = folder_with_clip("tmp-names");
    // An input named like the old fixed temporary of its output.
    let input = dir.join("song.npy.tmp");
    std::fs::rename(&wav, &input).unwrap();
    let before = std::fs::read(&input).unwrap();
    std::fs::write(dir.join("precious.txt"), b"precious").unwrap();
    #[cfg(unix)]
    std::os::unix::fs::symlink(dir.join("precious.txt"), dir.join("x.npy.tmp")).unwrap();
    for out in ["song.npy", "x.npy"] {
        let o = dir.join(out);
        let (code, _, err) = run(&[
            "features",
            "mel",
            input.to_str().unwrap(),
            "-o",
            o.to_str().unwrap(),
        ]);
        assert_eq!(code, 0, "{err}");
        assert!(o.is_file());
    }
    assert_eq!(
        std::fs::read(&input).unwrap(),
        before,
        "the input is intact"
    );
    assert_eq!(
        std::fs::read(dir.join("precious.txt")).unwrap(),
        b"precious"
    );
    let mut left: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    left.sort();
    let expected = [
        "precious.txt",
        "song.npy",
        "song.npy.tmp",
        "x.npy",
        "x.npy.tmp",
    ];
    assert_eq!(left, expected, "no temporary left behind");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[cfg(unix)]
#[test]
fn a_device_output_is_streamed_into_not_replaced() {
    use std::os::unix::fs::FileTypeExt;
    let (dir, wav) = folder_with_clip("device");
    let w = wav.to_str().unwrap();
    let (code, _, err) = run(&[
        "features",
        "mel",
        w,
        "-o",
        "/dev/null",
        "--png",
        "/dev/null",
    ]);
    assert_eq!(code, 2, "two outputs naming one file: {err}");
    let (code, _, err) = run(&["features", "mel", w, "-o", "/dev/null"]);
    assert_eq!(code, 0, "{err}");
    let kind = std::fs::metadata("/dev/null").unwrap().file_type();
    assert!(kind.is_char_device(), "/dev/null is still the device");
    let png = dir.join("x.png");
    let (code, _, err) = run(&[
        "features",
        "mel",
        w,
        "-o",
        "/dev/null",
        "--png",
        png.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(png.is_file());
    std::fs::remove_dir_all(&dir).unwrap();
}

/// `check` on a `.keras` archive at `bytes`: exit 0, 1 or 2 with a report, never a panic.
fn check_archive(bytes: &[u8]) {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static N: AtomicUsize = AtomicUsize::new(0);
    let path = std::env::temp_dir().join(format!(
        "sc-keras-fuzz-{}-{}.keras",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::write(&path, bytes).unwrap();
    let (code, out, err) = run(&["check", path.to_str().unwrap(), "--json"]);
    let _ = std::fs::remove_file(&path);
    assert!((0..=2).contains(&code), "exit {code}: {err}");
    assert!(!err.contains("panicked"), "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"));
    assert!(v["ok"].is_boolean(), "{out}");
}

proptest::proptest! {
    // Each case runs the binary: fewer cases than the in-process fuzz tests by default;
    // PROPTEST_CASES still sets them for a long session.
    #![proptest_config(ProptestConfig::with_cases(
        std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(48)
    ))]

    /// A Keras 3 archive with bytes altered and its end cut: the zip reader, the inflater and
    /// the config parser refuse it by name or read what is left.
    #[test]
    fn altered_keras_archives_are_read_or_refused(
        edits in proptest::collection::vec((any::<Index>(), any::<u8>()), 1..6),
        cut in any::<Index>(),
    ) {
        let mut bytes = std::fs::read(repo(
            "crates/soundcheck-shape/tests/fixtures/keras_json/sequential-mfcc-lstm.keras",
        ))
        .unwrap();
        for (at, b) in edits {
            let i = at.index(bytes.len());
            bytes[i] = b;
        }
        let keep = bytes.len() - cut.index(bytes.len() / 4 + 1);
        check_archive(&bytes[..keep]);
    }

    #[test]
    fn any_bytes_named_keras_are_refused(
        bytes in proptest::collection::vec(any::<u8>(), 0..200),
    ) {
        let mut b = b"PK\x03\x04".to_vec();
        b.extend(bytes);
        check_archive(&b);
    }
}

/// A temporary folder of this test process.
fn tmp(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("sc-cli-hostile-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[cfg(target_os = "linux")]
#[test]
fn a_full_disk_behind_standard_error_or_help_is_no_panic_and_no_success() {
    let with = |args: &[&str], stdout: bool| {
        let full = std::fs::File::create("/dev/full").unwrap();
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_soundcheck"));
        cmd.args(args);
        if stdout {
            cmd.stdout(full);
        } else {
            cmd.stderr(full);
        }
        cmd.output().unwrap().status.code()
    };
    // An error's status is kept when its message cannot be written, and a usage error's too.
    assert_eq!(with(&["check", "no/such/model.toml"], false), Some(2));
    assert_eq!(with(&["check", "--no-such-flag"], false), Some(2));
    // Help or a version that could not be written is no success.
    assert_eq!(with(&["--help"], true), Some(2));
    assert_eq!(with(&["--version"], true), Some(2));
    assert_eq!(with(&["--help"], false), Some(0));
}

#[test]
fn control_characters_in_names_reach_the_terminal_escaped() {
    let d = tmp("controls");
    let spec = d.join("evil.toml");
    std::fs::write(
        &spec,
        "input_shape = [4]\n[[layers]]\ntype = \"Dense\"\nunits = 2\nname = \"d\\u001b]0;owned\\u0007\\u0000x\"\n\
         [[layers]]\ntype = \"Reshape\"\ntarget_shape = [3]\nname = \"r\\u001b[31m\"\n",
    )
    .unwrap();
    let (code, stdout, stderr) = run(&["check", spec.to_str().unwrap()]);
    assert_ne!(code, 0, "{stdout}{stderr}");
    let all = stdout + &stderr;
    assert!(!all.contains(['\u{1b}', '\u{7}', '\0']), "{all:?}");
    assert!(
        all.contains(r"d\x1b]0;owned\x07\x00x") && all.contains(r"r\x1b[31m"),
        "{all}"
    );
    // A file name: the path in the message is escaped too.
    let (code, stdout, stderr) = run(&["check", &format!("{}/a\u{1b}[2Jb.toml", d.display())]);
    assert_eq!(code, 2, "{stderr}");
    let all = stdout + &stderr;
    assert!(
        all.contains(r"a\x1b[2Jb.toml") && !all.contains('\u{1b}'),
        "{all:?}"
    );
    // JSON stays JSON: serde's escapes, nothing of ours.
    let (_, stdout, _) = run(&["check", spec.to_str().unwrap(), "--json"]);
    assert!(stdout.contains(r"d\u001b]0;owned"), "{stdout}");
}

#[test]
fn a_train_that_never_finished_an_epoch_is_resumed_by_starting_it_again() {
    let d = tmp("unfinished");
    let mut rng = soundcheck_io::SplitMix64::new(3);
    let x: Vec<f32> = (0..64).map(|_| rng.uniform() as f32).collect();
    soundcheck_npy::write(&d.join("x.npy"), &[32, 2], &x).unwrap();
    soundcheck_npy::write(&d.join("y.npy"), &[32, 1], &x[..32]).unwrap();
    let model = d.join("m.toml");
    std::fs::write(
        &model,
        "input_shape = [2]\nloss = \"mse\"\n[[layers]]\ntype = \"Dense\"\nunits = 1\n",
    )
    .unwrap();
    // What a train killed in its first epoch leaves.
    let out = d.join("run");
    std::fs::create_dir_all(&out).unwrap();
    for f in [".soundcheck-lock", "model.json", "train.json"] {
        std::fs::write(out.join(f), "{}").unwrap();
    }
    let (data, out) = (d.to_str().unwrap(), out.to_str().unwrap());
    let (code, _, stderr) = run(&["train", "--data", data, "--out", out, "--resume"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("never finished an epoch") && stderr.contains("without --resume"),
        "{stderr}"
    );
    let args = [
        "train",
        "--model",
        model.to_str().unwrap(),
        "--data",
        data,
        "--out",
        out,
    ];
    let (code, _, stderr) = run(&[&args[..], &["--epochs", "1"]].concat());
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("replacing an unfinished run"), "{stderr}");
}

#[test]
fn sizes_a_user_controls_are_refused_with_their_value_before_anything_is_allocated() {
    let (dir, wav) = folder_with_clip("sizes");
    let (w, out) = (wav.to_str().unwrap(), dir.join("x.npy"));
    let o = out.to_str().unwrap();
    // More mels than 1025 bins can light: librosa's largest working count, found without
    // building a bank per candidate (16000 took minutes, 10⁶ aborted on 4 GB).
    for n in ["1000000", "16000", "4000"] {
        let (code, _, err) = run(&["features", "mel", w, "-o", o, "--n-mels", n]);
        assert_eq!(code, 2, "{err}");
        assert!(
            err.contains(&format!("n_mels={n} is invalid")) && err.contains("use n_mels ≤ "),
            "{err}"
        );
    }
    // 1 s at 22.05 kHz resampled to 90 MHz: 360 MB, past a 64 MiB limit.
    let (code, _, err) = run_with(
        &[("SOUNDCHECK_MEMORY_LIMIT", "64M")],
        &["features", "waveform", w, "-o", o, "--sr", "90000000"],
    );
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains(
            "would take 343.3 MiB, more than the 64.0 MiB limit set by SOUNDCHECK_MEMORY_LIMIT"
        ),
        "{err}"
    );
    // A `.npy` header of 2⁶³ × 4 values (the product wraps to 0 in 64 bits).
    let bad = dir.join("huge.npy");
    let header = "{'descr': '<f4', 'fortran_order': False, 'shape': (9223372036854775808, 4), }";
    let mut bytes = b"\x93NUMPY\x01\x00".to_vec();
    bytes.extend((header.len() as u16).to_le_bytes());
    bytes.extend(header.as_bytes());
    std::fs::write(&bad, bytes).unwrap();
    let (code, stdout, err) = run(&[
        "check",
        &repo("models/vocal-mask.toml"),
        "--data",
        bad.to_str().unwrap(),
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(
        stdout.contains("more elements than any file can hold"),
        "{stdout}"
    );
    // A trillion songs: refused against the free disk before the soundfont is even read.
    let songs = dir.join("songs");
    let (code, _, err) = run(&[
        "songs",
        "--out",
        songs.to_str().unwrap(),
        "--train",
        "1000000000000",
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("--train") && err.contains("free on the disk"),
        "{err}"
    );
    assert!(!songs.exists() && !out.exists(), "nothing written");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn flags_that_would_train_on_nan_or_without_validation_are_refused() {
    let dir = tmp("nan-flags");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let model = dir.join("m.toml");
    std::fs::write(
        &model,
        "input_shape = [4]\n[[layers]]\ntype = \"Dense\"\nunits = 2\nactivation = \"softmax\"\n",
    )
    .unwrap();
    let x: Vec<f32> = (0..40).map(|i| i as f32 / 40.0).collect();
    let y: Vec<i64> = (0..10).map(|i| i % 2).collect();
    soundcheck_npy::write(&dir.join("x.npy"), &[10, 4], &x).unwrap();
    soundcheck_npy::write(&dir.join("y.npy"), &[10], &y).unwrap();
    let (m, d) = (model.to_str().unwrap(), dir.to_str().unwrap());
    for (flag, value, says) in [
        (
            "--validation-split",
            "-0.5",
            "validation_split=-0.5 is invalid",
        ),
        (
            "--validation-split",
            "NaN",
            "validation_split=NaN is invalid",
        ),
        ("--learning-rate", "NaN", "--learning-rate NaN"),
    ] {
        let run_dir = dir.join("run");
        let (code, _, err) = run(&[
            "train",
            "--model",
            m,
            "--data",
            d,
            "--loss",
            "sparse_categorical_crossentropy",
            &format!("{flag}={value}"),
            "--out",
            run_dir.to_str().unwrap(),
        ]);
        assert_eq!(code, 2, "{flag} {value}: {err}");
        assert!(err.contains(says), "{flag} {value}: {err}");
        let _ = std::fs::remove_dir_all(&run_dir);
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_track_longer_than_the_memory_for_holding_it_whole_is_scored_span_by_span() {
    let dir = tmp("eval-budget");
    let (refs, ests) = (dir.join("ref").join("song"), dir.join("est").join("song"));
    let mut state = 12345u32;
    let mut noise = move || {
        state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
        (state >> 8) as f32 / (1u32 << 24) as f32 - 0.5
    };
    // 30 s at 22050 Hz: the references and estimates in f64 take 2 × 2 stems × 661500 × 8 bytes
    // = 20.2 MiB, past an 8 MiB limit; one second's window with its spectra fits.
    let n = 30 * 22050;
    let truth: Vec<Vec<f32>> = (0..2).map(|_| (0..n).map(|_| noise()).collect()).collect();
    for (folder, leak) in [(&refs, 0.0f32), (&ests, 0.2)] {
        std::fs::create_dir_all(folder).unwrap();
        for (j, stem) in ["vocals", "accompaniment"].iter().enumerate() {
            let y: Vec<f32> = (0..n)
                .map(|t| truth[j][t] + leak * truth[1 - j][t])
                .collect();
            soundcheck_audio::write_wav(&folder.join(format!("{stem}.wav")), &[y], 22050).unwrap();
        }
    }
    let evaluate = |extra: &[&str]| {
        let mut args = vec![
            "evaluate",
            "--reference",
            refs.to_str().unwrap(),
            "--estimate",
            ests.to_str().unwrap(),
            "--json",
        ];
        args.extend(extra);
        run_with(&[("SOUNDCHECK_MEMORY_LIMIT", "8M")], &args)
    };
    let (code, out, err) = evaluate(&[]);
    assert_eq!(code, 0, "{err}");
    // A leak of 0.2 in amplitude: SIR = 20·log10(1 / 0.2) = 13.98 dB, no artefacts.
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let sir = v["tracks"][0]["stems"]["vocals"]["sir"].as_f64().unwrap();
    assert!((sir - 13.98).abs() < 0.5, "{out}");
    // A window as long as the track is held whole, with its spectra: refused, named.
    let (code, out, _) = evaluate(&["--window", "3600", "--hop", "3600"]);
    assert_eq!(code, 2, "{out}");
    assert!(
        out.contains("one window of every reference and estimate")
            && out.contains("score the track in excerpts, or in shorter windows"),
        "{out}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
