//! The Gram matrix of references shifted by 0..L samples is block-Toeplitz once its rows are
//! ordered by lag: block (a, b) holds the correlations of all reference channels at lag a − b.
//! Block Levinson recursion solves it in O(p³·L²) for p channels, where a dense factorisation
//! costs O(p³·L³): 512 lags make that the difference between seconds and tens of milliseconds.

use rayon::prelude::*;

/// A symmetric block-Toeplitz matrix of `n` × `n` blocks of `p` × `p`: block (a, b) is
/// `C(a − b)`, with `C(−k) = C(k)ᵀ`.
#[derive(Clone, Debug)]
pub struct BlockToeplitz {
    pub p: usize,
    /// `C(0..n)`, each `p × p` row-major.
    pub blocks: Vec<Vec<f64>>,
}

/// Dot product with independent partial sums, so that the compiler can vectorise it (a single
/// accumulator forces one add at a time).
fn dot(a: &[f64], b: &[f64]) -> f64 {
    let mut acc = [0.0; 8];
    let (ca, cb) = (a.chunks_exact(8), b.chunks_exact(8));
    let tail: f64 = ca
        .remainder()
        .iter()
        .zip(cb.remainder())
        .map(|(x, y)| x * y)
        .sum();
    for (x, y) in ca.zip(cb) {
        for k in 0..8 {
            acc[k] += x[k] * y[k];
        }
    }
    acc.iter().sum::<f64>() + tail
}

/// `out += a·s`.
fn axpy(out: &mut [f64], a: &[f64], s: f64) {
    for (o, v) in out.iter_mut().zip(a) {
        *o += s * v;
    }
}

/// `p × p` times `p × p`, row-major.
fn matmul(a: &[f64], b: &[f64], p: usize) -> Vec<f64> {
    (0..p * p)
        .map(|ij| {
            (0..p)
                .map(|k| a[(ij / p) * p + k] * b[k * p + ij % p])
                .sum()
        })
        .collect()
}

/// The inverse of a `p × p` matrix (Gauss–Jordan with partial pivoting), `None` when singular.
fn inverse(a: &[f64], p: usize) -> Option<Vec<f64>> {
    let mut m = a.to_vec();
    let mut inv: Vec<f64> = (0..p * p)
        .map(|i| if i % p == i / p { 1.0 } else { 0.0 })
        .collect();
    for col in 0..p {
        let pivot =
            (col..p).max_by(|&x, &y| m[x * p + col].abs().total_cmp(&m[y * p + col].abs()))?;
        let v = m[pivot * p + col];
        if v == 0.0 || !v.is_finite() {
            return None;
        }
        for k in 0..p {
            m.swap(col * p + k, pivot * p + k);
            inv.swap(col * p + k, pivot * p + k);
        }
        for k in 0..p {
            m[col * p + k] /= v;
            inv[col * p + k] /= v;
        }
        for row in (0..p).filter(|&row| row != col) {
            let f = m[row * p + col];
            if f != 0.0 {
                for k in 0..p {
                    m[row * p + k] -= f * m[col * p + k];
                    inv[row * p + k] -= f * inv[col * p + k];
                }
            }
        }
    }
    Some(inv)
}

/// Whether the symmetric part of a `p × p` matrix has a Cholesky factorisation.
fn positive_definite(a: &[f64], p: usize) -> bool {
    let mut l = vec![0.0; p * p];
    for j in 0..p {
        for i in j..p {
            let sym = 0.5 * (a[i * p + j] + a[j * p + i]);
            let v = sym - (0..j).map(|k| l[i * p + k] * l[j * p + k]).sum::<f64>();
            if i == j {
                if v <= 0.0 || !v.is_finite() {
                    return false;
                }
                l[j * p + j] = v.sqrt();
            } else {
                l[i * p + j] = v / l[j * p + j];
            }
        }
    }
    true
}

/// `I − a·b` for `p × p` matrices.
fn identity_minus_product(a: &[f64], b: &[f64], p: usize) -> Vec<f64> {
    let mut prod = matmul(a, b, p);
    for (i, v) in prod.iter_mut().enumerate() {
        *v = if i % p == i / p { 1.0 } else { 0.0 } - *v;
    }
    prod
}

/// Blocks are updated in parallel only when a step has this many of them: below it the work
/// of a step is smaller than handing it to another thread.
const PARALLEL_BLOCKS: usize = 64;

impl BlockToeplitz {
    /// The blocks laid out so that each step of [`BlockToeplitz::solve`] is long dot products
    /// and axpys rather than many p × p products: the blocks' rows in reverse block order
    /// (C(m), …, C(1), which meet f_0, …, f_{m−1}, lie side by side) and the blocks' columns in
    /// block order (C(−t) = C(t)ᵀ); f, b and x are kept by columns (f[q][j·p + k] = (f_j)[k][q]).
    fn layout(&self) -> (Vec<Vec<f64>>, Vec<Vec<f64>>) {
        let (p, n) = (self.p, self.blocks.len());
        let rows: Vec<Vec<f64>> = (0..p)
            .map(|i| {
                (0..n)
                    .rev()
                    .flat_map(|t| self.blocks[t][i * p..(i + 1) * p].iter().copied())
                    .collect()
            })
            .collect();
        let cols: Vec<Vec<f64>> = (0..p)
            .map(|i| {
                (0..n)
                    .flat_map(|t| (0..p).map(move |k| self.blocks[t][k * p + i]))
                    .collect()
            })
            .collect();
        (rows, cols)
    }

    /// Solves `T·x = y` for `r` right-hand sides. `y` and the result are `n` blocks of `p × r`
    /// (row `a·p + i`, column `e` at `(a·p + i)·r + e`). `None` when a leading block is singular.
    ///
    /// Levinson's recursion keeps a forward and a backward solution for `I` at the first and at
    /// the last block and grows them (and `x`) one block at a time. It is as accurate as a
    /// Cholesky solve on positive-definite matrices of moderate condition, which Gram matrices of
    /// audio with 512 lags are (the museval fixtures check it to 0.01 dB).
    ///
    /// # Shapes
    /// - `y`: `[n·p·r]` → `x`: `[n·p·r]`
    pub fn solve(&self, y: &[f64], r: usize) -> Option<Vec<f64>> {
        let (p, n) = (self.p, self.blocks.len());
        let np = n * p;
        assert_eq!(y.len(), np * r, "right-hand sides of the system's size");
        let (rows, cols) = self.layout();
        // Σ, the Schur complement of the newest block given the ones before it (the pivots a
        // block Cholesky factorisation would take), is positive definite exactly when the matrix
        // is: dependent references (say one channel a delayed copy of another) show up as a
        // pivot that rounding leaves at or below zero, as in a Cholesky factorisation.
        let mut schur = self.blocks[0].clone();
        if !positive_definite(&schur, p) {
            return None;
        }
        let c0_inv = inverse(&self.blocks[0], p)?;
        let column = |q: usize| -> Vec<f64> {
            let mut v = vec![0.0; np];
            for k in 0..p {
                v[k] = c0_inv[k * p + q];
            }
            v
        };
        let (mut f, mut b): (Vec<Vec<f64>>, Vec<Vec<f64>>) =
            ((0..p).map(column).collect(), (0..p).map(column).collect());
        let mut x: Vec<Vec<f64>> = (0..r)
            .map(|e| {
                let mut v = vec![0.0; np];
                for k in 0..p {
                    v[k] = (0..p).map(|i| c0_inv[k * p + i] * y[i * r + e]).sum();
                }
                v
            })
            .collect();
        let (mut f2, mut b2) = (f.clone(), b.clone());
        for m in 1..n {
            let (len, parallel) = (m * p, m >= PARALLEL_BLOCKS);
            // ε_f = Σ C(m − j)·f_j and ε_b = Σ C(−(j + 1))·b_j: the grown system's last and
            // first block rows against the current pair; θ = Σ C(m − j)·x_j.
            let sums = |i: usize| -> Vec<f64> {
                let (row, col) = (
                    &rows[i][(n - 1 - m) * p..(n - 1) * p],
                    &cols[i][p..(m + 1) * p],
                );
                let ef = f.iter().map(|fq| dot(row, &fq[..len]));
                let eb = b.iter().map(|bq| dot(col, &bq[..len]));
                let theta = x.iter().map(|xe| dot(row, &xe[..len]));
                ef.chain(eb).chain(theta).collect()
            };
            let per_row: Vec<Vec<f64>> = if parallel {
                (0..p).into_par_iter().map(sums).collect()
            } else {
                (0..p).map(sums).collect()
            };
            let pick = |from: usize, width: usize| -> Vec<f64> {
                per_row
                    .iter()
                    .flat_map(|v| v[from..from + width].iter().copied())
                    .collect()
            };
            let (ef, eb, theta) = (pick(0, p), pick(p, p), pick(2 * p, r));
            let alpha = inverse(&identity_minus_product(&eb, &ef, p), p)?;
            let fb = identity_minus_product(&ef, &eb, p);
            let delta = inverse(&fb, p)?;
            // Σ_m = (I − ε_f·ε_b)·Σ_{m−1}, symmetric up to rounding.
            schur = matmul(&fb, &schur, p);
            if !positive_definite(&schur, p) {
                return None;
            }
            let neg = |a: &[f64], c: &[f64]| {
                matmul(a, c, p)
                    .into_iter()
                    .map(|v| -v)
                    .collect::<Vec<f64>>()
            };
            let (beta, gamma) = (neg(&ef, &alpha), neg(&eb, &delta));
            grow(
                &f,
                &b,
                (&mut f2, &mut b2),
                [&alpha, &beta, &gamma, &delta],
                len,
                parallel,
            );
            std::mem::swap(&mut f, &mut f2);
            std::mem::swap(&mut b, &mut b2);
            // x' = [x; 0] + b'·(y_m − θ)
            let update = |(e, xe): (usize, &mut Vec<f64>)| {
                for k in 0..p {
                    let residual = y[(m * p + k) * r + e] - theta[k * r + e];
                    axpy(&mut xe[..len + p], &b[k][..len + p], residual);
                }
            };
            if parallel {
                x.par_iter_mut().enumerate().for_each(update);
            } else {
                x.iter_mut().enumerate().for_each(update);
            }
        }
        let out: Vec<f64> = (0..np * r).map(|i| x[i % r][i / r]).collect();
        out.iter().all(|v| v.is_finite()).then_some(out)
    }
}

/// One Levinson step of the forward and backward solutions, into `next`: f' = [f; 0]·α +
/// [0; b]·β and b' = [f; 0]·γ + [0; b]·δ, column by column (`len` = m·p rows so far).
fn grow(
    f: &[Vec<f64>],
    b: &[Vec<f64>],
    next: (&mut [Vec<f64>], &mut [Vec<f64>]),
    [alpha, beta, gamma, delta]: [&[f64]; 4],
    len: usize,
    parallel: bool,
) {
    let p = f.len();
    let grow_one = |(q, out): (usize, &mut &mut Vec<f64>)| {
        let (q, (left, right)) = if q < p {
            (q, (alpha, beta))
        } else {
            (q - p, (gamma, delta))
        };
        out[..len + p].iter_mut().for_each(|v| *v = 0.0);
        for k in 0..p {
            axpy(&mut out[..len], &f[k][..len], left[k * p + q]);
            axpy(&mut out[p..len + p], &b[k][..len], right[k * p + q]);
        }
    };
    let mut grown: Vec<&mut Vec<f64>> = next.0.iter_mut().chain(next.1.iter_mut()).collect();
    if parallel {
        grown.par_iter_mut().enumerate().for_each(grow_one);
    } else {
        grown.iter_mut().enumerate().for_each(grow_one);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The dense matrix of `t`, row `a·p + i`, column `b·p + j`.
    fn dense(t: &BlockToeplitz) -> Vec<Vec<f64>> {
        let (p, n) = (t.p, t.blocks.len());
        (0..n * p)
            .map(|row| {
                (0..n * p)
                    .map(|col| {
                        let (a, i, b, j) = (row / p, row % p, col / p, col % p);
                        if a >= b {
                            t.blocks[a - b][i * p + j]
                        } else {
                            t.blocks[b - a][j * p + i]
                        }
                    })
                    .collect()
            })
            .collect()
    }

    /// The Gram matrix of two channels shifted by 0..n samples: symmetric positive definite.
    fn gram(n: usize, len: usize) -> BlockToeplitz {
        let sig = |c: usize, t: isize| -> f64 {
            if t < 0 || t >= len as isize {
                0.0
            } else {
                let t = t as f64;
                (0.05 * t * (c + 1) as f64).sin() + 0.3 * ((7 * t as usize + 3 * c) % 11) as f64
                    - 1.5
            }
        };
        // C(k)[i][j] = Σ_t x_i[t]·x_j[t + k].
        let blocks = (0..n)
            .map(|k| {
                (0..4)
                    .map(|ij| {
                        (0..len as isize)
                            .map(|t| sig(ij / 2, t) * sig(ij % 2, t + k as isize))
                            .sum()
                    })
                    .collect()
            })
            .collect();
        BlockToeplitz { p: 2, blocks }
    }

    #[test]
    fn solves_a_gram_system_larger_than_the_parallel_threshold() {
        let t = gram(PARALLEL_BLOCKS + 6, 300);
        let (p, n, r) = (t.p, t.blocks.len(), 3);
        let y: Vec<f64> = (0..n * p * r)
            .map(|i| ((i * 13) % 7) as f64 - 3.0)
            .collect();
        let x = t.solve(&y, r).unwrap();
        let a = dense(&t);
        for row in 0..n * p {
            for e in 0..r {
                let got: f64 = (0..n * p).map(|col| a[row][col] * x[col * r + e]).sum();
                assert!(
                    (got - y[row * r + e]).abs() < 1e-8,
                    "row {row}, rhs {e}: {got}"
                );
            }
        }
    }

    #[test]
    fn solves_a_two_by_two_system_and_refuses_a_singular_one() {
        // n = 2 blocks of 1×1: [[4, 2], [2, 3]]·x = [2, 1] → x = [0.5, 0].
        let t = BlockToeplitz {
            p: 1,
            blocks: vec![vec![4.0], vec![2.0]],
        };
        let x = t.solve(&[2.0, 1.0], 1).unwrap();
        assert!((x[0] - 0.5).abs() < 1e-12 && x[1].abs() < 1e-12, "{x:?}");
        // [[1, 1], [1, 1]] is singular.
        let t = BlockToeplitz {
            p: 1,
            blocks: vec![vec![1.0], vec![1.0]],
        };
        assert!(t.solve(&[1.0, 1.0], 1).is_none());
    }
}
