//! The front-end benchmark: load(22050, mono) → stft → mel → mfcc on a 10-minute 44.1 kHz stereo
//! file, STFT against the bare FFT cost of its frames, and 1000 short clips featurised in
//! parallel. `tools/bench/audio_chain.sh` runs it beside librosa on the same files.
//!
//! `cargo bench -p soundcheck-audio --bench chain -- DATA_DIR` (the files are created there once).

use std::path::{Path, PathBuf};

use rayon::prelude::*;
mod common;

use common::{data_dir, time};
use soundcheck_audio as audio;
use soundcheck_audio::{LoadOptions, MelConfig, Ref, StftConfig};

/// A deterministic stereo test signal: harmonics with vibrato, a beat, and noise.
fn synth(n: usize, sr: u32, channel: usize) -> Vec<f32> {
    let mut state = 0x9E3779B97F4A7C15u64 ^ channel as u64;
    let mut phase = 0.0f64;
    (0..n)
        .map(|i| {
            let t = i as f64 / sr as f64;
            let f0 = 220.0
                * (1.0 + 0.01 * (2.0 * std::f64::consts::PI * 5.0 * t).sin())
                * (1.0 + (t / 7.0).floor() % 3.0 * 0.25);
            phase += 2.0 * std::f64::consts::PI * f0 / sr as f64;
            let tone: f64 = (1..6).map(|k| (k as f64 * phase).sin() / k as f64).sum();
            let beat = if (t * 2.0).fract() < 0.05 { 0.5 } else { 0.0 };
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let noise = (state >> 40) as f64 / (1u64 << 24) as f64 - 0.5;
            (0.25 * tone + beat * noise + 0.02 * noise) as f32
        })
        .collect()
}

fn ensure(path: &Path, seconds: usize, sr: u32, channels: usize) {
    if path.exists() {
        return;
    }
    let n = seconds * sr as usize;
    let chans: Vec<Vec<f32>> = (0..channels).map(|c| synth(n, sr, c)).collect();
    let spec = hound::WavSpec {
        channels: channels as u16,
        sample_rate: sr,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let tmp = path.with_extension("tmp");
    let mut w = hound::WavWriter::create(&tmp, spec).expect("create wav");
    for i in 0..n {
        for c in &chans {
            w.write_sample((c[i].clamp(-1.0, 1.0) * 32767.0) as i16)
                .expect("write");
        }
    }
    w.finalize().expect("finalize");
    std::fs::rename(&tmp, path).expect("rename");
}

fn main() {
    let dir = data_dir();
    std::fs::create_dir_all(dir.join("clips")).expect("data dir");
    let long = dir.join("long_10min_44k_stereo.wav");
    ensure(&long, 600, 44100, 2);
    let clips: Vec<PathBuf> = (0..1000)
        .map(|i| dir.join(format!("clips/clip_{i:04}.wav")))
        .collect();
    clips.par_iter().enumerate().for_each(|(i, p)| {
        if !p.exists() {
            let n = 16000 + (i * 97) % 8000;
            let y = synth(n, 16000, i);
            audio::write_wav(p, &[y], 16000).expect("clip");
        }
    });
    let runs = 9;
    let opts = LoadOptions::default();
    let cfg = StftConfig::default();
    let mel = MelConfig::default();
    // The whole chain and the load first, in a process that holds nothing else: the step rows
    // below keep half a gigabyte of intermediate arrays alive, and on this VM that slowed the
    // rows timed after them by up to 2× (the kernel's page handling, not our code).
    let chain = || {
        let y = audio::load(&long, &opts).expect("load").channels.remove(0);
        audio::mfcc(&[&y], 22050, &cfg, &mel, 20, 0.0).expect("mfcc")
    };
    chain();
    let t_chain = time(runs, chain);
    let t_load = time(runs, || audio::load(&long, &opts).expect("load"));
    let y = audio::load(&long, &opts).expect("load").channels.remove(0);
    let s = audio::stft(&y, &cfg).expect("stft");
    let p = audio::power(&s);
    let bank = audio::MelFilterbank::new(22050, cfg.n_fft, &mel).expect("mel");
    let m = bank.apply(&p);
    let t_decode = time(runs, || audio::decode(&long).expect("decode"));
    let t_decode_mono = time(runs, || audio::decode_mono(&long).expect("decode"));
    let t_read = time(runs, || std::fs::read(&long).expect("read"));
    let decoded = audio::decode(&long).expect("decode");
    let t_mono = time(runs, || audio::to_mono(&decoded.channels));
    let mono = audio::to_mono(&decoded.channels);
    let t_resample = time(runs, || {
        audio::resample(&mono, 44100, 22050).expect("resample")
    });
    // The polyphase path (the clips' 16 → 22.05 kHz), on the same samples read as 16 kHz.
    let t_resample_up = time(runs, || {
        audio::resample(&mono, 16000, 22050).expect("resample")
    });
    let t_stft = time(runs, || audio::stft(&y, &cfg).expect("stft"));
    let t_fused = time(runs, || bank.melspectrogram(&y, &cfg).expect("mel"));
    let t_mel = time(runs, || bank.apply(&audio::power(&s)));
    let t_mfcc = time(runs, || {
        let db = audio::power_to_db(&m, Ref::Value(1.0), 1e-10, Some(80.0)).expect("db");
        audio::mfcc_from_spectrogram(&db, 20, 0.0).expect("mfcc")
    });
    // The bare FFT cost of the same frames: every frame's FFT written into a fresh output of
    // the STFT's size (as np.fft.rfft over a framed array does), with the same threads, but no
    // framing, padding or windowing.
    let (n_freq, frames) = s.dim();
    let fft = realfft::RealFftPlanner::<f32>::new().plan_fft_forward(cfg.n_fft);
    let t_fft = time(runs, || {
        let mut out = vec![realfft::num_complex::Complex32::new(0.0, 0.0); n_freq * frames];
        out.par_chunks_mut(n_freq * 64).for_each(|chunk| {
            let mut input = vec![0.1f32; cfg.n_fft];
            let mut scratch = fft.make_scratch_vec();
            for spectrum in chunk.chunks_mut(n_freq) {
                fft.process_with_scratch(&mut input, spectrum, &mut scratch)
                    .expect("fft");
            }
        });
        out
    });
    let t_clips = time(3, || {
        clips
            .par_iter()
            .map(|c| {
                let y = audio::load(c, &LoadOptions::default())
                    .expect("clip")
                    .channels
                    .remove(0);
                audio::mfcc(&[&y], 22050, &cfg, &mel, 20, 0.0).expect("mfcc")
            })
            .count()
    });
    println!(
        "soundcheck ({} threads), median of {runs} (3 for the clips):",
        rayon::current_num_threads()
    );
    for (name, t) in [
        ("decode (10 min 44.1 kHz stereo WAV)", t_decode),
        ("  read the file's bytes", t_read),
        ("  decode straight to mono", t_decode_mono),
        ("  mono mixdown", t_mono),
        ("  resample 44100 → 22050", t_resample),
        ("  resample 16000 → 22050 (the same samples)", t_resample_up),
        ("load (decode + mono + resample to 22050)", t_load),
        ("stft (n_fft 2048, hop 512)", t_stft),
        ("bare FFT of the same frames", t_fft),
        ("power + mel (128) from a stored STFT", t_mel),
        ("mel (128) fused: frames → FFT → power → mel", t_fused),
        ("power_to_db + mfcc (20)", t_mfcc),
        ("chain: load → stft → mel → mfcc", t_chain),
        ("1000 clips (1–1.5 s, 16 kHz): load(22050) + mfcc", t_clips),
    ] {
        println!("  {name:<52} {:>8.1} ms", t * 1e3);
    }
    println!("  stft / bare FFT: {:.2}", t_stft / t_fft);
}
