//! Frame-wise features of the waveform itself: `librosa.feature.rms` and
//! `librosa.feature.zero_crossing_rate`, computed frame by frame without materialising the
//! frames (a 10-minute file would otherwise be copied four times over).

use ndarray::Array2;
use rayon::prelude::*;

use crate::error::{invalid, AudioError, Result};
use crate::stft::n_frames;

/// Checks the frame settings and counts the frames; with `center` the signal is framed as if
/// padded by `frame_length / 2` on both sides, so frame `t` covers samples
/// `[t·hop − pad, t·hop − pad + frame_length)` of `y`.
fn frames_of(
    y: &[f32],
    frame_length: usize,
    hop_length: usize,
    center: bool,
) -> Result<(usize, isize)> {
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
    let pad = if center {
        (frame_length / 2) as isize
    } else {
        0
    };
    Ok((frames, pad))
}

/// The part of `y` frame `t` covers, clipped to the signal: `[a, b)`.
fn span(t: usize, hop: usize, frame_length: usize, pad: isize, n: usize) -> (usize, usize) {
    let start = (t * hop) as isize - pad;
    let clip = |i: isize| i.clamp(0, n as isize) as usize;
    (clip(start), clip(start + frame_length as isize))
}

/// Greatest common divisor.
pub(crate) fn gcd(a: usize, b: usize) -> usize {
    if b == 0 {
        a
    } else {
        gcd(b, a % b)
    }
}

/// Per-frame sums `Σ f(i)` over each frame's clipped span `[a, b)`, as sums of blocks of `g`
/// samples, where `g` divides the hop, the frame length and the centring pad: every frame starts
/// and ends on a block edge, so the signal is read once (in parallel) however much the frames
/// overlap. Returns each frame's sum and its span.
fn frame_sums(
    n: usize,
    frames: usize,
    frame_length: usize,
    hop: usize,
    pad: isize,
    f: impl Fn(usize) -> f64 + Sync,
) -> Vec<(f64, usize, usize)> {
    let g = gcd(gcd(hop, frame_length), pad.unsigned_abs()).max(1);
    let blocks: Vec<f64> = (0..n.div_ceil(g))
        .into_par_iter()
        .map(|j| (j * g..((j + 1) * g).min(n)).map(&f).sum())
        .collect();
    (0..frames)
        .into_par_iter()
        .map(|t| {
            let (a, b) = span(t, hop, frame_length, pad, n);
            (blocks[a / g..b.div_ceil(g)].iter().sum(), a, b)
        })
        .collect()
}

/// `librosa.feature.rms(y=y, frame_length=..., hop_length=..., center=..., pad_mode='constant')`:
/// the root mean square of each frame.
///
/// # Shapes
/// - `y`: `(n_samples,)`
/// - output: `(1, n_frames)`
pub fn rms(y: &[f32], frame_length: usize, hop_length: usize, center: bool) -> Result<Array2<f32>> {
    let (frames, pad) = frames_of(y, frame_length, hop_length, center)?;
    // Zero padding adds nothing to a frame's energy; the sums of squares are kept in f64.
    let out: Vec<f32> = frame_sums(y.len(), frames, frame_length, hop_length, pad, |i| {
        f64::from(y[i]) * f64::from(y[i])
    })
    .into_iter()
    .map(|(power, _, _)| (power.max(0.0) / frame_length as f64).sqrt() as f32)
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
    let (frames, pad) = frames_of(y, frame_length, hop_length, center)?;
    let negative = |v: f32| v < -1e-10;
    // A change at i is between neighbours i−1 and i; a frame [a, b) counts those at a < i < b.
    // The edge padding repeats the end samples, so pairs reaching into it never change sign.
    let change = |i: usize| f64::from(u8::from(i > 0 && negative(y[i - 1]) != negative(y[i])));
    let out: Vec<f32> = frame_sums(y.len(), frames, frame_length, hop_length, pad, change)
        .into_iter()
        .map(|(sum, a, b)| {
            let crossings = if b > a { sum - change(a) } else { 0.0 };
            (crossings / frame_length as f64) as f32
        })
        .collect();
    Ok(Array2::from_shape_vec((1, frames), out).expect("one row of frames"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn centred_frames_read_the_padding_as_librosa_pads() {
        // Frames of 4, hop 2, centred: zeros (rms) or the edge sample (zcr) before and after.
        let y = [1.0, -1.0, 1.0, -1.0, 0.5];
        let r = rms(&y, 4, 2, true).unwrap();
        assert_eq!(r.shape(), [1, 3]);
        // Frame 0 is [0, 0, 1, −1]: energy 2 of 4.
        assert!((r[[0, 0]] - 0.5f32.sqrt()).abs() < 1e-7);
        // Frame 2 is [1, −1, 0.5, 0]: 2.25 of 4.
        assert!((r[[0, 2]] - 0.75).abs() < 1e-7);
        let z = zero_crossing_rate(&y, 4, 2, true).unwrap();
        // Edge-padded: [1, 1, 1, −1] → 1 crossing; [1, −1, 1, −1] → 3; [1, −1, 0.5, 0.5] → 2.
        assert_eq!(z.as_slice().unwrap(), &[0.25, 0.75, 0.5]);
    }

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
