//! Keras's optimizers (Adam, AdamW, SGD with momentum), learning-rate schedules and global-norm
//! clipping, on the variables' values. The state is plain vectors so a checkpoint holds it
//! exactly and a resumed run continues bit for bit.

use crate::error::{NnError, Result};

/// Keras's optimizers.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum OptimizerKind {
    /// Keras defaults: β₁ 0.9, β₂ 0.999, ε 1e-7.
    Adam,
    /// Adam with decoupled weight decay (Keras's default 0.004).
    AdamW {
        /// Decay per step, times the learning rate.
        weight_decay: f32,
    },
    /// Keras's SGD: `m = μ·m − lr·g; w += m` (Nesterov: `w += μ·m − lr·g`).
    Sgd {
        /// μ (Keras's default 0; the CLI's `sgd` uses 0.9).
        momentum: f32,
        /// Nesterov momentum.
        nesterov: bool,
    },
}

impl OptimizerKind {
    /// The optimizer of a name (`adam`, `adamw`, `sgd`), with Keras's defaults.
    pub fn parse(name: &str) -> Result<OptimizerKind> {
        Ok(match name.to_lowercase().as_str() {
            "adam" => OptimizerKind::Adam,
            "adamw" => OptimizerKind::AdamW {
                weight_decay: 0.004,
            },
            "sgd" => OptimizerKind::Sgd {
                momentum: 0.9,
                nesterov: false,
            },
            other => {
                return Err(NnError::Config {
                    name: "optimizer",
                    actual: other.to_string(),
                    expected: "adam, adamw or sgd".into(),
                })
            }
        })
    }

    /// Slots per variable: Adam keeps two moments, SGD one velocity.
    fn slots(self) -> usize {
        match self {
            OptimizerKind::Adam | OptimizerKind::AdamW { .. } => 2,
            OptimizerKind::Sgd { .. } => 1,
        }
    }
}

/// The learning rate over training steps.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Schedule {
    /// The initial rate throughout.
    Constant,
    /// Keras's `ExponentialDecay(staircase=True)`: × `factor` every `every` steps.
    Step {
        /// Steps between decays.
        every: u64,
        /// The rate's factor at each decay.
        factor: f64,
    },
    /// Keras's `CosineDecay` (alpha 0): from the initial rate to 0 over `steps`.
    Cosine {
        /// Steps to reach 0.
        steps: u64,
    },
}

impl Schedule {
    /// The rate at `step` (0-based) from `initial`.
    pub fn rate(self, initial: f64, step: u64) -> f64 {
        match self {
            Schedule::Constant => initial,
            Schedule::Step { every, factor } => initial * factor.powi((step / every.max(1)) as i32),
            Schedule::Cosine { steps } => {
                let t = step.min(steps) as f64 / steps.max(1) as f64;
                initial * 0.5 * (1.0 + (std::f64::consts::PI * t).cos())
            }
        }
    }
}

const BETA1: f64 = 0.9;
const BETA2: f64 = 0.999;
const EPS: f32 = 1e-7;

/// An optimizer with its state for a list of variables.
#[derive(Clone, Debug, PartialEq)]
pub struct Optimizer {
    /// Which optimizer.
    pub kind: OptimizerKind,
    /// Updates applied so far (Keras's `iterations`).
    pub step: u64,
    /// Per variable, the kind's slots (Adam: m then v; SGD: velocity).
    pub slots: Vec<Vec<Vec<f32>>>,
}

impl Optimizer {
    /// Zeroed state for variables of `sizes` elements.
    pub fn new(kind: OptimizerKind, sizes: &[usize]) -> Optimizer {
        Optimizer {
            kind,
            step: 0,
            slots: sizes
                .iter()
                .map(|&n| vec![vec![0f32; n]; kind.slots()])
                .collect(),
        }
    }

    /// One update of every variable with its gradient at learning rate `lr`.
    pub fn apply(&mut self, values: &mut [Vec<f32>], grads: &[Vec<f32>], lr: f64) {
        self.step += 1;
        let t = self.step as i32;
        for ((w, g), slots) in values.iter_mut().zip(grads).zip(&mut self.slots) {
            match self.kind {
                OptimizerKind::Adam | OptimizerKind::AdamW { .. } => {
                    if let OptimizerKind::AdamW { weight_decay } = self.kind {
                        let shrink = 1.0 - (lr as f32) * weight_decay;
                        w.iter_mut().for_each(|x| *x *= shrink);
                    }
                    let alpha = (lr * (1.0 - BETA2.powi(t)).sqrt() / (1.0 - BETA1.powi(t))) as f32;
                    let (m, v) = slots.split_at_mut(1);
                    let (m, v) = (&mut m[0], &mut v[0]);
                    let (b1, b2) = ((1.0 - BETA1) as f32, (1.0 - BETA2) as f32);
                    for i in 0..w.len() {
                        m[i] += (g[i] - m[i]) * b1;
                        v[i] += (g[i] * g[i] - v[i]) * b2;
                        w[i] -= alpha * m[i] / (v[i].sqrt() + EPS);
                    }
                }
                OptimizerKind::Sgd { momentum, nesterov } => {
                    let lr = lr as f32;
                    let m = &mut slots[0];
                    for i in 0..w.len() {
                        m[i] = momentum * m[i] - lr * g[i];
                        w[i] += if nesterov {
                            momentum * m[i] - lr * g[i]
                        } else {
                            m[i]
                        };
                    }
                }
            }
        }
    }
}

/// Scales all gradients together so their global L2 norm is at most `max_norm` (Keras's
/// `global_clipnorm`). Returns the norm before clipping.
pub fn clip_global_norm(grads: &mut [Vec<f32>], max_norm: f32) -> f32 {
    let norm = grads
        .iter()
        .flatten()
        .map(|&g| (g as f64) * (g as f64))
        .sum::<f64>()
        .sqrt() as f32;
    if norm > max_norm {
        let s = max_norm / norm;
        grads.iter_mut().flatten().for_each(|g| *g *= s);
    }
    norm
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adam_first_step_moves_each_weight_by_the_learning_rate() {
        // With m = 0.1·g, v = 0.001·g² and alpha = lr·sqrt(0.001)/0.1, the step is lr·sign(g)
        // (up to ε).
        let mut opt = Optimizer::new(OptimizerKind::Adam, &[2]);
        let mut w = vec![vec![1.0, -1.0]];
        opt.apply(&mut w, &[vec![0.5, -3.0]], 0.01);
        assert!(
            (w[0][0] - 0.99).abs() < 1e-6 && (w[0][1] + 0.99).abs() < 1e-6,
            "{w:?}"
        );
    }

    #[test]
    fn sgd_momentum_accumulates_velocity() {
        let kind = OptimizerKind::Sgd {
            momentum: 0.9,
            nesterov: false,
        };
        let mut opt = Optimizer::new(kind, &[1]);
        let mut w = vec![vec![0.0]];
        opt.apply(&mut w, &[vec![1.0]], 0.1); // m = −0.1, w = −0.1
        opt.apply(&mut w, &[vec![1.0]], 0.1); // m = −0.19, w = −0.29
        assert!((w[0][0] + 0.29).abs() < 1e-6, "{w:?}");
    }

    #[test]
    fn schedules_and_clipping() {
        let step = Schedule::Step {
            every: 10,
            factor: 0.5,
        };
        assert_eq!(step.rate(1.0, 25), 0.25);
        let cos = Schedule::Cosine { steps: 100 };
        assert!((cos.rate(1.0, 50) - 0.5).abs() < 1e-12 && cos.rate(1.0, 200) < 1e-12);
        let mut g = vec![vec![3.0], vec![4.0]];
        assert_eq!(clip_global_norm(&mut g, 1.0), 5.0);
        assert!((g[0][0] - 0.6).abs() < 1e-6 && (g[1][0] - 0.8).abs() < 1e-6);
    }
}
