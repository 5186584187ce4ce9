//! Classifier scores as scikit-learn reports them: accuracy, per-class precision, recall and F1
//! (0 where undefined, as `zero_division=0`), their macro averages, and the confusion matrix.

/// Scores of predicted against true class indices.
#[derive(Clone, Debug, PartialEq)]
pub struct ClassReport {
    /// `confusion[t][p]`: clips of true class `t` predicted as `p`.
    pub confusion: Vec<Vec<usize>>,
    /// Share of clips predicted right.
    pub accuracy: f64,
    /// Per class: right predictions of the class among all predictions of it (0 when never predicted).
    pub precision: Vec<f64>,
    /// Per class: clips of the class predicted right among all its clips.
    pub recall: Vec<f64>,
    /// Per class: the harmonic mean of precision and recall.
    pub f1: Vec<f64>,
    /// Clips per true class.
    pub support: Vec<usize>,
}

impl ClassReport {
    /// # Panics
    /// Never for indices below `classes`; larger indices are a caller bug and panic.
    pub fn new(truth: &[usize], predicted: &[usize], classes: usize) -> ClassReport {
        let mut confusion = vec![vec![0usize; classes]; classes];
        for (&t, &p) in truth.iter().zip(predicted) {
            confusion[t][p] += 1;
        }
        let ratio = |a: usize, b: usize| if b == 0 { 0.0 } else { a as f64 / b as f64 };
        let hits: usize = (0..classes).map(|c| confusion[c][c]).sum();
        let support: Vec<usize> = confusion.iter().map(|r| r.iter().sum()).collect();
        let predicted_as: Vec<usize> = (0..classes)
            .map(|p| confusion.iter().map(|r| r[p]).sum())
            .collect();
        let precision: Vec<f64> = (0..classes)
            .map(|c| ratio(confusion[c][c], predicted_as[c]))
            .collect();
        let recall: Vec<f64> = (0..classes)
            .map(|c| ratio(confusion[c][c], support[c]))
            .collect();
        let f1 = precision
            .iter()
            .zip(&recall)
            .map(|(p, r)| {
                if p + r > 0.0 {
                    2.0 * p * r / (p + r)
                } else {
                    0.0
                }
            })
            .collect();
        ClassReport {
            accuracy: ratio(hits, truth.len()),
            confusion,
            precision,
            recall,
            f1,
            support,
        }
    }

    /// The unweighted mean over classes (scikit-learn's `macro avg`).
    pub fn macro_avg(values: &[f64]) -> f64 {
        values.iter().sum::<f64>() / values.len().max(1) as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scores_equal_their_arithmetic() {
        // truth:     0 0 0 1 1 2
        // predicted: 0 0 1 1 2 2
        let r = ClassReport::new(&[0, 0, 0, 1, 1, 2], &[0, 0, 1, 1, 2, 2], 3);
        assert_eq!(
            r.confusion,
            vec![vec![2, 1, 0], vec![0, 1, 1], vec![0, 0, 1]]
        );
        assert!((r.accuracy - 4.0 / 6.0).abs() < 1e-12);
        assert_eq!(r.precision, vec![1.0, 0.5, 0.5]);
        assert_eq!(r.recall, vec![2.0 / 3.0, 0.5, 1.0]);
        assert!((r.f1[0] - 0.8).abs() < 1e-12 && (r.f1[2] - 2.0 / 3.0).abs() < 1e-12);
        assert_eq!(r.support, vec![3, 2, 1]);
        // A class never predicted and never present scores 0, as zero_division=0.
        let r = ClassReport::new(&[0, 0], &[0, 0], 2);
        assert_eq!((r.precision[1], r.recall[1], r.f1[1]), (0.0, 0.0, 0.0));
    }
}
