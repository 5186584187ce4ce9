//! Whole-track SDR/SIR/SAR against mir_eval 0.8.2's `bss_eval_sources` (BSS Eval v3, the
//! MIR-1K benchmark's criteria; `tools/fixtures/bss_v3.py`). The signals are rebuilt here from
//! museval_recipe.py's integer recipe, so only mir_eval's numbers are stored.

use soundcheck_eval::{bss_eval_sources, EvalError};

mod recipe;
use recipe::{build, case, noise, ROUNDING_FLOOR_DB, TOLERANCE_DB};

fn check_case(id: &str) {
    let case = &case(include_str!("fixtures/bss_v3_cases.json"), id);
    // The estimates are scored in the references' order, the permutation mir_eval picks too.
    let identity: Vec<u64> = (0..case["sources"].as_u64().unwrap()).collect();
    let perm: Vec<u64> = case["default_permutation"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap())
        .collect();
    assert_eq!(perm, identity, "{id}: mir_eval's default permutation");
    let (refs, est) = build(case);
    let got = bss_eval_sources(&refs, &est).unwrap();
    for (name, ours) in [("sdr", &got.sdr), ("sir", &got.sir), ("sar", &got.sar)] {
        let theirs = case[name].as_array().unwrap();
        assert_eq!(ours.len(), theirs.len(), "{id} {name}: sources");
        for (j, (o, t)) in ours.iter().zip(theirs).enumerate() {
            assert_eq!(
                o.len(),
                1,
                "{id} {name}[{j}]: one value for the whole track"
            );
            let (a, b) = (o[0], t.as_f64().unwrap());
            if b > ROUNDING_FLOOR_DB {
                assert!(
                    a > ROUNDING_FLOOR_DB,
                    "{id} {name}[{j}]: mir_eval {b:.1} dB (exact), ours {a:.4} dB"
                );
            } else {
                assert!(
                    (a - b).abs() < TOLERANCE_DB,
                    "{id} {name}[{j}]: ours {a:.6} dB, mir_eval {b:.6} dB"
                );
            }
        }
    }
    assert!(
        got.isr.iter().all(|v| v[0].is_nan()),
        "{id}: no ISR in v3 sources"
    );
}

#[test]
fn perfect_estimate() {
    check_case("mono2_perfect_4s");
}

#[test]
fn interference() {
    check_case("mono2_interference_4s");
}

#[test]
fn additive_noise() {
    check_case("mono2_noise_4s");
}

#[test]
fn fir_filtered_estimate_is_mostly_not_distortion() {
    check_case("mono2_fir_4s");
}

#[test]
fn shifted_estimate() {
    check_case("mono2_shift_4s");
}

#[test]
fn mixed_estimate() {
    check_case("mono2_mixed_4s");
}

/// The NSDR baseline: the mixture as every source's estimate.
#[test]
fn mixture_as_estimate() {
    check_case("mono2_mixture_4s");
}

/// A silence inside the track is no window of its own: the whole track is one value.
#[test]
fn silence_inside_the_track() {
    check_case("mono2_silence_4_5s");
}

#[test]
fn three_sources_at_16_khz() {
    check_case("mono3_mixed_3s");
}

#[test]
fn several_channels_are_refused() {
    let stereo = vec![vec![noise(2000, 1), noise(2000, 2)]];
    let err = bss_eval_sources(&stereo, &stereo).unwrap_err();
    assert_eq!(err, EvalError::Channels { channels: 2 });
    assert!(err.to_string().contains("single-channel sources"), "{err}");
}
