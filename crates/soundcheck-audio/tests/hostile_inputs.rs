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
