//! soxr's polyphase stage for the ratio left after the FFT stages: each output is a short dot
//! product of the input with one phase of a long filter. With an exact rational clock there is
//! one phase per output position; otherwise the clock is 32.32 fixed point, its top bits pick
//! one of 2^k phases and the rest interpolate between neighbouring taps with a polynomial.

use super::plan::MULT32;

/// Where output `i` falls on the input.
#[derive(Clone, Copy, Debug)]
pub(super) enum Clock {
    /// In units of `1/phases` input samples: `at0 + i·step`.
    Exact { phases: u64, at0: u64, step: u64 },
    /// In 32.32 fixed-point input samples: `at0 + i·step`.
    Fixed {
        phase_bits: u32,
        at0: u64,
        step: u64,
    },
}

pub(super) struct Poly {
    /// Taps per phase.
    taps: usize,
    /// Input samples before the first output's window starts (soxr's preload).
    preload: i64,
    /// The degree of the coefficient interpolation (0 for an exact clock).
    order: usize,
    clock: Clock,
    /// `[phase][tap][power]`, taps in input order, powers 0..=order.
    coefs: Vec<f32>,
}

impl Poly {
    /// The stage for `design` (`taps·phases − 1` taps, gain `phases`), with coefficient
    /// polynomials of degree `order` between consecutive taps.
    pub fn new(design: &[f64], taps: usize, phases: usize, order: usize, clock: Clock) -> Poly {
        let v = |t: i64| {
            if t >= 0 && (t as usize) < design.len() {
                design[t as usize]
            } else {
                0.0
            }
        };
        let mut coefs = vec![0f32; phases * taps * (order + 1)];
        for phase in 0..phases {
            for i in 0..taps {
                // Tap i of this phase is design tap i·phases + phase − 1; taps are stored in the
                // order the input is read, last tap first.
                let t = (i * phases + phase) as i64 - 1;
                let (fm1, f0, f1, f2) = (v(t - 1), v(t), v(t + 1), v(t + 2));
                let powers: [f64; 4] = match order {
                    0 => [f0, 0.0, 0.0, 0.0],
                    1 => [f0, f1 - f0, 0.0, 0.0],
                    2 => {
                        let c = 0.5 * (f2 + f0) - f1;
                        [f0, f1 - c - f0, c, 0.0]
                    }
                    _ => {
                        let c = 0.5 * (f1 + fm1) - f0;
                        let d = (1.0 / 6.0) * (f2 - f1 + fm1 - f0 - 4.0 * c);
                        [f0, f1 - f0 - d - c, c, d]
                    }
                };
                let at = ((phase * taps + taps - 1 - i) * (order + 1)) as usize;
                for (slot, p) in coefs[at..at + order + 1].iter_mut().zip(powers) {
                    *slot = p as f32;
                }
            }
        }
        Poly {
            taps,
            preload: ((taps - 1) >> 1) as i64,
            order,
            clock,
            coefs,
        }
    }

    /// Output `i`'s first input sample, phase and interpolation fraction.
    fn locate(&self, i: i64) -> (i64, usize, f32) {
        match self.clock {
            Clock::Exact { phases, at0, step } => {
                let pos = at0 as u128 + i as u128 * step as u128;
                (
                    (pos / phases as u128) as i64 - self.preload,
                    (pos % phases as u128) as usize,
                    0.0,
                )
            }
            Clock::Fixed {
                phase_bits,
                at0,
                step,
            } => {
                let t = at0 as u128 + i as u128 * step as u128;
                let frac = t as u32;
                let phase = (frac >> (32 - phase_bits)) as usize;
                let x = (frac.wrapping_shl(phase_bits) as f64 * (1.0 / MULT32)) as f32;
                ((t >> 32) as i64 - self.preload, phase, x)
            }
        }
    }

    /// The input samples that outputs `a..b` depend on.
    pub fn input_range(&self, a: i64, b: i64) -> (i64, i64) {
        (self.locate(a).0, self.locate(b - 1).0 + self.taps as i64)
    }

    /// Outputs `a..a + out.len()` from `input`, which holds samples `in_lo..` (zero outside).
    pub fn process(&self, input: &[f32], in_lo: i64, a: i64, out: &mut [f32]) {
        let (n, w) = (self.taps, self.order + 1);
        for (k, o) in out.iter_mut().enumerate() {
            let (first, phase, x) = self.locate(a + k as i64);
            let from = (first - in_lo) as usize;
            let window = &input[from..from + n];
            let coefs = &self.coefs[phase * n * w..(phase + 1) * n * w];
            *o = if w == 1 {
                window.iter().zip(coefs).map(|(s, c)| s * c).sum()
            } else {
                window
                    .iter()
                    .zip(coefs.chunks_exact(w))
                    .map(|(s, p)| s * p.iter().rev().fold(0.0, |acc, c| acc * x + c))
                    .sum()
            };
        }
    }
}
