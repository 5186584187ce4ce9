//! Real FFTs of one size, planned once and shared by the threads that use them.

use std::sync::Arc;

use realfft::num_complex::Complex64;
use realfft::{ComplexToReal, RealFftPlanner, RealToComplex};

pub(crate) struct Fft {
    pub n: usize,
    fwd: Arc<dyn RealToComplex<f64>>,
    inv: Arc<dyn ComplexToReal<f64>>,
}

impl Fft {
    pub fn new(n: usize) -> Fft {
        let mut p = RealFftPlanner::<f64>::new();
        Fft {
            n,
            fwd: p.plan_fft_forward(n),
            inv: p.plan_fft_inverse(n),
        }
    }

    /// Spectrum of `x` zero-padded to `n`.
    pub fn spectrum(&self, x: &[f64]) -> Vec<Complex64> {
        let mut buf = vec![0.0; self.n];
        buf[..x.len()].copy_from_slice(x);
        let mut out = self.fwd.make_output_vec();
        self.fwd
            .process(&mut buf, &mut out)
            .expect("sizes from the plan");
        out
    }

    /// Inverse of a spectrum, normalised (as numpy's ifft). The DC and Nyquist bins of a real
    /// signal's spectrum are real; products of spectra can leave rounding residue there, which
    /// realfft rejects, so it is dropped (numpy's `real(ifft(..))` discards it the same way).
    pub fn signal(&self, mut s: Vec<Complex64>) -> Vec<f64> {
        s[0].im = 0.0;
        let last = s.len() - 1;
        s[last].im = 0.0;
        let mut out = self.inv.make_output_vec();
        self.inv
            .process(&mut s, &mut out)
            .expect("sizes from the plan");
        out.iter().map(|v| v / self.n as f64).collect()
    }
}

/// The smallest even length ≥ `n` with no prime factor above 5: rustfft is about as fast per
/// sample at such lengths as at powers of two, which can be almost twice as long.
pub(crate) fn fast_len(n: usize) -> usize {
    let smooth = |mut m: usize| {
        for f in [2, 3, 5] {
            while m.is_multiple_of(f) {
                m /= f;
            }
        }
        m == 1
    };
    (n.max(2)..)
        .find(|&m| m.is_multiple_of(2) && smooth(m))
        .expect("powers of two are unbounded")
}

#[cfg(test)]
mod tests {
    #[test]
    fn fast_lengths() {
        // 44100 + 511 = 44611 → 45000 = 2³·3²·5⁴; 7 → 8; 1 → 2.
        assert_eq!(super::fast_len(44_611), 45_000);
        assert_eq!(super::fast_len(7), 8);
        assert_eq!(super::fast_len(1), 2);
    }
}
