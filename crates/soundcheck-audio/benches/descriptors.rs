//! The frame-wise descriptors (rms, zero_crossing_rate, spectral_centroid/bandwidth/rolloff/
//! flatness), each from the waveform as `librosa.feature.*(y=y)` computes it, on the 10-minute
//! file of the chain bench loaded at 22050 Hz mono. `tools/bench/audio_descriptors.sh` runs it
//! beside librosa.
//!
//! `cargo bench -p soundcheck-audio --bench descriptors -- DATA_DIR` (after the chain bench made
//! the file there).

use std::path::PathBuf;

mod common;

use common::time;
use soundcheck_audio as audio;
use soundcheck_audio::{LoadOptions, StftConfig};

fn main() {
    let dir = PathBuf::from(
        std::env::args()
            .skip(1)
            .find(|a| !a.starts_with('-'))
            .unwrap_or_else(|| "target/bench-data".into()),
    );
    let long = dir.join("long_10min_44k_stereo.wav");
    let y = audio::load(&long, &LoadOptions::default())
        .expect("the chain bench writes the file first")
        .channels
        .remove(0);
    let cfg = StftConfig::default();
    let (sr, n_fft, hop) = (22050, cfg.n_fft, cfg.hop());
    let mag = || audio::magnitude(&audio::stft(&y, &cfg).expect("stft"));
    let runs = 9;
    let rows = [
        ("rms", time(runs, || audio::rms(&y, n_fft, hop, true))),
        (
            "zero_crossing_rate",
            time(runs, || audio::zero_crossing_rate(&y, n_fft, hop, true)),
        ),
        (
            "spectral_centroid",
            time(runs, || audio::spectral_centroid(&mag(), sr, n_fft)),
        ),
        (
            "spectral_bandwidth",
            time(runs, || audio::spectral_bandwidth(&mag(), sr, n_fft, 2.0)),
        ),
        (
            "spectral_rolloff",
            time(runs, || audio::spectral_rolloff(&mag(), sr, n_fft, 0.85)),
        ),
        (
            "spectral_flatness",
            time(runs, || audio::spectral_flatness(&mag(), 2.0, 1e-10)),
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
