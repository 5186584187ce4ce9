//! Spectral shape descriptors of a magnitude spectrogram, as `librosa.feature`'s
//! `spectral_centroid`, `spectral_bandwidth`, `spectral_rolloff` and `spectral_flatness`
//! compute them from `|stft(y)|`.

use ndarray::{Array2, ArrayView1, Axis};
use rayon::prelude::*;

use crate::error::{invalid, Result};

/// The centre frequency of each STFT bin (`librosa.fft_frequencies`).
pub fn fft_frequencies(sr: u32, n_fft: usize) -> Vec<f64> {
    (0..=n_fft / 2)
        .map(|k| k as f64 * f64::from(sr) / n_fft as f64)
        .collect()
}

/// One value per frame, computed from each column of `s` in parallel.
fn per_frame(s: &Array2<f32>, f: impl Fn(ArrayView1<f32>) -> f64 + Sync) -> Array2<f32> {
    let cols: Vec<ArrayView1<f32>> = s.axis_iter(Axis(1)).collect();
    let out: Vec<f32> = cols.into_par_iter().map(|c| f(c) as f32).collect();
    Array2::from_shape_vec((1, out.len()), out).expect("one row of frames")
}

/// A column's L1 norm, or 1 where it is below the smallest normal float (librosa's
/// `util.normalize(norm=1)`: silent frames stay zero instead of dividing by zero).
fn l1(c: &ArrayView1<f32>) -> f64 {
    let n: f64 = c.iter().map(|&v| f64::from(v)).sum();
    if n < f64::from(f32::MIN_POSITIVE) {
        1.0
    } else {
        n
    }
}

pub(crate) fn check_bins(s: &Array2<f32>, n_fft: usize) -> Result<()> {
    if s.nrows() != n_fft / 2 + 1 {
        return Err(invalid(
            "n_fft",
            n_fft,
            format!("the spectrogram's {} bins = 1 + n_fft/2", s.nrows()),
            "pass the n_fft the spectrogram was computed with",
        ));
    }
    Ok(())
}

fn centroid_of(c: &ArrayView1<f32>, freq: &[f64]) -> f64 {
    let norm = l1(c);
    c.iter()
        .zip(freq)
        .map(|(&v, &f)| f * f64::from(v))
        .sum::<f64>()
        / norm
}

/// `librosa.feature.spectral_centroid(S=s, sr=sr, n_fft=n_fft)`: each frame's mean frequency,
/// weighted by magnitude.
///
/// # Shapes
/// - `s`: `(1 + n_fft/2, n_frames)` magnitudes
/// - output: `(1, n_frames)` in Hz
pub fn spectral_centroid(s: &Array2<f32>, sr: u32, n_fft: usize) -> Result<Array2<f32>> {
    check_bins(s, n_fft)?;
    let freq = fft_frequencies(sr, n_fft);
    Ok(per_frame(s, |c| centroid_of(&c, &freq)))
}

/// `librosa.feature.spectral_bandwidth(S=s, sr=sr, n_fft=n_fft, p=p)`: the `p`-th order spread
/// of frequencies around each frame's centroid, weighted by normalised magnitude.
///
/// # Shapes
/// - `s`: `(1 + n_fft/2, n_frames)` magnitudes
/// - output: `(1, n_frames)` in Hz
pub fn spectral_bandwidth(s: &Array2<f32>, sr: u32, n_fft: usize, p: f64) -> Result<Array2<f32>> {
    check_bins(s, n_fft)?;
    if p.is_nan() || p <= 0.0 {
        return Err(invalid(
            "p",
            p,
            "a positive number",
            "librosa's default is 2",
        ));
    }
    let freq = fft_frequencies(sr, n_fft);
    Ok(per_frame(s, |c| {
        let centroid = centroid_of(&c, &freq);
        let norm = l1(&c);
        c.iter()
            .zip(&freq)
            .map(|(&v, &f)| f64::from(v) / norm * (f - centroid).abs().powf(p))
            .sum::<f64>()
            .powf(1.0 / p)
    }))
}

/// `librosa.feature.spectral_rolloff(S=s, sr=sr, n_fft=n_fft, roll_percent=...)`: the lowest
/// bin frequency below which `roll_percent` of the frame's magnitude lies. The running sum is
/// kept in f32, as numpy's `cumsum` of float32 keeps it, so the chosen bin matches.
///
/// # Shapes
/// - `s`: `(1 + n_fft/2, n_frames)` magnitudes
/// - output: `(1, n_frames)` in Hz
pub fn spectral_rolloff(
    s: &Array2<f32>,
    sr: u32,
    n_fft: usize,
    roll_percent: f64,
) -> Result<Array2<f32>> {
    check_bins(s, n_fft)?;
    if !(roll_percent > 0.0 && roll_percent < 1.0) {
        return Err(invalid(
            "roll_percent",
            roll_percent,
            "a number strictly between 0 and 1",
            "librosa's default is 0.85",
        ));
    }
    let freq = fft_frequencies(sr, n_fft);
    Ok(per_frame(s, |c| {
        let total: f32 = c.iter().fold(0f32, |a, &v| a + v);
        let threshold = roll_percent * f64::from(total);
        let mut running = 0f32;
        for (&v, &f) in c.iter().zip(&freq) {
            running += v;
            if f64::from(running) >= threshold {
                return f;
            }
        }
        f64::NAN
    }))
}

/// `librosa.feature.spectral_flatness(S=s, power=power, amin=amin)`: the geometric mean of each
/// frame's `max(amin, s^power)` over its arithmetic mean (1 for white noise, near 0 for a tone).
///
/// # Shapes
/// - `s`: `(n_bins, n_frames)` magnitudes
/// - output: `(1, n_frames)`
pub fn spectral_flatness(s: &Array2<f32>, power: f64, amin: f64) -> Result<Array2<f32>> {
    if amin.is_nan() || amin <= 0.0 {
        return Err(invalid(
            "amin",
            amin,
            "a positive number",
            "librosa's default is 1e-10",
        ));
    }
    if power.is_nan() || power <= 0.0 {
        return Err(invalid(
            "power",
            power,
            "a positive number",
            "librosa's default is 2",
        ));
    }
    let n = s.nrows() as f64;
    Ok(per_frame(s, |c| {
        let (mut logs, mut sum) = (0f64, 0f64);
        for &v in c.iter() {
            let x = amin.max(f64::from(v).powf(power));
            logs += x.ln();
            sum += x;
        }
        (logs / n).exp() / (sum / n)
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn written_out_frames() {
        // n_fft 4 at 8 Hz: bins at 0, 2, 4 Hz. Frame [1, 1, 2]: centroid (0+2+8)/4 = 2.5 Hz.
        let s = Array2::from_shape_vec((3, 1), vec![1.0, 1.0, 2.0]).unwrap();
        assert_eq!(spectral_centroid(&s, 8, 4).unwrap()[[0, 0]], 2.5);
        // Spread: sqrt((6.25 + 0.25 + 2·2.25) / 4) = sqrt(2.75).
        let bw = spectral_bandwidth(&s, 8, 4, 2.0).unwrap()[[0, 0]];
        assert!((bw - 2.75f32.sqrt()).abs() < 1e-6);
        // 85 % of 4 = 3.4 is reached at the last bin (running sums 1, 2, 4).
        assert_eq!(spectral_rolloff(&s, 8, 4, 0.85).unwrap()[[0, 0]], 4.0);
        // A flat spectrum is flat.
        let flat = Array2::from_elem((3, 1), 0.5f32);
        assert!((spectral_flatness(&flat, 2.0, 1e-10).unwrap()[[0, 0]] - 1.0).abs() < 1e-6);
    }
}
