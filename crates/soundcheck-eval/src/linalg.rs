//! Cholesky factorisation of the symmetric positive-definite Gram matrices BSS Eval solves with.

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

/// The lower factor `L` of `A = L·Lᵀ`, or `None` when `A` is not positive definite.
pub fn cholesky(a: &Matrix) -> Option<Matrix> {
    let n = a.n;
    let mut l = Matrix::zeros(n);
    for i in 0..n {
        for j in 0..=i {
            let (ri, rj) = (&l.data[i * n..i * n + j], &l.data[j * n..j * n + j]);
            let s = a.data[i * n + j] - ri.iter().zip(rj).map(|(x, y)| x * y).sum::<f64>();
            if i == j {
                if s <= 0.0 || !s.is_finite() {
                    return None;
                }
                l.data[i * n + i] = s.sqrt();
            } else {
                l.data[i * n + j] = s / l.data[j * n + j];
            }
        }
    }
    Some(l)
}

/// Solves `L·Lᵀ·x = b` in place.
pub fn solve(l: &Matrix, b: &mut [f64]) {
    let n = l.n;
    for i in 0..n {
        let s: f64 = l.data[i * n..i * n + i]
            .iter()
            .zip(&b[..i])
            .map(|(x, y)| x * y)
            .sum();
        b[i] = (b[i] - s) / l.data[i * n + i];
    }
    for i in (0..n).rev() {
        let s: f64 = (i + 1..n).map(|k| l.data[k * n + i] * b[k]).sum();
        b[i] = (b[i] - s) / l.data[i * n + i];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
