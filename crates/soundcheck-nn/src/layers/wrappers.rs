//! Wrappers: Bidirectional (a recurrent layer run both ways) and TimeDistributed (a layer run
//! on every timestep).

use soundcheck_shape::layers::{self as spec, Layer, MergeMode};

use super::recurrent::{sequence, Recurrent};
use super::{build, single, Build, Op, WeightSource};
use crate::error::{NnError, Result};
use crate::pass::Pass;
use crate::tensor::{each_rank, Binary, DynTensor};
use crate::variables::Variables;

/// A recurrent layer run forwards and backwards, its two outputs merged.
pub(crate) struct Bidirectional {
    forward: Recurrent,
    backward: Recurrent,
    merge: MergeMode,
}

impl Bidirectional {
    /// Keras keys the halves' weights `{layer}/forward_{inner}/…` and `{layer}/backward_{inner}/…`.
    pub(crate) fn build(bi: &spec::Bidirectional, b: &Build) -> Result<Bidirectional> {
        let half = |direction: &str| -> Result<Recurrent> {
            let ws: WeightSource = b.weights.nested(
                &format!("{direction}_{}", bi.inner_name),
                &format!("{direction}_layer"),
            );
            Recurrent::with_weights(&bi.inner, b, &ws)
        };
        Ok(Bidirectional {
            forward: half("forward")?,
            backward: half("backward")?,
            merge: bi.merge_mode,
        })
    }
}

impl Op for Bidirectional {
    /// # Shapes
    /// - input: `(batch, time, features)`
    /// - output: the inner layer's, with `2·units` features for `merge_mode='concat'`
    fn forward(
        &self,
        inputs: Vec<DynTensor>,
        vars: &Variables,
        pass: &mut Pass,
    ) -> Result<DynTensor> {
        let t = sequence(single(inputs));
        let mask = pass.mask.as_ref();
        let f = self.forward.run(vars, t.clone(), false, mask);
        let b = self.backward.run(vars, t, true, mask);
        Ok(match self.merge {
            MergeMode::Concat => {
                let axis = f.dims().len() - 1;
                DynTensor::concat(vec![f, b], axis)
            }
            MergeMode::Sum => f.zip_with(b, Binary::Add),
            MergeMode::Mul => f.zip_with(b, Binary::Mul),
            MergeMode::Ave => each_rank!(f.zip_with(b, Binary::Add), t => t / 2.0),
        })
    }

    fn keeps_mask(&self) -> bool {
        self.forward.return_sequences
    }
}

/// The inner layer applied to every timestep, time folded into the batch.
pub(crate) struct TimeDistributed(Box<dyn Op>);

impl TimeDistributed {
    /// Keras keys the inner layer's weights `{layer}/{inner}/…`.
    pub(crate) fn build(t: &spec::TimeDistributed, b: &Build) -> Result<TimeDistributed> {
        if matches!(t.inner.layer, Layer::Embedding(_)) {
            return Err(NnError::Unsupported {
                layer: b.layer().to_string(),
                what: "TimeDistributed(Embedding)".into(),
            });
        }
        let inner = Build {
            input: &b.input[1..],
            output: &b.output[1..],
            weights: b.weights.nested(&t.inner.name, "layer"),
        };
        Ok(TimeDistributed(build(&t.inner, &inner)?))
    }
}

impl Op for TimeDistributed {
    /// # Shapes
    /// - input: `(batch, time, *step)`; output: `(batch, time, *inner(step))`
    fn forward(
        &self,
        inputs: Vec<DynTensor>,
        vars: &Variables,
        pass: &mut Pass,
    ) -> Result<DynTensor> {
        let x = single(inputs);
        let dims = x.dims();
        let mut folded = vec![dims[0] * dims[1]];
        folded.extend(&dims[2..]);
        // A timestep mask is over (batch, time), not the folded batch: the inner layer runs
        // unmasked, as Keras's TimeDistributed does not pass masks to its layer.
        let mask = pass.mask.take();
        let y = self.0.forward(vec![x.reshape(&folded)], vars, pass);
        pass.mask = mask;
        let y = y?;
        let mut out = vec![dims[0], dims[1]];
        out.extend(&y.dims()[1..]);
        Ok(y.reshape(&out))
    }
}

#[cfg(test)]
mod tests {
    use crate::testing::{assert_close, network, run};

    #[test]
    fn time_distributed_dense_shares_weights_across_steps() {
        let net = network(
            "[3, 2]",
            "[[layers]]\ntype = \"TimeDistributed\"\nlayer = { type = \"Dense\", config = { units = 1 } }\n",
            &[
                ("time_distributed/dense/kernel", &[2, 1], vec![1.0, -1.0]),
                ("time_distributed/dense/bias", &[1], vec![10.0]),
            ],
        );
        let (shape, y) = run(&net, &[1, 3, 2], vec![1.0, 2.0, 5.0, 3.0, 0.0, 0.0]);
        assert_eq!(shape, [1, 3, 1]);
        assert_close(&y, &[9.0, 12.0, 10.0]);
    }

    #[test]
    fn bidirectional_sum_adds_the_reversed_pass() {
        // One unit, h_t = tanh(x_t): no recurrence, so the backward half gives the same values
        // and 'sum' doubles them.
        let w = |d: &str| format!("bidirectional/{d}_simple_rnn/simple_rnn_cell");
        let (f, b) = (w("forward"), w("backward"));
        let keys = [
            (format!("{f}/kernel"), vec![1.0]),
            (format!("{f}/recurrent_kernel"), vec![0.0]),
            (format!("{b}/kernel"), vec![1.0]),
            (format!("{b}/recurrent_kernel"), vec![0.0]),
        ];
        let weights: Vec<(&str, &[usize], Vec<f32>)> = keys
            .iter()
            .map(|(k, v)| (k.as_str(), &[1usize, 1][..], v.clone()))
            .collect();
        let layers = "[[layers]]\ntype = \"Bidirectional\"\nmerge_mode = \"sum\"\nlayer = { type = \"SimpleRNN\", config = { units = 1, use_bias = false, return_sequences = true } }\n";
        let net = network("[2, 1]", layers, &weights);
        let (shape, y) = run(&net, &[1, 2, 1], vec![0.5, -1.0]);
        assert_eq!(shape, [1, 2, 1]);
        assert_close(&y, &[2.0 * 0.5f32.tanh(), 2.0 * (-1f32).tanh()]);
    }
}
