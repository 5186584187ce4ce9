//! Per-frame feature stacks with the constant-Q kinds: shapes, values, and a rate too low for
//! their filters refused before any clip is read.

use soundcheck_audio as audio;
use soundcheck_tasks::classification::{ClipFeature, ClipFeatures};

#[test]
fn chroma_cqt_and_tonnetz_stack_with_mfccs_frame_by_frame() {
    let sr = 22050;
    let y: Vec<f32> = (0..2 * sr)
        .map(|i| {
            let t = i as f32 / sr as f32;
            0.3 * (2.0 * std::f32::consts::PI * 220.0 * t).sin()
                + 0.2 * (2.0 * std::f32::consts::PI * 330.0 * t).sin()
        })
        .collect();
    let path = std::env::temp_dir().join(format!("sc-clip-cqt-{}.wav", std::process::id()));
    audio::write_wav(&path, std::slice::from_ref(&y), sr as u32).unwrap();
    let kinds = ["mfcc", "chroma_cqt", "tonnetz"]
        .iter()
        .map(|k| ClipFeature::parse(k, 13, 128).unwrap())
        .collect();
    let cf = ClipFeatures {
        kinds,
        ..Default::default()
    };
    cf.validate().unwrap();
    let seq = cf.extract(&path).unwrap();
    assert_eq!((seq.frames, seq.features), (1 + y.len() / 512, 13 + 12 + 6));
    // Frame t's values 13..25 are chroma_cqt's column t.
    let y_read = audio::load(&path, &Default::default())
        .unwrap()
        .channels
        .remove(0);
    let chroma = audio::chroma_cqt(
        &[&y_read],
        22050,
        &audio::CqtConfig::for_chroma(512),
        None,
        12,
    )
    .unwrap()
    .remove(0);
    for t in [0, seq.frames / 2, seq.frames - 1] {
        let row = &seq.data[t * seq.features + 13..t * seq.features + 25];
        assert_eq!(row, chroma.column(t).to_vec().as_slice(), "frame {t}");
    }
    let _ = std::fs::remove_file(&path);
}

#[test]
fn a_rate_too_low_for_the_cqt_is_refused_by_name() {
    let cf = ClipFeatures {
        sample_rate: 8000,
        kinds: vec![ClipFeature::parse("tonnetz", 13, 128).unwrap()],
        ..Default::default()
    };
    let e = cf.validate().unwrap_err().to_string();
    assert!(e.contains("n_bins=252"), "{e}");
    assert!(e.contains("Nyquist"), "{e}");
}
