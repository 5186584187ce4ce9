//! MFCCs (`librosa.feature.mfcc`): DCT-II (orthonormal) of log-power mel bands, with liftering.

use multiversion::multiversion;
use ndarray::{Array2, ShapeBuilder};
use rayon::prelude::*;

use crate::db::{power_to_db_channels, Ref};
use crate::error::{invalid, Result};
use crate::mel::{melspectrogram, MelConfig};
use crate::stft::StftConfig;

/// The orthonormal DCT-II matrix `(n_out, n_in)` (scipy's `dct(type=2, norm='ortho')` rows).
pub fn dct_matrix(n_out: usize, n_in: usize) -> Array2<f32> {
    let n = n_in as f64;
    Array2::from_shape_fn((n_out, n_in), |(k, i)| {
        let scale = if k == 0 {
            (1.0 / n).sqrt()
        } else {
            (2.0 / n).sqrt()
        };
        (scale * (std::f64::consts::PI * k as f64 * (2.0 * i as f64 + 1.0) / (2.0 * n)).cos())
            as f32
    })
}

/// [`dct_matrix`], computed once per size for the process (clips all ask for the same one).
fn cached_dct(n_out: usize, n_in: usize) -> std::sync::Arc<Array2<f32>> {
    static DCT: crate::memo::Memo<(usize, usize), Array2<f32>> = crate::memo::Memo::new();
    DCT.get_or_build((n_out, n_in), || dct_matrix(n_out, n_in))
}

/// `librosa.feature.mfcc(y=y, sr=sr, n_mfcc=..., lifter=...)` of a signal's channels, as librosa
/// computes it for a `(channels, n)` array: DCT-II (ortho) of `power_to_db(melspectrogram)` with
/// librosa's dB defaults (ref 1.0, amin 1e-10, top_db 80), the `top_db` floor shared by every
/// channel, set by the loudest.
///
/// # Shapes
/// - each channel: `(n_samples,)`
/// - output per channel: `(n_mfcc, n_frames)`
pub fn mfcc(
    channels: &[&[f32]],
    sr: u32,
    stft_cfg: &StftConfig,
    mel_cfg: &MelConfig,
    n_mfcc: usize,
    lifter: f32,
) -> Result<Vec<Array2<f32>>> {
    let mels = channels
        .iter()
        .map(|y| melspectrogram(y, sr, stft_cfg, mel_cfg, 2.0))
        .collect::<Result<Vec<_>>>()?;
    mfcc_of_mels(mels, n_mfcc, lifter)
}

/// The MFCCs of mel spectrograms in power (any exponent): [`mfcc`]'s dB conversion and DCT.
pub(crate) fn mfcc_of_mels(
    mels: Vec<Array2<f32>>,
    n_mfcc: usize,
    lifter: f32,
) -> Result<Vec<Array2<f32>>> {
    power_to_db_channels(mels, Ref::Value(1.0), 1e-10, Some(80.0))?
        .iter()
        .map(|log_mel| mfcc_from_spectrogram(log_mel, n_mfcc, lifter))
        .collect()
}

/// `librosa.feature.mfcc(S=log_mel, ...)`: MFCCs from a log-power mel spectrogram
/// (`power_to_db(melspectrogram)`).
///
/// # Shapes
/// - `log_mel`: `(n_mels, n_frames)`
/// - output: `(n_mfcc, n_frames)`, stored frame by frame
///
/// `lifter > 0` multiplies coefficient `k` by `1 + (lifter/2)·sin(π(k+1)/lifter)`.
pub fn mfcc_from_spectrogram(
    log_mel: &Array2<f32>,
    n_mfcc: usize,
    lifter: f32,
) -> Result<Array2<f32>> {
    let (n_mels, frames) = log_mel.dim();
    if n_mfcc == 0 || n_mfcc > n_mels {
        return Err(invalid(
            "n_mfcc",
            n_mfcc,
            format!("1 ≤ n_mfcc ≤ n_mels = {n_mels}"),
            "librosa's default is 20",
        ));
    }
    if lifter.is_nan() || lifter < 0.0 {
        return Err(invalid(
            "lifter",
            lifter,
            "a non-negative number",
            "0 disables liftering",
        ));
    }
    let dct = cached_dct(n_mfcc, n_mels);
    let lift: Vec<f32> = (0..n_mfcc)
        .map(|k| {
            if lifter > 0.0 {
                1.0 + (lifter / 2.0) * (std::f32::consts::PI * (k + 1) as f32 / lifter).sin()
            } else {
                1.0
            }
        })
        .collect();
    // The DCT transposed, `(n_mels, stride)`, each row padded with zeros to whole registers.
    let stride = n_mfcc.next_multiple_of(LANES);
    let mut dct_t = vec![0f32; n_mels * stride];
    for ((k, i), &w) in dct.indexed_iter() {
        dct_t[i * stride + k] = w;
    }
    // Frame by frame in memory: librosa's (and our mel's) layout already; anything else copied.
    let by_frame = log_mel.t();
    let owned: Vec<f32>;
    let x = match by_frame.as_slice() {
        Some(x) => x,
        None => {
            owned = by_frame.iter().copied().collect();
            &owned
        }
    };
    let mut out = vec![0f32; n_mfcc * frames];
    let per_task = GROUP * (crate::stft::FRAMES_PER_TASK / GROUP);
    out.par_chunks_mut(n_mfcc * per_task)
        .zip(x.par_chunks(n_mels * per_task))
        .for_each(|(out, x)| {
            for (out, x) in out.chunks_mut(n_mfcc * GROUP).zip(x.chunks(n_mels * GROUP)) {
                dct_frames(&dct_t, stride, &lift, x, out);
            }
        });
    Ok(Array2::from_shape_vec((n_mfcc, frames).f(), out).expect("n_mfcc · frames elements"))
}

/// Coefficients per vector accumulator.
const LANES: usize = 8;
/// Frames transformed together: one accumulator each, enough independent sums to hide the
/// latency of the adds.
const GROUP: usize = 8;

/// Up to [`GROUP`] frames' coefficients: `out[f·n + k] = lift[k]·Σ_i dct[k][i]·x[f·n_in + i]`,
/// with `dct_t` the DCT transposed, rows `stride` long.
///
/// Each coefficient still sums its terms in band order, exactly as a row-by-row dot product
/// would, so grouping changes no bits.
#[multiversion(targets("x86_64+avx2+fma"))]
fn dct_frames(dct_t: &[f32], stride: usize, lift: &[f32], x: &[f32], out: &mut [f32]) {
    let n = lift.len();
    let n_in = dct_t.len() / stride;
    let frames = out.len() / n;
    // A ragged last group repeats its last frame; the copies' results are not written.
    let xs: [&[f32]; GROUP] = std::array::from_fn(|f| &x[f.min(frames - 1) * n_in..][..n_in]);
    for c in (0..n).step_by(LANES) {
        let mut acc = [[0f32; LANES]; GROUP];
        for (i, row) in dct_t.chunks_exact(stride).enumerate() {
            let w: &[f32; LANES] = row[c..c + LANES].try_into().expect("rows are padded");
            for (a, xf) in acc.iter_mut().zip(&xs) {
                let xi = xf[i];
                for (a, w) in a.iter_mut().zip(w) {
                    *a += w * xi;
                }
            }
        }
        let width = LANES.min(n - c);
        for (f, a) in acc.iter().enumerate().take(frames) {
            for (j, v) in a[..width].iter().enumerate() {
                out[f * n + c + j] = v * lift[c + j];
            }
        }
    }
}

/// Savitzky–Golay derivative filter along time (`librosa.feature.delta`, `mode='interp'`).
///
/// # Shapes
/// - `data`: `(n_features, n_frames)`; output the same
///
/// `order` 1 or 2 (polynomial order equals the derivative order, as librosa sets it); `width`
/// odd, ≥ 3, and at most `n_frames`.
pub fn delta(data: &Array2<f32>, width: usize, order: usize) -> Result<Array2<f32>> {
    let frames = data.ncols();
    if width < 3 || width.is_multiple_of(2) {
        return Err(invalid(
            "width",
            width,
            "an odd integer ≥ 3",
            "librosa's default is 9",
        ));
    }
    if !(1..=2).contains(&order) {
        return Err(invalid("order", order, "1 or 2", ""));
    }
    if width > frames {
        return Err(invalid(
            "width",
            width,
            format!("at most the number of frames ({frames})"),
            "use a smaller width, or a longer signal",
        ));
    }
    let half = (width / 2) as isize;
    // Rows of the least-squares polynomial fit over one window: the derivative of the fitted
    // polynomial at each position of the window, as weights on the window's samples.
    let weights_at = |pos: f64| -> Vec<f64> { savgol_weights(width, order, pos) };
    let centre = weights_at(0.0);
    let edges: Vec<Vec<f64>> = (0..width)
        .map(|j| weights_at(j as f64 - half as f64))
        .collect();
    let mut out = Array2::<f32>::zeros(data.raw_dim());
    for (row_in, mut row_out) in data.rows().into_iter().zip(out.rows_mut()) {
        let x: Vec<f64> = row_in.iter().map(|&v| v as f64).collect();
        for t in 0..frames as isize {
            // Interior points use the centred window; the first and last half-window points use
            // the fit over the first/last full window evaluated off-centre (scipy's 'interp').
            let (start, w) = if t < half {
                (0, &edges[t as usize])
            } else if t >= frames as isize - half {
                (
                    frames as isize - width as isize,
                    &edges[(t - (frames as isize - width as isize)) as usize],
                )
            } else {
                (t - half, &centre)
            };
            let v: f64 = w
                .iter()
                .enumerate()
                .map(|(j, c)| c * x[(start + j as isize) as usize])
                .sum();
            row_out[t as usize] = v as f32;
        }
    }
    Ok(out)
}

/// Weights that give the `order`-th derivative, at offset `pos` from the window centre, of the
/// degree-`order` least-squares polynomial through `width` equally spaced samples.
fn savgol_weights(width: usize, order: usize, pos: f64) -> Vec<f64> {
    let half = (width / 2) as f64;
    let xs: Vec<f64> = (0..width).map(|j| j as f64 - half).collect();
    let p = order + 1;
    // Normal equations A^T A c = A^T y, A[j][d] = x_j^d; the derivative at pos is Σ_d c_d · D_d(pos).
    let ata: Vec<Vec<f64>> = (0..p)
        .map(|r| {
            (0..p)
                .map(|c| xs.iter().map(|x| x.powi((r + c) as i32)).sum())
                .collect()
        })
        .collect();
    let inv = invert(&ata);
    let deriv: Vec<f64> = (0..p)
        .map(|d| {
            if d < order {
                0.0
            } else {
                let falling: f64 = (0..order).map(|k| (d - k) as f64).product();
                falling * pos.powi((d - order) as i32)
            }
        })
        .collect();
    // weight_j = Σ_d deriv_d · (inv · A^T)[d][j]
    xs.iter()
        .map(|&x| {
            (0..p)
                .map(|d| deriv[d] * (0..p).map(|e| inv[d][e] * x.powi(e as i32)).sum::<f64>())
                .sum()
        })
        .collect()
}

/// Inverse of a small symmetric positive-definite matrix by Gauss–Jordan elimination.
fn invert(m: &[Vec<f64>]) -> Vec<Vec<f64>> {
    let n = m.len();
    let mut a: Vec<Vec<f64>> = m
        .iter()
        .enumerate()
        .map(|(i, row)| {
            let mut r = row.clone();
            r.extend((0..n).map(|j| if i == j { 1.0 } else { 0.0 }));
            r
        })
        .collect();
    for col in 0..n {
        let pivot = (col..n)
            .max_by(|&x, &y| a[x][col].abs().total_cmp(&a[y][col].abs()))
            .expect("a non-empty column");
        a.swap(col, pivot);
        let d = a[col][col];
        for v in a[col].iter_mut() {
            *v /= d;
        }
        for r in 0..n {
            if r != col {
                let f = a[r][col];
                let pivot_row = a[col].clone();
                for (v, p) in a[r].iter_mut().zip(pivot_row) {
                    *v -= f * p;
                }
            }
        }
    }
    a.into_iter().map(|r| r[n..].to_vec()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delta_of_a_ramp_is_its_slope_everywhere() {
        let data = Array2::from_shape_fn((1, 20), |(_, t)| 3.0 * t as f32 + 1.0);
        let d = delta(&data, 9, 1).unwrap();
        assert!(d.iter().all(|v| (v - 3.0).abs() < 1e-5), "{d}");
        let quad = Array2::from_shape_fn((1, 20), |(_, t)| (t * t) as f32);
        let d2 = delta(&quad, 9, 2).unwrap();
        assert!(d2.iter().all(|v| (v - 2.0).abs() < 1e-3), "{d2}");
    }

    #[test]
    fn centre_weights_are_the_textbook_ones() {
        // First derivative over 9 points: k / 60 for k = -4..4.
        let w = savgol_weights(9, 1, 0.0);
        for (j, v) in w.iter().enumerate() {
            assert!((v - (j as f64 - 4.0) / 60.0).abs() < 1e-12);
        }
    }

    #[test]
    fn grouped_frames_equal_the_matrix_product_in_either_layout() {
        // 150 frames: two full tasks and a ragged group; 13 coefficients: a partial register.
        let (n_mels, frames, n_mfcc, lifter) = (40, 150, 13, 22.0f32);
        let by_band = Array2::from_shape_fn((n_mels, frames), |(i, t)| {
            ((i * 31 + t * 17) % 97) as f32 / 9.0 - 5.0
        });
        let by_frame =
            Array2::from_shape_vec((n_mels, frames).f(), by_band.t().iter().copied().collect())
                .unwrap();
        assert_eq!(by_frame, by_band);
        assert!(by_band.is_standard_layout() && by_frame.t().is_standard_layout());
        let dct = dct_matrix(n_mfcc, n_mels);
        let want = Array2::from_shape_fn((n_mfcc, frames), |(k, t)| {
            let sum = (0..n_mels).fold(0f32, |s, i| s + dct[[k, i]] * by_band[[i, t]]);
            sum * (1.0 + (lifter / 2.0) * (std::f32::consts::PI * (k + 1) as f32 / lifter).sin())
        });
        for x in [&by_band, &by_frame] {
            assert_eq!(mfcc_from_spectrogram(x, n_mfcc, lifter).unwrap(), want);
        }
    }

    #[test]
    fn dct_is_orthonormal() {
        let d = dct_matrix(8, 8);
        let p = d.dot(&d.t());
        for i in 0..8 {
            for j in 0..8 {
                assert!((p[[i, j]] - if i == j { 1.0 } else { 0.0 }).abs() < 1e-5);
            }
        }
    }
}
