//! `librosa.feature.tonnetz`: each frame's chroma, L1-normalised, projected onto the circles of
//! fifths, minor thirds and major thirds (Harte, Sandler & Gasser 2006).

use ndarray::Array2;

use crate::error::Result;
use crate::CqtConfig;

/// `librosa.feature.tonnetz(y=y, sr=sr)` of a signal's channels: the tonal centroids of their
/// [`chroma_cqt`](crate::chroma_cqt()) (12 pitch classes, one tuning estimated from every
/// channel), as librosa computes them by default.
///
/// # Shapes
/// - each channel: `(n,)`
/// - output per channel: `(6, frames)`, frames as `cqt` gives them
pub fn tonnetz(channels: &[&[f32]], sr: u32, cqt: &CqtConfig) -> Result<Vec<Array2<f32>>> {
    let chroma = crate::chroma_cqt(channels, sr, cqt, None, 12)?;
    Ok(chroma.iter().map(tonnetz_from_chroma).collect())
}

/// The tonal centroid features of a chromagram `(n_chroma, frames)`: `(6, frames)`, as
/// `librosa.feature.tonnetz(chroma=chroma)`.
pub fn tonnetz_from_chroma(chroma: &Array2<f32>) -> Array2<f32> {
    let n = chroma.nrows();
    const SCALE: [f64; 6] = [7.0 / 6.0, 7.0 / 6.0, 1.5, 1.5, 2.0 / 3.0, 2.0 / 3.0];
    const RADIUS: [f64; 6] = [1.0, 1.0, 1.0, 1.0, 0.5, 0.5];
    let phi = Array2::from_shape_fn((6, n), |(p, c)| {
        // np.linspace(0, 12, n, endpoint=False), odd rows shifted by half a step (sines).
        let v = SCALE[p] * (12.0 * c as f64 / n as f64) - if p % 2 == 0 { 0.5 } else { 0.0 };
        (RADIUS[p] * (std::f64::consts::PI * v).cos()) as f32
    });
    let mut unit = chroma.clone();
    for mut col in unit.columns_mut() {
        // librosa's normalize(norm=1): frames whose sum is below float32's smallest normal stay.
        let length: f64 = col.iter().map(|v| f64::from(v.abs())).sum();
        if length >= f64::from(f32::MIN_POSITIVE) {
            col.mapv_inplace(|v| (f64::from(v) / length) as f32);
        }
    }
    phi.dot(&unit)
}
