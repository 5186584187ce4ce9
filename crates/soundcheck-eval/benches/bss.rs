//! BSS Eval v4 on 30 s of 4 stereo sources at 44.1 kHz (museval's default rate and 1 s windows),
//! beside museval (`tools/bench/bss_eval.sh`). The running time does not depend on the signal
//! values (no silent windows), so each side draws its own noise of the same sizes.

use std::time::Instant;

use soundcheck_eval::{bss_eval_v4, nanmedian};

fn main() {
    let (nsrc, nchan, sr, seconds) = (4, 2, 44_100, 30);
    let mut s = 0x2545_F491_4F6C_DD1Du64;
    let mut noise = || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        (s >> 11) as f64 / (1u64 << 53) as f64 - 0.5
    };
    let refs: Vec<Vec<Vec<f64>>> = (0..nsrc)
        .map(|_| {
            (0..nchan)
                .map(|_| (0..sr * seconds).map(|_| noise()).collect())
                .collect()
        })
        .collect();
    let ests: Vec<Vec<Vec<f64>>> = refs
        .iter()
        .enumerate()
        .map(|(j, src)| {
            src.iter()
                .enumerate()
                .map(|(c, ch)| {
                    ch.iter()
                        .zip(&refs[(j + 1) % nsrc][c])
                        .map(|(r, o)| 0.8 * r + 0.1 * o + 0.02 * noise())
                        .collect()
                })
                .collect()
        })
        .collect();
    let mut times = Vec::new();
    for _ in 0..3 {
        let t = Instant::now();
        let m = bss_eval_v4(&refs, &ests, sr, sr).expect("bss eval");
        times.push(t.elapsed().as_secs_f64());
        std::hint::black_box(nanmedian(&m.sdr[0]));
    }
    times.sort_by(f64::total_cmp);
    println!("soundcheck-eval bss_eval_v4, {nsrc} sources × {nchan} channels × {seconds} s at {sr} Hz: median {:.2} s ({} threads)", times[1], rayon::current_num_threads());
}
