//! Multichannel Wiener filtering against norbert 0.2.1 (`tools/fixtures/norbert_wiener.py`):
//! a stereo and a mono mixture of a centred and a panned source, a rough mask, one and two EM
//! iterations.

use std::path::{Path, PathBuf};

use ndarray::Array2;
use num_complex::Complex32;
use soundcheck_tasks::separation::wiener_target;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/norbert")
        .join(format!("{name}.npy"))
}

fn read(name: &str) -> (Vec<usize>, Vec<f32>) {
    let a = soundcheck_npy::read(&fixture(name)).expect("fixture");
    (a.shape, a.data)
}

/// `(channels, bins, frames)` real and imaginary parts as one spectrogram per channel.
fn spectra(name: &str) -> Vec<Array2<Complex32>> {
    let (shape, re) = read(&format!("{name}_re"));
    let (_, im) = read(&format!("{name}_im"));
    let (bins, frames) = (shape[1], shape[2]);
    (0..shape[0])
        .map(|c| {
            Array2::from_shape_fn((bins, frames), |(f, t)| {
                let i = (c * bins + f) * frames + t;
                Complex32::new(re[i], im[i])
            })
        })
        .collect()
}

#[test]
fn target_estimates_equal_norberts() {
    for case in ["stereo", "mono"] {
        let x = spectra(&format!("{case}_x"));
        let (shape, m) = read(&format!("{case}_mask"));
        let mask = Array2::from_shape_vec((shape[0], shape[1]), m).unwrap();
        for iterations in [1, 2] {
            let want = spectra(&format!("{case}_y{iterations}"));
            let got = wiener_target(&x, &mask, iterations);
            let peak = want
                .iter()
                .flat_map(|c| c.iter())
                .fold(0f32, |m, z| m.max(z.norm()));
            let worst = got
                .iter()
                .zip(&want)
                .flat_map(|(g, w)| g.iter().zip(w.iter()))
                .fold(0f32, |m, (g, w)| m.max((g - w).norm()));
            // norbert keeps the covariances and the filtering in complex64; this code sums in
            // f64, so the two drift apart by single-precision rounding, more with each
            // iteration (1.1e-5 of peak after two).
            assert!(
                worst <= 3e-5 * peak,
                "{case}, {iterations} iterations: worst difference {worst} (peak {peak})"
            );
        }
    }
}

#[test]
fn no_iterations_is_the_masked_mixture() {
    let x = spectra("stereo_x");
    let (shape, m) = read("stereo_mask");
    let mask = Array2::from_shape_vec((shape[0], shape[1]), m).unwrap();
    let got = wiener_target(&x, &mask, 0);
    for (g, xc) in got.iter().zip(&x) {
        for ((g, z), &m) in g.iter().zip(xc.iter()).zip(mask.iter()) {
            assert_eq!(*g, z * m);
        }
    }
}
