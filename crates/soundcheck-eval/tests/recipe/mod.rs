//! The BSS Eval fixtures' signals rebuilt from `tools/fixtures/museval_recipe.py`'s integer
//! recipe (xorshift64 noise and harmonic tones), so only the reference libraries' numbers are
//! stored.

use serde_json::Value;

/// How far from the reference library a metric may be.
pub const TOLERANCE_DB: f64 = 0.01;
/// Above this the error energy is f64 rounding noise (an estimate exactly in the references'
/// span gives SAR ≈ 260–270 dB): both sides must call it perfect, the digits are not comparable.
pub const ROUNDING_FLOOR_DB: f64 = 150.0;

/// The case `id` of a fixture file's `cases`.
pub fn case(fixture: &str, id: &str) -> Value {
    let fx: Value = serde_json::from_str(fixture).unwrap();
    fx["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == id)
        .unwrap_or_else(|| panic!("no case {id} in the fixture"))
        .clone()
}

/// xorshift64 → uniform [-1, 1), bit-identical to the fixture script's `noise`.
pub fn noise(n: usize, seed: u64) -> Vec<f64> {
    let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15).wrapping_add(1);
    (0..n)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            (s >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0
        })
        .collect()
}

fn source(tone: bool, n: usize, sr: usize, seed: u64) -> Vec<f64> {
    if !tone {
        return noise(n, seed).iter().map(|v| 0.3 * v).collect();
    }
    let f0 = 110.0 * (seed + 1) as f64;
    let w = noise(n, seed + 100);
    (0..n)
        .map(|i| {
            let t = i as f64 / sr as f64;
            0.3 * (2.0 * std::f64::consts::PI * f0 * t).sin()
                + 0.1 * (2.0 * std::f64::consts::PI * 2.7 * f0 * t).sin()
                + 0.05 * w[i]
        })
        .collect()
}

pub type Signals = Vec<Vec<Vec<f64>>>;

pub fn build(case: &Value) -> (Signals, Signals) {
    let (nsrc, nchan) = (
        case["sources"].as_u64().unwrap() as usize,
        case["channels"].as_u64().unwrap() as usize,
    );
    let sr = case["sr"].as_u64().unwrap() as usize;
    let n = (case["seconds"].as_f64().unwrap() * sr as f64) as usize;
    let mut refs: Signals = (0..nsrc)
        .map(|j| {
            (0..nchan)
                .map(|c| source(j % 2 == 0, n, sr, (10 * j + c) as u64))
                .collect()
        })
        .collect();
    let silent = case.get("silent").map(|s| {
        let s = s.as_array().unwrap();
        (
            s[0].as_u64().unwrap() as usize,
            (s[1].as_f64().unwrap() * sr as f64) as usize,
            (s[2].as_f64().unwrap() * sr as f64) as usize,
        )
    });
    if let Some((j, a, b)) = silent {
        refs[j].iter_mut().for_each(|ch| ch[a..b].fill(0.0));
    }
    let mut est = refs.clone();
    for j in 0..nsrc {
        let other = &refs[(j + 1) % nsrc];
        for c in 0..nchan {
            let (r, e) = (&refs[j][c], &mut est[j][c]);
            match case["estimate"].as_str().unwrap() {
                "perfect" => {}
                "interference" => e.iter_mut().zip(&other[c]).for_each(|(v, o)| *v += 0.2 * o),
                "noise" => e
                    .iter_mut()
                    .zip(noise(n, (1000 + 10 * j + c) as u64))
                    .for_each(|(v, w)| *v += 0.05 * w),
                "fir" => {
                    let h = [0.6, 0.3, -0.1];
                    for t in 0..n {
                        e[t] = (0..3).filter(|&k| k <= t).map(|k| h[k] * r[t - k]).sum();
                    }
                }
                "shift" => {
                    e[..10].fill(0.0);
                    e[10..].copy_from_slice(&r[..n - 10]);
                }
                "mixture" => {
                    for t in 0..n {
                        e[t] = refs.iter().map(|s| s[c][t]).sum();
                    }
                }
                "mixed" => {
                    let w = noise(n, (2000 + 10 * j + c) as u64);
                    for t in 0..n {
                        e[t] = 0.8 * r[t] + 0.1 * other[c][t] + 0.02 * w[t];
                    }
                }
                other => panic!("unknown estimate kind {other}"),
            }
        }
    }
    if let Some((j, a, b)) = silent {
        est[j].iter_mut().for_each(|ch| ch[a..b].fill(0.0));
    }
    (refs, est)
}
