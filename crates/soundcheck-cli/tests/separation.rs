//! The separation path from the command line: the quickstart's whole pipeline (one epoch, so the
//! test stays short: the scores themselves are in README), then `separate` on a stereo 44.1 kHz
//! file with the quickstart's run, and the errors of a wrong run directory.

mod common;

use std::path::PathBuf;

use common::run;
use serde_json::Value;

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("sc-cli-sep-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

#[test]
fn quickstart_pipeline_and_separate_keep_rate_channels_and_sum() {
    let d = tmp("quick");
    let out = d.to_str().unwrap();
    let (code, stdout, stderr) = run(&["quickstart", "--out", out, "--epochs", "1", "--json"]);
    assert_eq!(code, 0, "{stderr}");
    let v: Value = serde_json::from_str(&stdout).unwrap();
    for key in [
        "vocals_sdr",
        "accompaniment_sdr",
        "mixture_vocals_sdr",
        "oracle_vocals_sdr",
        "seconds",
    ] {
        assert!(v[key].is_number(), "{key}: {v}");
    }
    // The oracle mask is the ceiling, the mixture the floor.
    assert!(
        v["oracle_vocals_sdr"].as_f64() > v["mixture_vocals_sdr"].as_f64(),
        "{v}"
    );
    assert!(d.join("report.json").exists());
    for f in ["vocals.wav", "accompaniment.wav", "mask.png", "mixture.png"] {
        assert!(d.join("separated/song12").join(f).exists(), "{f}");
    }

    // A stereo 44.1 kHz mixture: outputs at 44.1 kHz, two channels, summing to the input.
    let mix_path = d.join("stereo.wav");
    let n = 44100 * 2;
    let left: Vec<f32> = (0..n)
        .map(|i| 0.3 * (i as f32 * 2.0 * std::f32::consts::PI * 440.0 / 44100.0).sin())
        .collect();
    let right: Vec<f32> = left
        .iter()
        .enumerate()
        .map(|(i, v)| v * 0.5 + 0.01 * ((i % 7) as f32 - 3.0))
        .collect();
    soundcheck_audio::write_wav(&mix_path, &[left.clone(), right.clone()], 44100).unwrap();
    let sep = d.join("sep");
    let (code, stdout, stderr) = run(&[
        "separate",
        mix_path.to_str().unwrap(),
        "--run",
        d.join("run").to_str().unwrap(),
        "-o",
        sep.to_str().unwrap(),
        "--json",
    ]);
    assert_eq!(code, 0, "{stderr}");
    let v: Value = serde_json::from_str(&stdout).unwrap();
    assert!(v["files"][0]["realtime_factor"].as_f64().unwrap() > 0.0);
    let opts = soundcheck_audio::LoadOptions {
        sr: None,
        mono: false,
        ..Default::default()
    };
    // With multichannel Wiener filtering too: the stems still sum to the input.
    let wiener = d.join("wiener");
    let (code, _, stderr) = run(&[
        "separate",
        mix_path.to_str().unwrap(),
        "--run",
        d.join("run").to_str().unwrap(),
        "-o",
        wiener.to_str().unwrap(),
        "--wiener",
        "1",
    ]);
    assert_eq!(code, 0, "{stderr}");
    for out in [&sep, &wiener] {
        let vocals = soundcheck_audio::load(&out.join("stereo/vocals.wav"), &opts).unwrap();
        let acc = soundcheck_audio::load(&out.join("stereo/accompaniment.wav"), &opts).unwrap();
        assert_eq!((vocals.sample_rate, vocals.channels.len()), (44100, 2));
        assert_eq!(vocals.channels[0].len(), n);
        for (c, x) in [&left, &right].iter().enumerate() {
            let worst = (0..n).fold(0f32, |m, i| {
                m.max((vocals.channels[c][i] + acc.channels[c][i] - x[i]).abs())
            });
            // Float WAVs of a 16-bit input: only float rounding separates the sum from the
            // input.
            assert!(
                worst < 1e-4,
                "channel {c}: vocals + accompaniment differ from the input by {worst}"
            );
        }
    }

    // Two mixtures of one file name would overwrite each other's outputs: refused.
    std::fs::create_dir_all(d.join("other")).unwrap();
    std::fs::copy(&mix_path, d.join("other/stereo.wav")).unwrap();
    let (code, _, stderr) = run(&[
        "separate",
        mix_path.to_str().unwrap(),
        d.join("other/stereo.wav").to_str().unwrap(),
        "--run",
        d.join("run").to_str().unwrap(),
        "-o",
        d.join("dup").to_str().unwrap(),
    ]);
    assert_eq!(code, 2);
    assert!(stderr.contains("would both be written to"), "{stderr}");

    // A patch hop longer than the run's patches would leave frames unseparated: refused.
    let (code, _, stderr) = run(&[
        "separate",
        mix_path.to_str().unwrap(),
        "--run",
        d.join("run").to_str().unwrap(),
        "-o",
        d.join("gaps").to_str().unwrap(),
        "--patch-hop",
        "26",
    ]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("--patch-hop 26: expected 1 to 25"),
        "{stderr}"
    );
    assert!(!d.join("gaps").exists(), "nothing written");
    let (code, _, stderr) = run(&[
        "separate",
        mix_path.to_str().unwrap(),
        "--run",
        d.join("run").to_str().unwrap(),
        "-o",
        d.join("em").to_str().unwrap(),
        "--wiener",
        "11",
    ]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("--wiener 11: expected 0 to 10"), "{stderr}");
    assert!(!d.join("em").exists(), "nothing written");

    // A mixture that fails after its folder was made (a rate the resampler refuses: 100 MHz is
    // over 4096× the model's 22050) leaves no folder behind, and no partial WAV.
    let odd = d.join("odd.wav");
    soundcheck_audio::write_wav(&odd, &[vec![0.1f32; 1000]], 100_000_019).unwrap();
    let (code, _, stderr) = run(&[
        "separate",
        odd.to_str().unwrap(),
        "--run",
        d.join("run").to_str().unwrap(),
        "-o",
        d.join("fails").to_str().unwrap(),
    ]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("100000019"), "{stderr}");
    assert!(
        !d.join("fails/odd").exists(),
        "a failed separation leaves no folder"
    );

    interrupted_separation_leaves_no_partial_file(&d);
    sharded_separation_writes_what_one_run_writes(&d);

    // A directory that is not a separation run is named.
    let (code, _, stderr) = run(&[
        "separate",
        mix_path.to_str().unwrap(),
        "--run",
        out,
        "-o",
        sep.to_str().unwrap(),
    ]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("model.json") && stderr.contains("soundcheck train"),
        "{stderr}"
    );
    std::fs::remove_dir_all(d).unwrap();
}

/// `separate --files-from` in two shards writes exactly the files of one run (folders mirror
/// the listed paths, so two `mix.wav` in different folders do not collide), and a rerun with
/// `--skip-existing` redoes only a mixture whose stems are incomplete. Needs `d/run`.
fn sharded_separation_writes_what_one_run_writes(d: &std::path::Path) {
    let mut list = String::new();
    for (i, name) in ["a/mix.wav", "b/mix.wav", "c.wav"].iter().enumerate() {
        let p = d.join("mixes").join(name);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        let y: Vec<f32> = (0..11025)
            .map(|t| 0.2 * (t as f32 * 0.03 * (i + 1) as f32).sin())
            .collect();
        soundcheck_audio::write_wav(&p, &[y], 22050).unwrap();
        list.push_str(&format!("{}\n", p.display()));
    }
    let listed = d.join("mixes.txt");
    std::fs::write(&listed, list).unwrap();
    let run_dir = d.join("run");
    let job = |out: &std::path::Path, extra: &[&str]| -> Value {
        let mut args = vec![
            "separate",
            "--files-from",
            listed.to_str().unwrap(),
            "--run",
            run_dir.to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
            "--json",
        ];
        args.extend(extra);
        let (code, stdout, stderr) = run(&args);
        assert_eq!(code, 0, "{stderr}");
        serde_json::from_str(&stdout).unwrap()
    };
    let (whole, sharded) = (d.join("sep-whole"), d.join("sep-sharded"));
    assert_eq!(job(&whole, &[])["files"].as_array().unwrap().len(), 3);
    assert_eq!(
        job(&sharded, &["--shard", "0/2"])["files"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    assert_eq!(
        job(&sharded, &["--shard", "1/2"])["files"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(common::tree(&whole).len(), 6);
    assert_eq!(
        common::tree(&whole),
        common::tree(&sharded),
        "byte for byte"
    );
    // Killed between its two stems: the accompaniment of one mixture is missing.
    let a = &job(&sharded, &["--shard", "0/2", "--skip-existing"])["files"];
    let first = PathBuf::from(a[0]["output"].as_str().unwrap());
    std::fs::remove_file(first.join("accompaniment.wav")).unwrap();
    let again = job(&sharded, &["--shard", "0/2", "--skip-existing"]);
    let skipped: Vec<bool> = again["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["skipped"] == true)
        .collect();
    assert_eq!(skipped, [false, true]);
    assert_eq!(common::tree(&whole), common::tree(&sharded));
}

/// Ctrl-C during `separate`: the process ends with 130 and its unfinished WAVs (the unique
/// temporaries `.vocals.wav.<pid>-<n>.tmp`)
/// are gone. Needs the quickstart's run in `d/run`.
#[cfg(unix)]
fn interrupted_separation_leaves_no_partial_file(d: &std::path::Path) {
    use std::process::{Command, Stdio};
    // Three minutes of stereo: long enough to be caught while its stems are being written.
    let long = d.join("long.wav");
    let n = 44100 * 180;
    let tone: Vec<f32> = (0..n)
        .map(|i| 0.2 * ((i % 100) as f32 / 50.0 - 1.0))
        .collect();
    soundcheck_audio::write_wav(&long, &[tone.clone(), tone], 44100).unwrap();
    let out = d.join("interrupted");
    let child = Command::new(env!("CARGO_BIN_EXE_soundcheck"))
        .args(["separate", long.to_str().unwrap(), "--run"])
        .arg(d.join("run"))
        .arg("-o")
        .arg(&out)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let partial = || {
        std::fs::read_dir(out.join("long")).is_ok_and(|mut r| {
            r.any(|e| {
                let name = e.unwrap().file_name().to_string_lossy().into_owned();
                name.starts_with(".vocals.wav.") && name.ends_with(".tmp")
            })
        })
    };
    let start = std::time::Instant::now();
    while !partial() {
        assert!(
            start.elapsed().as_secs() < 120,
            "no partial WAV appeared within 2 minutes"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let kill = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let result = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert_eq!(result.status.code(), Some(130), "{stderr}");
    let left: Vec<_> = std::fs::read_dir(out.join("long"))
        .map(|r| r.map(|e| e.unwrap().file_name()).collect())
        .unwrap_or_default();
    assert!(left.is_empty(), "an interrupted separation left {left:?}");
}
