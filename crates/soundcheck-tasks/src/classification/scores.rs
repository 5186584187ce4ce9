//! A classifier's scores on some clips: accuracy, per-class precision, recall and F1, the
//! confusion matrix, accuracy per group (speaker, session) when the clips are grouped, and
//! scikit-learn's text report.

use serde::Serialize;
use soundcheck_eval::ClassReport;

/// Accuracy, per-class scores and the confusion matrix of a classifier on some clips.
#[derive(Clone, Debug, Serialize)]
pub struct Scores {
    /// Share of clips predicted right.
    pub accuracy: f64,
    /// The mean F1 over classes.
    pub macro_f1: f64,
    /// Each class's scores.
    pub per_class: Vec<ClassScores>,
    /// `confusion[true][predicted]`.
    pub confusion: Vec<Vec<usize>>,
    /// Accuracy of each group's clips, groups in name order; empty when the clips are not
    /// grouped.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub per_group: Vec<GroupScores>,
}

/// One group's accuracy.
#[derive(Clone, Debug, Serialize)]
pub struct GroupScores {
    /// The group.
    pub group: String,
    /// Its clips predicted right among its clips.
    pub accuracy: f64,
    /// Its clips.
    pub clips: usize,
}

/// One class's scores.
#[derive(Clone, Debug, Serialize)]
pub struct ClassScores {
    /// The class.
    pub class: String,
    /// Right predictions of it among all predictions of it.
    pub precision: f64,
    /// Its clips predicted right among all its clips.
    pub recall: f64,
    /// The harmonic mean of precision and recall.
    pub f1: f64,
    /// Its clips.
    pub support: usize,
}

impl Scores {
    /// The scores of `r`, with each clip's group (in `r`'s clip order) when grouped.
    pub(super) fn new(
        r: &ClassReport,
        classes: &[String],
        grouped: Option<(&[String], &[usize], &[usize])>,
    ) -> Scores {
        Scores {
            per_group: grouped.map_or_else(Vec::new, |(g, t, p)| per_group(g, t, p)),
            accuracy: r.accuracy,
            macro_f1: ClassReport::macro_avg(&r.f1),
            per_class: classes
                .iter()
                .enumerate()
                .map(|(i, c)| ClassScores {
                    class: c.clone(),
                    precision: r.precision[i],
                    recall: r.recall[i],
                    f1: r.f1[i],
                    support: r.support[i],
                })
                .collect(),
            confusion: r.confusion.clone(),
        }
    }

    /// scikit-learn's classification_report layout, then the confusion matrix (rows: true
    /// class).
    pub fn text(&self) -> String {
        let classes: Vec<&str> = self.per_class.iter().map(|c| c.class.as_str()).collect();
        let w = classes.iter().map(|c| c.len()).max().unwrap_or(5).max(9);
        let mut s = format!("{:>w$}  precision  recall  f1-score  support\n", "");
        for c in &self.per_class {
            s.push_str(&format!(
                "{:>w$}  {:>9.3}  {:>6.3}  {:>8.3}  {:>7}\n",
                c.class, c.precision, c.recall, c.f1, c.support
            ));
        }
        let n: usize = self.per_class.iter().map(|c| c.support).sum();
        let avg = |f: fn(&ClassScores) -> f64| {
            ClassReport::macro_avg(&self.per_class.iter().map(f).collect::<Vec<_>>())
        };
        s.push_str(&format!(
            "{:>w$}  {:>9}  {:>6}  {:>8.3}  {n:>7}\n",
            "accuracy", "", "", self.accuracy
        ));
        s.push_str(&format!(
            "{:>w$}  {:>9.3}  {:>6.3}  {:>8.3}  {n:>7}\n\nconfusion matrix (rows: true class, columns: predicted)\n",
            "macro avg",
            avg(|c| c.precision),
            avg(|c| c.recall),
            avg(|c| c.f1)
        ));
        for (c, row) in classes.iter().zip(&self.confusion) {
            let cells: Vec<String> = row.iter().map(|v| format!("{v:>4}")).collect();
            s.push_str(&format!("{c:>w$}  {}\n", cells.join("")));
        }
        if !self.per_group.is_empty() {
            let accs: Vec<f64> = self.per_group.iter().map(|g| g.accuracy).collect();
            let worst = accs.iter().copied().fold(f64::INFINITY, f64::min);
            let gw = self
                .per_group
                .iter()
                .map(|g| g.group.len())
                .max()
                .unwrap_or(5)
                .max(5);
            s.push_str(&format!(
                "\naccuracy per group (mean {:.3}, worst {worst:.3})\n{:>gw$}  accuracy  clips\n",
                accs.iter().sum::<f64>() / accs.len() as f64,
                "group"
            ));
            for g in &self.per_group {
                s.push_str(&format!(
                    "{:>gw$}  {:>8.3}  {:>5}\n",
                    g.group, g.accuracy, g.clips
                ));
            }
        }
        s
    }
}

/// Accuracy per group of clips whose true and predicted classes are `truth` and `predicted`.
fn per_group(groups: &[String], truth: &[usize], predicted: &[usize]) -> Vec<GroupScores> {
    let mut by: std::collections::BTreeMap<&str, (usize, usize)> = Default::default();
    for ((g, t), p) in groups.iter().zip(truth).zip(predicted) {
        let e = by.entry(g.as_str()).or_default();
        e.0 += usize::from(t == p);
        e.1 += 1;
    }
    by.into_iter()
        .map(|(g, (right, n))| GroupScores {
            group: g.to_string(),
            accuracy: right as f64 / n as f64,
            clips: n,
        })
        .collect()
}
