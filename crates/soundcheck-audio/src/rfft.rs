//! The forward real FFT of the STFT: a complex FFT of half the length (rustfft) and the split
//! that turns its output into the spectrum of the real frame.
//!
//! realfft does the same, but its split loop stays scalar and cost as much as the complex FFT
//! itself here; this one does four bins at a time in AVX registers where the CPU has AVX2. Odd
//! lengths, which have no half-length trick, go to realfft.

use std::sync::Arc;

use realfft::num_complex::Complex32;
use realfft::RealToComplex;
use rustfft::Fft;

/// A planned forward real FFT of one length.
pub(crate) enum RealFft {
    /// `n` even: a complex FFT of `n/2` points plus the split, with the twiddles
    /// `exp(−2πik/n)` for `k ≤ n/4` stored as separate real and imaginary parts.
    Even {
        half: Arc<dyn Fft<f32>>,
        tw_re: Vec<f32>,
        tw_im: Vec<f32>,
    },
    /// Odd `n` (and `n = 2`), through realfft.
    Other(Arc<dyn RealToComplex<f32>>),
}

/// Working memory for [`RealFft::forward`], one per thread.
pub(crate) struct Scratch(Vec<Complex32>);

impl RealFft {
    /// The plan for length `n`, built once per length for the process (planning costs more than
    /// transforming a short clip).
    pub(crate) fn cached(n: usize) -> Arc<RealFft> {
        static PLANS: crate::memo::Memo<usize, RealFft> = crate::memo::Memo::new();
        PLANS.get_or_build(n, || RealFft::new(n))
    }

    fn new(n: usize) -> RealFft {
        if n % 2 == 1 || n < 4 {
            return RealFft::Other(realfft::RealFftPlanner::new().plan_fft_forward(n));
        }
        let half = rustfft::FftPlanner::new().plan_fft_forward(n / 2);
        let quarter = n / 4 + 1;
        let angle = |k: usize| -2.0 * std::f64::consts::PI * k as f64 / n as f64;
        RealFft::Even {
            half,
            tw_re: (0..quarter).map(|k| angle(k).cos() as f32).collect(),
            tw_im: (0..quarter).map(|k| angle(k).sin() as f32).collect(),
        }
    }

    pub(crate) fn scratch(&self) -> Scratch {
        Scratch(match self {
            RealFft::Even { half, .. } => {
                vec![Complex32::new(0.0, 0.0); half.get_outofplace_scratch_len()]
            }
            RealFft::Other(fft) => fft.make_scratch_vec(),
        })
    }

    /// The spectrum of the real `frame`; `frame` is used as working memory.
    ///
    /// # Shapes
    /// - `frame`: `(n,)`
    /// - `out`: `(n/2 + 1,)`
    pub(crate) fn forward(&self, frame: &mut [f32], out: &mut [Complex32], scratch: &mut Scratch) {
        match self {
            RealFft::Other(fft) => fft
                .process_with_scratch(frame, out, &mut scratch.0)
                .expect("buffer sizes come from the plan"),
            RealFft::Even { half, tw_re, tw_im } => {
                let m = frame.len() / 2;
                // Sample pairs (x[2j], x[2j+1]) read as one complex number z[j].
                let z: &mut [Complex32] = as_pairs(frame);
                half.process_outofplace_with_scratch(z, &mut out[..m], &mut scratch.0);
                split(out, m, tw_re, tw_im);
            }
        }
    }
}

/// Views an even-length `[f32]` as its `[Complex32]` pairs.
fn as_pairs(frame: &mut [f32]) -> &mut [Complex32] {
    assert!(frame.len().is_multiple_of(2));
    // SAFETY: Complex32 is `repr(C)` { re: f32, im: f32 }: two f32 with f32's alignment, so
    // `len/2` of them cover exactly the same memory.
    unsafe { std::slice::from_raw_parts_mut(frame.as_mut_ptr().cast(), frame.len() / 2) }
}

/// Turns `Z = FFT_m(z)` in `out[..m]` into `X = FFT_2m(x)` in `out[..=m]`.
///
/// With `A = Z[k]`, `B = conj(Z[m−k])`, `E = (A+B)/2`, `T = W^k·(−i)(A−B)/2`:
/// `X[k] = E + T` and `X[m−k] = conj(E − T)`, so each step fills both ends.
fn split(out: &mut [Complex32], m: usize, tw_re: &[f32], tw_im: &[f32]) {
    let z0 = out[0];
    out[0] = Complex32::new(z0.re + z0.im, 0.0);
    out[m] = Complex32::new(z0.re - z0.im, 0.0);
    if m >= 2 && m.is_multiple_of(2) {
        out[m / 2].im = -out[m / 2].im;
    }
    // Pairs (k, m−k) for 1 ≤ k ≤ last.
    let last = (m - 1) / 2;
    #[allow(unused_mut)]
    let mut k = 1;
    #[cfg(target_arch = "x86_64")]
    if avx::available() {
        // SAFETY: the CPU has AVX2; `split4` stays inside `out[..m]` and the twiddles for
        // `k + 4 ≤ last + 1`.
        while k + 4 <= last + 1 {
            unsafe { avx::split4(out, m, k, tw_re, tw_im) };
            k += 4;
        }
    }
    for k in k..=last {
        let (p, q) = (out[k], out[m - k]);
        // E and O = (−i)(A − B)/2, then T = W^k·O, in the operation order `split4` uses.
        let (er, ei) = (0.5 * (p.re + q.re), 0.5 * (p.im - q.im));
        let (or, oi) = (0.5 * (p.im + q.im), 0.5 * (q.re - p.re));
        let (wr, wi) = (tw_re[k], tw_im[k]);
        let (tr, ti) = (wr * or - wi * oi, wr * oi + wi * or);
        out[k] = Complex32::new(er + tr, ei + ti);
        out[m - k] = Complex32::new(er - tr, ti - ei);
    }
}

/// Four steps of [`split`] at once in AVX registers, each complex number as an (re, im) lane
/// pair, with the same operations as the scalar loop so that both give the same bits.
#[cfg(target_arch = "x86_64")]
mod avx {
    use std::arch::x86_64::*;

    use realfft::num_complex::Complex32;

    pub(super) fn available() -> bool {
        static HAS: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
        *HAS.get_or_init(|| is_x86_feature_detected!("avx2"))
    }

    /// Pairs `(k + j, m − k − j)` for `j < 4`.
    ///
    /// # Safety
    /// The CPU has AVX2, `k ≥ 1`, `k + 3 < m − k − 3` (the two groups do not overlap), and
    /// `tw_re`, `tw_im` hold at least `k + 4` values.
    #[target_feature(enable = "avx2")]
    pub(super) unsafe fn split4(
        out: &mut [Complex32],
        m: usize,
        k: usize,
        tw_re: &[f32],
        tw_im: &[f32],
    ) {
        debug_assert!(k >= 1 && k + 3 < m - k - 3 && tw_re.len() >= k + 4 && tw_im.len() >= k + 4);
        let base = out.as_mut_ptr().cast::<f32>();
        let lo = base.add(2 * k);
        let hi = base.add(2 * (m - k - 3));
        let reverse = _mm256_setr_epi32(6, 7, 4, 5, 2, 3, 0, 1);
        let a = _mm256_loadu_ps(lo);
        // Z[m−k−j] for j = 0..4, in the order of `a`.
        let q = _mm256_permutevar8x32_ps(_mm256_loadu_ps(hi), reverse);
        let half = _mm256_set1_ps(0.5);
        let imag = _mm256_setr_ps(0.0, -0.0, 0.0, -0.0, 0.0, -0.0, 0.0, -0.0);
        let conj_q = _mm256_xor_ps(q, imag);
        // E = ((pr + qr)/2, (pi − qi)/2)
        let e = _mm256_mul_ps(half, _mm256_add_ps(a, conj_q));
        // (pi + qi, qr − pr)/2: A − conj(Q) with its lanes swapped and the new imaginary negated.
        let d = _mm256_sub_ps(a, conj_q);
        let o = _mm256_mul_ps(half, _mm256_xor_ps(_mm256_permute_ps(d, 0b1011_0001), imag));
        let load_dup = |t: &[f32]| {
            let v = _mm_loadu_ps(t.as_ptr().add(k));
            _mm256_setr_m128(_mm_unpacklo_ps(v, v), _mm_unpackhi_ps(v, v))
        };
        let (wr, wi) = (load_dup(tw_re), load_dup(tw_im));
        // T = (wr·or − wi·oi, wr·oi + wi·or)
        let t = _mm256_addsub_ps(
            _mm256_mul_ps(wr, o),
            _mm256_mul_ps(wi, _mm256_permute_ps(o, 0b1011_0001)),
        );
        _mm256_storeu_ps(lo, _mm256_add_ps(e, t));
        // conj(E − T) = (er − tr, ti − ei)
        let y = _mm256_xor_ps(_mm256_sub_ps(e, t), imag);
        _mm256_storeu_ps(hi, _mm256_permutevar8x32_ps(y, reverse));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The direct DFT in f64, for checking.
    fn dft(x: &[f32]) -> Vec<(f64, f64)> {
        let n = x.len();
        (0..=n / 2)
            .map(|k| {
                x.iter().enumerate().fold((0.0, 0.0), |(re, im), (j, &v)| {
                    let a = -2.0 * std::f64::consts::PI * (k * j % n) as f64 / n as f64;
                    (re + v as f64 * a.cos(), im + v as f64 * a.sin())
                })
            })
            .collect()
    }

    #[test]
    fn matches_the_direct_dft_for_even_and_odd_lengths() {
        for n in [
            4, 6, 8, 10, 16, 18, 30, 32, 34, 64, 100, 511, 512, 1024, 2048,
        ] {
            let x: Vec<f32> = (0..n)
                .map(|i| ((i * 7919) % 101) as f32 / 50.0 - 1.0)
                .collect();
            let fft = RealFft::new(n);
            let mut out = vec![Complex32::new(0.0, 0.0); n / 2 + 1];
            let mut frame = x.clone();
            fft.forward(&mut frame, &mut out, &mut fft.scratch());
            let want = dft(&x);
            let peak = want.iter().map(|(r, i)| r.hypot(*i)).fold(0.0, f64::max);
            for (k, (got, (wr, wi))) in out.iter().zip(&want).enumerate() {
                let e = (got.re as f64 - wr).hypot(got.im as f64 - wi);
                assert!(e < 2e-6 * peak, "n={n} k={k}: {got} vs ({wr}, {wi})");
            }
        }
    }
}
