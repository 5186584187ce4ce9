//! Property tests on stable Rust: audio files of any bytes, and the fixtures (WAV, FLAC, OGG,
//! MP3) with bytes altered or cut, decode or are refused by name, through both the whole-file
//! decoder and the streaming reader, never a panic; any pair of rates resamples any signal to
//! librosa's length, or is refused by name. `PROPTEST_CASES=100000 cargo test -p
//! soundcheck-audio --test fuzz` runs a long session.

use std::path::{Path, PathBuf};

use proptest::prelude::*;
use soundcheck_audio::{decode, resample, AudioSource};

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/audio")
            .join(name),
    )
    .unwrap()
}

fn file(bytes: &[u8], ext: &str) -> PathBuf {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static N: AtomicUsize = AtomicUsize::new(0);
    let n = N.fetch_add(1, Ordering::Relaxed);
    let path = std::env::temp_dir().join(format!("sc-audio-fuzz-{}-{n}.{ext}", std::process::id()));
    std::fs::write(&path, bytes).unwrap();
    path
}

fn decode_all_ways(bytes: &[u8], ext: &str) {
    let path = file(bytes, ext);
    let _ = decode(&path);
    if let Ok(mut src) = AudioSource::open(&path) {
        let n = src.frames().min(1 << 16);
        let _ = src.read(0, n);
    }
    let _ = std::fs::remove_file(&path);
}

const FIXTURES: &[(&str, &str)] = &[
    ("wav_22050_1ch_pcm_16.wav", "wav"),
    ("wav_44100_1ch_float.wav", "wav"),
    ("flac_44100_2ch.flac", "flac"),
    ("ogg_44100_2ch.ogg", "ogg"),
    ("mp3_44100_2ch.mp3", "mp3"),
];

proptest! {
    // Decoding is slower than parsing: fewer cases by default; PROPTEST_CASES still sets them.
    #![proptest_config(ProptestConfig::with_cases(
        std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(64)
    ))]

    #[test]
    fn any_bytes_are_decoded_or_refused(
        bytes in prop::collection::vec(any::<u8>(), 0..400),
        ext in prop::sample::select(vec!["wav", "flac", "ogg", "mp3", "bin"]),
    ) {
        decode_all_ways(&bytes, ext);
    }

    #[test]
    fn altered_fixtures_are_decoded_or_refused(
        which in prop::sample::select(FIXTURES.to_vec()),
        edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..12),
        cut in any::<prop::sample::Index>(),
    ) {
        let (name, ext) = which;
        let mut bytes = fixture(name);
        // Most edits land in the first kilobytes: the headers and first frames.
        let head = bytes.len().min(4096);
        for (at, b) in edits {
            let i = at.index(head);
            bytes[i] = b;
        }
        let keep = cut.index(bytes.len() + 1);
        decode_all_ways(&bytes[..keep], ext);
    }

    #[test]
    fn any_rate_pair_resamples_or_is_refused(
        orig in 1u32..400_000,
        target in 1u32..400_000,
        y in prop::collection::vec(-1f32..1.0, 0..2000),
    ) {
        match resample(&y, orig, target) {
            Ok(out) => {
                let want = (y.len() as u64 * target as u64).div_ceil(orig as u64) as usize;
                prop_assert_eq!(out.len(), if orig == target { y.len() } else { want });
                prop_assert!(out.iter().all(|v| v.is_finite()));
            }
            Err(e) => {
                let (hi, lo) = (orig.max(target) as u64, orig.min(target) as u64);
                prop_assert!(hi > 4096 * lo, "{e}");
                prop_assert!(e.to_string().contains("4096"), "{e}");
            }
        }
    }
}

proptest! {
    /// Any filterbank request is built or refused by name, in bounded time and memory; a
    /// refusal's largest working `n_mels` builds.
    #[test]
    fn any_mel_filterbank_request_is_built_or_refused_with_a_working_count(
        sr in prop_oneof![Just(8000u32), Just(22050), Just(44100), 1u32..200_000],
        n_fft in prop_oneof![Just(2048usize), 2usize..4096],
        n_mels in prop_oneof![1usize..300, 300usize..10_000, Just(1_000_000), Just(usize::MAX)],
        fmin in prop_oneof![Just(0.0f64), 0.0f64..2000.0],
        htk in any::<bool>(),
        slaney_norm in any::<bool>(),
    ) {
        let cfg = |n_mels| soundcheck_audio::MelConfig { n_mels, fmin, fmax: None, htk, slaney_norm };
        if let Err(e) = soundcheck_audio::MelFilterbank::new(sr, n_fft, &cfg(n_mels)) {
            let e = e.to_string();
            if let Some(at) = e.find("use n_mels ≤ ") {
                let largest: usize = e[at + "use n_mels ≤ ".len()..]
                    .split(|c: char| !c.is_ascii_digit())
                    .next()
                    .unwrap()
                    .parse()
                    .unwrap();
                prop_assert!(largest < n_mels, "{e}");
                if largest > 0 {
                    prop_assert!(soundcheck_audio::MelFilterbank::new(sr, n_fft, &cfg(largest)).is_ok(), "{e}");
                }
            }
        }
    }
}
