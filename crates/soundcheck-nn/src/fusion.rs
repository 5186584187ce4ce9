//! Fusion: which layers of a checked model run together as one op, decided on the layer graph
//! before any op is built. Each fusion saves passes over memory, and the values are those of the
//! separate layers:
//!
//! - a ReLU layer run by the BatchNormalization or the residual Add before it (the
//!   normalisation's kernel and the Add's apply it in the same pass);
//! - a BatchNormalization over the channels run by the convolution before it (at inference, on
//!   our CPU kernel, folded into the values the convolution stores);
//! - Conv1D branches over one input joined by a Concatenate over channels, run as one
//!   convolution (`layers/conv_bank.rs`).
//!
//! A layer is taken into another only when that other layer alone reads it (and it is not a
//! model output). The group runs at its last layer, whose value the rest of the graph reads; a
//! convolution run by a later layer is still built in its own place, so that variables are
//! created (and initial values drawn) in the model's order.

use soundcheck_shape::layers::{
    BatchNorm, Conv, ConvKind, Layer, LayerDef, Merge, MergeOp, Padding,
};
use soundcheck_shape::spec::DataFormat;
use soundcheck_shape::{Model, Report};

use crate::layers::Activation;

/// What the network does at one node of the model.
#[derive(Debug)]
pub(crate) enum Step<'m> {
    /// Runs `work` on the values `reads` (as `Node::inputs`: model inputs first, then nodes): the
    /// node's own inputs, or for a group the inputs of its first layer.
    Run { work: Work<'m>, reads: &'m [usize] },
    /// A ReLU layer that the layer it reads runs: its value is that node's (an index into
    /// `Model::nodes`).
    Same(usize),
    /// A convolution a later node runs ([`Work::Norm`] or [`Work::Bank`]): built here, with no
    /// value of its own (that node alone reads it).
    Held(&'m Conv),
}

/// The layers one op runs.
#[derive(Debug)]
pub(crate) enum Work<'m> {
    /// The node's layer alone.
    Layer(&'m LayerDef),
    /// A BatchNormalization, after the convolution `conv` (a node, [`Step::Held`]) and before
    /// the ReLU layer (`relu`) it took over.
    Norm {
        bn: &'m BatchNorm,
        conv: Option<usize>,
        relu: bool,
    },
    /// An Add, then the ReLU layer it took over.
    AddRelu(&'m Merge),
    /// A Concatenate over channels of Conv1D branches (nodes, [`Step::Held`]), as one bank.
    Bank(Vec<usize>),
}

/// The plan of a model that checked (`report` its inferred shapes): one step per node.
pub(crate) fn plan<'m>(model: &'m Model, report: &Report) -> Vec<Step<'m>> {
    let n_in = model.inputs.len();
    let nodes = &model.nodes;
    let mut readers = vec![0usize; n_in + nodes.len()];
    for &i in nodes.iter().flat_map(|n| &n.inputs).chain(&model.outputs) {
        readers[i] += 1;
    }
    // The node whose value `v` is, when one layer alone reads it.
    let only_read = |v: usize| (v >= n_in && readers[v] == 1).then(|| v - n_in);
    let rank = |v: usize| match v.checked_sub(n_in) {
        None => model.inputs[v].shape.dims().len(),
        Some(k) => report.layers[k].output_shape.dims().len(),
    };

    // ReLU layers into the BatchNormalization or Add before them.
    let mut relu = vec![false; nodes.len()];
    let mut same = vec![None; nodes.len()];
    for (j, node) in nodes.iter().enumerate() {
        let ([i], true) = (node.inputs.as_slice(), is_relu(&node.def)) else {
            continue;
        };
        let Some(i) = only_read(*i) else { continue };
        if matches!(
            &nodes[i].def.layer,
            Layer::BatchNorm(_)
                | Layer::Merge(Merge {
                    op: MergeOp::Add,
                    ..
                })
        ) {
            relu[i] = true;
            same[j] = Some(i);
        }
    }
    // BatchNormalizations over the channels into the convolution before them (which has no
    // activation of its own, so nothing comes between).
    let mut conv = vec![None; nodes.len()];
    let mut held = vec![false; nodes.len()];
    for (j, node) in nodes.iter().enumerate() {
        let (Layer::BatchNorm(bn), [i]) = (&node.def.layer, node.inputs.as_slice()) else {
            continue;
        };
        let last_axis = bn.axis == -1 || bn.axis == rank(*i) as i64;
        let Some(i) = only_read(*i).filter(|_| last_axis) else {
            continue;
        };
        if let Layer::Conv(c) = &nodes[i].def.layer {
            let linear = Activation::from_spec(&c.activation) == Ok(Activation::Linear);
            if c.kind == ConvKind::Standard
                && c.groups == 1
                && c.data_format == DataFormat::ChannelsLast
                && linear
            {
                conv[j] = Some(i);
                held[i] = true;
            }
        }
    }
    // Banks: Conv1D branches over one input that only a Concatenate over channels reads.
    let mut bank = vec![None; nodes.len()];
    for (j, node) in nodes.iter().enumerate() {
        let Layer::Merge(Merge {
            op: MergeOp::Concatenate,
            axis: -1,
        }) = &node.def.layer
        else {
            continue;
        };
        let Some(parts) = node
            .inputs
            .iter()
            .map(|&p| only_read(p))
            .collect::<Option<Vec<_>>>()
        else {
            continue;
        };
        let source = &nodes[parts[0]].inputs;
        let acts: Option<Vec<Activation>> = parts
            .iter()
            .map(|&p| match &nodes[p].def.layer {
                Layer::Conv(c) if nodes[p].inputs == *source && is_branch(c) => {
                    Activation::from_spec(&c.activation).ok()
                }
                _ => None,
            })
            .collect();
        if acts.is_some_and(|a| a.iter().all(|&x| x == a[0])) {
            parts.iter().for_each(|&p| held[p] = true);
            bank[j] = Some(parts);
        }
    }

    nodes
        .iter()
        .enumerate()
        .map(|(k, node)| {
            let reads = |first: usize| nodes[first].inputs.as_slice();
            if let Some(i) = same[k] {
                return Step::Same(i);
            }
            let work = match &node.def.layer {
                Layer::Conv(c) if held[k] => return Step::Held(c),
                Layer::BatchNorm(bn) if conv[k].is_some() || relu[k] => Work::Norm {
                    bn,
                    conv: conv[k],
                    relu: relu[k],
                },
                Layer::Merge(m) if relu[k] => Work::AddRelu(m),
                Layer::Merge(_) if bank[k].is_some() => {
                    let parts = bank[k].take().expect("checked just now");
                    return Step::Run {
                        reads: reads(parts[0]),
                        work: Work::Bank(parts),
                    };
                }
                _ => Work::Layer(&node.def),
            };
            Step::Run {
                reads: reads(conv[k].unwrap_or(k)),
                work,
            }
        })
        .collect()
}

/// Whether a layer is a plain ReLU (an Activation('relu') or a ReLU layer of default arguments).
fn is_relu(def: &LayerDef) -> bool {
    matches!(&def.layer, Layer::Activation(a) if Activation::from_spec(a) == Ok(Activation::Relu))
}

/// Whether a convolution can be a branch of a bank: a channels_last Conv1D of stride 1,
/// dilation 1, 'same' padding and one group.
fn is_branch(c: &Conv) -> bool {
    c.kind == ConvKind::Standard
        && c.rank == 1
        && c.groups == 1
        && c.strides == [1]
        && c.dilation == [1]
        && c.padding == Padding::Same
        && c.data_format == DataFormat::ChannelsLast
}

#[cfg(test)]
mod tests {
    use soundcheck_shape::spec::ModelSpec;
    use soundcheck_shape::Model;

    use super::*;

    /// The plan of a one-input model from TOML layers, as short labels per node.
    fn labels(input_shape: &str, layers: &str) -> Vec<String> {
        let spec = ModelSpec::from_toml_str(&format!("input_shape = {input_shape}\n{layers}"))
            .expect("test spec parses");
        let model = Model::from_spec(&spec).expect("test model");
        let report = model.check();
        plan(&model, &report)
            .iter()
            .map(|step| match step {
                Step::Same(i) => format!("same {i}"),
                Step::Held(_) => "held".into(),
                Step::Run { work, reads } => match work {
                    Work::Layer(def) => format!("{} {reads:?}", def.type_name),
                    Work::Norm { conv, relu, .. } => format!("norm {conv:?} relu {relu} {reads:?}"),
                    Work::AddRelu(_) => format!("add relu {reads:?}"),
                    Work::Bank(parts) => format!("bank {parts:?} {reads:?}"),
                },
            })
            .collect()
    }

    const CONV_BN_RELU: &str = "[[layers]]\ntype = \"Conv2D\"\nfilters = 2\nkernel_size = 3\nuse_bias = false\n\n[[layers]]\ntype = \"BatchNormalization\"\n\n[[layers]]\ntype = \"ReLU\"\n";

    #[test]
    fn conv_norm_relu_run_as_one_at_the_relu_value() {
        let plan = labels("[5, 5, 1]", CONV_BN_RELU);
        assert_eq!(plan, ["held", "norm Some(0) relu true [0]", "same 1"]);
    }

    #[test]
    fn a_layer_read_twice_is_not_taken() {
        // The BatchNormalization is read by the ReLU and is an output: it runs alone.
        let layers = format!("{CONV_BN_RELU}\n[[layers]]\ntype = \"Add\"\ninputs = [\"batch_normalization\", \"re_lu\"]\n");
        let plan = labels("[5, 5, 1]", &layers);
        assert_eq!(
            plan,
            [
                "held",
                "norm Some(0) relu false [0]",
                "ReLU [2]",
                "Add [2, 3]"
            ]
        );
        // A normalisation over another axis than the channels stays apart from its convolution.
        let layers =
            CONV_BN_RELU.replace("\"BatchNormalization\"", "\"BatchNormalization\"\naxis = 1");
        let plan = labels("[5, 5, 1]", &layers);
        assert_eq!(plan, ["Conv2D [0]", "norm None relu true [1]", "same 1"]);
    }

    #[test]
    fn residual_add_takes_its_relu() {
        let layers = "[[layers]]\ntype = \"Dense\"\nname = \"d\"\nunits = 3\n\n[[layers]]\ntype = \"Add\"\ninputs = [\"input\", \"d\"]\n\n[[layers]]\ntype = \"Activation\"\nactivation = \"relu\"\n\n[[layers]]\ntype = \"Activation\"\nactivation = \"relu\"\n";
        let plan = labels("[3]", layers);
        // The second ReLU reads a ReLU, which no layer before it runs for it: it stays.
        assert_eq!(
            plan,
            ["Dense [0]", "add relu [0, 1]", "same 1", "Activation [3]"]
        );
    }

    #[test]
    fn conv1d_branches_of_one_input_run_as_a_bank() {
        let branch = |k: usize, act: &str| {
            format!("[[layers]]\ntype = \"Conv1D\"\nname = \"k{k}\"\nfilters = 2\nkernel_size = {k}\npadding = \"same\"\nactivation = \"{act}\"\ninputs = [\"input\"]\n\n")
        };
        let concat = "[[layers]]\ntype = \"Concatenate\"\ninputs = [\"k1\", \"k2\", \"k3\"]\n";
        let layers: String = (1..=3).map(|k| branch(k, "relu")).collect::<String>() + concat;
        assert_eq!(
            labels("[9, 2]", &layers),
            ["held", "held", "held", "bank [0, 1, 2] [0]"]
        );
        // Branches of different activations run apart.
        let layers = branch(1, "relu") + &branch(2, "tanh") + &branch(3, "relu") + concat;
        assert_eq!(
            labels("[9, 2]", &layers),
            [
                "Conv1D [0]",
                "Conv1D [0]",
                "Conv1D [0]",
                "Concatenate [1, 2, 3]"
            ]
        );
    }
}
