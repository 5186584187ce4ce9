//! DSD100 and MUSDB18-HQ folders: discovery, the accompaniment, the mixture check, and errors
//! that name the file.

use std::path::{Path, PathBuf};

use soundcheck_audio::write_wav;
use soundcheck_tasks::separation::{discover, load_track, Layout, STEMS};

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
    let (layout, tracks) = discover(&r).unwrap();
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
    let (layout, tracks) = discover(&r).unwrap();
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
    let err = discover(&r).unwrap_err().to_string();
    assert!(
        err.contains("bass.wav: track Song lacks this file"),
        "{err}"
    );

    write_wav(&d.join("bass.wav"), &stem(0, 300), SR).unwrap();
    let (_, tracks) = discover(&r).unwrap();
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

    let err = discover(&root("nothing")).unwrap_err().to_string();
    assert!(
        err.contains(
            "holds neither DSD100's folders (Mixtures/ and Sources/) nor MUSDB18-HQ's (train/, test/)"
        ),
        "{err}"
    );
}
