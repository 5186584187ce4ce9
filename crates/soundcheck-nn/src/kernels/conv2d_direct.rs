//! Register-blocked direct convolution on x86-64 (AVX-512 or AVX2 + FMA, picked at run time):
//! the forward pass and the kernel gradient of layers whose output channels are a multiple of
//! 16, without an im2col matrix.
//!
//! Why: through gemm, the seed nets' 32 → 32 3×3 layers reached 45–55 GFLOP/s per core, about
//! half of what the FMA units give. gemm's micro-kernel sees K × 32 tiles of an im2col copy it
//! then packs again; here a block of `P` output pixels × `B` output channels stays in registers
//! for the whole kernel reach (`kh·kw·in` multiply-adds per value), each step loading `B/16`
//! kernel vectors and `P` input values from a zero-padded strip of input rows. The kernel
//! gradient swaps the roles: a block of `R` kernel rows × `B` output channels accumulates over
//! the pixels. Measurements: BENCHMARKS.md, "Neural engine: own convolution kernels".

use std::mem::MaybeUninit;

use rayon::prelude::*;

use super::conv2d::Affine;
use super::conv2d_tiles::{padded_size, taps, with_padded_rows, Conv2dGeometry};
use super::reduce::ordered_sum;

/// The instruction set the kernels run with, decided once per process.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Level {
    Avx512,
    Avx2,
}

fn level() -> Option<Level> {
    #[cfg(target_arch = "x86_64")]
    {
        static LEVEL: std::sync::OnceLock<Option<Level>> = std::sync::OnceLock::new();
        *LEVEL.get_or_init(|| {
            if is_x86_feature_detected!("avx512f") && is_x86_feature_detected!("fma") {
                Some(Level::Avx512)
            } else if is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma") {
                Some(Level::Avx2)
            } else {
                None
            }
        })
    }
    #[cfg(not(target_arch = "x86_64"))]
    None
}

/// Whether the direct kernels take a convolution with `out_c` output channels (for the kernel
/// gradient, `out_c` is the layer's; for the forward pass, the channels it writes).
pub(super) fn takes(out_c: usize) -> bool {
    out_c.is_multiple_of(16) && level().is_some()
}

/// The convolution's output into `y` (`(batch, out_h, out_w, out_c)`), bias included.
/// Call only when [`takes`]`(g.out_c)`.
pub(super) fn forward(
    g: &Conv2dGeometry,
    x: &[f32],
    w: &[f32],
    bias: &[f32],
    then: Option<&Affine>,
    y: &mut [MaybeUninit<f32>],
) {
    let level = level().expect("`takes` checked the instruction set");
    forward_with(level, g, x, w, bias, then, y)
}

fn forward_with(
    level: Level,
    g: &Conv2dGeometry,
    x: &[f32],
    w: &[f32],
    bias: &[f32],
    then: Option<&Affine>,
    y: &mut [MaybeUninit<f32>],
) {
    let [_, wp] = padded_size(g);
    let taps = taps(g, wp);
    let [oh, ow] = g.output();
    let co = g.out_c;
    let reach = (g.kernel[0] - 1) * g.dilation[0] + 1;
    // Tasks of a few output rows of one image: enough of them for both cores at any batch
    // size, and their strip of padded input rows stays in L1/L2.
    y.par_chunks_mut(oh * ow * co)
        .zip(x.par_chunks(g.in_len().max(1)))
        .for_each(|(yi, xi)| {
            yi.par_chunks_mut(FORWARD_ROWS * ow * co)
                .enumerate()
                .for_each(|(t, yt)| {
                    let oy0 = t * FORWARD_ROWS;
                    let last = oy0 + yt.len() / (ow * co) - 1;
                    let rows = oy0 * g.stride[0]..last * g.stride[0] + reach;
                    with_padded_rows(g, xi, rows, |strip| {
                        for (r, yr) in yt.chunks_exact_mut(ow * co).enumerate() {
                            let row = Row {
                                xp: strip,
                                base: r * g.stride[0] * wp * g.in_c,
                                step: g.stride[1] * g.in_c,
                                taps: &taps,
                                ci: g.in_c,
                                w,
                                co,
                                bias,
                                then,
                            };
                            // SAFETY: the CPU has `level`'s instructions (`level()` or
                            // `levels()` found them); the kernels assert that their reads and
                            // writes stay inside the slices.
                            #[cfg(target_arch = "x86_64")]
                            unsafe {
                                match level {
                                    Level::Avx512 => avx512::forward_row(&row, yr),
                                    Level::Avx2 => avx2::forward_row(&row, yr),
                                }
                            }
                        }
                    })
                });
        });
}

/// Output rows per task of the forward pass.
const FORWARD_ROWS: usize = 8;

/// One output row's inputs.
struct Row<'a> {
    /// The padded image.
    xp: &'a [f32],
    /// Offset of the row's first window.
    base: usize,
    /// Offset between neighbouring windows (stride × channels).
    step: usize,
    taps: &'a [usize],
    ci: usize,
    w: &'a [f32],
    co: usize,
    bias: &'a [f32],
    /// Applied to the accumulators before they are stored.
    then: Option<&'a Affine<'a>>,
}

/// The kernels for one instruction set: vectors of `$lanes` floats, blocks of `$p`
/// pixels × `$nv` vectors of channels (forward) and `$r` kernel rows × `$nv` vectors (kernel
/// gradient), sized so the accumulators fill most of the vector registers (24 of 32 zmm, 12 of
/// 16 ymm). Written once as a macro so each copy is compiled with its own target features and
/// the intrinsics inline.
macro_rules! kernels {
    ($name:ident, $feature:literal, $lanes:literal, $p:literal, $nv:literal, $r:literal,
     $load:ident, $store:ident, $splat:ident, $fma:ident, $add:ident, $max:ident) => {
        #[cfg(target_arch = "x86_64")]
        mod $name {
            use std::arch::x86_64::*;

            use std::mem::MaybeUninit;

            use super::{Row, Span};

            /// Channels per block.
            const B: usize = $lanes * $nv;

            #[target_feature(enable = $feature)]
            pub(super) unsafe fn forward_row(row: &Row, y: &mut [MaybeUninit<f32>]) {
                let pixels = y.len() / row.co;
                let blocks = row.co / B;
                // Blocks of nearly equal size, at most the register block: 25 pixels run as
                // 9 + 8 + 8, not 12 + 12 + 1 (a one-pixel block waits on its FMA latency).
                let n = pixels.div_ceil($p);
                let mut p = 0;
                for k in 0..n {
                    let len = pixels / n + usize::from(k < pixels % n);
                    for b in 0..blocks {
                        forward_block_of(len, row, p, b * B, y);
                    }
                    p += len;
                }
                // Channel counts that are a multiple of 16 but not of B: one vector at a time.
                for p in 0..pixels {
                    for c0 in (blocks * B..row.co).step_by($lanes) {
                        forward_block::<1, 1>(row, p, c0, y);
                    }
                }
            }

            /// [`forward_block`] with the pixel count chosen at run time.
            #[target_feature(enable = $feature)]
            unsafe fn forward_block_of(
                len: usize,
                row: &Row,
                p0: usize,
                c0: usize,
                y: &mut [MaybeUninit<f32>],
            ) {
                match len {
                    1 => forward_block::<1, $nv>(row, p0, c0, y),
                    2 => forward_block::<2, $nv>(row, p0, c0, y),
                    3 => forward_block::<3, $nv>(row, p0, c0, y),
                    4 => forward_block::<4, $nv>(row, p0, c0, y),
                    5 => forward_block::<5, $nv>(row, p0, c0, y),
                    6 => forward_block::<6, $nv>(row, p0, c0, y),
                    7 => forward_block::<7, $nv>(row, p0, c0, y),
                    8 => forward_block::<8, $nv>(row, p0, c0, y),
                    9 => forward_block::<9, $nv>(row, p0, c0, y),
                    10 => forward_block::<10, $nv>(row, p0, c0, y),
                    11 => forward_block::<11, $nv>(row, p0, c0, y),
                    12 => forward_block::<12, $nv>(row, p0, c0, y),
                    _ => unreachable!("blocks hold at most {} pixels", $p),
                }
            }

            #[target_feature(enable = $feature)]
            #[inline]
            unsafe fn forward_block<const P: usize, const NV: usize>(
                row: &Row,
                p0: usize,
                c0: usize,
                y: &mut [MaybeUninit<f32>],
            ) {
                let (ci, co) = (row.ci, row.co);
                let first = row.base + p0 * row.step;
                let last = first + row.taps[row.taps.len() - 1] + (P - 1) * row.step + ci;
                assert!(last <= row.xp.len() && c0 + NV * $lanes <= co);
                assert!(row.w.len() == row.taps.len() * ci * co);
                let mut acc = [[$splat(0.0); NV]; P];
                for a in acc.iter_mut() {
                    for (v, a) in a.iter_mut().enumerate() {
                        *a = $load(row.bias.as_ptr().add(c0 + v * $lanes));
                    }
                }
                let (xp, w) = (row.xp.as_ptr(), row.w.as_ptr());
                for (t, &tap) in row.taps.iter().enumerate() {
                    let xs = xp.add(first + tap);
                    let ws = w.add(t * ci * co + c0);
                    for c in 0..ci {
                        let mut wv = [$splat(0.0); NV];
                        for (v, wv) in wv.iter_mut().enumerate() {
                            *wv = $load(ws.add(c * co + v * $lanes));
                        }
                        for (p, a) in acc.iter_mut().enumerate() {
                            let xv = $splat(*xs.add(p * row.step + c));
                            for v in 0..NV {
                                a[v] = $fma(xv, wv[v], a[v]);
                            }
                        }
                    }
                }
                assert!((p0 + P) * co <= y.len());
                if let Some(then) = row.then {
                    assert!(then.scale.len() == co && then.shift.len() == co);
                    let zero = $splat(0.0);
                    for v in 0..NV {
                        let a = $load(then.scale.as_ptr().add(c0 + v * $lanes));
                        let b = $load(then.shift.as_ptr().add(c0 + v * $lanes));
                        for acc in acc.iter_mut() {
                            acc[v] = $fma(acc[v], a, b);
                            if then.relu {
                                // max(0, y) with y second: a NaN stays NaN.
                                acc[v] = $max(zero, acc[v]);
                            }
                        }
                    }
                }
                for (p, a) in acc.iter().enumerate() {
                    for (v, a) in a.iter().enumerate() {
                        $store(
                            y.as_mut_ptr()
                                .cast::<f32>()
                                .add((p0 + p) * co + c0 + v * $lanes),
                            *a,
                        );
                    }
                }
            }

            #[target_feature(enable = $feature)]
            pub(super) unsafe fn wgrad_span(span: &Span, windows: &[usize], dw: &mut [f32]) {
                let blocks = span.co / B;
                for (t, &tap) in span.taps.iter().enumerate() {
                    let mut c = 0;
                    while c + $r <= span.ci {
                        for b in 0..blocks {
                            wgrad_block::<$r, $nv>(
                                span,
                                windows,
                                tap,
                                t * span.ci + c,
                                c,
                                b * B,
                                dw,
                            );
                        }
                        c += $r;
                    }
                    for c in c..span.ci {
                        for b in 0..blocks {
                            wgrad_block::<1, $nv>(
                                span,
                                windows,
                                tap,
                                t * span.ci + c,
                                c,
                                b * B,
                                dw,
                            );
                        }
                    }
                    for c in 0..span.ci {
                        for c0 in (blocks * B..span.co).step_by($lanes) {
                            wgrad_block::<1, 1>(span, windows, tap, t * span.ci + c, c, c0, dw);
                        }
                    }
                }
            }

            #[target_feature(enable = $feature)]
            #[inline]
            unsafe fn wgrad_block<const R: usize, const NV: usize>(
                span: &Span,
                windows: &[usize],
                tap: usize,
                krow: usize,
                c: usize,
                c0: usize,
                dw: &mut [f32],
            ) {
                let co = span.co;
                let dy = &span.dy[span.pixels.start * co..span.pixels.end * co];
                assert!(windows.len() * co == dy.len() && c0 + NV * $lanes <= co);
                let max_win = windows.iter().copied().max().unwrap_or(0);
                assert!(windows.is_empty() || max_win + tap + c + R <= span.xp.len());
                let mut acc = [[$splat(0.0); NV]; R];
                let (xp, dp) = (span.xp.as_ptr().add(tap + c), dy.as_ptr().add(c0));
                for (q, &win) in windows.iter().enumerate() {
                    let mut dv = [$splat(0.0); NV];
                    for (v, dv) in dv.iter_mut().enumerate() {
                        *dv = $load(dp.add(q * co + v * $lanes));
                    }
                    for (r, a) in acc.iter_mut().enumerate() {
                        let xv = $splat(*xp.add(win + r));
                        for v in 0..NV {
                            a[v] = $fma(xv, dv[v], a[v]);
                        }
                    }
                }
                assert!((krow + R) * co <= dw.len());
                for (r, a) in acc.iter().enumerate() {
                    for (v, a) in a.iter().enumerate() {
                        let at = dw.as_mut_ptr().add((krow + r) * co + c0 + v * $lanes);
                        $store(at, $add($load(at), *a));
                    }
                }
            }
        }
    };
}

/// Pixels per task of the kernel gradient: its `dy` rows (`pixels × out_c`) stay in L2 while
/// every tap and channel block passes over them.
const WGRAD_PIXELS: usize = 512;

/// The kernel gradient `(kh, kw, in_c, out_c)`. Call only when [`takes`]`(g.out_c)`.
pub(super) fn grad_weight(g: &Conv2dGeometry, x: &[f32], dy: &[f32]) -> Vec<f32> {
    grad_weight_with(
        level().expect("`takes` checked the instruction set"),
        g,
        x,
        dy,
    )
}

fn grad_weight_with(level: Level, g: &Conv2dGeometry, x: &[f32], dy: &[f32]) -> Vec<f32> {
    let [_, wp] = padded_size(g);
    let taps = taps(g, wp);
    let [oh, ow] = g.output();
    let (ci, co) = (g.in_c, g.out_c);
    let k = g.kernel[0] * g.kernel[1] * ci;
    let pixels = oh * ow;
    let chunks = pixels.div_ceil(WGRAD_PIXELS);
    let reach = (g.kernel[0] - 1) * g.dilation[0] + 1;
    let row_step = g.stride[0] * wp * ci;
    ordered_sum(g.batch * chunks, k * co, |tasks, dw| {
        for i in tasks {
            let (n, p0) = (i / chunks, (i % chunks) * WGRAD_PIXELS);
            let span_pixels = p0..(p0 + WGRAD_PIXELS).min(pixels);
            let (first, last) = (p0 / ow, (span_pixels.end - 1) / ow);
            let rows = first * g.stride[0]..last * g.stride[0] + reach;
            let xi = &x[n * g.in_len()..(n + 1) * g.in_len()];
            with_padded_rows(g, xi, rows, |strip| {
                let span = Span {
                    xp: strip,
                    dy: &dy[n * pixels * co..(n + 1) * pixels * co],
                    pixels: span_pixels,
                    taps: &taps,
                    ci,
                    co,
                };
                // Each pixel's window offset in the strip, computed once for all taps and
                // blocks.
                let windows: Vec<usize> = span
                    .pixels
                    .clone()
                    .map(|p| (p / ow - first) * row_step + (p % ow) * g.stride[1] * ci)
                    .collect();
                // SAFETY: as in `forward_with`.
                #[cfg(target_arch = "x86_64")]
                unsafe {
                    match level {
                        Level::Avx512 => avx512::wgrad_span(&span, &windows, dw),
                        Level::Avx2 => avx2::wgrad_span(&span, &windows, dw),
                    }
                }
            })
        }
    })
}

/// A run of output pixels of one image, for the kernel gradient.
struct Span<'a> {
    xp: &'a [f32],
    dy: &'a [f32],
    pixels: std::ops::Range<usize>,
    taps: &'a [usize],
    ci: usize,
    co: usize,
}

kernels!(
    avx512,
    "avx512f,fma",
    16,
    12,
    2,
    8,
    _mm512_loadu_ps,
    _mm512_storeu_ps,
    _mm512_set1_ps,
    _mm512_fmadd_ps,
    _mm512_add_ps,
    _mm512_max_ps
);
kernels!(
    avx2,
    "avx2,fma",
    8,
    6,
    2,
    6,
    _mm256_loadu_ps,
    _mm256_storeu_ps,
    _mm256_set1_ps,
    _mm256_fmadd_ps,
    _mm256_add_ps,
    _mm256_max_ps
);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::conv2d::tests::{close, direct, values};

    /// Every instruction set this CPU has (the AVX2 kernels also run on an AVX-512 CPU).
    fn levels() -> Vec<Level> {
        let mut l = Vec::new();
        #[cfg(target_arch = "x86_64")]
        {
            if is_x86_feature_detected!("avx512f") && is_x86_feature_detected!("fma") {
                l.push(Level::Avx512);
            }
            if is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma") {
                l.push(Level::Avx2);
            }
        }
        l
    }

    /// Channel counts that hit every block and tail: 16 and 32 outputs; 1, 13 and 32 inputs
    /// (blocks of 8 or 6 rows plus single rows); strides, dilation, padding; rows that are not
    /// a multiple of the pixel block.
    fn geometries() -> Vec<Conv2dGeometry> {
        let base = Conv2dGeometry {
            batch: 2,
            input: [9, 27],
            in_c: 13,
            out_c: 32,
            kernel: [3, 3],
            stride: [1, 1],
            dilation: [1, 1],
            pad: [(1, 1), (1, 1)],
        };
        vec![
            base,
            Conv2dGeometry {
                in_c: 1,
                out_c: 16,
                ..base
            },
            Conv2dGeometry {
                in_c: 32,
                stride: [2, 3],
                pad: [(0, 1), (2, 0)],
                ..base
            },
            Conv2dGeometry {
                dilation: [2, 1],
                kernel: [2, 3],
                pad: [(0, 0); 2],
                out_c: 48,
                ..base
            },
            Conv2dGeometry {
                kernel: [1, 5],
                input: [1, 700],
                pad: [(0, 0), (4, 0)],
                ..base
            },
            Conv2dGeometry {
                kernel: [1, 1],
                pad: [(0, 0); 2],
                ..base
            },
        ]
    }

    #[test]
    fn forward_and_kernel_gradient_match_the_definition_at_every_level() {
        for level in levels() {
            for g in geometries() {
                let [oh, ow] = g.output();
                let x = values(g.batch * g.input[0] * g.input[1] * g.in_c, 7);
                let w = values(g.kernel[0] * g.kernel[1] * g.in_c * g.out_c, 8);
                let b = values(g.out_c, 9);
                // NaN where the kernel would fail to write.
                let mut y = vec![MaybeUninit::new(f32::NAN); g.batch * oh * ow * g.out_c];
                forward_with(level, &g, &x, &w, &b, None, &mut y);
                // SAFETY: every value was initialised (as NaN) before the kernel ran.
                let y = unsafe { crate::kernels::assume_written(y) };
                close(&y, &direct(&g, &x, &w, Some(&b)), 1e-4);
                // The kernel gradient is the adjoint of the forward map in `w`:
                // <dw, w> = <dy, conv(x, w)>.
                let dy = values(y.len(), 10);
                let dw = grad_weight_with(level, &g, &x, &dy);
                let dot = |a: &[f32], b: &[f32]| {
                    a.iter()
                        .zip(b)
                        .map(|(a, b)| *a as f64 * *b as f64)
                        .sum::<f64>()
                };
                let l = dot(&dy, &direct(&g, &x, &w, None));
                assert!(
                    (dot(&dw, &w) - l).abs() < 1e-3 * (1.0 + l.abs()),
                    "{level:?} {g:?}"
                );
                // And entry by entry against the im2col path's gradient.
                close(
                    &dw,
                    &crate::kernels::conv2d::grad_weight_im2col(&g, &x, &dy),
                    1e-3,
                );
            }
        }
    }
}
