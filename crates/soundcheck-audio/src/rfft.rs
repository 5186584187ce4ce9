//! Real FFTs for the STFT and the resampler: a complex FFT of half the length (rustfft) and the
//! split that turns its output into the spectrum of the real signal (or, inverse, the join that
//! turns a real signal's spectrum into the half-length complex input).
//!
//! realfft does the same, but its split loops stay scalar and cost as much as the complex FFT
//! itself here; these do four bins at a time in AVX registers where the CPU has AVX2. Odd
//! lengths, which have no half-length trick, go to realfft.

use std::sync::Arc;

use realfft::num_complex::Complex32;
use realfft::{ComplexToReal, RealToComplex};
use rustfft::Fft;

/// The twiddles `exp(−2πik/n)` for `k ≤ n/4` of an even length `n`, as separate real and
/// imaginary parts (the layout the vector loops load).
pub(crate) struct Twiddles {
    re: Vec<f32>,
    im: Vec<f32>,
}

impl Twiddles {
    fn new(n: usize) -> Twiddles {
        let quarter = n / 4 + 1;
        let angle = |k: usize| -2.0 * std::f64::consts::PI * k as f64 / n as f64;
        Twiddles {
            re: (0..quarter).map(|k| angle(k).cos() as f32).collect(),
            im: (0..quarter).map(|k| angle(k).sin() as f32).collect(),
        }
    }
}

/// A planned forward real FFT of one length.
pub(crate) enum RealFft {
    /// `n` even: a complex FFT of `n/2` points plus the split.
    Even {
        half: Arc<dyn Fft<f32>>,
        tw: Twiddles,
    },
    /// Odd `n` (and `n = 2`), through realfft.
    Other(Arc<dyn RealToComplex<f32>>),
}

/// A planned inverse real FFT of one length, unnormalised like realfft's (and numpy's `irfft`
/// times `n`).
pub(crate) enum RealIfft {
    /// `n` even: the join plus an inverse complex FFT of `n/2` points.
    Even {
        half: Arc<dyn Fft<f32>>,
        tw: Twiddles,
    },
    /// Odd `n` (and `n = 2`), through realfft.
    Other(Arc<dyn ComplexToReal<f32>>),
}

/// Working memory for [`RealFft::forward`] and [`RealIfft::inverse`], one per thread.
pub(crate) struct Scratch(Vec<Complex32>);

fn zeroed(len: usize) -> Scratch {
    Scratch(vec![Complex32::new(0.0, 0.0); len])
}

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
        RealFft::Even {
            half: rustfft::FftPlanner::new().plan_fft_forward(n / 2),
            tw: Twiddles::new(n),
        }
    }

    pub(crate) fn scratch(&self) -> Scratch {
        match self {
            RealFft::Even { half, .. } => zeroed(half.get_outofplace_scratch_len()),
            RealFft::Other(fft) => Scratch(fft.make_scratch_vec()),
        }
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
            RealFft::Even { half, tw } => {
                let m = frame.len() / 2;
                // Sample pairs (x[2j], x[2j+1]) read as one complex number z[j].
                let z: &mut [Complex32] = as_pairs(frame);
                half.process_outofplace_with_scratch(z, &mut out[..m], &mut scratch.0);
                split(out, m, tw);
            }
        }
    }
}

impl RealIfft {
    /// The plan for length `n`, built once per length for the process.
    pub(crate) fn cached(n: usize) -> Arc<RealIfft> {
        static PLANS: crate::memo::Memo<usize, RealIfft> = crate::memo::Memo::new();
        PLANS.get_or_build(n, || RealIfft::new(n))
    }

    fn new(n: usize) -> RealIfft {
        if n % 2 == 1 || n < 4 {
            return RealIfft::Other(realfft::RealFftPlanner::new().plan_fft_inverse(n));
        }
        RealIfft::Even {
            half: rustfft::FftPlanner::new().plan_fft_inverse(n / 2),
            tw: Twiddles::new(n),
        }
    }

    pub(crate) fn scratch(&self) -> Scratch {
        match self {
            RealIfft::Even { half, .. } => zeroed(half.get_outofplace_scratch_len()),
            RealIfft::Other(fft) => Scratch(fft.make_scratch_vec()),
        }
    }

    /// The real signal of length `n` whose spectrum is `spectrum`, times `n`; `spectrum` is used
    /// as working memory. The imaginary parts of the DC bin (and of the Nyquist bin for even `n`)
    /// are ignored, as numpy's `irfft` ignores them.
    ///
    /// # Shapes
    /// - `spectrum`: `(n/2 + 1,)`
    /// - `out`: `(n,)`
    pub(crate) fn inverse(
        &self,
        spectrum: &mut [Complex32],
        out: &mut [f32],
        scratch: &mut Scratch,
    ) {
        spectrum[0].im = 0.0;
        match self {
            RealIfft::Other(fft) => {
                if out.len().is_multiple_of(2) {
                    spectrum[out.len() / 2].im = 0.0;
                }
                fft.process_with_scratch(spectrum, out, &mut scratch.0)
                    .expect("buffer sizes come from the plan")
            }
            RealIfft::Even { half, tw } => {
                let m = out.len() / 2;
                join(spectrum, m, tw);
                half.process_outofplace_with_scratch(
                    &mut spectrum[..m],
                    as_pairs(out),
                    &mut scratch.0,
                );
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
fn split(out: &mut [Complex32], m: usize, tw: &Twiddles) {
    let z0 = out[0];
    out[0] = Complex32::new(z0.re + z0.im, 0.0);
    out[m] = Complex32::new(z0.re - z0.im, 0.0);
    if m >= 2 && m.is_multiple_of(2) {
        out[m / 2].im = -out[m / 2].im;
    }
    let k = pairs_in_vectors(out, m, tw, avx::Direction::Split);
    for k in k..=(m - 1) / 2 {
        let (p, q) = (out[k], out[m - k]);
        // E and O = (−i)(A − B)/2, then T = W^k·O, in the operation order `avx::pairs4` uses.
        let (er, ei) = (0.5 * (p.re + q.re), 0.5 * (p.im - q.im));
        let (or, oi) = (0.5 * (p.im + q.im), 0.5 * (q.re - p.re));
        let (wr, wi) = (tw.re[k], tw.im[k]);
        let (tr, ti) = (wr * or - wi * oi, wr * oi + wi * or);
        out[k] = Complex32::new(er + tr, ei + ti);
        out[m - k] = Complex32::new(er - tr, ti - ei);
    }
}

/// The inverse of [`split`], times 2: turns `X` in `x[..=m]` (real DC and Nyquist bins) into
/// `2·FFT_m(z)` in `x[..m]`, whose inverse complex FFT is `n·z`.
///
/// With `A = X[k]`, `B = conj(X[m−k])`, `E = A+B`, `T = W^−k·(A−B)`:
/// `Z[k] = E + iT` and `Z[m−k] = conj(E − iT)`.
fn join(x: &mut [Complex32], m: usize, tw: &Twiddles) {
    let (dc, nyquist) = (x[0].re, x[m].re);
    x[0] = Complex32::new(dc + nyquist, dc - nyquist);
    if m >= 2 && m.is_multiple_of(2) {
        x[m / 2] = Complex32::new(2.0 * x[m / 2].re, -2.0 * x[m / 2].im);
    }
    let k = pairs_in_vectors(x, m, tw, avx::Direction::Join);
    for k in k..=(m - 1) / 2 {
        let (p, q) = (x[k], x[m - k]);
        // In the operation order `avx::pairs4` uses.
        let (er, ei) = (p.re + q.re, p.im - q.im);
        let (dr, di) = (p.re - q.re, p.im + q.im);
        let (wr, wi) = (tw.re[k], tw.im[k]);
        let (tr, ti) = (wr * dr + wi * di, wr * di - wi * dr);
        x[k] = Complex32::new(er - ti, ei + tr);
        x[m - k] = Complex32::new(er + ti, tr - ei);
    }
}

/// Runs the pairs `(k, m−k)` from `k = 1` four at a time in vector registers where the CPU can,
/// and returns the first `k` left for the scalar loop.
fn pairs_in_vectors(x: &mut [Complex32], m: usize, tw: &Twiddles, dir: avx::Direction) -> usize {
    #[cfg(target_arch = "x86_64")]
    if avx::available() {
        // SAFETY: the CPU has AVX2, and the twiddles reach n/4 ≥ (m − 1)/2.
        return unsafe { avx::pairs(x, m, &tw.re, &tw.im, dir) };
    }
    let _ = (x, m, tw, dir);
    1
}

/// Four steps of [`split`] or [`join`] at once in AVX registers, each complex number as an
/// (re, im) lane pair, with the same operations as the scalar loops so that both give the same
/// bits.
mod avx {
    #[cfg(target_arch = "x86_64")]
    use std::arch::x86_64::*;

    #[cfg(target_arch = "x86_64")]
    use realfft::num_complex::Complex32;

    #[derive(Clone, Copy)]
    pub(super) enum Direction {
        Split,
        Join,
    }

    #[cfg(target_arch = "x86_64")]
    pub(super) fn available() -> bool {
        static HAS: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
        *HAS.get_or_init(|| is_x86_feature_detected!("avx2"))
    }

    /// Pairs `(k, m − k)` from `k = 1`, four at a time while the two groups of four stay apart
    /// (`k + 3 < m − k − 3`); returns the first `k` not done.
    ///
    /// # Safety
    /// The CPU has AVX2, `x` holds at least `m` values, and `tw_re`, `tw_im` at least
    /// `(m − 1)/2 + 1`.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    pub(super) unsafe fn pairs(
        x: &mut [Complex32],
        m: usize,
        tw_re: &[f32],
        tw_im: &[f32],
        dir: Direction,
    ) -> usize {
        let last = (m - 1) / 2;
        assert!(x.len() >= m && tw_re.len() > last && tw_im.len() > last);
        let mut k = 1;
        while k + 4 <= last + 1 {
            pairs4(x, m, k, tw_re, tw_im, dir);
            k += 4;
        }
        k
    }

    /// Pairs `(k + j, m − k − j)` for `j < 4`.
    #[cfg(target_arch = "x86_64")]
    #[inline]
    #[target_feature(enable = "avx2")]
    unsafe fn pairs4(
        x: &mut [Complex32],
        m: usize,
        k: usize,
        tw_re: &[f32],
        tw_im: &[f32],
        dir: Direction,
    ) {
        let base = x.as_mut_ptr().cast::<f32>();
        let lo = base.add(2 * k);
        let hi = base.add(2 * (m - k - 3));
        let reverse = _mm256_setr_epi32(6, 7, 4, 5, 2, 3, 0, 1);
        let a = _mm256_loadu_ps(lo);
        // x[m−k−j] for j = 0..4, in the order of `a`.
        let q = _mm256_permutevar8x32_ps(_mm256_loadu_ps(hi), reverse);
        let imag = _mm256_setr_ps(0.0, -0.0, 0.0, -0.0, 0.0, -0.0, 0.0, -0.0);
        let real = _mm256_setr_ps(-0.0, 0.0, -0.0, 0.0, -0.0, 0.0, -0.0, 0.0);
        let swap = |v| _mm256_permute_ps(v, 0b1011_0001);
        let conj_q = _mm256_xor_ps(q, imag);
        let load_dup = |t: &[f32]| {
            let v = _mm_loadu_ps(t.as_ptr().add(k));
            _mm256_setr_m128(_mm_unpacklo_ps(v, v), _mm_unpackhi_ps(v, v))
        };
        let (wr, wi) = (load_dup(tw_re), load_dup(tw_im));
        // Both directions end as `lo = E + U`, `hi = conj(E − U)`.
        let (e, u) = match dir {
            Direction::Split => {
                let half = _mm256_set1_ps(0.5);
                // E = ((pr + qr)/2, (pi − qi)/2)
                let e = _mm256_mul_ps(half, _mm256_add_ps(a, conj_q));
                // O = (pi + qi, qr − pr)/2: A − conj(Q) with its lanes swapped and the new
                // imaginary negated.
                let d = _mm256_sub_ps(a, conj_q);
                let o = _mm256_mul_ps(half, _mm256_xor_ps(swap(d), imag));
                // U = T = (wr·or − wi·oi, wr·oi + wi·or)
                let t = _mm256_addsub_ps(_mm256_mul_ps(wr, o), _mm256_mul_ps(wi, swap(o)));
                (e, t)
            }
            Direction::Join => {
                // E = (pr + qr, pi − qi), D = (pr − qr, pi + qi)
                let e = _mm256_add_ps(a, conj_q);
                let d = _mm256_sub_ps(a, conj_q);
                // T = (wr·dr + wi·di, wr·di − wi·dr), then U = iT = (−ti, tr).
                let neg_wi = _mm256_xor_ps(wi, _mm256_set1_ps(-0.0));
                let t = _mm256_addsub_ps(_mm256_mul_ps(wr, d), _mm256_mul_ps(neg_wi, swap(d)));
                (e, _mm256_xor_ps(swap(t), real))
            }
        };
        _mm256_storeu_ps(lo, _mm256_add_ps(e, u));
        let y = _mm256_xor_ps(_mm256_sub_ps(e, u), imag);
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

    #[test]
    fn the_inverse_undoes_the_forward_times_n() {
        for n in [
            4, 6, 8, 10, 16, 18, 30, 32, 34, 64, 100, 320, 511, 640, 1024, 2048,
        ] {
            let x: Vec<f32> = (0..n)
                .map(|i| ((i * 7919) % 101) as f32 / 50.0 - 1.0)
                .collect();
            let mut spectrum = vec![Complex32::new(0.0, 0.0); n / 2 + 1];
            let fft = RealFft::new(n);
            fft.forward(&mut x.clone(), &mut spectrum, &mut fft.scratch());
            // Imaginary parts that a real signal's DC and Nyquist bins cannot have are ignored.
            spectrum[0].im = 3.0;
            if n % 2 == 0 {
                spectrum[n / 2].im = -2.0;
            }
            let ifft = RealIfft::new(n);
            let mut back = vec![0f32; n];
            ifft.inverse(&mut spectrum, &mut back, &mut ifft.scratch());
            for (i, (b, v)) in back.iter().zip(&x).enumerate() {
                assert!(
                    (b / n as f32 - v).abs() < 2e-6,
                    "n={n} i={i}: {b} vs {v}·{n}"
                );
            }
        }
    }
}
