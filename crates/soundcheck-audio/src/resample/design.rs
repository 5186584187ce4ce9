//! soxr's low-pass filter design (libsoxr 0.1.3, `filter.c`): a Kaiser-windowed sinc whose β and
//! length come from soxr's own fitted formulas rather than Kaiser's textbook ones. librosa's
//! default resampler is soxr's HQ recipe; matching its output to 1e-3 of peak near the band edge
//! needs the same taps, and the textbook β (12.97 instead of 13.04 for 126 dB) already moves
//! the transition band by more than that.

use std::f64::consts::PI;

/// `20·log10(x)`.
pub(super) fn db(x: f64) -> f64 {
    20.0 * x.log10()
}

/// The zeroth-order modified Bessel function of the first kind, by its power series (every
/// argument here is below 40, where the series converges to full precision in ~70 terms).
fn bessel_i0(x: f64) -> f64 {
    let q = x * x / 4.0;
    let (mut term, mut sum, mut k) = (1.0, 1.0, 1.0);
    while term > sum * 1e-17 {
        term *= q / (k * k);
        sum += term;
        k += 1.0;
    }
    sum
}

/// Kaiser's β for a stop-band attenuation of `att` dB and a transition band `tr_bw` wide
/// (relative to Nyquist, per phase): above 60 dB soxr interpolates cubic fits in `att`, one per
/// octave of `tr_bw`.
fn kaiser_beta(att: f64, tr_bw: f64) -> f64 {
    if att >= 60.0 {
        const FITS: [[f64; 4]; 10] = [
            [-6.784957e-10, 1.02856e-05, 0.1087556, -0.8988365 + 0.001],
            [-6.897885e-10, 1.027433e-05, 0.10876, -0.8994658 + 0.002],
            [-1.000683e-09, 1.030092e-05, 0.1087677, -0.9007898 + 0.003],
            [-3.654474e-10, 1.040631e-05, 0.1087085, -0.8977766 + 0.006],
            [8.106988e-09, 6.983091e-06, 0.1091387, -0.9172048 + 0.015],
            [9.519571e-09, 7.272678e-06, 0.1090068, -0.9140768 + 0.025],
            [-5.626821e-09, 1.342186e-05, 0.1083999, -0.9065452 + 0.05],
            [-9.965946e-08, 5.073548e-05, 0.1040967, -0.7672778 + 0.085],
            [1.604808e-07, -5.856462e-05, 0.1185998, -1.34824 + 0.1],
            [-1.511964e-07, 6.363034e-05, 0.1064627, -0.9876665 + 0.18],
        ];
        let octave = (tr_bw / 0.0005).log2();
        // C's truncation towards zero, as soxr indexes its table.
        let whole = octave.trunc();
        let fit = |i: f64| {
            let c = FITS[(i.max(0.0) as usize).min(FITS.len() - 1)];
            ((c[0] * att + c[1]) * att + c[2]) * att + c[3]
        };
        let (b0, b1) = (fit(whole), fit(whole + 1.0));
        return b0 + (b1 - b0) * (octave - whole);
    }
    if att > 50.0 {
        return 0.1102 * (att - 8.7);
    }
    if att > 20.96 {
        return 0.58417 * (att - 20.96).powf(0.4) + 0.07886 * (att - 20.96);
    }
    0.0
}

/// β and the estimated number of taps for a sinc cut at `fc` with transition band `tr_bw`.
fn kaiser_params(att: f64, fc: f64, tr_bw: f64, beta: Option<f64>) -> (f64, usize) {
    let beta = beta.unwrap_or_else(|| kaiser_beta(att, tr_bw * 0.5 / fc));
    let width = if att < 60.0 {
        (att - 7.95) / (2.285 * PI * 2.0)
    } else {
        ((0.0007528358 - 1.577737e-05 * beta) * beta + 0.6248022) * beta + 0.06186902
    };
    (beta, (width / tr_bw + 1.0).ceil() as usize)
}

/// How a design's length is constrained.
#[derive(Clone, Copy, Debug)]
pub(super) enum Taps {
    /// A polyphase filter of this many phases: the length is one less than a multiple of it
    /// (when estimated), and the taps have a gain of the number of phases.
    Phases(usize),
    /// A single-phase filter whose estimated length is 1 modulo this number.
    OneModulo(usize),
}

/// A low-pass design: passing up to `fp` and stopping from `fs`, both relative to `fn_` (the
/// Nyquist frequency of the rate the filter runs at), by `att` dB.
pub(super) struct Lowpass {
    /// The number of taps.
    pub len: usize,
    fc: f64,
    beta: f64,
    rho: f64,
    phases: usize,
}

impl Lowpass {
    /// The design; `num_taps`, when given, replaces the estimated length, and `beta` the
    /// fitted β.
    pub fn new(
        fp: f64,
        fs: f64,
        fn_: f64,
        att: f64,
        num_taps: Option<usize>,
        taps: Taps,
        beta: Option<f64>,
    ) -> Lowpass {
        let phases = match taps {
            Taps::Phases(p) => p.max(1),
            Taps::OneModulo(_) => 1,
        };
        let rho = if phases == 1 {
            0.5
        } else if att < 120.0 {
            0.63
        } else {
            0.75
        };
        let (fp, fs) = (fp / fn_.abs(), fs / fn_.abs());
        // The transition band is measured between the 6 dB points, per phase.
        let tr_bw = 0.5 * (fs - fp) / phases as f64;
        let fs = fs / phases as f64;
        let tr_bw = tr_bw.min(0.5 * fs);
        let fc = fs - tr_bw;
        let (beta, estimate) = kaiser_params(att, fc, tr_bw, beta);
        let len = match (num_taps, taps) {
            (Some(n), _) => n,
            (None, Taps::Phases(p)) if p > 1 => estimate / p * p + p - 1,
            (None, Taps::Phases(_)) => estimate,
            (None, Taps::OneModulo(m)) => (estimate + m - 2) / m * m + 1,
        };
        Lowpass {
            len,
            fc,
            beta,
            rho,
            phases,
        }
    }

    /// The taps, symmetric.
    pub fn taps(&self) -> Vec<f64> {
        kaiser_sinc(self.len, self.fc, self.beta, self.rho, self.phases as f64)
    }
}

/// `n` taps of a sinc cut at `fc` (relative to Nyquist) under a Kaiser window of shape `beta`
/// whose ends sit `rho` taps beyond the filter's, scaled by `scale`.
fn kaiser_sinc(n: usize, fc: f64, beta: f64, rho: f64, scale: f64) -> Vec<f64> {
    let m = (n - 1) as f64;
    let mult = scale / bessel_i0(beta);
    let mult1 = 1.0 / (0.5 * m + rho);
    let mut h = vec![0.0; n];
    for i in 0..=(n - 1) / 2 {
        let z = i as f64 - 0.5 * m;
        let (x, y) = (z * PI, z * mult1);
        let sinc = if x != 0.0 { (fc * x).sin() / x } else { fc };
        h[i] = sinc * bessel_i0(beta * (1.0 - y * y).sqrt()) * mult;
        h[n - 1 - i] = h[i];
    }
    h
}

/// soxr's approximation of where a filter designed for `att` dB drops by `drop` dB, as a
/// fraction of its transition band (1: at the pass-band end).
pub(super) fn inverse_response(drop: f64, att: f64) -> f64 {
    let phi = ((2.0517e-07 * att - 1.1303e-04) * att + 0.023154) * att + 0.55924;
    let pow = 0.5f64.ln() / (phi * 0.5).sin().ln();
    let drop = 10f64.powf(drop / 20.0);
    let s = if drop > 0.5 { 1.0 - drop } else { drop };
    let x = s.powf(1.0 / pow).asin() / phi;
    if drop > 0.5 {
        x
    } else {
        1.0 - x
    }
}

/// The equiripple half-band filter with `n` taps on each side of the centre that are not zero:
/// a pass band to a quarter of the sampling rate (half its Nyquist frequency, the first
/// quarter of the band) flat within the smallest possible ripple, and so, by the half-band
/// symmetry, the mirror-image stop band from three quarters on. soxr tabulates these filters
/// for 8 and 9 taps (ripples of 136.5 and 152.3 dB, which this design reproduces); its outputs
/// near a signal's edges depend on their exact transition bands.
///
/// Found by the Remez exchange: approximate ½ on the pass band by `Σ 2·c_j·cos((2j+1)ω)`.
pub(super) fn half_band(n: usize) -> Vec<f64> {
    const GRID: usize = 20_001;
    let edge = PI / 4.0;
    let w: Vec<f64> = (0..GRID)
        .map(|i| edge * i as f64 / (GRID - 1) as f64)
        .collect();
    let basis = |j: usize, w: f64| 2.0 * ((2 * j + 1) as f64 * w).cos();
    let mut ext: Vec<usize> = (0..=n).map(|i| i * (GRID - 1) / n).collect();
    let mut c = vec![0.0; n];
    for _ in 0..100 {
        // c and the ripple δ with error +δ, −δ, +δ, … at the reference points.
        let mut a: Vec<Vec<f64>> = ext
            .iter()
            .enumerate()
            .map(|(r, &e)| {
                let mut row: Vec<f64> = (0..n).map(|j| basis(j, w[e])).collect();
                row.push(if r % 2 == 0 { 1.0 } else { -1.0 });
                row.push(0.5);
                row
            })
            .collect();
        let sol = solve(&mut a);
        c.copy_from_slice(&sol[..n]);
        let err: Vec<f64> = w
            .iter()
            .map(|&x| (0..n).map(|j| c[j] * basis(j, x)).sum::<f64>() - 0.5)
            .collect();
        // The next reference: the error's alternating extrema, largest kept.
        let mut next: Vec<usize> = Vec::with_capacity(n + 2);
        for i in 0..GRID {
            let peak =
                i == 0 || i == GRID - 1 || (err[i] - err[i - 1]) * (err[i + 1] - err[i]) <= 0.0;
            if !peak {
                continue;
            }
            match next.last() {
                Some(&p) if (err[p] > 0.0) == (err[i] > 0.0) => {
                    if err[i].abs() > err[p].abs() {
                        *next.last_mut().expect("not empty") = i;
                    }
                }
                _ => next.push(i),
            }
        }
        while next.len() > n + 1 {
            if err[next[0]].abs() < err[next[next.len() - 1]].abs() {
                next.remove(0);
            } else {
                next.pop();
            }
        }
        if next == ext || next.len() != n + 1 {
            break;
        }
        ext = next;
    }
    let mut taps = vec![0.0; 4 * n - 1];
    let centre = 2 * n - 1;
    taps[centre] = 0.5;
    for (j, &cj) in c.iter().enumerate() {
        taps[centre - (2 * j + 1)] = cj;
        taps[centre + 2 * j + 1] = cj;
    }
    taps
}

/// Solves the square system whose rows are `[a | b]`, by Gaussian elimination with partial
/// pivoting.
fn solve(a: &mut [Vec<f64>]) -> Vec<f64> {
    let n = a.len();
    for col in 0..n {
        let pivot = (col..n)
            .max_by(|&x, &y| a[x][col].abs().total_cmp(&a[y][col].abs()))
            .expect("rows left");
        a.swap(col, pivot);
        let (top, below) = a.split_at_mut(col + 1);
        let pivot_row = &top[col];
        for row in below {
            let f = row[col] / pivot_row[col];
            for (r, p) in row[col..].iter_mut().zip(&pivot_row[col..]) {
                *r -= f * p;
            }
        }
    }
    let mut x = vec![0.0; n];
    for row in (0..n).rev() {
        let s: f64 = (row + 1..n).map(|k| a[row][k] * x[k]).sum();
        x[row] = (a[row][n] - s) / a[row][row];
    }
    x
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bessel_i0_matches_known_values() {
        // Abramowitz & Stegun, table 9.8: I0(1) = 1.2660658777, I0(10)·e^-10 = 0.1278333371.
        assert!((bessel_i0(1.0) - 1.2660658777520082).abs() < 1e-15);
        assert!((bessel_i0(10.0) * (-10f64).exp() - 0.1278333371634286).abs() < 1e-15);
    }

    /// Values from libsoxr 0.1.3's own trace (`SOXR_TRACE=1`) for 44.1 → 22.05 kHz at HQ:
    /// `make_lpf(n=389 Fc=0.4784359 beta=13.04)`, pass band to 0.913744.
    #[test]
    fn hq_design_matches_soxr_trace() {
        let rej = 20.0 * db(2.0);
        let fp = 1.0 - 0.05 / (1.0 - inverse_response(-3.0, rej));
        assert!((fp - 0.913744).abs() < 5e-7, "{fp}");
        let att = 21.0 * db(2.0);
        let d = Lowpass::new(fp, 1.0, 2.0, att, None, Taps::OneModulo(4), None);
        assert_eq!(d.len, 389);
        assert!((d.fc - 0.4784359).abs() < 5e-8, "{}", d.fc);
        assert!((d.beta - 13.04).abs() < 5e-3, "{}", d.beta);
    }

    /// The ripples soxr lists for its 8- and 9-tap half-band filters (`cr-core.c`: 136.51 and
    /// 152.32 dB): the design is the same minimax filter.
    #[test]
    fn half_bands_have_soxr_s_ripples() {
        for (n, ripple_db) in [(8, 136.51), (9, 152.32)] {
            let h = half_band(n);
            let worst = (0..=1000)
                .map(|i| {
                    let w = PI / 4.0 * i as f64 / 1000.0;
                    let g: f64 = h
                        .iter()
                        .enumerate()
                        .map(|(k, t)| t * (w * (k as f64 - (2 * n - 1) as f64)).cos())
                        .sum();
                    (g - 1.0).abs()
                })
                .fold(0.0, f64::max);
            assert!((-db(worst) - ripple_db).abs() < 0.02, "{n}: {}", -db(worst));
        }
    }
}
