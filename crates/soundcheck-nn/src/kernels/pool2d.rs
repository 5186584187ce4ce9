//! Max and average pooling of channels_last data, with their backward passes. burn-flex pools
//! channels-first tensors: every pool cost two permuting copies, and its max pool kept an
//! index tensor. Here a window's channels are contiguous runs, and the backward recomputes
//! which element won from the input.
//!
//! The numbers are TensorFlow's: 'same' padding never wins a max and is not counted in a mean,
//! and a max's gradient goes to the first element of the window (in row-major order) holding
//! the maximum.

use std::mem::MaybeUninit;

use rayon::prelude::*;

use super::{assume_written, output_buffer};

/// The geometry of one channels_last pool.
///
/// # Shapes
/// - input: `(batch, in_h, in_w, channels)`; output: `(batch, out_h, out_w, channels)`
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pool2dGeometry {
    /// Batch size.
    pub batch: usize,
    /// Input height and width.
    pub input: [usize; 2],
    /// Channels.
    pub channels: usize,
    /// Window height and width.
    pub window: [usize; 2],
    /// Strides along height and width.
    pub stride: [usize; 2],
    /// Padding `(begin, end)` along height and width (never part of a result).
    pub pad: [(usize, usize); 2],
    /// Maximum, else mean.
    pub max: bool,
}

impl Pool2dGeometry {
    /// Output height and width.
    pub fn output(&self) -> [usize; 2] {
        std::array::from_fn(|a| {
            (self.input[a] + self.pad[a].0 + self.pad[a].1 - self.window[a]) / self.stride[a] + 1
        })
    }

    fn in_len(&self) -> usize {
        self.input[0] * self.input[1] * self.channels
    }

    /// The input rows and columns the window of output `(oy, ox)` covers, padding left out.
    fn window_of(&self, oy: usize, ox: usize) -> [std::ops::Range<usize>; 2] {
        let at = [oy, ox];
        std::array::from_fn(|a| {
            let start = at[a] * self.stride[a];
            let lo = start.saturating_sub(self.pad[a].0);
            let hi = (start + self.window[a])
                .saturating_sub(self.pad[a].0)
                .min(self.input[a]);
            lo..hi
        })
    }
}

/// The pooled output `(batch, out_h, out_w, channels)`.
pub fn forward(g: &Pool2dGeometry, x: &[f32]) -> Vec<f32> {
    assert_eq!(x.len(), g.batch * g.in_len(), "pool input length");
    let [oh, ow] = g.output();
    let c = g.channels;
    let mut y = output_buffer(g.batch * oh * ow * c);
    // One task per output row of one image.
    y.par_chunks_mut((ow * c).max(1))
        .enumerate()
        .for_each(|(r, yr)| {
            let (n, oy) = (r / oh, r % oh);
            let xi = &x[n * g.in_len()..(n + 1) * g.in_len()];
            let mut acc = vec![0.0; c];
            for (ox, out) in yr.chunks_exact_mut(c).enumerate() {
                pool_window(g, xi, g.window_of(oy, ox), &mut acc, out);
            }
        });
    // SAFETY: the chunks of `ow·c` cover every output row, and `pool_window` writes all `c`
    // values of each pixel.
    unsafe { assume_written(y) }
}

/// One output pixel's channels: the max or the mean over the window's real elements (`acc`:
/// room for one pixel's channels).
fn pool_window(
    g: &Pool2dGeometry,
    xi: &[f32],
    [rows, cols]: [std::ops::Range<usize>; 2],
    acc: &mut [f32],
    out: &mut [MaybeUninit<f32>],
) {
    let (c, iw) = (g.channels, g.input[1]);
    acc.fill(if g.max { f32::NEG_INFINITY } else { 0.0 });
    for y in rows.clone() {
        for x in cols.clone() {
            let v = &xi[(y * iw + x) * c..][..c];
            if g.max {
                acc.iter_mut().zip(v).for_each(|(a, &v)| *a = a.max(v));
            } else {
                acc.iter_mut().zip(v).for_each(|(a, &v)| *a += v);
            }
        }
    }
    let scale = if g.max {
        1.0
    } else {
        1.0 / (rows.len() * cols.len()).max(1) as f32
    };
    for (o, a) in out.iter_mut().zip(acc.iter()) {
        o.write(a * scale);
    }
}

/// The input gradient `(batch, in_h, in_w, channels)` from the output's gradient `dy`.
pub fn backward(g: &Pool2dGeometry, x: &[f32], dy: &[f32]) -> Vec<f32> {
    let [oh, ow] = g.output();
    let c = g.channels;
    assert_eq!(x.len(), g.batch * g.in_len(), "pool input length");
    assert_eq!(
        dy.len(),
        g.batch * oh * ow * c,
        "pool output gradient length"
    );
    // Windows of one image may overlap: images run in parallel, an image's windows in turn.
    let mut dx = vec![0.0f32; x.len()];
    dx.par_chunks_mut(g.in_len().max(1))
        .zip(x.par_chunks(g.in_len().max(1)))
        .zip(dy.par_chunks((oh * ow * c).max(1)))
        .for_each(|((dxi, xi), dyi)| {
            let iw = g.input[1];
            for (p, d) in dyi.chunks_exact(c).enumerate() {
                let [rows, cols] = g.window_of(p / ow, p % ow);
                if !g.max {
                    let share = 1.0 / (rows.len() * cols.len()).max(1) as f32;
                    for y in rows {
                        for x in cols.clone() {
                            let at = &mut dxi[(y * iw + x) * c..][..c];
                            at.iter_mut().zip(d).for_each(|(a, d)| *a += d * share);
                        }
                    }
                    continue;
                }
                for (ch, &d) in d.iter().enumerate() {
                    // The first element holding the maximum, in row-major order.
                    let mut best = (f32::NEG_INFINITY, None);
                    for y in rows.clone() {
                        for x in cols.clone() {
                            let i = (y * iw + x) * c + ch;
                            if best.1.is_none() || xi[i] > best.0 {
                                best = (xi[i], Some(i));
                            }
                        }
                    }
                    if let (_, Some(i)) = best {
                        dxi[i] += d;
                    }
                }
            }
        });
    dx
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The pool written out per output value, and its gradient by finite differences (the
    /// max pool's is exact away from ties: the inputs are distinct).
    #[test]
    fn forward_and_backward_match_the_definition() {
        for (max, window, stride, pad) in [
            (true, [2, 1], [2, 1], [(0, 0), (0, 0)]),
            (true, [3, 2], [2, 1], [(1, 1), (0, 1)]),
            (false, [2, 2], [1, 2], [(0, 1), (1, 0)]),
            (false, [3, 3], [3, 3], [(0, 0), (0, 0)]),
        ] {
            let g = Pool2dGeometry {
                batch: 2,
                input: [5, 4],
                channels: 3,
                window,
                stride,
                pad,
                max,
            };
            let x: Vec<f32> = (0..2 * 5 * 4 * 3)
                .map(|i| ((i * 37) % 101) as f32 / 10.0 - 5.0)
                .collect();
            let y = forward(&g, &x);
            let [oh, ow] = g.output();
            let direct = |x: &[f32]| -> Vec<f32> {
                let mut out = Vec::new();
                for n in 0..2 {
                    for oy in 0..oh {
                        for ox in 0..ow {
                            for ch in 0..3 {
                                let mut vals = Vec::new();
                                for i in 0..window[0] {
                                    for j in 0..window[1] {
                                        let (yy, xx) = (
                                            (oy * stride[0] + i).checked_sub(pad[0].0),
                                            (ox * stride[1] + j).checked_sub(pad[1].0),
                                        );
                                        if let (Some(yy), Some(xx)) = (yy, xx) {
                                            if yy < 5 && xx < 4 {
                                                vals.push(x[((n * 5 + yy) * 4 + xx) * 3 + ch]);
                                            }
                                        }
                                    }
                                }
                                out.push(if max {
                                    vals.iter().copied().fold(f32::NEG_INFINITY, f32::max)
                                } else {
                                    vals.iter().sum::<f32>() / vals.len() as f32
                                });
                            }
                        }
                    }
                }
                out
            };
            let want = direct(&x);
            assert!(
                y.iter().zip(&want).all(|(a, b)| (a - b).abs() < 1e-5),
                "{g:?}"
            );
            let dy: Vec<f32> = (0..y.len()).map(|i| (i % 7) as f32 - 3.0).collect();
            let dx = backward(&g, &x, &dy);
            let loss =
                |x: &[f32]| -> f64 { direct(x).iter().zip(&dy).map(|(a, b)| (a * b) as f64).sum() };
            for i in 0..x.len() {
                let (mut xp, mut xm) = (x.clone(), x.clone());
                xp[i] += 1e-3;
                xm[i] -= 1e-3;
                let fd = (loss(&xp) - loss(&xm)) / 2e-3;
                assert!(
                    (fd - dx[i] as f64).abs() < 1e-2,
                    "{g:?} dx[{i}]: {fd} vs {}",
                    dx[i]
                );
            }
        }
    }
}
