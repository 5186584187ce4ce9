//! Per-frame SDR/ISR/SIR/SAR against museval 0.4.1 (`tools/fixtures/museval_metrics.py`). The
//! signals are rebuilt here from the same integer recipe, so only museval's numbers are stored.

use soundcheck_eval::{bss_eval_v4, nanmedian, EvalError};

mod recipe;
use recipe::{build, case, noise, ROUNDING_FLOOR_DB, TOLERANCE_DB};

fn check_case(id: &str) {
    let case = &case(include_str!("fixtures/museval_cases.json"), id);
    let (refs, est) = build(case);
    let sr = case["sr"].as_u64().unwrap() as usize;
    let got = bss_eval_v4(&refs, &est, sr, sr).unwrap();
    for (name, ours) in [
        ("sdr", &got.sdr),
        ("isr", &got.isr),
        ("sir", &got.sir),
        ("sar", &got.sar),
    ] {
        let theirs = case[name].as_array().unwrap();
        assert_eq!(ours.len(), theirs.len(), "{id} {name}: sources");
        for (j, (o, t)) in ours.iter().zip(theirs).enumerate() {
            let t = t.as_array().unwrap();
            assert_eq!(o.len(), t.len(), "{id} {name}[{j}]: frames");
            for (k, (a, b)) in o.iter().zip(t).enumerate() {
                match b.as_f64() {
                    None if b == "inf" => {
                        assert_eq!(*a, f64::INFINITY, "{id} {name}[{j}][{k}]: museval +inf")
                    }
                    None => assert!(a.is_nan(), "{id} {name}[{j}][{k}]: museval NaN, ours {a}"),
                    Some(b) if b > ROUNDING_FLOOR_DB => assert!(
                        *a > ROUNDING_FLOOR_DB,
                        "{id} {name}[{j}][{k}]: museval {b:.1} dB (exact), ours {a:.4} dB"
                    ),
                    Some(b) => assert!(
                        (a - b).abs() < TOLERANCE_DB,
                        "{id} {name}[{j}][{k}]: ours {a:.4} dB, museval {b:.4} dB"
                    ),
                }
            }
        }
    }
}

#[test]
fn perfect_estimate_is_infinite_sdr() {
    check_case("stereo2_perfect_10s");
}

#[test]
fn partial_last_window_is_dropped() {
    check_case("stereo2_partial_window_10_5s");
}

#[test]
fn interference() {
    check_case("stereo2_interference_10s");
}

#[test]
fn additive_noise() {
    check_case("stereo2_noise_10s");
}

#[test]
fn fir_filtered_estimate() {
    check_case("stereo2_fir_10s");
}

#[test]
fn shifted_estimate() {
    check_case("stereo2_shift_10s");
}

#[test]
fn silent_windows_are_nan() {
    check_case("stereo2_silence_10s");
}

#[test]
fn thirty_seconds() {
    check_case("stereo2_mixed_30s");
}

#[test]
fn four_mono_sources() {
    check_case("mono4_mixed_10s");
}

#[test]
fn four_stereo_sources() {
    check_case("stereo4_mixed_10s");
}

#[test]
fn median_skips_nan_frames() {
    assert_eq!(nanmedian(&[3.0, f64::NAN, 1.0, 2.0]), 2.0);
    assert_eq!(nanmedian(&[4.0, 1.0, f64::NAN, 2.0, 3.0]), 2.5);
    assert!(nanmedian(&[f64::NAN]).is_nan());
}

#[test]
fn bad_input_is_named() {
    let r = vec![vec![vec![0.1, 0.2, 0.3]]];
    let short = vec![vec![vec![0.1, 0.2]]];
    let err = bss_eval_v4(&r, &short, 2, 2).unwrap_err();
    assert_eq!(err.to_string(), "estimates are 1 source(s) × 1 channel(s) × 2 samples, references are 1 source(s) × 1 channel(s) × 3 samples: give one estimate per reference, of the same length and channels");
    let nan = vec![vec![vec![0.1, f64::NAN, 0.3]]];
    let err = bss_eval_v4(&r, &nan, 2, 2).unwrap_err();
    assert_eq!(
        err,
        EvalError::NonFinite {
            what: "estimate",
            stem: 0,
            channel: 0,
            sample: 1
        }
    );
    assert!(err
        .to_string()
        .contains("estimate source 0, channel 0, sample 1 is not finite"));
    let err = bss_eval_v4(&r, &r, 2, 0).unwrap_err();
    assert_eq!(err.to_string(), "hop=0 samples is invalid: expected at least 1 (museval uses one second at the track's rate)");
    let zero = vec![vec![vec![0.0; 3]]];
    let err = bss_eval_v4(&zero, &r, 2, 2).unwrap_err();
    assert!(
        err.to_string().contains("reference source 0 is silent"),
        "{err}"
    );
}

#[test]
fn dependent_references_are_refused() {
    // The second channel is the first delayed by 37 samples, inside the 512-tap filters, with
    // silent edges so that no sample tells them apart: the shifted references span each other
    // and the projection filters are not unique.
    let n = 8000;
    let mut x = noise(n + 37, 5);
    x[..37].fill(0.0);
    x[n..].fill(0.0);
    let delayed = vec![x[37..].to_vec(), x[..n].to_vec()];
    let other = vec![noise(n, 6), noise(n, 7)];
    let refs = vec![delayed.clone(), other.clone()];
    let err = bss_eval_v4(&refs, &refs, 4000, 4000).unwrap_err();
    assert_eq!(err, EvalError::Singular);
    assert!(err.to_string().contains("linearly dependent"), "{err}");
    // Two identical stems.
    let err = bss_eval_v4(
        &[other.clone(), other.clone()],
        &[other.clone(), delayed],
        4000,
        4000,
    )
    .unwrap_err();
    assert_eq!(err, EvalError::Singular);
}

#[test]
fn a_track_too_short_for_the_filters_is_named_as_such() {
    // Two stereo sources: 4 reference channels of 512 taps need (4 − 1)·512 + 1 = 1537 samples
    // before the Gram matrix can be full rank, whatever the audio.
    let short = |seed| vec![noise(1536, seed), noise(1536, seed + 1)];
    let refs = vec![short(1), short(3)];
    let err = bss_eval_v4(&refs, &refs, 1536, 1536).unwrap_err();
    assert_eq!(
        err,
        EvalError::TooShort {
            samples: 1536,
            channels: 4,
            needed: 1537
        }
    );
    assert!(
        err.to_string().contains("need at least 1537 samples"),
        "{err}"
    );
}
