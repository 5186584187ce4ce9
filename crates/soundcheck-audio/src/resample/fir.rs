//! An FFT-convolved rate change by a small ratio: upsample by `l` (zeros between samples),
//! filter, keep every `m`-th sample — soxr's "DFT stage", and its half-band halvings.
//!
//! Output `z[k] = Σ_j x[j]·h[c + k·m − j·l]` with `c` the centre tap: the filter is linear
//! phase and its delay is removed, so output `k` sits at input time `k·m/l`.
//!
//! Each block is an overlap-save convolution in the upsampled domain, done at the lower rates:
//! the spectrum of the zero-stuffed input is the input's spectrum repeated `l` times, and
//! keeping every `m`-th output folds the product `m` times onto the output's band. Both are done
//! exactly: the half-band filters pass into what folds, and soxr's post stages stop only above
//! the input's Nyquist frequency, so dropping the images and folds instead (as soxr's own
//! frequency-domain paths do where its filter allows) leaves errors of 1e-3 at block edges. One
//! forward FFT of `n/l` input samples and one inverse FFT of `n/m` output samples per block.

use std::sync::Arc;

use realfft::num_complex::Complex32;

use crate::rfft::{RealFft, RealIfft, Scratch};

pub(super) struct Fir {
    l: usize,
    m: usize,
    /// The centre tap, half the (odd) filter length.
    c: i64,
    /// The FFT length in the upsampled domain: a multiple of `2·l·m`.
    n: usize,
    /// For each delay `s < m`: the spectrum of the filter delayed by `s` in the upsampled domain,
    /// bins `0..=n/2`, with the inverse FFT's `1/n` folded in.
    spectra: Vec<Vec<Complex32>>,
    fft: Arc<RealFft>,
    ifft: Arc<RealIfft>,
}

/// Working memory of one task for one [`Fir`].
pub(super) struct FirScratch {
    frame: Vec<f32>,
    spectrum: Vec<Complex32>,
    /// The product in the upsampled domain, bins `0..=n/2`.
    product: Vec<Complex32>,
    back: Vec<Complex32>,
    res: Vec<f32>,
    scratch: (Scratch, Scratch),
}

impl Fir {
    /// The stage for `taps` (odd in number, symmetric, gain included).
    pub fn new(l: usize, m: usize, taps: Vec<f64>) -> Fir {
        let len = taps.len();
        debug_assert!(len % 2 == 1);
        // Long blocks waste less on the overlap; 8 filter lengths keeps it to 1/8.
        let unit = 2 * l * m;
        let n = unit * (8 * len).div_ceil(unit).next_power_of_two();
        let fft = RealFft::cached(n);
        let mut scratch = fft.scratch();
        let spectra = (0..m)
            .map(|s| {
                let mut g = vec![0f32; n];
                for (slot, t) in g[s..s + len].iter_mut().zip(&taps) {
                    *slot = (t / n as f64) as f32;
                }
                let mut spectrum = vec![Complex32::new(0.0, 0.0); n / 2 + 1];
                fft.forward(&mut g, &mut spectrum, &mut scratch);
                spectrum
            })
            .collect();
        Fir {
            l,
            m,
            c: (len / 2) as i64,
            n,
            spectra,
            fft: RealFft::cached(n / l),
            ifft: RealIfft::cached(n / m),
        }
    }

    /// The input samples that outputs `a..b` depend on.
    pub fn input_range(&self, a: i64, b: i64) -> (i64, i64) {
        let (l, m) = (self.l as i64, self.m as i64);
        (
            (a * m - self.c).div_euclid(l) + ((a * m - self.c).rem_euclid(l) != 0) as i64,
            (((b - 1) * m + self.c).div_euclid(l)) + 1,
        )
    }

    pub fn scratch(&self) -> FirScratch {
        FirScratch {
            frame: vec![0.0; self.n / self.l],
            spectrum: vec![Complex32::new(0.0, 0.0); self.n / self.l / 2 + 1],
            product: vec![Complex32::new(0.0, 0.0); self.n / 2 + 1],
            back: vec![Complex32::new(0.0, 0.0); self.n / self.m / 2 + 1],
            res: vec![0.0; self.n / self.m],
            scratch: (self.fft.scratch(), self.ifft.scratch()),
        }
    }

    /// Outputs `a..a + out.len()` from `input`, which holds samples `in_lo..` (zero outside).
    pub fn process(&self, input: &[f32], in_lo: i64, a: i64, out: &mut [f32], w: &mut FirScratch) {
        let (l, m) = (self.l as i64, self.m as i64);
        let mut done = 0;
        while done < out.len() {
            let k = a + done as i64;
            // The block starts at the earliest input the first output uses; the filter is
            // delayed by `s` so that this output falls on the grid of every m-th sample.
            let j0 = (k * m - self.c).div_euclid(l);
            let s = (j0 * l - self.c).rem_euclid(m);
            let r0 = ((self.c + k * m - j0 * l + s) / m) as usize;
            let count = (self.n / self.m - r0).min(out.len() - done);
            super::copy_span(input, in_lo, j0, &mut w.frame);
            self.fft
                .forward(&mut w.frame, &mut w.spectrum, &mut w.scratch.0);
            self.multiply(
                &w.spectrum,
                &self.spectra[s as usize],
                &mut w.product,
                &mut w.back,
            );
            self.ifft.inverse(&mut w.back, &mut w.res, &mut w.scratch.1);
            out[done..done + count].copy_from_slice(&w.res[r0..r0 + count]);
            done += count;
        }
    }

    /// The output block's spectrum: the input's (`n/l` points) repeated to `n` points, times the
    /// filter's (`w`, bins `0..=n/2`), folded onto `n/m` points.
    fn multiply(
        &self,
        x: &[Complex32],
        g: &[Complex32],
        w: &mut [Complex32],
        back: &mut [Complex32],
    ) {
        let (n, nl) = (self.n, self.n / self.l);
        if self.l == 1 {
            for ((w, x), g) in w.iter_mut().zip(x).zip(g) {
                *w = x * g;
            }
        } else {
            // Image by image: bins 0..=nl/2 of the input, then its mirror image, conjugated.
            for (start, w) in (0..).step_by(nl).zip(w.chunks_mut(nl)) {
                for (k, w) in w.iter_mut().enumerate() {
                    let xk = if k <= nl / 2 { x[k] } else { x[nl - k].conj() };
                    *w = xk * g[start + k];
                }
            }
        }
        if self.m == 1 {
            back.copy_from_slice(w);
            return;
        }
        // Bin j of the n-point spectrum, from its non-negative half.
        let at = |j: usize| if j <= n / 2 { w[j] } else { w[n - j].conj() };
        let stride = n / self.m;
        for (k, b) in back.iter_mut().enumerate() {
            *b = (0..self.m).map(|r| at(k + r * stride)).sum();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::design::{Lowpass, Taps};
    use super::*;

    /// The stage against its definition, summed directly, for every kind of ratio soxr's plans
    /// use, from an input span that starts before and ends after the signal.
    #[test]
    fn blocks_equal_the_direct_sum() {
        for (l, m) in [
            (1, 1),
            (1, 2),
            (2, 1),
            (1, 3),
            (3, 1),
            (3, 2),
            (2, 3),
            (4, 1),
            (1, 4),
        ] {
            let fn_ = l.max(m) as f64;
            let taps: Vec<f64> = Lowpass::new(0.9, 1.0, fn_, 130.0, None, Taps::OneModulo(4), None)
                .taps()
                .iter()
                .map(|t| t * l as f64)
                .collect();
            let c = (taps.len() / 2) as i64;
            let x: Vec<f32> = (0..3000u64)
                .map(|i| ((i * 7919 % 1000) as f32 / 1000.0 - 0.5) + (i as f32 * 0.01).sin())
                .collect();
            let fir = Fir::new(l, m, taps.clone());
            let (a, b) = (-5i64, (x.len() * l / m) as i64 + 40);
            let (lo, hi) = fir.input_range(a, b);
            let mut span = vec![0f32; (hi - lo) as usize];
            crate::resample::copy_span(&x, 0, lo, &mut span);
            let mut out = vec![0f32; (b - a) as usize];
            fir.process(&span, lo, a, &mut out, &mut fir.scratch());
            let peak = x.iter().fold(0f32, |p, v| p.max(v.abs()));
            for (k, o) in (a..b).zip(&out) {
                let direct: f64 = (0..x.len() as i64)
                    .filter_map(|j| {
                        let t = c + k * m as i64 - j * l as i64;
                        (t >= 0 && t < taps.len() as i64)
                            .then(|| x[j as usize] as f64 * taps[t as usize])
                    })
                    .sum();
                assert!(
                    (*o as f64 - direct).abs() < 2e-6 * peak as f64,
                    "{l}/{m} at {k}: {o} vs {direct}"
                );
            }
        }
    }
}
