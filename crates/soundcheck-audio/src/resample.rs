//! Sample-rate conversion with rubato's FFT resampler, aligned and sized like librosa's.

use rubato::{FftFixedIn, Resampler};

use crate::error::{invalid, Result};

/// Input frames per FFT block: large blocks amortise the FFTs over long signals.
const CHUNK: usize = 4096;

/// Resamples one channel from `orig_sr` to `target_sr`.
///
/// # Shapes
/// - `y`: `(n,)`
/// - output: `(ceil(n · target_sr / orig_sr),)`, as `librosa.resample(..., fix=True)`
///
/// The resampler's delay is removed, so sample `i` of the output is at time `i / target_sr`,
/// as with soxr (librosa's default `res_type='soxr_hq'`). The two are different band-limited
/// filters: they agree closely below the passband edge and differ near Nyquist.
pub fn resample(y: &[f32], orig_sr: u32, target_sr: u32) -> Result<Vec<f32>> {
    if orig_sr == 0 {
        return Err(invalid("orig_sr", 0, "a positive sample rate in Hz", ""));
    }
    if target_sr == 0 {
        return Err(invalid(
            "sr",
            0,
            "a positive sample rate in Hz",
            "librosa's default is 22050",
        ));
    }
    if orig_sr == target_sr || y.is_empty() {
        return Ok(y.to_vec());
    }
    let want = (y.len() as u64 * target_sr as u64).div_ceil(orig_sr as u64) as usize;
    let mut r =
        FftFixedIn::<f32>::new(orig_sr as usize, target_sr as usize, CHUNK, 2, 1).map_err(|e| {
            invalid(
                "sr",
                target_sr,
                "a rate rubato can convert to",
                e.to_string(),
            )
        })?;
    let delay = r.output_delay();
    let mut out: Vec<f32> = Vec::with_capacity(want + delay + CHUNK);
    let mut block = vec![vec![0f32; r.output_frames_max()]];
    let mut pos = 0;
    while pos < y.len() || out.len() < want + delay {
        let need = r.input_frames_next();
        let (produced, consumed) = if pos + need <= y.len() {
            let (_, n) = r
                .process_into_buffer(&[&y[pos..pos + need]], &mut block, None)
                .expect("buffer sizes come from the resampler");
            (n, need)
        } else if pos < y.len() {
            let (_, n) = r
                .process_partial_into_buffer(Some(&[&y[pos..]]), &mut block, None)
                .expect("buffer sizes come from the resampler");
            (n, y.len() - pos)
        } else {
            let (_, n) = r
                .process_partial_into_buffer(None::<&[&[f32]]>, &mut block, None)
                .expect("buffer sizes come from the resampler");
            (n, 0)
        };
        out.extend_from_slice(&block[0][..produced]);
        pos += consumed;
    }
    Ok(out[delay..delay + want].to_vec())
}
