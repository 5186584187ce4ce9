//! Classification feature extraction in clips per second (`tools/bench/clip_features.sh`, beside
//! librosa + numpy): the quickstart's 280 demo clips (7 classes × 40, 0.4–1.6 s at 22050 Hz) →
//! load → MFCC (13) → time-major, in parallel across files, then standardisation and padding to
//! the 95th-percentile length. The clips are written to `target/bench-clips` for the Python side.

use std::path::{Path, PathBuf};
use std::time::Instant;

use soundcheck_data::ClassSet;
use soundcheck_tasks::classification::{ClipFeatures, Normalisation};
use soundcheck_tasks::{write_classification_demo, LengthPolicy, Preprocess};

fn main() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/bench-clips");
    let _ = std::fs::remove_dir_all(&dir);
    write_classification_demo(&dir, 40, 2026).expect("demo clips");
    let set = ClassSet::open(&dir).expect("class folders");
    let paths: Vec<PathBuf> = set.clips.iter().map(|c| c.path.clone()).collect();
    let refs: Vec<&Path> = paths.iter().map(PathBuf::as_path).collect();
    let features = ClipFeatures::default();
    let mut times = Vec::new();
    for _ in 0..5 {
        let t = Instant::now();
        let seqs = features.extract_all(&refs, &|| {}).expect("features");
        let pre = Preprocess::fit(
            set.classes.clone(),
            features.clone(),
            &LengthPolicy::default(),
            Normalisation::Global,
            &seqs,
        )
        .expect("fit");
        std::hint::black_box(pre.batch(seqs).unwrap());
        times.push(t.elapsed().as_secs_f64());
    }
    times.sort_by(f64::total_cmp);
    let median = times[times.len() / 2];
    println!(
        "soundcheck clip features: {} clips in {:.3} s (median of 5) = {:.0} clips/s, {} threads",
        refs.len(),
        median,
        refs.len() as f64 / median,
        rayon_threads()
    );
}

fn rayon_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}
