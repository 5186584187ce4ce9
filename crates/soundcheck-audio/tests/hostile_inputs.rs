//! Audio files whose headers lie: refused by name before any decoder sees them, never a panic.

use soundcheck_audio::{decode, AudioError, AudioSource};

/// A 16-bit PCM WAV of 100 frames whose header claims `rate` Hz and `channels` channels.
fn wav_with_header(name: &str, rate: u32, channels: u16) -> std::path::PathBuf {
    let path = std::env::temp_dir().join(format!("sc-hostile-{name}-{}.wav", std::process::id()));
    let data = vec![0u8; 200];
    let align = channels.max(1) * 2;
    let mut b = Vec::new();
    b.extend(b"RIFF");
    b.extend((36 + data.len() as u32).to_le_bytes());
    b.extend(b"WAVEfmt ");
    b.extend(16u32.to_le_bytes());
    b.extend(1u16.to_le_bytes());
    b.extend(channels.to_le_bytes());
    b.extend(rate.to_le_bytes());
    b.extend((rate * u32::from(align)).to_le_bytes());
    b.extend(align.to_le_bytes());
    b.extend(16u16.to_le_bytes());
    b.extend(b"data");
    b.extend((data.len() as u32).to_le_bytes());
    b.extend(&data);
    std::fs::write(&path, b).unwrap();
    path
}

#[test]
fn a_header_of_zero_hertz_or_zero_channels_is_a_named_error() {
    for (name, rate, channels) in [("rate0", 0, 1), ("ch0", 22050, 0)] {
        let path = wav_with_header(name, rate, channels);
        let e = decode(&path).unwrap_err();
        assert!(matches!(e, AudioError::Corrupt { .. }), "{e}");
        let text = e.to_string();
        assert!(
            text.contains(&format!(
                "the header says {rate} Hz and {channels} channel(s)"
            )),
            "{text}"
        );
        // The streaming reader (separate) refuses it the same way.
        let e = AudioSource::open(&path).err().expect("refused").to_string();
        assert!(e.contains("the header says"), "{e}");
    }
}

#[test]
fn a_folder_given_as_audio_is_named_as_a_folder() {
    let e = decode(&std::env::temp_dir()).unwrap_err();
    assert!(e.to_string().contains("a folder, not an audio file"), "{e}");
    let e = AudioSource::open(&std::env::temp_dir())
        .err()
        .expect("refused");
    assert!(e.to_string().contains("a folder, not an audio file"), "{e}");
}

#[test]
fn an_fft_size_that_would_ask_gigabytes_is_refused_before_allocating() {
    let cfg = soundcheck_audio::MelConfig::default();
    let e = soundcheck_audio::MelFilterbank::new(22050, 100_000_000, &cfg)
        .expect_err("refused")
        .to_string();
    assert!(
        e.contains("n_fft=100000000 is invalid: expected an integer from 2 to 1048576"),
        "{e}"
    );
    let stft = soundcheck_audio::StftConfig {
        n_fft: 100_000_000,
        ..Default::default()
    };
    assert!(soundcheck_audio::stft(&[0.0; 16], &stft).is_err());
}

#[test]
fn a_duration_of_zero_names_the_duration_not_the_offset() {
    let path = std::env::temp_dir().join(format!("sc-hostile-dur-{}.wav", std::process::id()));
    soundcheck_audio::write_wav(&path, &[vec![0.1; 2205]], 22050).unwrap();
    let opts = soundcheck_audio::LoadOptions {
        sr: None,
        duration: Some(0.0),
        ..Default::default()
    };
    let e = soundcheck_audio::load(&path, &opts)
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with("duration=0 is invalid") && !e.contains("offset"),
        "{e}"
    );
    // An offset past the end still says so.
    let opts = soundcheck_audio::LoadOptions {
        sr: None,
        offset: 5.0,
        ..Default::default()
    };
    let e = soundcheck_audio::load(&path, &opts)
        .unwrap_err()
        .to_string();
    assert!(e.contains("use a smaller offset"), "{e}");
}

/// A stereo 16-bit WAV of `frames` frames (sample `i` of channel `c` is `i · (c + 1)` mod 2¹⁵)
/// with the data size field set to `data_size` (`None`: the true size).
fn stereo_wav(name: &str, frames: usize, data_size: Option<u32>) -> std::path::PathBuf {
    let path = std::env::temp_dir().join(format!("sc-hostile-{name}-{}.wav", std::process::id()));
    let mut b = Vec::new();
    let len = (frames * 4) as u32;
    b.extend(b"RIFF");
    b.extend(data_size.map_or(36 + len, |_| u32::MAX).to_le_bytes());
    b.extend(b"WAVEfmt ");
    b.extend(16u32.to_le_bytes());
    b.extend(1u16.to_le_bytes());
    b.extend(2u16.to_le_bytes());
    b.extend(8000u32.to_le_bytes());
    b.extend((8000u32 * 4).to_le_bytes());
    b.extend(4u16.to_le_bytes());
    b.extend(16u16.to_le_bytes());
    b.extend(b"data");
    b.extend(data_size.unwrap_or(len).to_le_bytes());
    for i in 0..frames {
        for c in 0..2 {
            b.extend((((i * (c + 1)) % 32768) as i16).to_le_bytes());
        }
    }
    std::fs::write(&path, b).unwrap();
    path
}

#[test]
fn a_wav_streamed_to_a_pipe_with_unknown_sizes_reads_to_its_end() {
    // ffmpeg and sox write 0xFFFFFFFF when they cannot seek back to fill in the sizes.
    let piped = stereo_wav("piped", 1000, Some(u32::MAX));
    let plain = stereo_wav("plain", 1000, None);
    let (a, b) = (decode(&piped).unwrap(), decode(&plain).unwrap());
    assert_eq!(a.frames(), 1000);
    assert_eq!(a.channels, b.channels);
    assert_eq!(a.channels[1][3], 6.0 / 32768.0);
    let mut src = AudioSource::open(&piped).unwrap();
    assert_eq!(src.frames(), 1000);
    assert_eq!(
        src.read(10, 20).unwrap(),
        b.channels
            .iter()
            .map(|c| c[10..20].to_vec())
            .collect::<Vec<_>>()
    );
}

#[test]
fn an_excerpt_of_a_long_wav_reads_only_its_span() {
    // Two hours of stereo at 8 kHz announced, the file extended sparsely: reading it whole
    // would allocate 460 MB; `duration` reads its second.
    let path = stereo_wav("long", 8000 * 3, None);
    let frames = 2 * 3600 * 8000u64;
    {
        use std::io::{Seek, SeekFrom, Write};
        let mut f = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
        f.set_len(44 + 4 * frames).unwrap();
        f.seek(SeekFrom::Start(4)).unwrap();
        f.write_all(&(36 + 4 * frames as u32).to_le_bytes())
            .unwrap();
        f.seek(SeekFrom::Start(40)).unwrap();
        f.write_all(&((4 * frames) as u32).to_le_bytes()).unwrap();
    }
    let opts = soundcheck_audio::LoadOptions {
        sr: None,
        mono: false,
        offset: 1.0,
        duration: Some(1.0),
    };
    let a = soundcheck_audio::load(&path, &opts).unwrap();
    assert_eq!(
        (a.sample_rate, a.channels.len(), a.channels[0].len()),
        (8000, 2, 8000)
    );
    assert_eq!(a.channels[0][5], 8005.0 / 32768.0);
    let mono = soundcheck_audio::load(&path, &soundcheck_audio::LoadOptions { mono: true, ..opts })
        .unwrap();
    assert_eq!(
        mono.channels[0][5],
        (8005.0f32 / 32768.0 + 16010.0 / 32768.0) / 2.0
    );
    std::fs::remove_file(&path).unwrap();
}

#[test]
fn an_mp3_whose_frame_count_is_below_its_encoder_delay_is_a_named_error() {
    // The fixture's Info (Xing) tag announces 11 MPEG frames; 1 frame is fewer samples than the
    // LAME delay and padding, which symphonia subtracts without a check (found by fuzzing).
    let mut bytes = std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/audio/mp3_44100_2ch.mp3"),
    )
    .unwrap();
    let tag = bytes.windows(4).position(|w| w == b"Info").unwrap();
    bytes[tag + 8..tag + 12].copy_from_slice(&1u32.to_be_bytes());
    let path = std::env::temp_dir().join(format!("sc-info-{}.mp3", std::process::id()));
    std::fs::write(&path, bytes).unwrap();
    let e = soundcheck_audio::decode(&path).unwrap_err().to_string();
    let _ = std::fs::remove_file(&path);
    assert!(e.contains("sc-info-") && e.contains("damaged"), "{e}");
}
