//! The constant-Q transform, chroma_cqt and tonnetz against librosa 0.11.0
//! (`tools/fixtures/librosa_cqt.py`).

use ndarray::Array2;
use soundcheck_audio as audio;

mod common;
use common::librosa::*;

/// `librosa.cqt` with its defaults and four other settings (fixtures from
/// `tools/fixtures/librosa_cqt.py`): same shape, every bin within 1e-4 of the array's peak
/// magnitude.
#[test]
fn cqt_matches_librosa() {
    let (dir, index) = folder("fixtures_cqt");
    let read = |name: &str| soundcheck_npy::read(&dir.join(name)).unwrap();
    let y = read("signal.npy").data;
    for c in index["cases"].as_array().unwrap() {
        let p = &c["params"];
        let d = audio::CqtConfig::default();
        let cfg = audio::CqtConfig {
            hop_length: p["hop_length"]
                .as_u64()
                .map_or(d.hop_length, |v| v as usize),
            fmin: p["fmin"].as_f64(),
            n_bins: p["n_bins"].as_u64().map_or(d.n_bins, |v| v as usize),
            bins_per_octave: p["bins_per_octave"]
                .as_u64()
                .map_or(d.bins_per_octave, |v| v as usize),
            tuning: p["tuning"].as_f64().unwrap_or(d.tuning),
            filter_scale: p["filter_scale"].as_f64().unwrap_or(d.filter_scale),
            sparsity: p["sparsity"].as_f64().unwrap_or(d.sparsity),
            scale: p["scale"].as_bool().unwrap_or(d.scale),
        };
        let got = audio::cqt(&y, 22050, &cfg).unwrap();
        let name = c["name"].as_str().unwrap();
        let want = cmat_in(&dir, &format!("{name}.npy"));
        assert_eq!(got.dim(), want.dim(), "{name}");
        let peak = want.iter().fold(0f32, |m, v| m.max(v.norm()));
        let err = got
            .iter()
            .zip(want.iter())
            .fold(0f32, |m, (a, b)| m.max((a - b).norm()));
        eprintln!("cqt {name}: max error {:.2e} of peak", err / peak);
        assert!(err <= 1e-4 * peak, "{name}: {err} vs peak {peak}");
    }
}

/// `librosa.feature.chroma_cqt` and `tonnetz` with their defaults (the tuning estimated from the
/// signal, as librosa does), and chroma_cqt of a stereo signal with tuning 0: same shapes,
/// within 1e-4 of the peak (fixtures from `tools/fixtures/librosa_cqt.py`).
#[test]
fn chroma_cqt_and_tonnetz_match_librosa() {
    let (dir, index) = folder("fixtures_cqt");
    let read = |name: &str| soundcheck_npy::read(&dir.join(name)).unwrap();
    let y = read("signal.npy").data;
    let cqt = audio::CqtConfig::for_chroma(512);
    let close = |what: &str, got: &Array2<f32>, want: soundcheck_npy::Array| {
        assert_eq!(got.shape(), &want.shape[want.shape.len() - 2..], "{what}");
        let peak = want.data.iter().fold(0f32, |m, v| m.max(v.abs()));
        let err = max_error(got.as_slice().unwrap(), &want.data[..got.len()]).0;
        eprintln!("{what}: max error {:.2e} of peak", err / peak);
        assert!(err <= 1e-4 * peak, "{what}: {err} vs peak {peak}");
    };
    // The tuning librosa estimates for this signal, from its magnitude spectrogram.
    let mag = audio::magnitude(&audio::stft(&y, &audio::StftConfig::default()).unwrap());
    let tuning = audio::estimate_tuning_from_spectrogram(&[mag], 22050, 2048, 36);
    // (serde_json may read the last digit one ulp off)
    assert!((tuning - index["features"]["tuning"].as_f64().unwrap()).abs() < 1e-12);
    let chroma = audio::chroma_cqt(&[&y], 22050, &cqt, None, 12)
        .unwrap()
        .remove(0);
    close("chroma_cqt", &chroma, read("chroma_cqt.npy"));
    close(
        "tonnetz",
        &audio::tonnetz_from_chroma(&chroma),
        read("tonnetz.npy"),
    );
    let stereo = read("stereo.npy");
    let n = stereo.shape[1];
    let (left, right) = stereo.data.split_at(n);
    let got = audio::chroma_cqt(&[left, right], 22050, &cqt, Some(0.0), 12).unwrap();
    let want = read("chroma_cqt_stereo_tuning0.npy");
    let half = want.data.len() / 2;
    for (k, g) in got.iter().enumerate() {
        let part = soundcheck_npy::Array {
            data: want.data[k * half..(k + 1) * half].to_vec(),
            shape: want.shape[1..].to_vec(),
            complex: false,
            integer: false,
        };
        close(&format!("chroma_cqt stereo channel {k}"), g, part);
    }
}
