//! Multichannel Wiener filtering of a two-source separation (the target and the rest), as
//! Open-Unmix refines its masks with norbert: the sources' power spectra and each frequency
//! bin's spatial covariance are re-estimated from the current estimates, and each source is
//! the mixture's STFT through its Wiener gain `v_j·R_j·(Σ_k v_k·R_k + δI)⁻¹`
//! (expectation maximisation, one or more iterations). A mono mask cannot tell a centred voice
//! from a panned guitar in the same bin; the spatial covariances can.
//!
//! The numbers are norbert 0.2.1's `wiener(v, x, iterations, use_softmask=True)` with the
//! sources' magnitudes `v` = mask·|x| and (1 − mask)·|x| per channel: its soft-mask start, its
//! scaling of the mixture to a peak of 10, its ε (f32's machine epsilon, as for a complex64
//! mixture) and its regularisation √ε·I. Sums run in f64.

use ndarray::Array2;
use num_complex::{Complex32, Complex64};
use rayon::prelude::*;

/// f32's machine epsilon, norbert's ε for a complex64 mixture.
const EPS: f64 = f32::EPSILON as f64;

/// A channel × channel matrix (one or two channels).
type Mat = [[Complex64; 2]; 2];

/// The target's STFT per channel after `iterations` EM steps, from the mixture's STFT per
/// channel `x` and the target's mask. With no iterations, or more than two channels (no closed
/// form), the masked mixture.
///
/// # Shapes
/// - `x`: channels × `(bins, frames)`; `mask`: `(bins, frames)`; output: as `x`
pub fn wiener_target(
    x: &[Array2<Complex32>],
    mask: &Array2<f32>,
    iterations: usize,
) -> Vec<Array2<Complex32>> {
    let channels = x.len();
    if iterations == 0 || !(1..=2).contains(&channels) {
        return x
            .iter()
            .map(|xc| xc * &mask.mapv(|m| Complex32::new(m, 0.0)))
            .collect();
    }
    let (bins, frames) = mask.dim();
    let peak = x
        .iter()
        .flat_map(|xc| xc.iter())
        .fold(0.0f64, |m, z| m.max(z.norm() as f64));
    let scale = (peak / 10.0).max(1.0);
    // Every bin is independent: its EM runs on its own row of each channel.
    let rows: Vec<Vec<Vec<Complex32>>> = (0..bins)
        .into_par_iter()
        .map(|f| {
            let xs: Vec<Vec<Complex64>> = x
                .iter()
                .map(|xc| xc.row(f).iter().map(|z| to64(*z)).collect())
                .collect();
            bin_target(&xs, &mask.row(f).to_vec(), scale, iterations)
        })
        .collect();
    (0..channels)
        .map(|c| Array2::from_shape_fn((bins, frames), |(f, t)| rows[f][c][t]))
        .collect()
}

fn to64(z: Complex32) -> Complex64 {
    Complex64::new(z.re as f64, z.im as f64)
}

/// One frequency bin: `xs` per channel over frames, the target's mask over frames.
fn bin_target(
    xs: &[Vec<Complex64>],
    mask: &[f32],
    scale: f64,
    iterations: usize,
) -> Vec<Vec<Complex32>> {
    let (channels, frames) = (xs.len(), mask.len());
    // Soft-mask start: source j gets v_j / (ε + Σ v) of the mixture, v_j its magnitude estimate.
    let mut y: [Vec<Vec<Complex64>>; 2] = std::array::from_fn(|j| {
        xs.iter()
            .map(|x| {
                x.iter()
                    .zip(mask)
                    .map(|(z, &m)| {
                        let share = if j == 0 { m as f64 } else { 1.0 - m as f64 };
                        let a = z.norm();
                        z * (share * a / (EPS + a)) / scale
                    })
                    .collect()
            })
            .collect()
    });
    let x: Vec<Vec<Complex64>> = xs
        .iter()
        .map(|x| x.iter().map(|z| z / scale).collect())
        .collect();
    let mut v = [vec![0.0f64; frames], vec![0.0f64; frames]];
    for _ in 0..iterations {
        // Each source's power per frame (mean over channels) and spatial covariance.
        let mut r: [Mat; 2] = [[[Complex64::default(); 2]; 2]; 2];
        for j in 0..2 {
            let mut weight = EPS;
            for t in 0..frames {
                v[j][t] =
                    (0..channels).map(|c| y[j][c][t].norm_sqr()).sum::<f64>() / channels as f64;
                weight += v[j][t];
                for a in 0..channels {
                    for b in 0..channels {
                        r[j][a][b] += y[j][a][t] * y[j][b][t].conj();
                    }
                }
            }
            for row in r[j].iter_mut().take(channels) {
                for e in row.iter_mut().take(channels) {
                    *e /= weight;
                }
            }
        }
        for t in 0..frames {
            let mut cxx: Mat = [[Complex64::default(); 2]; 2];
            for a in 0..channels {
                for b in 0..channels {
                    cxx[a][b] = r[0][a][b] * v[0][t] + r[1][a][b] * v[1][t];
                }
                cxx[a][a] += EPS.sqrt();
            }
            let inv = invert(&cxx, channels);
            for j in 0..2 {
                // y_j = v_j·R_j·Cxx⁻¹·x
                for a in 0..channels {
                    let mut s = Complex64::default();
                    for b in 0..channels {
                        let g: Complex64 = (0..channels).map(|k| r[j][a][k] * inv[k][b]).sum();
                        s += g * v[j][t] * x[b][t];
                    }
                    y[j][a][t] = s;
                }
            }
        }
    }
    y[0].iter()
        .map(|c| {
            c.iter()
                .map(|z| {
                    let z = z * scale;
                    Complex32::new(z.re as f32, z.im as f32)
                })
                .collect()
        })
        .collect()
}

/// The inverse of a 1×1 or 2×2 matrix (the closed form norbert uses).
fn invert(m: &Mat, channels: usize) -> Mat {
    let zero = Complex64::default();
    if channels == 1 {
        return [
            [Complex64::new(1.0, 0.0) / (m[0][0] + EPS), zero],
            [zero, zero],
        ];
    }
    let inv_det = Complex64::new(1.0, 0.0) / (m[0][0] * m[1][1] - m[0][1] * m[1][0]);
    [
        [m[1][1] * inv_det, -m[0][1] * inv_det],
        [-m[1][0] * inv_det, m[0][0] * inv_det],
    ]
}
