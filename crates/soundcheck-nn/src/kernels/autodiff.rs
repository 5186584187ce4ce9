//! [`CpuKernels`] inside burn's autodiff: each forward kernel registers a backward step that
//! runs the matching gradient kernels on the inner backend. Gradients of gradients are not
//! tracked (no second-order training): the gradient kernels called on an autodiff backend run on
//! the inner one and return constants.

use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::autodiff::NodeId;
use burn::backend::tensor::FloatTensor;
use burn::backend::{Autodiff, Backend};

use super::{Conv2dGeometry, CpuKernels, Pool2dGeometry, RecurrenceShape};

/// The backward step of [`CpuKernels::conv2d_nhwc`]: each tracked parent gets its gradient.
#[derive(Debug)]
struct Conv2dBackward;

impl<B: Backend + CpuKernels> Backward<B, 3> for Conv2dBackward {
    type State = (NodeId, NodeId, Conv2dGeometry);

    fn backward(self, ops: Ops<Self::State, 3>, grads: &mut Gradients, ckpt: &mut Checkpointer) {
        let [node_x, node_w, node_b] = ops.parents;
        let dy = grads.consume::<B>(&ops.node);
        let (x, w, g) = ops.state;
        let x = ckpt.retrieve_node_output::<FloatTensor<B>>(x);
        let w = ckpt.retrieve_node_output::<FloatTensor<B>>(w);
        if let Some(node) = node_x {
            grads.register::<B>(node.id, B::conv2d_nhwc_grad_input(w, dy.clone(), g));
        }
        if let Some(node) = node_w {
            grads.register::<B>(node.id, B::conv2d_nhwc_grad_weight(x, dy.clone(), g));
        }
        if let Some(node) = node_b {
            grads.register::<B>(node.id, B::conv2d_nhwc_grad_bias(dy, g));
        }
    }
}

/// The backward step of [`CpuKernels::batch_norm_last_axis`]; the moments (parent 1) are functions
/// of `x` whose effect the formula already includes, so they get no gradient of their own.
#[derive(Debug)]
struct BatchNormBackward;

impl<B: Backend + CpuKernels> Backward<B, 4> for BatchNormBackward {
    /// The checkpointed `x`, moments, γ and β, ε and whether a ReLU is fused.
    type State = ([NodeId; 4], f32, bool);

    fn backward(self, ops: Ops<Self::State, 4>, grads: &mut Gradients, ckpt: &mut Checkpointer) {
        let [node_x, _, node_gamma, node_beta] = ops.parents;
        let dy = grads.consume::<B>(&ops.node);
        let (ids, eps, relu) = ops.state;
        let [x, m, gamma, beta] = ids.map(|id| ckpt.retrieve_node_output::<FloatTensor<B>>(id));
        let (dx, dgamma, dbeta) =
            B::batch_norm_last_axis_backward(x, dy, m, gamma, beta, eps, relu);
        let ids = [node_x, node_gamma, node_beta].map(|n| n.map(|n| n.id));
        register::<B>(grads, ids.into_iter().zip([dx, dgamma, dbeta]));
    }
}

/// The backward step of [`CpuKernels::recurrence`]: back-propagation through time with the states
/// the forward kept (held here, not recomputed).
#[derive(Debug)]
struct RecurrenceBackward;

impl<B: Backend + CpuKernels> Backward<B, 2> for RecurrenceBackward {
    /// The checkpointed recurrent kernel, the mask, the kept states and the shape.
    type State = (NodeId, FloatTensor<B>, FloatTensor<B>, RecurrenceShape);

    fn backward(self, ops: Ops<Self::State, 2>, grads: &mut Gradients, ckpt: &mut Checkpointer) {
        let [node_xw, node_u] = ops.parents;
        let dout = grads.consume::<B>(&ops.node);
        let (u, mask, saved, s) = ops.state;
        let u = ckpt.retrieve_node_output::<FloatTensor<B>>(u);
        let (dxw, du) = B::recurrence_backward(dout, u, mask, saved, s);
        let ids = [node_xw, node_u].map(|n| n.map(|n| n.id));
        register::<B>(grads, ids.into_iter().zip([dxw, du]));
    }
}

/// The backward step of [`CpuKernels::scale_shift_last_axis`]: the input's gradient only.
#[derive(Debug)]
struct ScaleShiftBackward;

impl<B: Backend + CpuKernels> Backward<B, 1> for ScaleShiftBackward {
    /// The checkpointed input, `a`, `b` and whether a ReLU is fused.
    type State = (NodeId, FloatTensor<B>, FloatTensor<B>, bool);

    fn backward(self, ops: Ops<Self::State, 1>, grads: &mut Gradients, ckpt: &mut Checkpointer) {
        let [node_x] = ops.parents;
        let dy = grads.consume::<B>(&ops.node);
        let (x, a, b, relu) = ops.state;
        if let Some(node) = node_x {
            let x = ckpt.retrieve_node_output::<FloatTensor<B>>(x);
            grads.register::<B>(
                node.id,
                B::scale_shift_last_axis_backward(x, dy, a, b, relu),
            );
        }
    }
}

/// The backward step of [`CpuKernels::pool2d_nhwc`].
#[derive(Debug)]
struct Pool2dBackward;

impl<B: Backend + CpuKernels> Backward<B, 1> for Pool2dBackward {
    /// The checkpointed input and the geometry.
    type State = (NodeId, Pool2dGeometry);

    fn backward(self, ops: Ops<Self::State, 1>, grads: &mut Gradients, ckpt: &mut Checkpointer) {
        let [node_x] = ops.parents;
        let dy = grads.consume::<B>(&ops.node);
        let (x, g) = ops.state;
        if let Some(node) = node_x {
            let x = ckpt.retrieve_node_output::<FloatTensor<B>>(x);
            grads.register::<B>(node.id, B::pool2d_nhwc_backward(x, dy, g));
        }
    }
}

/// The backward step of [`CpuKernels::add_relu`]: both operands get the gated gradient.
#[derive(Debug)]
struct AddReluBackward;

impl<B: Backend + CpuKernels> Backward<B, 2> for AddReluBackward {
    /// The checkpointed operands.
    type State = [NodeId; 2];

    fn backward(self, ops: Ops<Self::State, 2>, grads: &mut Gradients, ckpt: &mut Checkpointer) {
        let [node_a, node_b] = ops.parents;
        let dy = grads.consume::<B>(&ops.node);
        let [a, b] = ops
            .state
            .map(|id| ckpt.retrieve_node_output::<FloatTensor<B>>(id));
        let g = B::add_relu_backward(a, b, dy);
        let ids = [node_a, node_b].map(|n| n.map(|n| n.id));
        register::<B>(grads, ids.into_iter().zip([g.clone(), g]));
    }
}

impl<B: Backend + CpuKernels, C: CheckpointStrategy> CpuKernels for Autodiff<B, C> {
    fn conv2d_nhwc(
        x: FloatTensor<Self>,
        w: FloatTensor<Self>,
        b: FloatTensor<Self>,
        g: Conv2dGeometry,
    ) -> FloatTensor<Self> {
        let prep = Conv2dBackward.prepare::<C>([x.node(), w.node(), b.node()]);
        match prep.compute_bound().stateful() {
            OpsKind::Tracked(mut prep) => {
                let state = (prep.checkpoint(&x), prep.checkpoint(&w), g);
                let y = B::conv2d_nhwc(
                    x.into_primitive(),
                    w.into_primitive(),
                    b.into_primitive(),
                    g,
                );
                prep.finish(state, y)
            }
            OpsKind::UnTracked(prep) => prep.finish(B::conv2d_nhwc(
                x.into_primitive(),
                w.into_primitive(),
                b.into_primitive(),
                g,
            )),
        }
    }

    fn conv2d_nhwc_affine(
        x: FloatTensor<Self>,
        w: FloatTensor<Self>,
        b: FloatTensor<Self>,
        scale: FloatTensor<Self>,
        shift: FloatTensor<Self>,
        relu: bool,
        g: Conv2dGeometry,
    ) -> FloatTensor<Self> {
        // With a tape, the two tracked ops (the fusion only saves a pass at inference).
        let y = Self::conv2d_nhwc(x, w, b, g);
        Self::scale_shift_last_axis(y, scale, shift, relu)
    }

    fn conv2d_nhwc_grad_input(
        w: FloatTensor<Self>,
        dy: FloatTensor<Self>,
        g: Conv2dGeometry,
    ) -> FloatTensor<Self> {
        constant::<B, C>(B::conv2d_nhwc_grad_input(
            w.into_primitive(),
            dy.into_primitive(),
            g,
        ))
    }

    fn conv2d_nhwc_grad_weight(
        x: FloatTensor<Self>,
        dy: FloatTensor<Self>,
        g: Conv2dGeometry,
    ) -> FloatTensor<Self> {
        constant::<B, C>(B::conv2d_nhwc_grad_weight(
            x.into_primitive(),
            dy.into_primitive(),
            g,
        ))
    }

    fn conv2d_nhwc_grad_bias(dy: FloatTensor<Self>, g: Conv2dGeometry) -> FloatTensor<Self> {
        constant::<B, C>(B::conv2d_nhwc_grad_bias(dy.into_primitive(), g))
    }

    fn channel_moments(x: FloatTensor<Self>) -> FloatTensor<Self> {
        constant::<B, C>(B::channel_moments(x.into_primitive()))
    }

    fn batch_norm_last_axis(
        x: FloatTensor<Self>,
        m: FloatTensor<Self>,
        gamma: FloatTensor<Self>,
        beta: FloatTensor<Self>,
        eps: f32,
        relu: bool,
    ) -> FloatTensor<Self> {
        let prep = BatchNormBackward.prepare::<C>([x.node(), m.node(), gamma.node(), beta.node()]);
        match prep.compute_bound().stateful() {
            OpsKind::Tracked(mut prep) => {
                let ids = [
                    prep.checkpoint(&x),
                    prep.checkpoint(&m),
                    prep.checkpoint(&gamma),
                    prep.checkpoint(&beta),
                ];
                let state = (ids, eps, relu);
                let y = B::batch_norm_last_axis(
                    x.into_primitive(),
                    m.into_primitive(),
                    gamma.into_primitive(),
                    beta.into_primitive(),
                    eps,
                    relu,
                );
                prep.finish(state, y)
            }
            OpsKind::UnTracked(prep) => prep.finish(B::batch_norm_last_axis(
                x.into_primitive(),
                m.into_primitive(),
                gamma.into_primitive(),
                beta.into_primitive(),
                eps,
                relu,
            )),
        }
    }

    fn batch_norm_last_axis_backward(
        x: FloatTensor<Self>,
        dy: FloatTensor<Self>,
        m: FloatTensor<Self>,
        gamma: FloatTensor<Self>,
        beta: FloatTensor<Self>,
        eps: f32,
        relu: bool,
    ) -> (FloatTensor<Self>, FloatTensor<Self>, FloatTensor<Self>) {
        let (dx, dg, db) = B::batch_norm_last_axis_backward(
            x.into_primitive(),
            dy.into_primitive(),
            m.into_primitive(),
            gamma.into_primitive(),
            beta.into_primitive(),
            eps,
            relu,
        );
        (
            constant::<B, C>(dx),
            constant::<B, C>(dg),
            constant::<B, C>(db),
        )
    }

    fn recurrence(
        xw: FloatTensor<Self>,
        u: FloatTensor<Self>,
        mask: FloatTensor<Self>,
        s: RecurrenceShape,
    ) -> FloatTensor<Self> {
        let mask = mask.into_primitive();
        let prep = RecurrenceBackward.prepare::<C>([xw.node(), u.node()]);
        match prep.compute_bound().stateful() {
            OpsKind::Tracked(mut prep) => {
                let u_id = prep.checkpoint(&u);
                let (out, saved) =
                    B::recurrence_saving(xw.into_primitive(), u.into_primitive(), mask.clone(), s);
                prep.finish((u_id, mask, saved, s), out)
            }
            OpsKind::UnTracked(prep) => prep.finish(B::recurrence(
                xw.into_primitive(),
                u.into_primitive(),
                mask,
                s,
            )),
        }
    }

    fn recurrence_saving(
        xw: FloatTensor<Self>,
        u: FloatTensor<Self>,
        mask: FloatTensor<Self>,
        s: RecurrenceShape,
    ) -> (FloatTensor<Self>, FloatTensor<Self>) {
        let (out, saved) = B::recurrence_saving(
            xw.into_primitive(),
            u.into_primitive(),
            mask.into_primitive(),
            s,
        );
        (constant::<B, C>(out), constant::<B, C>(saved))
    }

    fn recurrence_backward(
        dout: FloatTensor<Self>,
        u: FloatTensor<Self>,
        mask: FloatTensor<Self>,
        saved: FloatTensor<Self>,
        s: RecurrenceShape,
    ) -> (FloatTensor<Self>, FloatTensor<Self>) {
        let (dxw, du) = B::recurrence_backward(
            dout.into_primitive(),
            u.into_primitive(),
            mask.into_primitive(),
            saved.into_primitive(),
            s,
        );
        (constant::<B, C>(dxw), constant::<B, C>(du))
    }

    fn scale_shift_last_axis(
        x: FloatTensor<Self>,
        a: FloatTensor<Self>,
        b: FloatTensor<Self>,
        relu: bool,
    ) -> FloatTensor<Self> {
        let (a, b) = (a.into_primitive(), b.into_primitive());
        match ScaleShiftBackward
            .prepare::<C>([x.node()])
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(mut prep) => {
                let x_id = prep.checkpoint(&x);
                let y = B::scale_shift_last_axis(x.into_primitive(), a.clone(), b.clone(), relu);
                prep.finish((x_id, a, b, relu), y)
            }
            OpsKind::UnTracked(prep) => {
                prep.finish(B::scale_shift_last_axis(x.into_primitive(), a, b, relu))
            }
        }
    }

    fn scale_shift_last_axis_backward(
        x: FloatTensor<Self>,
        dy: FloatTensor<Self>,
        a: FloatTensor<Self>,
        b: FloatTensor<Self>,
        relu: bool,
    ) -> FloatTensor<Self> {
        constant::<B, C>(B::scale_shift_last_axis_backward(
            x.into_primitive(),
            dy.into_primitive(),
            a.into_primitive(),
            b.into_primitive(),
            relu,
        ))
    }

    fn pool2d_nhwc(x: FloatTensor<Self>, g: Pool2dGeometry) -> FloatTensor<Self> {
        match Pool2dBackward
            .prepare::<C>([x.node()])
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(mut prep) => {
                let id = prep.checkpoint(&x);
                let y = B::pool2d_nhwc(x.into_primitive(), g);
                prep.finish((id, g), y)
            }
            OpsKind::UnTracked(prep) => prep.finish(B::pool2d_nhwc(x.into_primitive(), g)),
        }
    }

    fn pool2d_nhwc_backward(
        x: FloatTensor<Self>,
        dy: FloatTensor<Self>,
        g: Pool2dGeometry,
    ) -> FloatTensor<Self> {
        constant::<B, C>(B::pool2d_nhwc_backward(
            x.into_primitive(),
            dy.into_primitive(),
            g,
        ))
    }

    fn add_relu(a: FloatTensor<Self>, b: FloatTensor<Self>) -> FloatTensor<Self> {
        match AddReluBackward
            .prepare::<C>([a.node(), b.node()])
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(mut prep) => {
                let ids = [prep.checkpoint(&a), prep.checkpoint(&b)];
                let y = B::add_relu(a.into_primitive(), b.into_primitive());
                prep.finish(ids, y)
            }
            OpsKind::UnTracked(prep) => {
                prep.finish(B::add_relu(a.into_primitive(), b.into_primitive()))
            }
        }
    }

    fn add_relu_backward(
        a: FloatTensor<Self>,
        b: FloatTensor<Self>,
        dy: FloatTensor<Self>,
    ) -> FloatTensor<Self> {
        constant::<B, C>(B::add_relu_backward(
            a.into_primitive(),
            b.into_primitive(),
            dy.into_primitive(),
        ))
    }
}

/// Hands each tracked parent (those with a node) its gradient.
fn register<B: Backend>(
    grads: &mut Gradients,
    pairs: impl IntoIterator<Item = (Option<NodeId>, FloatTensor<B>)>,
) {
    for (id, grad) in pairs {
        if let Some(id) = id {
            grads.register::<B>(id, grad);
        }
    }
}

/// An inner-backend result as an untracked autodiff tensor.
fn constant<B: Backend, C: CheckpointStrategy>(t: FloatTensor<B>) -> FloatTensor<Autodiff<B, C>> {
    FloatTensor::<Autodiff<B, C>>::new(t)
}
