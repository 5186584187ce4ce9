//! librosa's reductions over a `(channels, ...)` array against soundcheck-audio's over a signal's
//! channels (`tools/fixtures/librosa_multichannel.py`).

use ndarray::Array2;
use soundcheck_audio as audio;
use soundcheck_audio::{MelConfig, OnsetConfig, Ref, StftConfig};

mod common;
use common::librosa::*;

/// librosa's reductions over a `(channels, ...)` array span every channel: a stereo file whose
/// right channel is 50 dB down (`tools/fixtures/librosa_multichannel.py`) gives MFCCs and dB
/// spectrograms whose floor is set by the left channel. Per channel, the right channel would
/// differ by 27–148 units.
#[test]
fn multichannel_reductions_span_every_channel() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures_multichannel");
    let want = |name: &str| -> Vec<Array2<f32>> {
        let a = soundcheck_npy::read(&dir.join(format!("{name}.npy"))).unwrap();
        let (rows, cols) = (a.shape[1], a.shape[2]);
        a.data
            .chunks_exact(rows * cols)
            .map(|c| Array2::from_shape_vec((rows, cols), c.to_vec()).unwrap())
            .collect()
    };
    let opts = audio::LoadOptions {
        sr: None,
        mono: false,
        ..Default::default()
    };
    let y = audio::load(&dir.join("stereo_unequal.wav"), &opts).unwrap();
    let (sr, ch): (u32, Vec<&[f32]>) = (
        y.sample_rate,
        y.channels.iter().map(Vec::as_slice).collect(),
    );
    let defaults = StftConfig::default();
    let mel = MelConfig::default();
    let small = StftConfig {
        n_fft: 512,
        hop_length: Some(512),
        ..Default::default()
    };
    let spectra = |power: bool| -> Vec<Array2<f32>> {
        ch.iter()
            .map(|y| {
                let s = audio::stft(y, &small).unwrap();
                if power {
                    audio::power(&s)
                } else {
                    audio::magnitude(&s)
                }
            })
            .collect()
    };
    let mels = ch
        .iter()
        .map(|y| audio::melspectrogram(y, sr, &defaults, &mel, 2.0).unwrap())
        .collect();
    let got = [
        (
            "mfcc",
            audio::mfcc(&ch, sr, &defaults, &mel, 20, 0.0).unwrap(),
        ),
        (
            "mel_db",
            audio::power_to_db_channels(mels, Ref::Value(1.0), 1e-10, Some(80.0)).unwrap(),
        ),
        (
            "magnitude_db",
            audio::amplitude_to_db_channels(&spectra(false), Ref::Value(1.0), 1e-5, Some(80.0))
                .unwrap(),
        ),
        (
            "power_db_max",
            audio::power_to_db_channels(spectra(true), Ref::Max, 1e-10, Some(80.0)).unwrap(),
        ),
        (
            "spectral_contrast",
            audio::spectral_contrast_from_spectrogram(
                &ch.iter()
                    .map(|y| audio::magnitude(&audio::stft(y, &defaults).unwrap()))
                    .collect::<Vec<_>>(),
                sr,
                2048,
                &audio::ContrastConfig::default(),
            )
            .unwrap(),
        ),
        (
            "chroma_stft",
            audio::chroma_stft_from_spectrogram(
                &ch.iter()
                    .map(|y| audio::power(&audio::stft(y, &defaults).unwrap()))
                    .collect::<Vec<_>>(),
                sr,
                2048,
                &audio::ChromaConfig::default(),
            )
            .unwrap(),
        ),
        (
            "onset_strength",
            audio::onset_strength(&ch, sr, 2048, 512, &mel, &OnsetConfig::default())
                .unwrap()
                .into_iter()
                .map(|v| Array2::from_shape_vec((1, v.len()), v).unwrap())
                .collect(),
        ),
    ];
    for (name, got) in got {
        for (c, (g, w)) in got.iter().zip(want(name)).enumerate() {
            let what = format!("{name} channel {c}");
            assert_shape(g, &w, &what);
            check_abs(&what, &std_layout(g), &std_layout(&w), DB);
        }
    }
}
