//! What the audio benches share.

use std::path::PathBuf;
use std::time::Instant;

/// Median wall time of `runs` runs, in seconds.
pub fn time<T>(runs: usize, mut f: impl FnMut() -> T) -> f64 {
    let mut v: Vec<f64> = (0..runs)
        .map(|_| {
            let t = Instant::now();
            std::hint::black_box(f());
            t.elapsed().as_secs_f64()
        })
        .collect();
    v.sort_by(f64::total_cmp);
    v[runs / 2]
}

/// The data folder: the first argument that is not a flag (cargo passes `--bench`), else
/// `target/bench-data`.
pub fn data_dir() -> PathBuf {
    PathBuf::from(
        std::env::args()
            .skip(1)
            .find(|a| !a.starts_with('-'))
            .unwrap_or_else(|| "target/bench-data".into()),
    )
}
