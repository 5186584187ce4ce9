//! Variable-length feature sequences made stackable: Keras's `pad_sequences` (pad or truncate to
//! one length, at the start or the end), the length that covers most clips, and per-feature
//! standardisation fitted on the training split.

use crate::error::{DataError, Result};

/// Which end of a sequence padding is added to, or truncation cuts from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    /// Before the sequence (Keras's default).
    Pre,
    /// After the sequence.
    Post,
}

impl Side {
    /// Reads `pre` or `post`, naming the option `name` when it is neither.
    pub fn parse(name: &'static str, v: &str) -> Result<Side> {
        match v {
            "pre" => Ok(Side::Pre),
            "post" => Ok(Side::Post),
            _ => Err(DataError::InvalidParameter {
                name,
                actual: v.to_string(),
                expected: "pre or post (Keras pad_sequences; its default is pre)".into(),
            }),
        }
    }
}

/// A sequence of `frames` time steps of `features` values each, time-major (C order
/// `(frames, features)`).
#[derive(Clone, Debug, PartialEq)]
pub struct Sequence {
    /// Frames (time steps).
    pub frames: usize,
    /// Features per frame.
    pub features: usize,
    /// Time-major values: `frames × features`.
    pub data: Vec<f32>,
}

/// Keras's `pad_sequences(seqs, maxlen, padding, truncating, value)` for sequences of feature
/// vectors.
///
/// # Shapes
/// - `seqs[i]`: `(frames_i, features)`, every `features` equal
/// - output: `(len(seqs), maxlen, features)`
///
/// # Errors
/// An output larger than the memory there is ([`soundcheck_io::budget`]).
pub fn pad_sequences(
    seqs: &[Sequence],
    maxlen: usize,
    padding: Side,
    truncating: Side,
    value: f32,
) -> crate::Result<Vec<f32>> {
    let f = seqs.first().map_or(0, |s| s.features);
    let mut out = soundcheck_io::budget::vec(
        "the padded sequences (clips × `maxlen` × features)",
        &[seqs.len(), maxlen, f],
        value,
    )?;
    for (i, s) in seqs.iter().enumerate() {
        let keep = s.frames.min(maxlen);
        let from = match truncating {
            Side::Pre => s.frames - keep,
            Side::Post => 0,
        };
        let to = match padding {
            Side::Pre => maxlen - keep,
            Side::Post => 0,
        };
        let dst = (i * maxlen + to) * f;
        out[dst..dst + keep * f].copy_from_slice(&s.data[from * f..(from + keep) * f]);
    }
    Ok(out)
}

/// The `q`-th percentile (0–100) of the lengths, numpy's linear interpolation rounded up, so
/// at least `q` % of the sequences fit without truncation.
pub fn percentile_length(lengths: &[usize], q: f64) -> usize {
    let mut v = lengths.to_vec();
    v.sort_unstable();
    if v.is_empty() {
        return 0;
    }
    let pos = q / 100.0 * (v.len() - 1) as f64;
    let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
    let x = v[lo] as f64 + (pos - lo as f64) * (v[hi] - v[lo]) as f64;
    (x - 1e-9).ceil().max(1.0) as usize
}

/// Per-feature mean and standard deviation (population, as scikit-learn's StandardScaler).
#[derive(Clone, Debug, PartialEq)]
pub struct Standardiser {
    /// Per-feature mean.
    pub mean: Vec<f32>,
    /// Per-feature standard deviation.
    pub std: Vec<f32>,
}

impl Standardiser {
    /// Fitted on every frame of `seqs` (padding never enters: call it before padding).
    ///
    /// # Errors
    /// No frames at all.
    pub fn fit(seqs: &[Sequence]) -> Result<Standardiser> {
        let f = seqs.first().map_or(0, |s| s.features);
        let n: usize = seqs.iter().map(|s| s.frames).sum();
        if n == 0 || f == 0 {
            return Err(DataError::Empty {
                what: "the training clips have no feature frames".into(),
                hint: "check that the clips hold audio and are longer than one frame".into(),
            });
        }
        let (mut sum, mut sq) = (vec![0f64; f], vec![0f64; f]);
        for s in seqs {
            for row in s.data.chunks(f) {
                for (k, &v) in row.iter().enumerate() {
                    sum[k] += v as f64;
                    sq[k] += (v as f64) * (v as f64);
                }
            }
        }
        let mean: Vec<f64> = sum.iter().map(|s| s / n as f64).collect();
        let std = sq
            .iter()
            .zip(&mean)
            .map(|(q, m)| {
                let var = (q / n as f64 - m * m).max(0.0);
                // A constant feature is left unscaled rather than divided by zero.
                if var > 1e-12 {
                    var.sqrt() as f32
                } else {
                    1.0
                }
            })
            .collect();
        Ok(Standardiser {
            mean: mean.iter().map(|&m| m as f32).collect(),
            std,
        })
    }

    /// `(x − mean) / std` in place, per feature.
    pub fn apply(&self, s: &mut Sequence) {
        let f = self.mean.len();
        for row in s.data.chunks_mut(f) {
            for (k, v) in row.iter_mut().enumerate() {
                *v = (*v - self.mean[k]) / self.std[k];
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seq(values: &[f32]) -> Sequence {
        Sequence {
            frames: values.len(),
            features: 1,
            data: values.to_vec(),
        }
    }

    #[test]
    fn percentile_rounds_numpy_up() {
        // numpy.percentile([3, 5, 9, 10], 95) = 9.85 → 10; of [4, 4] → 4.
        assert_eq!(percentile_length(&[10, 3, 9, 5], 95.0), 10);
        assert_eq!(percentile_length(&[4, 4], 95.0), 4);
        assert_eq!(percentile_length(&[1, 2, 3, 4, 5], 50.0), 3);
    }

    #[test]
    fn standardised_training_frames_have_zero_mean_and_unit_variance() {
        let seqs = vec![seq(&[1.0, 2.0, 3.0]), seq(&[5.0])];
        let st = Standardiser::fit(&seqs).unwrap();
        assert!((st.mean[0] - 2.75).abs() < 1e-6);
        // Population variance of 1, 2, 3, 5: (3.0625 + 0.5625 + 0.0625 + 5.0625) / 4.
        assert!((st.std[0] - (8.75f32 / 4.0).sqrt()).abs() < 1e-6);
        let mut s = seq(&[2.75]);
        st.apply(&mut s);
        assert_eq!(s.data, vec![0.0]);
    }
}
