//! Cholesky factorisation of the symmetric positive-definite Gram matrices BSS Eval solves with.

use rayon::prelude::*;

/// A dense matrix, row-major.
#[derive(Clone, Debug)]
pub struct Matrix {
    pub n: usize,
    pub data: Vec<f64>,
}

impl Matrix {
    pub fn zeros(n: usize) -> Matrix {
        Matrix {
            n,
            data: vec![0.0; n * n],
        }
    }
    pub fn at(&mut self, i: usize, j: usize) -> &mut f64 {
        &mut self.data[i * self.n + j]
    }
}

/// Dot product with independent partial sums, so the compiler can vectorise it (a single f64
/// accumulator forces one add at a time; the Cholesky below is almost all dot products).
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

/// Columns factored together: the rows of one block (`BLOCK × n` values) stay in cache while
/// every row below streams past them once, instead of once per column.
const BLOCK: usize = 64;

/// The lower factor `L` of `A = L·Lᵀ`, or `None` when `A` is not positive definite.
///
/// Left-looking by blocks of columns: first every row's block entries take the contribution of
/// the columns already factored (independent across rows, so in parallel), then the block's own
/// columns are finished one by one (Cholesky–Crout, again parallel over rows).
pub fn cholesky(a: &Matrix) -> Option<Matrix> {
    let n = a.n;
    let mut l = Matrix::zeros(n);
    for j0 in (0..n).step_by(BLOCK) {
        let j1 = (j0 + BLOCK).min(n);
        let block_rows: Vec<f64> = l.data[j0 * n..j1 * n].to_vec();
        l.data[j0 * n..]
            .par_chunks_mut(n)
            .enumerate()
            .for_each(|(k, row_i)| {
                let i = j0 + k;
                for jc in j0..j1.min(i + 1) {
                    let row_c = &block_rows[(jc - j0) * n..(jc - j0) * n + j0];
                    row_i[jc] = a.data[i * n + jc] - dot(&row_i[..j0], row_c);
                }
            });
        for j in j0..j1 {
            let (done, below) = l.data.split_at_mut((j + 1) * n);
            let row_j = &mut done[j * n..];
            let d = row_j[j] - dot(&row_j[j0..j], &row_j[j0..j]);
            if d <= 0.0 || !d.is_finite() {
                return None;
            }
            row_j[j] = d.sqrt();
            let (row_j, pivot) = (&row_j[j0..j], row_j[j]);
            below.par_chunks_mut(n).for_each(|row_i| {
                row_i[j] = (row_i[j] - dot(&row_i[j0..j], row_j)) / pivot;
            });
        }
    }
    Some(l)
}

/// Solves `L·Lᵀ·x = b` in place. Both passes read `L` by rows (the backward one subtracts each
/// solved unknown from the ones above it), because reading a column of a row-major 4096² factor
/// misses the cache at every element.
pub fn solve(l: &Matrix, b: &mut [f64]) {
    let n = l.n;
    for i in 0..n {
        b[i] = (b[i] - dot(&l.data[i * n..i * n + i], &b[..i])) / l.data[i * n + i];
    }
    for i in (0..n).rev() {
        b[i] /= l.data[i * n + i];
        let x = b[i];
        for (bk, lik) in b[..i].iter_mut().zip(&l.data[i * n..i * n + i]) {
            *bk -= lik * x;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn factors_a_matrix_larger_than_a_block() {
        // A = M·Mᵀ + n·I with M[i][j] = ((7i + 3j) mod 11) − 5: symmetric positive definite.
        let n = 150;
        let m = |i: usize, j: usize| ((7 * i + 3 * j) % 11) as f64 - 5.0;
        let mut a = Matrix::zeros(n);
        for i in 0..n {
            for j in 0..n {
                *a.at(i, j) = (0..n).map(|k| m(i, k) * m(j, k)).sum::<f64>()
                    + if i == j { n as f64 } else { 0.0 };
            }
        }
        let l = cholesky(&a).unwrap();
        for i in 0..n {
            for j in 0..n {
                let llt: f64 = (0..n).map(|k| l.data[i * n + k] * l.data[j * n + k]).sum();
                assert!(
                    (llt - a.data[i * n + j]).abs() < 1e-8 * a.data[i * n + i],
                    "({i}, {j})"
                );
            }
        }
    }

    #[test]
    fn solves_a_small_system() {
        // A = [[4, 2], [2, 3]], b = [2, 1] → x = [0.5, 0].
        let a = Matrix {
            n: 2,
            data: vec![4.0, 2.0, 2.0, 3.0],
        };
        let l = cholesky(&a).unwrap();
        let mut b = vec![2.0, 1.0];
        solve(&l, &mut b);
        assert!((b[0] - 0.5).abs() < 1e-12 && b[1].abs() < 1e-12);
        assert!(cholesky(&Matrix {
            n: 1,
            data: vec![-1.0]
        })
        .is_none());
    }
}
