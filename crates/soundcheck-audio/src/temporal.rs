//! Frame-wise features of the waveform itself: `librosa.feature.rms` and
//! `librosa.feature.zero_crossing_rate`, computed frame by frame without materialising the
//! frames (a 10-minute file would otherwise be copied four times over).

use ndarray::Array2;
use rayon::prelude::*;

use crate::error::{invalid, AudioError, Result};
use crate::stft::n_frames;

/// The signal padded by `frame_length / 2` on both sides when `center`, and the frame count.
fn framed(
    y: &[f32],
    frame_length: usize,
    hop_length: usize,
    center: bool,
    edge: bool,
) -> Result<(Vec<f32>, usize)> {
    if frame_length == 0 {
        return Err(invalid(
            "frame_length",
            0,
            "a positive integer",
            "librosa's default is 2048",
        ));
    }
    if hop_length == 0 {
        return Err(invalid(
            "hop_length",
            0,
            "a positive integer",
            "librosa's default is 512",
        ));
    }
    let frames = n_frames(y.len(), frame_length, hop_length, center).ok_or_else(|| {
        AudioError::TooShort {
            what: "signal".into(),
            actual: y.len(),
            expected: frame_length,
            hint: "use a shorter frame_length, or center=True".into(),
        }
    })?;
    let half = if center { frame_length / 2 } else { 0 };
    let (first, last) = (y.first().copied(), y.last().copied());
    let pad = |v: Option<f32>| if edge { v.unwrap_or(0.0) } else { 0.0 };
    let mut padded = Vec::with_capacity(y.len() + 2 * half);
    padded.resize(half, pad(first));
    padded.extend_from_slice(y);
    padded.resize(y.len() + 2 * half, pad(last));
    Ok((padded, frames))
}

/// `librosa.feature.rms(y=y, frame_length=..., hop_length=..., center=..., pad_mode='constant')`:
/// the root mean square of each frame.
///
/// # Shapes
/// - `y`: `(n_samples,)`
/// - output: `(1, n_frames)`
pub fn rms(y: &[f32], frame_length: usize, hop_length: usize, center: bool) -> Result<Array2<f32>> {
    let (x, frames) = framed(y, frame_length, hop_length, center, false)?;
    let out: Vec<f32> = (0..frames)
        .into_par_iter()
        .map(|t| {
            let f = &x[t * hop_length..t * hop_length + frame_length];
            let power: f64 = f.iter().map(|&v| f64::from(v) * f64::from(v)).sum();
            (power / frame_length as f64).sqrt() as f32
        })
        .collect();
    Ok(Array2::from_shape_vec((1, frames), out).expect("one row of frames"))
}

/// `librosa.feature.zero_crossing_rate(y=y, frame_length=..., hop_length=..., center=...)`: the
/// share of each frame's samples whose sign differs from the sample before, within the frame.
/// The ends are padded by repeating the edge sample; values within 1e-10 of zero count as
/// positive, as librosa's `zero_crossings(threshold=1e-10, zero_pos=True)` does.
///
/// # Shapes
/// - `y`: `(n_samples,)`
/// - output: `(1, n_frames)`
pub fn zero_crossing_rate(
    y: &[f32],
    frame_length: usize,
    hop_length: usize,
    center: bool,
) -> Result<Array2<f32>> {
    let (x, frames) = framed(y, frame_length, hop_length, center, true)?;
    let negative = |v: f32| v < -1e-10;
    let out: Vec<f32> = (0..frames)
        .into_par_iter()
        .map(|t| {
            let f = &x[t * hop_length..t * hop_length + frame_length];
            let crossings = f
                .windows(2)
                .filter(|w| negative(w[0]) != negative(w[1]))
                .count();
            (crossings as f64 / frame_length as f64) as f32
        })
        .collect();
    Ok(Array2::from_shape_vec((1, frames), out).expect("one row of frames"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn written_out_frames() {
        // Frames of 4, hop 2, no centring: [1,-1,1,-1] and [1,-1,0,0].
        let y = [1.0, -1.0, 1.0, -1.0, 0.0, 0.0];
        let r = rms(&y, 4, 2, false).unwrap();
        assert_eq!(r.shape(), [1, 2]);
        assert!((r[[0, 0]] - 1.0).abs() < 1e-7);
        assert!((r[[0, 1]] - 0.5f32.sqrt()).abs() < 1e-7);
        // Crossings inside each frame: 3 of 4, then 2 of 4 (-1 → 0 counts: zero is positive).
        let z = zero_crossing_rate(&y, 4, 2, false).unwrap();
        assert_eq!(z.as_slice().unwrap(), &[0.75, 0.5]);
    }
}
