//! The geometry of a channels_last 2-D convolution and the input tiles its kernels read: im2col
//! rows for the gemm path (`conv2d.rs`), zero-padded strips of input rows for the direct
//! kernels (`conv2d_direct.rs`), both written into a per-thread scratch tile.

use std::cell::RefCell;

/// The geometry of one channels_last convolution (groups = 1).
///
/// # Shapes
/// - input `x`: `(batch, in_h, in_w, in_c)`
/// - kernel `w`: `(kh, kw, in_c, out_c)` (Keras's layout)
/// - output `y`: `(batch, out_h, out_w, out_c)`
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Conv2dGeometry {
    /// Batch size.
    pub batch: usize,
    /// Input height and width.
    pub input: [usize; 2],
    /// Input channels.
    pub in_c: usize,
    /// Output channels.
    pub out_c: usize,
    /// Kernel height and width.
    pub kernel: [usize; 2],
    /// Strides along height and width.
    pub stride: [usize; 2],
    /// Dilation along height and width.
    pub dilation: [usize; 2],
    /// Zero padding `(begin, end)` along height and width.
    pub pad: [(usize, usize); 2],
}

impl Conv2dGeometry {
    /// Output height and width.
    pub fn output(&self) -> [usize; 2] {
        std::array::from_fn(|a| {
            let span = self.dilation[a] * (self.kernel[a] - 1) + 1;
            (self.input[a] + self.pad[a].0 + self.pad[a].1 - span) / self.stride[a] + 1
        })
    }

    /// For stride 1, the convolution whose output is this one's input gradient: `dy`
    /// convolved with the kernel flipped in space and transposed in channels (`conv2d::flipped`),
    /// padded so that each input position sees every output it contributed to.
    pub(super) fn transposed(&self) -> Option<Conv2dGeometry> {
        if self.stride != [1, 1] {
            return None;
        }
        let span = |a: usize| self.dilation[a] * (self.kernel[a] - 1) + 1;
        let pad = |a: usize| -> Option<(usize, usize)> {
            let (b, e) = self.pad[a];
            Some((span(a).checked_sub(1 + b)?, span(a).checked_sub(1 + e)?))
        };
        Some(Conv2dGeometry {
            input: self.output(),
            in_c: self.out_c,
            out_c: self.in_c,
            pad: [pad(0)?, pad(1)?],
            ..*self
        })
    }

    /// Values in one im2col row: the kernel's reach over all input channels.
    pub(super) fn k(&self) -> usize {
        self.kernel[0] * self.kernel[1] * self.in_c
    }

    pub(super) fn in_len(&self) -> usize {
        self.input[0] * self.input[1] * self.in_c
    }

    pub(super) fn out_pixels(&self) -> usize {
        let [oh, ow] = self.output();
        oh * ow
    }

    /// A 1×1 kernel, stride 1, no padding: the input rows are the im2col rows.
    pub(super) fn pointwise(&self) -> bool {
        self.kernel == [1, 1] && self.stride == [1, 1] && self.pad == [(0, 0); 2]
    }

    /// Output pixels per tile: an im2col tile of about 256 KB stays in L2 beside the kernel.
    pub(super) fn tile(&self) -> usize {
        ((64 * 1024) / self.k()).clamp(16, 1024)
    }

    /// Copies the im2col rows of output pixels `p0..p0 + rows` of one image into `col`
    /// (`rows × k`), with zeros where the kernel reaches into the padding.
    pub(super) fn im2col(&self, x: &[f32], p0: usize, col: &mut [f32]) {
        let [ih, iw] = self.input;
        let [_, ow] = self.output();
        let c = self.in_c;
        let [kh, kw] = self.kernel;
        for (r, row) in col.chunks_exact_mut(self.k()).enumerate() {
            let (oy, ox) = ((p0 + r) / ow, (p0 + r) % ow);
            for i in 0..kh {
                let y = (oy * self.stride[0] + i * self.dilation[0]).wrapping_sub(self.pad[0].0);
                let x0 = (ox * self.stride[1]).wrapping_sub(self.pad[1].0);
                if y < ih && self.dilation[1] == 1 && x0 < iw && x0 + kw <= iw {
                    // The kernel row lies inside the image: its taps are one contiguous run
                    // (one copy instead of one per tap, which matters when `in_c` is small).
                    let at = (y * iw + x0) * c;
                    row[i * kw * c..(i + 1) * kw * c].copy_from_slice(&x[at..at + kw * c]);
                    continue;
                }
                for j in 0..kw {
                    let dst = &mut row[(i * kw + j) * c..][..c];
                    let x_ =
                        (ox * self.stride[1] + j * self.dilation[1]).wrapping_sub(self.pad[1].0);
                    if y < ih && x_ < iw {
                        dst.copy_from_slice(&x[(y * iw + x_) * c..][..c]);
                    } else {
                        dst.fill(0.0);
                    }
                }
            }
        }
    }

    /// Adds the im2col-shaped gradient `dcol` of pixels `p0..` back onto the input positions
    /// it was read from: the transpose of [`im2col`](Self::im2col).
    pub(super) fn col2im_add(&self, dcol: &[f32], p0: usize, dx: &mut [f32]) {
        let [ih, iw] = self.input;
        let [_, ow] = self.output();
        let c = self.in_c;
        let [kh, kw] = self.kernel;
        for (r, row) in dcol.chunks_exact(self.k()).enumerate() {
            let (oy, ox) = ((p0 + r) / ow, (p0 + r) % ow);
            for i in 0..kh {
                let y = (oy * self.stride[0] + i * self.dilation[0]).wrapping_sub(self.pad[0].0);
                if y >= ih {
                    continue;
                }
                for j in 0..kw {
                    let x_ =
                        (ox * self.stride[1] + j * self.dilation[1]).wrapping_sub(self.pad[1].0);
                    if x_ < iw {
                        let src = &row[(i * kw + j) * c..][..c];
                        let dst = &mut dx[(y * iw + x_) * c..][..c];
                        dst.iter_mut().zip(src).for_each(|(d, s)| *d += s);
                    }
                }
            }
        }
    }
}

thread_local! {
    /// Each thread's scratch tile (an im2col tile, or a strip of padded input rows), reused
    /// across tiles, layers and steps (never zeroed: every use overwrites what it reads).
    static SCRATCH: RefCell<Vec<f32>> = const { RefCell::new(Vec::new()) };
}

/// Runs `f` on this thread's scratch tile of `len` values (their contents are left over).
pub(super) fn with_scratch<R>(len: usize, f: impl FnOnce(&mut [f32]) -> R) -> R {
    SCRATCH.with(|c| {
        let mut c = c.borrow_mut();
        if c.len() < len {
            c.resize(len, 0.0);
        }
        f(&mut c[..len])
    })
}

/// The padded image's height and width.
pub(super) fn padded_size(g: &Conv2dGeometry) -> [usize; 2] {
    let [ih, iw] = g.input;
    [ih + g.pad[0].0 + g.pad[0].1, iw + g.pad[1].0 + g.pad[1].1]
}

/// Writes rows `rows` of one image zero-padded on all sides by the geometry's padding
/// (`(in_h + pads, in_w + pads, in_c)`) into `out`, every value of it.
fn padded_rows(g: &Conv2dGeometry, xi: &[f32], rows: std::ops::Range<usize>, out: &mut [f32]) {
    let [ih, iw] = g.input;
    let [_, wp] = padded_size(g);
    let (c, top, left) = (g.in_c, g.pad[0].0, g.pad[1].0);
    for (line, r) in out.chunks_exact_mut(wp * c).zip(rows) {
        match r.checked_sub(top).filter(|&y| y < ih) {
            Some(y) => {
                line[..left * c].fill(0.0);
                line[left * c..(left + iw) * c].copy_from_slice(&xi[y * iw * c..][..iw * c]);
                line[(left + iw) * c..].fill(0.0);
            }
            None => line.fill(0.0),
        }
    }
}

/// Runs `f` on padded rows `rows` of image `xi`, so the kernels read without bounds tests: a
/// strip in this thread's scratch tile (it stays in cache; a padded copy of the whole batch
/// cost 9 % of a training step in memory traffic), or `xi` itself without padding.
pub(super) fn with_padded_rows<R>(
    g: &Conv2dGeometry,
    xi: &[f32],
    rows: std::ops::Range<usize>,
    f: impl FnOnce(&[f32]) -> R,
) -> R {
    let [_, wp] = padded_size(g);
    let line = wp * g.in_c;
    if g.pad == [(0, 0); 2] {
        return f(&xi[rows.start * line..rows.end * line]);
    }
    with_scratch(rows.len() * line, |strip| {
        padded_rows(g, xi, rows, strip);
        f(strip)
    })
}

/// Offsets in the padded image of each kernel tap `(i, j)` from the tap `(0, 0)`, in Keras's
/// kernel order.
pub(super) fn taps(g: &Conv2dGeometry, wp: usize) -> Vec<usize> {
    let mut t = Vec::with_capacity(g.kernel[0] * g.kernel[1]);
    for i in 0..g.kernel[0] {
        for j in 0..g.kernel[1] {
            t.push((i * g.dilation[0] * wp + j * g.dilation[1]) * g.in_c);
        }
    }
    t
}
