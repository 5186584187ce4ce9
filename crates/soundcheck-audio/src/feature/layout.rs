//! The output array: the channels' `(rows, frames)` matrices laid out in C order, as librosa's
//! axes, time-major, or cut into channels_last patches.

use ndarray::Array2;

/// An array in C order, and the frames left out of it.
#[derive(Clone, Debug, PartialEq)]
pub struct Arranged<T> {
    /// Its shape.
    pub shape: Vec<usize>,
    /// Its values, in C order.
    pub data: Vec<T>,
    /// Frames after the last whole patch (0 unless cut into patches).
    pub dropped: usize,
}

/// How the matrices become one array.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Layout {
    /// `(frames, rows)` instead of librosa's `(rows, frames)`.
    pub time_major: bool,
    /// A leading channel axis, even for one channel (librosa's `mono=False`).
    pub channel_axis: bool,
    /// No feature axis where the matrices have one row, as librosa returns the waveform and
    /// onset strength ([`FeatureKind::is_one_dimensional`](super::FeatureKind)).
    pub squeeze_rows: bool,
}

impl Layout {
    /// `(rows, frames)`, `(frames, rows)` when time-major, `(frames,)` when squeezed, after a
    /// leading channel axis when asked.
    ///
    /// # Shapes
    /// - `mats`: at least one, all `(rows, frames)`
    pub fn arrange<T: Copy>(&self, mats: &[Array2<T>]) -> Arranged<T> {
        let (f, t) = mats[0].dim();
        let mut shape = if self.squeeze_rows && f == 1 {
            vec![t]
        } else if self.time_major {
            vec![t, f]
        } else {
            vec![f, t]
        };
        if self.channel_axis {
            shape.insert(0, mats.len());
        }
        let data = mats
            .iter()
            .flat_map(|m| {
                if self.time_major {
                    m.t().iter().copied().collect::<Vec<T>>()
                } else {
                    m.iter().copied().collect()
                }
            })
            .collect();
        Arranged {
            shape,
            data,
            dropped: 0,
        }
    }
}

/// `(n_patches, rows, frames, channels)` channels_last patches of `frames` frames each, as a
/// Conv2D model reads them; the frames after the last whole patch dropped. `None` when the
/// matrices hold fewer frames than one patch.
///
/// # Shapes
/// - `mats`: at least one, all `(rows, t)`
pub fn patches<T: Copy>(mats: &[Array2<T>], frames: usize) -> Option<Arranged<T>> {
    let (f, t) = mats[0].dim();
    let c = mats.len();
    let n = t.checked_div(frames).filter(|&n| n > 0)?;
    let mut data = Vec::with_capacity(n * f * frames * c);
    for k in 0..n {
        for i in 0..f {
            for j in 0..frames {
                data.extend(mats.iter().map(|m| m[[i, k * frames + j]]));
            }
        }
    }
    Some(Arranged {
        shape: vec![n, f, frames, c],
        data,
        dropped: t - n * frames,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patches_are_channels_last_and_drop_the_tail() {
        // Two channels of (2, 5): channel c holds 100·c + 10·row + frame.
        let mats: Vec<Array2<f32>> = (0..2)
            .map(|c| Array2::from_shape_fn((2, 5), |(i, j)| (100 * c + 10 * i + j) as f32))
            .collect();
        let p = patches(&mats, 2).unwrap();
        assert_eq!((p.shape.clone(), p.dropped), (vec![2, 2, 2, 2], 1));
        // Patch 1, row 1, frame 0: frame 2 of row 1, channel 0 then channel 1.
        let at = ((2 + 1) * 2) * 2;
        assert_eq!(&p.data[at..at + 2], &[12.0, 112.0]);
        assert!(patches(&mats, 6).is_none());
    }

    #[test]
    fn time_major_transposes_and_one_row_kinds_lose_the_feature_axis() {
        let m = Array2::from_shape_fn((2, 3), |(i, j)| (10 * i + j) as f32);
        let tm = Layout {
            time_major: true,
            ..Layout::default()
        }
        .arrange(std::slice::from_ref(&m));
        assert_eq!(tm.shape, vec![3, 2]);
        assert_eq!(tm.data, vec![0.0, 10.0, 1.0, 11.0, 2.0, 12.0]);
        let row = Array2::from_shape_fn((1, 3), |(_, j)| j as f32);
        let squeezed = Layout {
            channel_axis: true,
            squeeze_rows: true,
            ..Layout::default()
        }
        .arrange(&[row.clone(), row]);
        assert_eq!(squeezed.shape, vec![2, 3]);
    }
}
