//! The frame-wise descriptors (rms, zero_crossing_rate, spectral_centroid/bandwidth/rolloff/
//! flatness/contrast, chroma_stft, onset_strength, cqt, chroma_cqt, tonnetz), each from the waveform as `librosa.feature.*(y=y)` computes it, on the 10-minute
//! file of the chain bench loaded at 22050 Hz mono. `tools/bench/audio_descriptors.sh` runs it
//! beside librosa.
//!
//! `cargo bench -p soundcheck-audio --bench descriptors -- DATA_DIR` (after the chain bench made
//! the file there).

mod common;

use common::{data_dir, time};
use soundcheck_audio as audio;
use soundcheck_audio::{
    ChromaConfig, ContrastConfig, Descriptor, LoadOptions, MelConfig, OnsetConfig, StftConfig,
};

/// chroma_cqt with librosa's defaults (7 octaves of 36 bins, tuning estimated).
fn chroma_cqt(y: &[f32]) -> Vec<ndarray::Array2<f32>> {
    audio::chroma_cqt_channels(&[y], 22050, &audio::CqtConfig::for_chroma(512), None, 12)
        .expect("chroma_cqt")
}

fn main() {
    let dir = data_dir();
    let long = dir.join("long_10min_44k_stereo.wav");
    let y = audio::load(&long, &LoadOptions::default())
        .expect("the chain bench writes the file first")
        .channels
        .remove(0);
    let cfg = StftConfig::default();
    let (sr, n_fft, hop) = (22050, cfg.n_fft, cfg.hop());
    let runs = 9;
    let rows = [
        ("rms", time(runs, || audio::rms(&y, n_fft, hop, true))),
        (
            "zero_crossing_rate",
            time(runs, || audio::zero_crossing_rate(&y, n_fft, hop, true)),
        ),
        (
            "spectral_centroid",
            time(runs, || Descriptor::Centroid.of_signal(&y, sr, &cfg)),
        ),
        (
            "spectral_bandwidth",
            time(runs, || {
                Descriptor::Bandwidth { p: 2.0 }.of_signal(&y, sr, &cfg)
            }),
        ),
        (
            "spectral_rolloff",
            time(runs, || {
                Descriptor::Rolloff { roll_percent: 0.85 }.of_signal(&y, sr, &cfg)
            }),
        ),
        (
            "spectral_flatness",
            time(runs, || {
                Descriptor::Flatness {
                    power: 2.0,
                    amin: 1e-10,
                }
                .of_signal(&y, sr, &cfg)
            }),
        ),
        (
            "spectral_contrast",
            time(runs, || {
                audio::spectral_contrast_of_signals(&[&y], sr, &cfg, &ContrastConfig::default())
            }),
        ),
        (
            "chroma_stft",
            time(runs, || {
                let power = [audio::power_spectrogram(&y, &cfg).expect("stft")];
                audio::chroma_stft_channels(&power, sr, n_fft, &ChromaConfig::default())
            }),
        ),
        (
            "onset_strength",
            time(runs, || {
                let (mel, onset) = (MelConfig::default(), OnsetConfig::default());
                audio::onset_strength_channels(&[&y], sr, n_fft, hop, &mel, &onset)
            }),
        ),
        (
            "cqt",
            time(runs, || audio::cqt(&y, sr, &audio::CqtConfig::default())),
        ),
        ("chroma_cqt", time(runs, || chroma_cqt(&y))),
        (
            "tonnetz",
            time(runs, || chroma_cqt(&y).iter().map(audio::tonnetz).count()),
        ),
    ];
    println!(
        "soundcheck ({} threads), 10 min at 22050 Hz mono, each from y, median of {runs}:",
        rayon::current_num_threads()
    );
    for (name, t) in rows {
        println!("  {name:<24} {:>8.1} ms", t * 1e3);
    }
}
