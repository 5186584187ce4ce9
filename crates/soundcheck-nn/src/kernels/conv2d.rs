//! Channels_last 2-D convolution on the CPU: forward, input gradient, weight gradient and bias
//! gradient over plain slices, as gemms on L2-sized tiles of an im2col matrix.
//!
//! Why not burn-flex's convolution: it works channels-first, allocates and zeroes a fresh im2col
//! buffer per (image, 512-pixel) tile and runs its gemm with M = output channels (32 for the seed
//! nets, a poor shape for the micro-kernel); its weight gradient is burn's generic "convolution
//! with batch and channels swapped" over a 236 MB im2col matrix. Here a tile is a run of output
//! pixels of one image, its im2col rows (`kh·kw·in` values each, Keras's kernel order) live in a
//! reused per-thread buffer, and one gemm with M = pixels, K = `kh·kw·in`, N = `out` writes the
//! tile's NHWC output rows in place. Keras's kernel `(kh, kw, in, out)` is already the row-major
//! K × N matrix. Measurements: BENCHMARKS.md, "Neural engine: own convolution kernels".

use rayon::prelude::*;

use super::conv2d_direct;
use super::conv2d_tiles::with_scratch;
pub use super::conv2d_tiles::Conv2dGeometry;
use super::matmul::matmul;
use super::reduce::ordered_sum;
use super::{assume_written, output_buffer, written};

/// A per-output-channel map applied to the convolution's result before it is stored:
/// `y·scale + shift`, then `max(0, ·)` if `relu` (a BatchNormalization at inference, and the
/// ReLU after it, folded into the convolution).
#[derive(Clone, Copy, Debug)]
pub struct Affine<'a> {
    /// Per output channel.
    pub scale: &'a [f32],
    /// Per output channel.
    pub shift: &'a [f32],
    /// Clamp at zero after the map.
    pub relu: bool,
}

impl Affine<'_> {
    /// Applies the map to rows of `scale.len()` channels.
    fn apply(&self, y: &mut [f32]) {
        for row in y.chunks_exact_mut(self.scale.len()) {
            for ((v, a), b) in row.iter_mut().zip(self.scale).zip(self.shift) {
                *v = relu_if(self.relu, *v * a + b);
            }
        }
    }
}

/// `max(0, y)` if `relu`, else `y`; a NaN stays NaN (`f32::max` would drop it).
#[inline(always)]
pub(super) fn relu_if(relu: bool, y: f32) -> f32 {
    if relu && y < 0.0 {
        0.0
    } else {
        y
    }
}

/// The convolution's output `(batch, out_h, out_w, out_c)`, with `bias` added.
pub fn forward(g: &Conv2dGeometry, x: &[f32], w: &[f32], bias: Option<&[f32]>) -> Vec<f32> {
    forward_affine(g, x, w, bias, None)
}

/// [`forward`], then `then` applied to each output value before it is stored.
pub fn forward_affine(
    g: &Conv2dGeometry,
    x: &[f32],
    w: &[f32],
    bias: Option<&[f32]>,
    then: Option<&Affine>,
) -> Vec<f32> {
    let (k, co, pixels) = (g.k(), g.out_c, g.out_pixels());
    assert_eq!(x.len(), g.batch * g.in_len(), "conv2d input length");
    assert_eq!(w.len(), k * co, "conv2d kernel length");
    let mut y = output_buffer(g.batch * pixels * co);
    let zeros = vec![0.0; co];
    let bias_or_zeros = bias.unwrap_or(&zeros);
    if conv2d_direct::takes(co) {
        conv2d_direct::forward(g, x, w, bias_or_zeros, then, &mut y);
        // SAFETY: the direct kernels write every output value (all pixels, all channel blocks).
        return unsafe { assume_written(y) };
    }
    let tile = g.tile();
    y.par_chunks_mut(pixels * co)
        .zip(x.par_chunks(g.in_len().max(1)))
        .for_each(|(yi, xi)| {
            yi.par_chunks_mut(tile * co)
                .enumerate()
                .for_each(|(t, yt)| {
                    let rows = yt.len() / co;
                    // The gemm adds to the tile: it starts as the bias (or zeros).
                    for r in yt.chunks_exact_mut(co) {
                        r.iter_mut().zip(bias_or_zeros).for_each(|(v, &b)| {
                            v.write(b);
                        });
                    }
                    // SAFETY: `pixels × co` splits into whole rows of `co`, each just written.
                    let yt = unsafe { written(yt) };
                    if g.pointwise() {
                        let xt = &xi[t * tile * k..][..rows * k];
                        matmul((rows, co, k), yt, true, xt, (k, 1), w, (co, 1));
                    } else {
                        with_scratch(rows * k, |col| {
                            g.im2col(xi, t * tile, col);
                            matmul((rows, co, k), yt, true, col, (k, 1), w, (co, 1));
                        });
                    }
                    if let Some(then) = then {
                        then.apply(yt);
                    }
                });
        });
    // SAFETY: every tile was written before the gemm.
    unsafe { assume_written(y) }
}

/// The gradient with respect to the input, from the output's gradient `dy`.
pub fn grad_input(g: &Conv2dGeometry, w: &[f32], dy: &[f32]) -> Vec<f32> {
    let (k, co, pixels) = (g.k(), g.out_c, g.out_pixels());
    assert_eq!(
        dy.len(),
        g.batch * pixels * co,
        "conv2d output gradient length"
    );
    if let Some(t) = g.transposed() {
        // A gemm with K = kh·kw·out instead of one with K = out and a scatter: 2–3× faster
        // for the seed nets' 32-channel layers.
        return forward(&t, dy, &flipped(g, w), None);
    }
    let mut dx = vec![0.0; g.batch * g.in_len()];
    let tile = g.tile();
    // dcol = dy · wᵀ: `w` read as the co × k matrix it transposes to.
    let wt = (1, co);
    if g.pointwise() {
        // Input rows and output rows are the same pixels: no scatter, tiles are independent.
        dx.par_chunks_mut(tile * k)
            .zip(dy.par_chunks(tile * co))
            .for_each(|(dxt, dyt)| {
                let rows = dyt.len() / co;
                matmul((rows, k, co), dxt, false, dyt, (co, 1), w, wt);
            });
        return dx;
    }
    // Tiles of one image scatter onto overlapping input rows, so images run in parallel and
    // the tiles of one image in turn.
    dx.par_chunks_mut(g.in_len().max(1))
        .zip(dy.par_chunks(pixels * co))
        .for_each(|(dxi, dyi)| {
            for (t, dyt) in dyi.chunks(tile * co).enumerate() {
                let rows = dyt.len() / co;
                with_scratch(rows * k, |dcol| {
                    matmul((rows, k, co), dcol, false, dyt, (co, 1), w, wt);
                    g.col2im_add(dcol, t * tile, dxi);
                });
            }
        });
    dx
}

/// The kernel `(kh, kw, in, out)` flipped in both spatial axes, with in and out swapped.
fn flipped(g: &Conv2dGeometry, w: &[f32]) -> Vec<f32> {
    let [kh, kw] = g.kernel;
    let (ci, co) = (g.in_c, g.out_c);
    let mut f = Vec::with_capacity(w.len());
    for i in (0..kh).rev() {
        for j in (0..kw).rev() {
            for o in 0..co {
                f.extend((0..ci).map(|c| w[((i * kw + j) * ci + c) * co + o]));
            }
        }
    }
    f
}

/// The gradient with respect to the kernel, `(kh, kw, in_c, out_c)`.
pub fn grad_weight(g: &Conv2dGeometry, x: &[f32], dy: &[f32]) -> Vec<f32> {
    let (co, pixels) = (g.out_c, g.out_pixels());
    assert_eq!(x.len(), g.batch * g.in_len(), "conv2d input length");
    assert_eq!(
        dy.len(),
        g.batch * pixels * co,
        "conv2d output gradient length"
    );
    if conv2d_direct::takes(co) {
        return conv2d_direct::grad_weight(g, x, dy);
    }
    grad_weight_im2col(g, x, dy)
}

/// [`grad_weight`] through im2col tiles and gemm: the sum over tiles of colᵀ · dy, accumulated
/// per thread and then added up.
pub(super) fn grad_weight_im2col(g: &Conv2dGeometry, x: &[f32], dy: &[f32]) -> Vec<f32> {
    let (k, co, pixels) = (g.k(), g.out_c, g.out_pixels());
    let tile = g.tile();
    let tiles_per_image = pixels.div_ceil(tile);
    ordered_sum(g.batch * tiles_per_image, k * co, |tasks, dw| {
        for i in tasks {
            let (n, t) = (i / tiles_per_image, i % tiles_per_image);
            let p0 = t * tile;
            let rows = tile.min(pixels - p0);
            let xi = &x[n * g.in_len()..][..g.in_len()];
            let dyt = &dy[(n * pixels + p0) * co..][..rows * co];
            if g.pointwise() {
                let xt = &xi[p0 * k..][..rows * k];
                matmul((k, co, rows), dw, true, xt, (1, k), dyt, (co, 1));
            } else {
                with_scratch(rows * k, |col| {
                    g.im2col(xi, p0, col);
                    matmul((k, co, rows), dw, true, col, (1, k), dyt, (co, 1));
                });
            }
        }
    })
}

/// The gradient with respect to the bias: `dy` summed over every pixel of every image.
pub fn grad_bias(out_c: usize, dy: &[f32]) -> Vec<f32> {
    let rows = dy.len() / out_c.max(1);
    ordered_sum(rows.div_ceil(1024), out_c, |tasks, db| {
        let chunk = &dy[tasks.start * 1024 * out_c..(tasks.end * 1024).min(rows) * out_c];
        for row in chunk.chunks_exact(out_c) {
            db.iter_mut().zip(row).for_each(|(d, v)| *d += v);
        }
    })
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    /// The definition, one output value at a time.
    pub(in crate::kernels) fn direct(
        g: &Conv2dGeometry,
        x: &[f32],
        w: &[f32],
        bias: Option<&[f32]>,
    ) -> Vec<f32> {
        let [oh, ow] = g.output();
        let [ih, iw] = g.input;
        let (ci, co) = (g.in_c, g.out_c);
        let mut y = Vec::new();
        for n in 0..g.batch {
            for oy in 0..oh {
                for ox in 0..ow {
                    for o in 0..co {
                        let mut s = bias.map_or(0.0, |b| b[o]) as f64;
                        for i in 0..g.kernel[0] {
                            for j in 0..g.kernel[1] {
                                let y_ = (oy * g.stride[0] + i * g.dilation[0]) as isize
                                    - g.pad[0].0 as isize;
                                let x_ = (ox * g.stride[1] + j * g.dilation[1]) as isize
                                    - g.pad[1].0 as isize;
                                if y_ < 0 || x_ < 0 || y_ >= ih as isize || x_ >= iw as isize {
                                    continue;
                                }
                                for c in 0..ci {
                                    let xv =
                                        x[((n * ih + y_ as usize) * iw + x_ as usize) * ci + c];
                                    let wv = w[((i * g.kernel[1] + j) * ci + c) * co + o];
                                    s += xv as f64 * wv as f64;
                                }
                            }
                        }
                        y.push(s as f32);
                    }
                }
            }
        }
        y
    }

    pub(in crate::kernels) fn values(n: usize, seed: u32) -> Vec<f32> {
        // A fixed pseudo-random sequence in [-1, 1): no dependency for test data.
        let mut s = seed.wrapping_mul(2654435761).wrapping_add(1);
        (0..n)
            .map(|_| {
                s ^= s << 13;
                s ^= s >> 17;
                s ^= s << 5;
                (s as f32 / u32::MAX as f32) * 2.0 - 1.0
            })
            .collect()
    }

    /// Odd shapes: strides, dilation, asymmetric padding, 1×1, a tile boundary inside a row.
    fn geometries() -> Vec<Conv2dGeometry> {
        let base = Conv2dGeometry {
            batch: 2,
            input: [7, 9],
            in_c: 3,
            out_c: 5,
            kernel: [3, 3],
            stride: [1, 1],
            dilation: [1, 1],
            pad: [(1, 1), (1, 1)],
        };
        vec![
            base,
            Conv2dGeometry {
                stride: [2, 3],
                pad: [(0, 1), (2, 0)],
                ..base
            },
            Conv2dGeometry {
                dilation: [2, 1],
                kernel: [2, 3],
                pad: [(0, 0); 2],
                ..base
            },
            Conv2dGeometry {
                kernel: [1, 1],
                pad: [(0, 0); 2],
                ..base
            },
            Conv2dGeometry {
                kernel: [1, 1],
                stride: [2, 2],
                pad: [(0, 0); 2],
                ..base
            },
            Conv2dGeometry {
                kernel: [1, 5],
                input: [1, 40],
                pad: [(0, 0), (4, 0)],
                ..base
            },
            // K = 4·4·300: a tile of 16 pixels, so 4 tiles per image, the last ragged.
            Conv2dGeometry {
                in_c: 300,
                input: [5, 11],
                kernel: [4, 4],
                pad: [(1, 2), (2, 1)],
                ..base
            },
        ]
    }

    pub(in crate::kernels) fn close(a: &[f32], b: &[f32], tol: f32) {
        assert_eq!(a.len(), b.len());
        for (i, (x, y)) in a.iter().zip(b).enumerate() {
            assert!((x - y).abs() <= tol * (1.0 + y.abs()), "at {i}: {x} vs {y}");
        }
    }

    #[test]
    fn forward_matches_the_definition() {
        for g in geometries() {
            let [oh, ow] = g.output();
            let x = values(g.batch * g.in_len(), 1);
            let w = values(g.k() * g.out_c, 2);
            let b = values(g.out_c, 3);
            let y = forward(&g, &x, &w, Some(&b));
            assert_eq!(y.len(), g.batch * oh * ow * g.out_c, "{g:?}");
            close(&y, &direct(&g, &x, &w, Some(&b)), 1e-4);
            close(&forward(&g, &x, &w, None), &direct(&g, &x, &w, None), 1e-4);
        }
    }

    /// The stored map is the convolution then the map, for both paths (direct: 32 outputs;
    /// im2col: 5), with and without the ReLU, and a NaN stays NaN.
    #[test]
    fn affine_is_applied_as_values_are_stored() {
        for out_c in [32, 5] {
            let g = Conv2dGeometry {
                out_c,
                ..geometries()[1]
            };
            let x = values(g.batch * g.in_len(), 31);
            let w = values(g.k() * out_c, 32);
            let b = values(out_c, 33);
            let (scale, shift) = (values(out_c, 34), values(out_c, 35));
            let plain = forward(&g, &x, &w, Some(&b));
            for relu in [false, true] {
                let then = Affine {
                    scale: &scale,
                    shift: &shift,
                    relu,
                };
                let y = forward_affine(&g, &x, &w, Some(&b), Some(&then));
                let want: Vec<f32> = plain
                    .iter()
                    .enumerate()
                    .map(|(i, v)| relu_if(relu, v * scale[i % out_c] + shift[i % out_c]))
                    .collect();
                close(&y, &want, 1e-5);
            }
            let mut xn = x.clone();
            xn[0] = f32::NAN;
            let then = Affine {
                scale: &scale,
                shift: &shift,
                relu: true,
            };
            assert!(forward_affine(&g, &xn, &w, Some(&b), Some(&then))[0].is_nan());
        }
    }

    /// The gradients are the transposes of the forward map: for a random `dy`, `<dy, conv(x)>`
    /// must equal `<grad_input(dy), x>` and `<grad_weight(dy), w>` (the convolution is linear in
    /// each), and a finite difference of the loss `<dy, conv(x)>` must match both.
    #[test]
    fn gradients_are_the_adjoints_and_match_finite_differences() {
        for g in geometries() {
            let x = values(g.batch * g.in_len(), 4);
            let w = values(g.k() * g.out_c, 5);
            let dy = values(g.batch * g.out_pixels() * g.out_c, 6);
            let dot = |a: &[f32], b: &[f32]| {
                a.iter()
                    .zip(b)
                    .map(|(a, b)| *a as f64 * *b as f64)
                    .sum::<f64>()
            };
            let loss = |x: &[f32], w: &[f32]| dot(&dy, &direct(&g, x, w, None));
            let dx = grad_input(&g, &w, &dy);
            let dw = grad_weight(&g, &x, &dy);
            let l = loss(&x, &w);
            assert!((dot(&dx, &x) - l).abs() < 1e-3 * (1.0 + l.abs()), "{g:?}");
            assert!((dot(&dw, &w) - l).abs() < 1e-3 * (1.0 + l.abs()), "{g:?}");
            // Central differences at a few positions (the loss is linear, so they are exact up
            // to rounding).
            let h = 1e-2;
            for &i in &[0, x.len() / 3, x.len() - 1] {
                let (mut xp, mut xm) = (x.clone(), x.clone());
                xp[i] += h;
                xm[i] -= h;
                let fd = (loss(&xp, &w) - loss(&xm, &w)) / (2.0 * h as f64);
                assert!(
                    (fd - dx[i] as f64).abs() < 1e-3 * (1.0 + fd.abs()),
                    "dx[{i}] {g:?}"
                );
            }
            for &i in &[0, w.len() / 2, w.len() - 1] {
                let (mut wp, mut wm) = (w.clone(), w.clone());
                wp[i] += h;
                wm[i] -= h;
                let fd = (loss(&x, &wp) - loss(&x, &wm)) / (2.0 * h as f64);
                assert!(
                    (fd - dw[i] as f64).abs() < 1e-3 * (1.0 + fd.abs()),
                    "dw[{i}] {g:?}"
                );
            }
            let db = grad_bias(g.out_c, &dy);
            for (o, d) in db.iter().enumerate() {
                let s: f64 = dy.iter().skip(o).step_by(g.out_c).map(|v| *v as f64).sum();
                assert!((s - *d as f64).abs() < 1e-3, "db[{o}]");
            }
        }
    }
}
