//! The one gemm call the kernels share: bounds-checked slices in, gemm's run-time dispatched
//! micro-kernels (AVX2/AVX-512) underneath.

use gemm::{gemm, Parallelism};

/// `dst (m × n, row-major) = [dst +] lhs (m × k) · rhs (k × n)`, the inputs given by their row
/// and column strides. One thread: the callers parallelise over tiles.
#[allow(clippy::too_many_arguments)]
pub(super) fn matmul(
    (m, n, k): (usize, usize, usize),
    dst: &mut [f32],
    accumulate: bool,
    lhs: &[f32],
    (lhs_rs, lhs_cs): (usize, usize),
    rhs: &[f32],
    (rhs_rs, rhs_cs): (usize, usize),
) {
    assert!(dst.len() >= m * n, "matmul output too short");
    assert!(m == 0 || k == 0 || lhs.len() > (m - 1) * lhs_rs + (k - 1) * lhs_cs);
    assert!(n == 0 || k == 0 || rhs.len() > (k - 1) * rhs_rs + (n - 1) * rhs_cs);
    // SAFETY: the asserts above keep every index the gemm touches inside the three slices;
    // `dst` is exclusively borrowed and does not alias the inputs.
    unsafe {
        gemm(
            m,
            n,
            k,
            dst.as_mut_ptr(),
            1,
            n as isize,
            accumulate,
            lhs.as_ptr(),
            lhs_cs as isize,
            lhs_rs as isize,
            rhs.as_ptr(),
            rhs_cs as isize,
            rhs_rs as isize,
            1.0,
            1.0,
            false,
            false,
            false,
            Parallelism::None,
        )
    }
}
