//! Recurrent layers (LSTM, GRU, SimpleRNN) and Keras's Masking, whose timestep mask they obey.

use burn::tensor::activation as act;
use burn::tensor::{Tensor, TensorData};
use soundcheck_shape::layers::{Activation, Function, Rnn, RnnCell};

use super::{single, Build, Op, WeightSource};
use crate::error::Result;
use crate::kernels;
use crate::pass::Pass;
use crate::tensor::{Binary, DynTensor};
use crate::variables::Variables;

/// A recurrent layer's weights, Keras's gate order (LSTM i, f, c, o; GRU z, r, h).
pub(crate) struct Recurrent {
    cell: RnnCell,
    units: usize,
    /// `(features, gates·units)`.
    w: usize,
    /// `(units, gates·units)`.
    u: usize,
    /// `(gates·units)`, or `(2, gates·units)` for a GRU with reset_after: the input
    /// projection's bias, then the recurrent projection's.
    bias: Option<usize>,
    pub(crate) return_sequences: bool,
}

fn gates(cell: RnnCell) -> usize {
    match cell {
        RnnCell::Lstm => 4,
        RnnCell::Gru { .. } => 3,
        RnnCell::Simple => 1,
    }
}

impl Recurrent {
    pub(crate) fn build(r: &Rnn, b: &Build) -> Result<Recurrent> {
        Recurrent::with_weights(r, b, &b.weights)
    }

    /// Reads the layer's weights from `{ws}/{cell}/…` (a Bidirectional keeps one set per
    /// direction), refusing activations other than Keras's defaults.
    pub(crate) fn with_weights(r: &Rnn, b: &Build, ws: &WeightSource) -> Result<Recurrent> {
        for (key, got, default) in [
            ("activation", &r.activation, Function::Tanh),
            (
                "recurrent_activation",
                &r.recurrent_activation,
                Function::Sigmoid,
            ),
        ] {
            if *got != Activation::Function(default) {
                return Err(b.unsupported(format!(
                    "{key}={got} in a recurrent layer (only '{}')",
                    default.name()
                )));
            }
        }
        let cell = match r.cell {
            RnnCell::Lstm => "lstm_cell",
            RnnCell::Gru { .. } => "gru_cell",
            RnnCell::Simple => "simple_rnn_cell",
        };
        let ws = ws.nested(cell, "cell");
        let (u, g, features) = (r.units, gates(r.cell), b.known(1));
        let bias = match (r.use_bias, r.cell) {
            (false, _) => None,
            (true, RnnCell::Gru { reset_after: true }) => Some(ws.get("bias", &[2, g * u])?),
            (true, _) => Some(ws.get("bias", &[g * u])?),
        };
        Ok(Recurrent {
            cell: r.cell,
            units: u,
            w: ws.get("kernel", &[features, g * u])?,
            u: ws.get("recurrent_kernel", &[u, g * u])?,
            bias,
            return_sequences: r.return_sequences,
        })
    }

    /// Runs the layer over `x`, backwards when `reverse` (a Bidirectional's backward half,
    /// its sequence output put back in input time order). A masked timestep (mask 0) keeps the
    /// state and outputs zeros, as Keras 3 does.
    ///
    /// # Shapes
    /// - `x`: `(batch, time, features)`; `mask`: `(batch, time)`
    /// - output: `(batch, time, units)` with `return_sequences`, else `(batch, units)`
    pub(crate) fn run(
        &self,
        vars: &Variables,
        x: Tensor<3>,
        reverse: bool,
        mask: Option<&Tensor<2>>,
    ) -> DynTensor {
        let [n, t, f] = x.dims();
        let (u, g) = (self.units, gates(self.cell));
        let device = x.device();
        let (b_in, b_rec): (Option<Tensor<1>>, Option<Tensor<1>>) = match self.bias {
            None => (None, None),
            Some(b) if vars.get(b).shape.len() == 2 => {
                let b = vars.tensor::<2>(b);
                (
                    Some(b.clone().slice([0..1, 0..g * u]).reshape([g * u])),
                    Some(b.slice([1..2, 0..g * u]).reshape([g * u])),
                )
            }
            Some(b) => (Some(vars.tensor::<1>(b)), None),
        };
        let (w, ru) = (vars.tensor::<2>(self.w), vars.tensor::<2>(self.u));
        // The input projections of all timesteps in one product.
        let mut xw = x.reshape([n * t, f]).matmul(w);
        if let Some(b) = b_in {
            xw = xw + b.unsqueeze::<2>();
        }
        let xw = xw.reshape([n, t, g * u]);
        let sequences = self.return_sequences;
        let flags = (reverse, sequences);
        if let Some(y) = kernels::recurrence(self.cell, &xw, &ru, b_rec.as_ref(), mask, flags) {
            return match sequences {
                true => DynTensor::R3(y.reshape([n, t, u])),
                false => DynTensor::R2(y),
            };
        }
        let mut h = Tensor::<2>::zeros([n, u], &device);
        let mut c = Tensor::<2>::zeros([n, u], &device);
        let mut outs = Vec::with_capacity(if self.return_sequences { t } else { 0 });
        for step in 0..t {
            let ti = if reverse { t - 1 - step } else { step };
            let xt: Tensor<2> = xw
                .clone()
                .slice([0..n, ti..ti + 1, 0..g * u])
                .reshape([n, g * u]);
            let m = mask.map(|m| m.clone().slice([0..n, ti..ti + 1]));
            let (h_new, c_new) = self.step(xt, &h, &c, &ru, b_rec.as_ref());
            if let Some(c_new) = c_new {
                c = keep_where_masked(c_new, c, m.as_ref());
            }
            if self.return_sequences {
                outs.push(match &m {
                    Some(m) => h_new.clone() * m.clone(),
                    None => h_new.clone(),
                });
            }
            h = keep_where_masked(h_new, h, m.as_ref());
        }
        if !self.return_sequences {
            return DynTensor::R2(h);
        }
        if reverse {
            outs.reverse();
        }
        DynTensor::R3(Tensor::cat(
            outs.into_iter().map(|o| o.unsqueeze_dim::<3>(1)).collect(),
            1,
        ))
    }

    /// One timestep: the new hidden state, and the new cell state of an LSTM.
    ///
    /// # Shapes
    /// - `xt`: `(batch, gates·units)` (input projection with its bias); `h`, `c`: `(batch, units)`
    fn step(
        &self,
        xt: Tensor<2>,
        h: &Tensor<2>,
        c: &Tensor<2>,
        ru: &Tensor<2>,
        b_rec: Option<&Tensor<1>>,
    ) -> (Tensor<2>, Option<Tensor<2>>) {
        let u = self.units;
        let n = xt.dims()[0];
        let gate = |z: &Tensor<2>, k: usize| z.clone().slice([0..n, k * u..(k + 1) * u]);
        match self.cell {
            RnnCell::Lstm => {
                let z = xt + h.clone().matmul(ru.clone());
                let (i, fg, cc, o) = (
                    act::sigmoid(gate(&z, 0)),
                    act::sigmoid(gate(&z, 1)),
                    act::tanh(gate(&z, 2)),
                    act::sigmoid(gate(&z, 3)),
                );
                let c_new = fg * c.clone() + i * cc;
                (o * act::tanh(c_new.clone()), Some(c_new))
            }
            RnnCell::Gru { reset_after: true } => {
                let mut hu = h.clone().matmul(ru.clone());
                if let Some(b) = b_rec {
                    hu = hu + b.clone().unsqueeze::<2>();
                }
                let z = act::sigmoid(gate(&xt, 0) + gate(&hu, 0));
                let rg = act::sigmoid(gate(&xt, 1) + gate(&hu, 1));
                let hh = act::tanh(gate(&xt, 2) + rg * gate(&hu, 2));
                (z.clone() * h.clone() + (z.neg() + 1.0) * hh, None)
            }
            RnnCell::Gru { reset_after: false } => {
                let u_zr = ru.clone().slice([0..u, 0..2 * u]);
                let u_h = ru.clone().slice([0..u, 2 * u..3 * u]);
                let zr = xt.clone().slice([0..n, 0..2 * u]) + h.clone().matmul(u_zr);
                let z = act::sigmoid(gate(&zr, 0));
                let rg = act::sigmoid(gate(&zr, 1));
                let hh = act::tanh(gate(&xt, 2) + (rg * h.clone()).matmul(u_h));
                (z.clone() * h.clone() + (z.neg() + 1.0) * hh, None)
            }
            RnnCell::Simple => (act::tanh(xt + h.clone().matmul(ru.clone())), None),
        }
    }
}

/// A recurrent layer's input, which the shape engine checked to be `(batch, time, features)`.
pub(crate) fn sequence(x: DynTensor) -> Tensor<3> {
    let DynTensor::R3(t) = x else {
        unreachable!("the shape engine checked the recurrent input rank")
    };
    t
}

/// The new state where the mask is 1, the old one where it is 0.
fn keep_where_masked(new: Tensor<2>, old: Tensor<2>, mask: Option<&Tensor<2>>) -> Tensor<2> {
    match mask {
        Some(m) => new * m.clone() + old * (m.clone().neg() + 1.0),
        None => new,
    }
}

impl Op for Recurrent {
    /// # Shapes
    /// - input: `(batch, time, features)`
    /// - output: `(batch, time, units)` with `return_sequences`, else `(batch, units)`
    fn forward(
        &self,
        inputs: Vec<DynTensor>,
        vars: &Variables,
        pass: &mut Pass,
    ) -> Result<DynTensor> {
        let x = sequence(single(inputs));
        Ok(self.run(vars, x, false, pass.mask.as_ref()))
    }

    fn keeps_mask(&self) -> bool {
        self.return_sequences
    }
}

/// Keras's Masking: timesteps whose features all equal the value are zeroed, and the layers
/// after it see the mask.
pub(crate) struct Masking {
    value: f32,
}

impl Masking {
    pub(crate) fn new(value: f32) -> Masking {
        Masking { value }
    }
}

impl Op for Masking {
    /// Sets the pass's mask `(batch, time)`: 1 where any feature differs from the value.
    ///
    /// # Shapes
    /// - input: `(batch, time, ...)`; output: the same shape
    fn forward(&self, inputs: Vec<DynTensor>, _: &Variables, pass: &mut Pass) -> Result<DynTensor> {
        let x = single(inputs);
        let dims = x.dims();
        let (n, t) = (dims[0], dims[1]);
        let per: usize = dims[2..].iter().product();
        let m: Vec<f32> = x
            .to_vec()
            .chunks(per.max(1))
            .map(|step| step.iter().any(|&v| v != self.value) as u8 as f32)
            .collect();
        let device = x.device();
        pass.mask = Some(Tensor::from_data(
            TensorData::new(m.clone(), [n, t]),
            &device,
        ));
        let mut shape = vec![n, t];
        shape.extend(std::iter::repeat_n(1, dims.len() - 2));
        Ok(x.zip_with(DynTensor::from_data(&shape, m, &device), Binary::Mul))
    }

    fn keeps_mask(&self) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use crate::testing::{assert_close, network, run};

    #[test]
    fn simple_rnn_is_the_written_out_recurrence() {
        // h_t = tanh(x_t·w + h_{t−1}·u + b), one unit.
        let net = network(
            "[3, 1]",
            "[[layers]]\ntype = \"SimpleRNN\"\nunits = 1\nreturn_sequences = true\n",
            &[
                ("simple_rnn/simple_rnn_cell/kernel", &[1, 1], vec![0.5]),
                (
                    "simple_rnn/simple_rnn_cell/recurrent_kernel",
                    &[1, 1],
                    vec![-1.0],
                ),
                ("simple_rnn/simple_rnn_cell/bias", &[1], vec![0.1]),
            ],
        );
        let x = [1.0f32, 2.0, -1.0];
        let mut h = 0f32;
        let want: Vec<f32> = x
            .iter()
            .map(|&v| {
                h = (0.5 * v - h + 0.1).tanh();
                h
            })
            .collect();
        let (shape, y) = run(&net, &[1, 3, 1], x.to_vec());
        assert_eq!(shape, [1, 3, 1]);
        assert_close(&y, &want);
    }

    #[test]
    fn masked_steps_keep_the_state_and_output_zeros() {
        let layers = "[[layers]]\ntype = \"Masking\"\n\n[[layers]]\ntype = \"SimpleRNN\"\nunits = 1\nreturn_sequences = true\n";
        let weights: [(&str, &[usize], Vec<f32>); 3] = [
            ("simple_rnn/simple_rnn_cell/kernel", &[1, 1], vec![1.0]),
            (
                "simple_rnn/simple_rnn_cell/recurrent_kernel",
                &[1, 1],
                vec![1.0],
            ),
            ("simple_rnn/simple_rnn_cell/bias", &[1], vec![0.0]),
        ];
        let net = network("[3, 1]", layers, &weights);
        let (_, y) = run(&net, &[1, 3, 1], vec![1.0, 0.0, 1.0]);
        let h1 = 1f32.tanh();
        assert_close(&y, &[h1, 0.0, (1.0 + h1).tanh()]);
    }

    #[test]
    fn non_default_activations_are_refused_by_name() {
        let spec = soundcheck_shape::spec::ModelSpec::from_toml_str(
            "input_shape = [3, 1]\n[[layers]]\ntype = \"LSTM\"\nunits = 2\nactivation = \"relu\"\n",
        )
        .unwrap();
        let e = crate::Network::initialized(&spec, 0, &burn::tensor::Device::flex())
            .err()
            .expect("refused")
            .to_string();
        assert!(
            e.contains("activation=") && e.contains("only 'tanh'"),
            "{e}"
        );
    }
}
