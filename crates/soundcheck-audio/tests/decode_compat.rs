//! Decoding every format against what soundfile/libsndfile 1.2.2 decodes from the same files
//! (written by `tools/fixtures/librosa_features.py` with soundfile, sox and ffmpeg), `load`
//! against `librosa.load`, and damaged files.
//!
//! Every format must give the same number of frames as libsndfile (MP3 encoder delay and padding
//! trimmed from the LAME header, Vorbis cut at the last granule). Lossless formats (WAV PCM
//! 8/16/24/32, float, FLAC) are exact (tolerance 6e-8, one 24-bit LSB; measured 0); lossy ones
//! go through different decoders (symphonia vs libvorbis/mpg123) and agree to 1e-5 (measured
//! 3e-7 Vorbis, 1.3e-6 MP3).

use serde_json::Value;
use soundcheck_audio as audio;
use soundcheck_audio::{AudioError, LoadOptions};

mod common;
use common::{cases, fixtures, npy};

fn expected(c: &Value) -> (Vec<usize>, Vec<f32>) {
    let a = npy(c["output"].as_str().unwrap());
    (a.shape, a.data)
}

#[test]
fn every_format_decodes_to_the_reference_samples() {
    let all = cases("decode");
    assert!(all.len() >= 11);
    for c in all {
        let file = c["inputs"][0].as_str().unwrap();
        let got = audio::decode(&fixtures().join(file)).unwrap_or_else(|e| panic!("{e}"));
        let (shape, want) = expected(&c);
        assert_eq!(
            got.sample_rate as u64,
            c["sample_rate"].as_u64().unwrap(),
            "{file}"
        );
        assert_eq!(got.channels.len(), shape[0], "{file}: channels");
        let lossy = c["lossy"] == true;
        let n = shape[1];
        assert_eq!(
            got.frames(),
            n,
            "{file}: frames (encoder delay and padding trimmed)"
        );
        let worst = got
            .channels
            .iter()
            .enumerate()
            .flat_map(|(ch, samples)| samples.iter().zip(&want[ch * n..(ch + 1) * n]))
            .fold(0f32, |m, (a, b)| m.max((a - b).abs()));
        let tol = if lossy { 1e-5 } else { 6e-8 };
        eprintln!("{file}: max error {worst:.3e} (tolerance {tol:.0e})");
        assert!(worst <= tol, "{file}: {worst} > {tol}");
    }
}

#[test]
fn load_matches_librosa_load() {
    for c in cases("load") {
        let p = &c["params"];
        let opts = LoadOptions {
            sr: p["sr"].as_u64().map(|v| v as u32),
            mono: p["mono"].as_bool().unwrap(),
            offset: p["offset"].as_f64().unwrap_or(0.0),
            duration: p["duration"].as_f64(),
        };
        let got = audio::load(&fixtures().join(c["inputs"][0].as_str().unwrap()), &opts).unwrap();
        let (shape, want) = expected(&c);
        let flat: Vec<f32> = got.channels.concat();
        assert_eq!(flat.len(), want.len(), "{}: {:?}", c["output"], shape);
        let err = flat
            .iter()
            .zip(&want)
            .fold(0f32, |m, (a, b)| m.max((a - b).abs()));
        eprintln!("{}: max error {err:.3e}", c["output"]);
        // Excerpts at the native rate are exact; resampled ones are soxr's HQ recipe
        // re-implemented (float rounding, see librosa_compat.rs).
        let tol = if opts.sr.is_none() { 6e-8 } else { 1e-6 };
        assert!(err <= tol, "{}: {err} > {tol}", c["output"]);
    }
}

fn error_of(file: &str) -> AudioError {
    audio::decode(&fixtures().join("audio").join(file)).unwrap_err()
}

#[test]
fn damaged_files_are_named_errors() {
    let e = error_of("bad_truncated.wav");
    assert!(matches!(e, AudioError::Corrupt { .. }), "{e}");
    assert!(
        e.to_string().contains("bad_truncated.wav") && e.to_string().contains("truncated"),
        "{e}"
    );
    let e = error_of("bad_empty.wav");
    assert!(matches!(e, AudioError::Empty { .. }), "{e}");
    for bad in ["bad_garbage.wav", "bad_text.mp3"] {
        let e = error_of(bad);
        assert!(
            matches!(
                e,
                AudioError::Unsupported { .. } | AudioError::Corrupt { .. }
            ),
            "{bad}: {e}"
        );
        assert!(e.to_string().contains(bad), "{e}");
    }
    let e = error_of("does_not_exist.wav");
    assert!(
        matches!(e, AudioError::Io { .. }) && e.to_string().contains("does_not_exist.wav"),
        "{e}"
    );
}

#[test]
fn offsets_past_the_end_are_errors() {
    let path = fixtures().join("audio/wav_22050_1ch_pcm_16.wav");
    let e = audio::load(
        &path,
        &LoadOptions {
            offset: 10.0,
            ..Default::default()
        },
    )
    .unwrap_err();
    assert!(e.to_string().contains("use a smaller offset"), "{e}");
    let e = audio::load(
        &path,
        &LoadOptions {
            offset: -1.0,
            ..Default::default()
        },
    )
    .unwrap_err();
    assert!(e.to_string().starts_with("offset=-1 is invalid"), "{e}");
}

#[test]
fn wav_written_reads_back_exactly() {
    let path = std::env::temp_dir().join(format!("sc-wav-{}.wav", std::process::id()));
    let channels = vec![vec![0.25f32, -0.5, 1.0], vec![0.0, 0.125, -1.0]];
    audio::write_wav(&path, &channels, 16000).unwrap();
    let back = audio::decode(&path).unwrap();
    assert_eq!(back.channels, channels);
    assert_eq!(back.sample_rate, 16000);
}

#[test]
fn compressed_files_stream_span_by_span_as_they_decode_whole() {
    for file in [
        "flac_44100_2ch.flac",
        "ogg_44100_2ch.ogg",
        "mp3_44100_2ch.mp3",
        "flac_16000_1ch_24bit.flac",
    ] {
        let path = fixtures().join("audio").join(file);
        let whole = audio::decode(&path).unwrap();
        let mut src = audio::AudioSource::open(&path).unwrap();
        let n = whole.frames();
        assert_eq!(
            (src.frames(), src.channels(), src.sample_rate()),
            (n, whole.channels.len(), whole.sample_rate),
            "{file}"
        );
        // Forward spans with overlapping context (as `separate` reads them), one past the end,
        // then one from the start again.
        let spans = [(0, n / 3), (n / 4, n / 2), (n / 2 - 7, n + 100), (10, 20)];
        for (a, b) in spans {
            let got = src.read(a, b).unwrap();
            for (g, w) in got.iter().zip(&whole.channels) {
                assert_eq!(g[..], w[a..b.min(n)], "{file} span {a}..{b}");
            }
        }
    }
    // A FLAC cut short announces more frames than it holds: the span that needs them fails.
    let bytes = std::fs::read(fixtures().join("audio").join("flac_44100_2ch.flac")).unwrap();
    let dir = std::env::temp_dir().join(format!("sc-stream-cut-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let cut = dir.join("cut.flac");
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
    let mut src = audio::AudioSource::open(&cut).unwrap();
    let e = src.read(0, src.frames()).unwrap_err().to_string();
    assert!(e.contains("cut.flac") && e.contains("truncated"), "{e}");
}

#[test]
fn a_cut_ogg_file_is_called_damaged_never_an_unknown_format() {
    let whole = std::fs::read(fixtures().join("audio").join("ogg_44100_2ch.ogg")).unwrap();
    let dir = std::env::temp_dir().join(format!("sc-cut-ogg-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for keep in [5, 40, 200, 3000, whole.len() / 2] {
        let path = dir.join(format!("cut{keep}.ogg"));
        std::fs::write(&path, &whole[..keep]).unwrap();
        match audio::decode(&path) {
            // Cut after its headers: the packets before the cut decode, as libsndfile's do.
            Ok(a) => assert!(!a.channels[0].is_empty(), "{keep} bytes"),
            Err(e) => {
                assert!(matches!(e, AudioError::Corrupt { .. }), "{keep} bytes: {e}");
                assert!(
                    !e.to_string().contains("not a recognised"),
                    "{keep} bytes: {e}"
                );
            }
        }
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_vbr_mp3_without_a_xing_frame_decodes_every_frame_as_ffmpeg_does() {
    // symphonia estimates such a file's length from its first frames and trimmed there.
    let counts: Value = serde_json::from_str(
        &std::fs::read_to_string(fixtures().join("mp3_vbr_no_info.json")).unwrap(),
    )
    .unwrap();
    let path = fixtures().join(counts["file"].as_str().unwrap());
    let whole = audio::decode(&path).unwrap();
    assert_eq!(
        whole.frames() as u64,
        counts["ffmpeg_frames"].as_u64().unwrap()
    );
    let mut src = audio::AudioSource::open(&path).unwrap();
    assert_eq!(
        src.frames(),
        whole.frames(),
        "the streaming reader counts alike"
    );
    let tail = src.read(whole.frames() - 100, whole.frames()).unwrap();
    assert_eq!(tail[0], whole.channels[0][whole.frames() - 100..]);
}
