//! Built-in demo data, synthesised deterministically (no downloads): a sound-classification set
//! of seven classes with varied lengths, pitch and noise, so padding and standardisation matter.

use std::f64::consts::TAU;
use std::path::Path;

use soundcheck_audio::{write_wav, AudioError};
use soundcheck_io::SplitMix64;

/// The demo clips' sample rate.
pub const DEMO_RATE: u32 = 22050;

/// The demo classes, in the order their folders sort.
pub const DEMO_CLASSES: [&str; 7] = [
    "chirp_down",
    "chirp_up",
    "hiss",
    "hum",
    "knock",
    "siren",
    "whistle",
];

/// One clip of `class`: 0.4–1.6 s, random pitch and level, white noise 20–35 dB below it.
pub fn demo_clip(class: &str, rng: &mut SplitMix64) -> Vec<f32> {
    let sr = DEMO_RATE as f64;
    let mut between = |a: f64, b: f64| a + (b - a) * rng.uniform();
    let n = (between(0.4, 1.6) * sr) as usize;
    let level = between(0.2, 0.8);
    let noise = level * 10f64.powf(-between(20.0, 35.0) / 20.0);
    let (f_a, f_b) = (between(0.0, 1.0), between(0.0, 1.0));
    let rate = between(0.0, 1.0);
    let dur = n as f64 / sr;
    let mut phase = 0.0;
    let mut y: Vec<f64> = (0..n)
        .map(|i| {
            let t = i as f64 / sr;
            let frac = t / dur;
            // Instantaneous frequency per class; the phase integrates it.
            let (freq, harmonics) = match class {
                "chirp_up" => (300.0 + 300.0 * f_a + frac * (1500.0 + 2000.0 * f_b), 1),
                "chirp_down" => (1800.0 + 2000.0 * f_b - frac * (1500.0 + 300.0 * f_a), 1),
                "whistle" => (600.0 + 1200.0 * f_a + 15.0 * (TAU * 5.0 * t).sin(), 1),
                "hum" => (80.0 + 120.0 * f_a, 8),
                "siren" => (
                    700.0 + 300.0 * f_a + 250.0 * (TAU * (1.0 + 2.0 * rate) * t).sin(),
                    1,
                ),
                _ => (0.0, 0),
            };
            phase += TAU * freq / sr;
            (1..=harmonics)
                .map(|k| (k as f64 * phase).sin() / k as f64)
                .sum::<f64>()
        })
        .collect();
    match class {
        "hiss" => {
            // High-passed noise (first difference) under a slow random swell.
            let mut prev = 0.0;
            for (i, v) in y.iter_mut().enumerate() {
                let w = rng.normal();
                let swell = 0.6 + 0.4 * (TAU * (0.5 + rate) * i as f64 / sr).sin();
                *v = (w - prev) * 0.5 * swell;
                prev = w;
            }
        }
        "knock" => {
            // Decaying 8 ms noise bursts, 4–12 per second.
            let period = (sr / (4.0 + 8.0 * rate)) as usize;
            for (i, v) in y.iter_mut().enumerate() {
                let since = i % period;
                *v = rng.normal() * (-(since as f64) / (0.008 * sr / 5.0)).exp();
            }
        }
        _ => {}
    }
    let peak = y.iter().fold(1e-9f64, |m, v| m.max(v.abs()));
    y.iter()
        .map(|v| (level * v / peak + noise * rng.normal()) as f32)
        .collect()
}

/// Writes `per_class` clips of every demo class under `dir/<class>/NNN.wav`.
///
/// # Errors
/// A file that cannot be written.
pub fn write_classification_demo(
    dir: &Path,
    per_class: usize,
    seed: u64,
) -> Result<(), AudioError> {
    for (c, class) in DEMO_CLASSES.iter().enumerate() {
        let folder = dir.join(class);
        std::fs::create_dir_all(&folder).map_err(|e| AudioError::Write {
            path: folder.clone(),
            source: e,
        })?;
        let mut rng = SplitMix64::new(seed ^ (c as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15));
        for i in 0..per_class {
            let y = demo_clip(class, &mut rng);
            write_wav(&folder.join(format!("{i:03}.wav")), &[y], DEMO_RATE)?;
        }
    }
    Ok(())
}
