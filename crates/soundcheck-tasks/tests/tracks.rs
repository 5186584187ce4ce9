//! Separation datasets — DSD100, MUSDB18-HQ, two-stem folders, stereo files of voice and
//! accompaniment (MIR-1K, iKala), CSV manifests: discovery, the accompaniment, the mixture check,
//! and errors that name the file.

use std::path::{Path, PathBuf};

use soundcheck_audio::write_wav;
use soundcheck_tasks::separation::{discover, load_track, Layout, VoiceChannel, STEMS};

const SR: u32 = 8000;

fn root(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("soundcheck-sep-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

/// Stem `k` of a track: a constant per channel, so sums are exact arithmetic (stereo).
fn stem(k: usize, n: usize) -> Vec<Vec<f32>> {
    vec![
        vec![0.1 * (k + 1) as f32; n],
        vec![-0.05 * (k + 1) as f32; n],
    ]
}

fn add(a: &[Vec<f32>], b: &[Vec<f32>]) -> Vec<Vec<f32>> {
    a.iter()
        .zip(b)
        .map(|(x, y)| x.iter().zip(y).map(|(p, q)| p + q).collect())
        .collect()
}

/// Writes a track's stems into `stems_dir` and their sum (plus `mix_offset`) into `mix_dir`.
fn write_track(mix_dir: &Path, stems_dir: &Path, n: usize, mix_offset: f32) {
    std::fs::create_dir_all(mix_dir).unwrap();
    std::fs::create_dir_all(stems_dir).unwrap();
    let mut mix = vec![vec![mix_offset; n]; 2];
    for (k, s) in STEMS.iter().enumerate() {
        write_wav(&stems_dir.join(format!("{s}.wav")), &stem(k, n), SR).unwrap();
        mix = add(&mix, &stem(k, n));
    }
    write_wav(&mix_dir.join("mixture.wav"), &mix, SR).unwrap();
}

#[test]
fn dsd100_layout_loads_with_the_accompaniment_summed() {
    let r = root("dsd");
    for (subset, name) in [("Dev", "001 - A"), ("Test", "002 - B")] {
        write_track(
            &r.join("Mixtures").join(subset).join(name),
            &r.join("Sources").join(subset).join(name),
            800,
            0.0,
        );
    }
    let (layout, tracks) = discover(&r, None).unwrap();
    assert_eq!(layout, Layout::Dsd100);
    assert_eq!(
        tracks
            .iter()
            .map(|t| (t.subset.as_str(), t.name.as_str()))
            .collect::<Vec<_>>(),
        [("Dev", "001 - A"), ("Test", "002 - B")]
    );
    let t = load_track(&tracks[0], "vocals").unwrap();
    assert_eq!(
        (t.sample_rate, t.mixture.len(), t.mixture[0].len()),
        (SR, 2, 800)
    );
    // vocals is stem 3 (0.4, −0.2); the others sum to 0.1+0.2+0.3 = 0.6 and −0.3.
    assert!((t.target[0][0] - 0.4).abs() < 1e-6 && (t.target[1][5] + 0.2).abs() < 1e-6);
    assert!(
        (t.accompaniment[0][7] - 0.6).abs() < 1e-5 && (t.accompaniment[1][7] + 0.3).abs() < 1e-5
    );
    assert!(t.mixture_error_db < -60.0, "{}", t.mixture_error_db);
    assert!(t.mixture_warning().is_none());
    // The middle 0.05 s (400 samples) of 800: samples 200..600 of every signal.
    let e = t.clone().excerpt(0.05);
    assert_eq!(
        (
            e.mixture[1].len(),
            e.target[0].len(),
            e.accompaniment[1].len()
        ),
        (400, 400, 400)
    );
    assert_eq!(t.clone().excerpt(30.0).mixture[0].len(), 800);
}

#[test]
fn musdb_layout_uses_its_accompaniment_file_and_warns_on_a_wrong_mixture() {
    let r = root("musdb");
    let d = r.join("train").join("Song");
    // Mixture 0.1 above the sum on both channels: residual energy 2·0.01·n against the mixture's
    // (1.1² + 0.4²)·n → 10·log10(0.02 / 1.37) ≈ −18.4 dB, above the −30 dB warning line.
    write_track(&d, &d, 400, 0.1);
    write_wav(&d.join("accompaniment.wav"), &stem(9, 400), SR).unwrap();
    let (layout, tracks) = discover(&r, None).unwrap();
    assert_eq!(layout, Layout::Musdb18Hq);
    let t = load_track(&tracks[0], "drums").unwrap();
    assert!(
        (t.accompaniment[0][0] - 1.0).abs() < 1e-6,
        "accompaniment.wav is used as shipped"
    );
    assert!(
        (t.mixture_error_db - 10.0 * (0.02f64 / 1.37).log10()).abs() < 0.01,
        "{}",
        t.mixture_error_db
    );
    let w = t.mixture_warning().unwrap();
    assert!(
        w.contains("Song: the mixture differs from the sum of its stems by -18.4 dB"),
        "{w}"
    );
}

#[test]
fn missing_and_mismatched_files_are_named() {
    let r = root("bad");
    let d = r.join("test").join("Song");
    write_track(&d, &d, 400, 0.0);
    std::fs::remove_file(d.join("bass.wav")).unwrap();
    let err = discover(&r, None).unwrap_err().to_string();
    assert!(
        err.contains("bass.wav: track Song lacks this file"),
        "{err}"
    );

    write_wav(&d.join("bass.wav"), &stem(0, 300), SR).unwrap();
    let (_, tracks) = discover(&r, None).unwrap();
    let err = load_track(&tracks[0], "vocals").unwrap_err().to_string();
    assert!(
        err.contains("bass.wav: 8000 Hz, 2 channel(s), 300 samples, where its mixture")
            && err.contains("has 8000 Hz, 2 channel(s), 400 samples"),
        "{err}"
    );

    let err = load_track(&tracks[0], "voice").unwrap_err().to_string();
    assert_eq!(
        err,
        "`target` voice: expected one of bass, drums, other, vocals"
    );

    let nothing = root("nothing");
    let err = discover(&nothing, None).unwrap_err().to_string();
    assert!(err.contains("cannot read the folder"), "{err}");
    std::fs::create_dir_all(&nothing).unwrap();
    let err = discover(&nothing, None).unwrap_err().to_string();
    assert!(
        err.contains(
            "holds no tracks: neither DSD100's folders (Mixtures/ and Sources/) nor track folders"
        ),
        "{err}"
    );
}

/// A mono constant signal of `n` samples.
fn mono(v: f32, n: usize) -> Vec<Vec<f32>> {
    vec![vec![v; n]]
}

#[test]
fn two_stem_folders_with_and_without_a_mixture() {
    let r = root("two");
    let (a, b) = (r.join("train").join("A"), r.join("test").join("B"));
    for d in [&a, &b] {
        std::fs::create_dir_all(d).unwrap();
        write_wav(&d.join("vocals.wav"), &mono(0.25, 300), SR).unwrap();
        write_wav(&d.join("accompaniment.wav"), &mono(0.5, 300), SR).unwrap();
    }
    write_wav(&a.join("mixture.wav"), &mono(0.75, 300), SR).unwrap();
    let (layout, tracks) = discover(&r, None).unwrap();
    assert_eq!(layout, Layout::TwoStems);
    assert_eq!(
        tracks
            .iter()
            .map(|t| (t.subset.as_str(), t.name.as_str(), t.mixture_computed()))
            .collect::<Vec<_>>(),
        [("train", "A", false), ("test", "B", true)]
    );
    let with = load_track(&tracks[0], "vocals").unwrap();
    assert!(!with.mixture_computed && with.mixture_error_db < -60.0);
    let without = load_track(&tracks[1], "vocals").unwrap();
    // 0.25 + 0.5: the mixture is the stems' sum, and says so.
    assert!(without.mixture_computed);
    assert!((without.mixture[0][10] - 0.75).abs() < 1e-6);
    assert!((without.target[0][10] - 0.25).abs() < 1e-6);
    assert!((without.accompaniment[0][10] - 0.5).abs() < 1e-6);
    let err = load_track(&tracks[1], "drums").unwrap_err().to_string();
    assert_eq!(err, "`target` drums: expected one of vocals");

    // Without train/ and test/, the track folders sit in the dataset folder itself.
    let flat = root("two-flat");
    std::fs::create_dir_all(flat.join("C")).unwrap();
    std::fs::rename(b.join("vocals.wav"), flat.join("C").join("vocals.wav")).unwrap();
    let err = discover(&flat, None).unwrap_err().to_string();
    assert!(
        err.contains("accompaniment.wav: track C lacks this file"),
        "{err}"
    );
    std::fs::rename(
        b.join("accompaniment.wav"),
        flat.join("C").join("accompaniment.wav"),
    )
    .unwrap();
    let (layout, tracks) = discover(&flat, None).unwrap();
    assert_eq!((layout, tracks[0].subset.as_str()), (Layout::TwoStems, ""));
}

#[test]
fn two_stems_of_different_lengths_or_rates_are_named() {
    let r = root("two-bad");
    let d = r.join("Song");
    std::fs::create_dir_all(&d).unwrap();
    write_wav(&d.join("vocals.wav"), &mono(0.25, 300), SR).unwrap();
    write_wav(&d.join("accompaniment.wav"), &mono(0.5, 299), SR).unwrap();
    let (_, tracks) = discover(&r, None).unwrap();
    let err = load_track(&tracks[0], "vocals").unwrap_err().to_string();
    assert!(
        err.contains("accompaniment.wav: 8000 Hz, 1 channel(s), 299 samples, where its vocals")
            && err.contains("vocals.wav has 8000 Hz, 1 channel(s), 300 samples"),
        "{err}"
    );
    write_wav(&d.join("accompaniment.wav"), &mono(0.5, 300), 16000).unwrap();
    let err = load_track(&tracks[0], "vocals").unwrap_err().to_string();
    assert!(err.contains("16000 Hz, 1 channel(s), 300 samples"), "{err}");
    write_wav(&d.join("accompaniment.wav"), &stem(0, 300), SR).unwrap();
    write_wav(&d.join("mixture.wav"), &mono(0.1, 300), SR).unwrap();
    let (_, tracks) = discover(&r, None).unwrap();
    let err = load_track(&tracks[0], "vocals").unwrap_err().to_string();
    assert!(
        err.contains("accompaniment.wav: 8000 Hz, 2 channel(s), 300 samples, where its mixture"),
        "{err}"
    );
}

#[test]
fn stereo_files_split_into_voice_and_accompaniment_by_channel() {
    let r = root("mir1k");
    let wav = r.join("Wavfile");
    std::fs::create_dir_all(&wav).unwrap();
    // MIR-1K: accompaniment on the left, voice on the right.
    write_wav(
        &wav.join("abjones_1_01.wav"),
        &[vec![0.5; 200], vec![0.125; 200]],
        SR,
    )
    .unwrap();
    write_wav(
        &wav.join("amy_1_01.wav"),
        &[vec![0.25; 100], vec![-0.25; 100]],
        SR,
    )
    .unwrap();
    let (layout, tracks) = discover(&wav, Some(VoiceChannel::Right)).unwrap();
    assert_eq!(layout, Layout::StereoChannels(VoiceChannel::Right));
    assert_eq!(tracks.len(), 2);
    assert_eq!(tracks[0].name, "abjones_1_01.wav");
    assert!(tracks
        .iter()
        .all(|t| t.mixture_computed() && t.subset.is_empty()));
    let t = load_track(&tracks[0], "vocals").unwrap();
    assert_eq!(
        (t.sample_rate, t.mixture.len(), t.mixture[0].len()),
        (SR, 1, 200)
    );
    assert!(t.mixture_computed);
    assert_eq!(
        (t.target[0][3], t.accompaniment[0][3], t.mixture[0][3]),
        (0.125, 0.5, 0.625)
    );
    let (_, left) = discover(&wav, Some(VoiceChannel::Left)).unwrap();
    let t = load_track(&left[0], "vocals").unwrap();
    assert_eq!((t.target[0][3], t.accompaniment[0][3]), (0.5, 0.125));
    let err = load_track(&left[0], "drums").unwrap_err().to_string();
    assert_eq!(err, "`target` drums: expected one of vocals");

    // A mono file is refused by name; a folder of files without the channel says to give it.
    write_wav(&wav.join("zz_mono.wav"), &mono(0.1, 100), SR).unwrap();
    let (_, tracks) = discover(&wav, Some(VoiceChannel::Right)).unwrap();
    let err = load_track(&tracks[2], "vocals").unwrap_err().to_string();
    assert!(
        err.contains("zz_mono.wav: 1 channel(s), where a file of voice and accompaniment has 2 (the voice on the right"),
        "{err}"
    );
    let err = discover(&wav, None).unwrap_err().to_string();
    assert!(
        err.contains("holds audio files, not track folders")
            && err.contains("give `voice_channel` left or right"),
        "{err}"
    );
    assert_eq!(
        VoiceChannel::parse("middle").unwrap_err().to_string(),
        "`voice_channel` \"middle\": expected left or right (MIR-1K's Wavfile/ and iKala: right)"
    );
    // Separate stems have no voice channel to pick.
    let two = root("mir1k-two");
    std::fs::create_dir_all(&two).unwrap();
    let err = discover(&two, Some(VoiceChannel::Right))
        .unwrap_err()
        .to_string();
    assert!(err.contains("holds no .wav files"), "{err}");
    std::fs::create_dir_all(two.join("S")).unwrap();
    let err = discover(&two, Some(VoiceChannel::Right))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("`voice_channel` right: expected no voice channel")
            && err.contains("(track folders: the voice has its own files)"),
        "{err}"
    );
}

#[test]
fn spleeter_manifests_load_and_bad_rows_are_named() {
    let r = root("manifest");
    let audio = r.join("audio");
    std::fs::create_dir_all(&audio).unwrap();
    for (name, v, n) in [
        ("v1", 0.25, 300),
        ("a1", 0.5, 300),
        ("m1", 0.75, 300),
        ("v2", 0.1, 300),
        ("a2", 0.2, 250),
    ] {
        write_wav(&audio.join(format!("{name}.wav")), &mono(v, n), SR).unwrap();
    }
    let csv = r.join("train.csv");
    std::fs::write(
        &csv,
        "mix_path,vocals_path,accompaniment_path,duration\naudio/m1.wav,audio/v1.wav,audio/a1.wav,0.0375\n,audio/v2.wav,audio/a2.wav,\n",
    )
    .unwrap();
    let (layout, tracks) = discover(&csv, None).unwrap();
    assert_eq!(layout, Layout::Manifest);
    assert_eq!(
        tracks
            .iter()
            .map(|t| (t.name.as_str(), t.mixture_computed()))
            .collect::<Vec<_>>(),
        [("audio/m1.wav", false), ("audio/v2.wav", true)]
    );
    let t = load_track(&tracks[0], "vocals").unwrap();
    assert!((t.accompaniment[0][0] - 0.5).abs() < 1e-6 && !t.mixture_computed);
    let err = load_track(&tracks[1], "vocals").unwrap_err().to_string();
    assert!(
        err.contains("a2.wav: 8000 Hz, 1 channel(s), 250 samples, where its vocals"),
        "{err}"
    );
    let err = discover(&csv, Some(VoiceChannel::Right))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("`voice_channel` right: expected no voice channel"),
        "{err}"
    );

    let bad = |text: &str| {
        std::fs::write(&csv, text).unwrap();
        discover(&csv, None).unwrap_err().to_string()
    };
    let header = "mix_path,vocals_path,accompaniment_path,duration,split\n";
    for (text, expected) in [
        ("path,label\na.wav,x\n", "line 1: unknown column 'path'"),
        (
            "mix_path,vocals_path\n",
            "line 1: no 'accompaniment_path' column",
        ),
        (
            "mix_path,vocals_path,accompaniment_path\naudio/m1.wav,audio/v1.wav\n",
            "line 2: 2 field(s), where the header names 3",
        ),
        (
            format!("{header}audio/m1.wav,audio/v1.wav,audio/a1.wav,long,train\n").as_str(),
            "line 2: duration 'long' is not a number of seconds",
        ),
        (
            format!("{header}audio/m1.wav,audio/v1.wav,audio/a1.wav,1,dev\n").as_str(),
            "line 2: split 'dev'",
        ),
        (
            format!("{header}\naudio/m1.wav,audio/nope.wav,audio/a1.wav,,test\n").as_str(),
            "line 3: vocals",
        ),
        (
            format!("{header}audio/m1.wav,,audio/a1.wav,,\n").as_str(),
            "line 2: no vocals file",
        ),
        (
            format!("{header}audio/m1.wav,audio/v1.wav,audio/./v1.wav,,\n").as_str(),
            "line 2: vocals_path and accompaniment_path are the same file",
        ),
        (header, "the manifest lists no tracks"),
        ("", "line 1: the manifest is empty"),
    ] {
        let err = bad(text);
        assert!(err.contains(expected), "{text:?}: {err}");
        assert!(err.contains("train.csv"), "{err}");
    }
    std::fs::write(
        &csv,
        format!("{header}audio/m1.wav,audio/v1.wav,audio/a1.wav,,test\n"),
    )
    .unwrap();
    let (_, tracks) = discover(&csv, None).unwrap();
    assert_eq!(tracks[0].subset, "test");
}
