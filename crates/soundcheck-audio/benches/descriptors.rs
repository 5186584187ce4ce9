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
use soundcheck_audio::{FeatureConfig, FeatureKind, LoadOptions};

fn main() {
    let dir = data_dir();
    let long = dir.join("long_10min_44k_stereo.wav");
    let y = audio::load(&long, &LoadOptions::default())
        .expect("the chain bench writes the file first")
        .channels
        .remove(0);
    // Each kind as the feature recipe computes it, with librosa's defaults.
    let recipe = FeatureConfig::default();
    let kinds = [
        FeatureKind::Rms,
        FeatureKind::ZeroCrossingRate,
        FeatureKind::SpectralCentroid,
        FeatureKind::SpectralBandwidth,
        FeatureKind::SpectralRolloff,
        FeatureKind::SpectralFlatness,
        FeatureKind::SpectralContrast,
        FeatureKind::ChromaStft,
        FeatureKind::OnsetStrength,
        FeatureKind::Cqt,
        FeatureKind::ChromaCqt,
        FeatureKind::Tonnetz,
    ];
    let runs = 9;
    let rows = kinds.map(|k| {
        let t = time(runs, || {
            recipe
                .compute(k, &[&y], 22050)
                .unwrap_or_else(|e| panic!("{e}"))
        });
        (k.librosa_name(), t)
    });
    println!(
        "soundcheck ({} threads), 10 min at 22050 Hz mono, each from y, median of {runs}:",
        rayon::current_num_threads()
    );
    for (name, t) in rows {
        println!("  {name:<24} {:>8.1} ms", t * 1e3);
    }
}
