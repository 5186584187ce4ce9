//! `soundcheck evaluate`: folders of stems in, museval-style scores out; the numbers themselves
//! are checked against museval in soundcheck-eval's `museval_compat` tests, so here: the layout,
//! the medians, the JSON and the errors that name the file.

use std::path::{Path, PathBuf};
mod common;

use soundcheck_audio::write_wav;

const SR: u32 = 8000;

fn dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("soundcheck-evaluate-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Deterministic noise-like stems (an LCG), distinct per seed, so the references are independent.
fn stem(seed: u32, seconds: f32) -> Vec<f32> {
    let mut s = seed.wrapping_mul(2_654_435_761).wrapping_add(1);
    (0..(seconds * SR as f32) as usize)
        .map(|_| {
            s = s.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            (s >> 8) as f32 / (1u32 << 24) as f32 - 0.5
        })
        .collect()
}

fn write(d: &Path, name: &str, y: Vec<f32>, sr: u32) {
    write_wav(&d.join(name), &[y], sr).unwrap();
}

fn run(args: &[&str]) -> (i32, String, String) {
    common::run(&[&["evaluate"], args].concat())
}

fn paths<'a>(r: &'a Path, e: &'a Path) -> [&'a str; 4] {
    [
        "--reference",
        r.to_str().unwrap(),
        "--estimate",
        e.to_str().unwrap(),
    ]
}

#[test]
fn perfect_and_noisy_estimates_over_two_tracks() {
    let (r, e) = (dir("ok-ref"), dir("ok-est"));
    for (t, track) in ["song_a", "song_b"].iter().enumerate() {
        let (rt, et) = (r.join(track), e.join(track));
        std::fs::create_dir_all(&rt).unwrap();
        std::fs::create_dir_all(&et).unwrap();
        let (v, a) = (stem(10 * t as u32, 4.5), stem(10 * t as u32 + 1, 4.5));
        write(&rt, "vocals.wav", v.clone(), SR);
        write(&rt, "accompaniment.wav", a.clone(), SR);
        if t == 0 {
            // A mixture beside the stems is the baselines' input, never a stem.
            write(
                &rt,
                "mixture.wav",
                v.iter().zip(&a).map(|(x, y)| x + y).collect(),
                SR,
            );
        }
        // Vocals exact; accompaniment with 10 % of the vocals leaking in.
        write(&et, "vocals.wav", v.clone(), SR);
        write(
            &et,
            "accompaniment.wav",
            a.iter().zip(&v).map(|(x, y)| x + 0.1 * y).collect(),
            SR,
        );
    }
    let mut args = paths(&r, &e).to_vec();
    args.push("--json");
    let (code, out, err) = run(&args);
    assert_eq!(code, 0, "{out}{err}");
    let j: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(j["tracks"].as_array().unwrap().len(), 2);
    let vocals = &j["tracks"][0]["stems"]["vocals"];
    // 4.5 s in 1 s windows: the partial last window is dropped, as museval does.
    assert_eq!(vocals["sdr_frames"].as_array().unwrap().len(), 4);
    assert_eq!(vocals["sdr"], "inf");
    // The leak is exactly a scaled other reference: interference, about 20 dB below (0.1 → −20 dB
    // in amplitude, the two stems of equal power), so SIR ≈ 20 dB.
    let sir = j["median"]["accompaniment"]["sir"].as_f64().unwrap();
    assert!((sir - 20.0).abs() < 0.5, "{sir}");
    let (code, text, _) = run(&paths(&r, &e));
    assert_eq!(code, 0);
    assert!(text.contains("median over 2 tracks, dB:"), "{text}");
    assert!(text.contains("accompaniment"), "{text}");

    args.push("--baselines");
    let (code, out, err) = run(&args);
    assert_eq!(code, 0, "{out}{err}");
    let j: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(j["tracks"][0]["stems"].as_object().unwrap().len(), 2);
    let b = &j["median_baselines"];
    // The mixture of two independent stems of equal power: the other stem is interference of
    // the same energy, so SIR and SDR ≈ 0 dB.
    for stem in ["vocals", "accompaniment"] {
        let sdr = b["mixture"][stem]["sdr"].as_f64().unwrap();
        let sir = b["mixture"][stem]["sir"].as_f64().unwrap();
        assert!(
            sdr.abs() < 0.5 && sir.abs() < 0.5,
            "{stem}: mixture SDR {sdr}, SIR {sir}"
        );
        let oracle = b["oracle_irm"][stem]["sdr"].as_f64().unwrap();
        assert!(
            oracle > sdr + 3.0 && oracle.is_finite(),
            "{stem}: oracle {oracle}, mixture {sdr}"
        );
    }
    let (_, text, _) = run(&[&paths(&r, &e)[..], &["--baselines"]].concat());
    assert!(text.contains("oracle IRM (n_fft 1024, hop 256):"), "{text}");
}

#[test]
fn mismatches_are_named() {
    let (r, e) = (dir("bad-ref"), dir("bad-est"));
    write(&r, "vocals.wav", stem(1, 2.0), SR);
    write(&r, "accompaniment.wav", stem(2, 2.0), SR);
    write(&e, "vocals.wav", stem(3, 2.0), SR);
    let (code, _, err) = run(&paths(&r, &e));
    assert_eq!(code, 2);
    assert!(
        err.contains("no estimate for") && err.contains("accompaniment.wav"),
        "{err}"
    );

    write(&e, "accompaniment.wav", stem(4, 2.0), 16000);
    let (_, _, err) = run(&paths(&r, &e));
    assert!(err.contains("accompaniment.wav: 1 channel(s) at 16000 Hz, but its reference is 1 channel(s) at 8000 Hz"), "{err}");

    write(&e, "accompaniment.wav", vec![0.0; 16000], SR);
    let (_, _, err) = run(&paths(&r, &e));
    assert!(
        err.contains("accompaniment.wav: the estimate is silent over the whole track"),
        "{err}"
    );

    // A shorter estimate is padded with zeros, with a warning, as museval does.
    write(&e, "accompaniment.wav", stem(4, 1.5), SR);
    let (code, _, err) = run(&paths(&r, &e));
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("12000 samples, reference 16000: zero-padded"),
        "{err}"
    );

    write(&r, "vocals.wav", stem(1, 3.0), SR);
    let (_, _, err) = run(&paths(&r, &e));
    assert!(
        err.contains("the stems of a track must share rate, channels and length"),
        "{err}"
    );
}

#[test]
fn shards_of_a_folder_of_tracks_score_each_track_once() {
    let dir = std::env::temp_dir().join(format!("sc-eval-shards-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    for (k, track) in ["song_a", "song_b", "song_c"].iter().enumerate() {
        for (side, noise) in [("ref", 0.0f32), ("est", 0.02)] {
            let folder = dir.join(side).join(track);
            std::fs::create_dir_all(&folder).unwrap();
            for (stem, f) in [("vocals", 0.013f32), ("accompaniment", 0.031)] {
                let y: Vec<f32> = (0..22050)
                    .map(|i| {
                        let t = i as f32;
                        0.3 * (t * f * (k + 1) as f32).sin() + noise * (t * 1.7).sin()
                    })
                    .collect();
                soundcheck_audio::write_wav(&folder.join(format!("{stem}.wav")), &[y], 22050)
                    .unwrap();
            }
        }
    }
    use serde_json::Value;
    let scored = |shard: Option<&str>| -> Vec<(String, Value)> {
        let (r, e) = (dir.join("ref"), dir.join("est"));
        let mut args = vec![
            "evaluate",
            "--reference",
            r.to_str().unwrap(),
            "--estimate",
            e.to_str().unwrap(),
            "--json",
        ];
        if let Some(s) = shard {
            args.extend(["--shard", s]);
        }
        let (code, stdout, stderr) = common::run(&args);
        assert_eq!(code, 0, "{stderr}");
        let v: Value = serde_json::from_str(&stdout).unwrap();
        v["tracks"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| (t["name"].as_str().unwrap().to_string(), t["stems"].clone()))
            .collect()
    };
    let whole = scored(None);
    let mut parts: Vec<(String, Value)> = ["0/2", "1/2"]
        .iter()
        .flat_map(|s| scored(Some(s)))
        .collect();
    parts.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(whole.len(), 3);
    assert_eq!(whole, parts);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// `--mode sources`: mir_eval's whole-track `bss_eval_sources` (its numbers are checked in
/// soundcheck-eval's `mir_eval_compat`); here one value per stem, the length-weighted means and
/// GNSDR as the arithmetic of the per-track values, and the flags that do not apply.
#[test]
fn whole_track_sources_mode_weights_tracks_by_length() {
    let (r, e) = (dir("v3-ref"), dir("v3-est"));
    for (t, seconds) in [(0u32, 2.0), (1, 3.0)] {
        let (rt, et) = (r.join(format!("clip{t}")), e.join(format!("clip{t}")));
        std::fs::create_dir_all(&rt).unwrap();
        std::fs::create_dir_all(&et).unwrap();
        let (v, a) = (stem(20 + t, seconds), stem(30 + t, seconds));
        write(&rt, "vocals.wav", v.clone(), SR);
        write(&rt, "accompaniment.wav", a.clone(), SR);
        if t == 0 {
            let mix = v.iter().zip(&a).map(|(x, y)| x + y).collect();
            write(&rt, "mixture.wav", mix, SR);
        }
        // 10 % (t = 0) or 30 % (t = 1) of the accompaniment leaks into the vocals.
        let leak = 0.1 + 0.2 * t as f32;
        write(
            &et,
            "vocals.wav",
            v.iter().zip(&a).map(|(x, y)| x + leak * y).collect(),
            SR,
        );
        write(&et, "accompaniment.wav", a.clone(), SR);
    }
    let mut args = paths(&r, &e).to_vec();
    args.extend(["--mode", "sources", "--baselines", "--json"]);
    let (code, out, err) = run(&args);
    assert_eq!(code, 0, "{out}{err}");
    let j: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(j["mode"], "sources");
    let tracks = j["tracks"].as_array().unwrap();
    let value =
        |t: &serde_json::Value, path: &[&str]| path.iter().fold(t, |v, k| &v[*k]).as_f64().unwrap();
    let (mut num, mut den) = (0.0, 0.0);
    for (t, (n, leak)) in tracks.iter().zip([(16000.0, 0.1f64), (24000.0, 0.3)]) {
        assert_eq!(value(t, &["samples"]), n);
        assert!(t["stems"]["vocals"].get("sdr_frames").is_none(), "{t}");
        assert_eq!(t["stems"]["vocals"]["isr"], serde_json::Value::Null);
        // The leak is interference of equal-power independent noise: SDR = SIR ≈ −20·log10(leak).
        let sdr = value(t, &["stems", "vocals", "sdr"]);
        assert!(
            (sdr + 20.0 * leak.log10()).abs() < 0.5,
            "{sdr} for leak {leak}"
        );
        num += n * (sdr - value(t, &["baselines", "mixture", "vocals", "sdr"]));
        den += n;
    }
    assert_eq!(tracks[0]["mixture_computed"], false);
    assert_eq!(tracks[1]["mixture_computed"], true);
    let gnsdr = value(&j, &["gnsdr", "vocals"]);
    assert!((gnsdr - num / den).abs() < 1e-9, "{gnsdr} vs {}", num / den);
    let gsdr = value(&j, &["length_weighted_mean", "vocals", "sdr"]);
    let by_hand = (16000.0 * value(&tracks[0], &["stems", "vocals", "sdr"])
        + 24000.0 * value(&tracks[1], &["stems", "vocals", "sdr"]))
        / 40000.0;
    assert!((gsdr - by_hand).abs() < 1e-9, "{gsdr} vs {by_hand}");

    let (code, text, err) =
        run(&[&paths(&r, &e)[..], &["--mode", "sources", "--baselines"]].concat());
    assert_eq!(code, 0, "{err}");
    assert!(
        text.contains("clip1 (8000 Hz, 24000 samples), whole track (BSS Eval v3 sources), dB:"),
        "{text}"
    );
    assert!(text.contains("GNSDR vocals: "), "{text}");
    assert!(!text.contains("ISR"), "{text}");
    assert!(
        text.contains(
            "1 of 2 tracks have no mixture file: their mixture baseline is the sum of their stems"
        ),
        "{text}"
    );

    let (code, _, err) = run(&[&paths(&r, &e)[..], &["--mode", "sources", "--hop", "2"]].concat());
    assert_eq!(code, 2);
    assert!(
        err.contains("--hop does not apply to --mode sources"),
        "{err}"
    );

    // Stereo stems: bss_eval_sources scores single-channel sources.
    let s = dir("v3-stereo");
    for name in ["vocals.wav", "accompaniment.wav"] {
        let seed = name.len() as u32;
        write_wav(&s.join(name), &[stem(seed, 1.0), stem(seed + 1, 1.0)], SR).unwrap();
    }
    let (code, _, err) = run(&[&paths(&s, &s)[..], &["--mode", "sources"]].concat());
    assert_eq!(code, 2);
    assert!(
        err.contains("the sources have 2 channels: bss_eval_sources scores single-channel sources"),
        "{err}"
    );
}
