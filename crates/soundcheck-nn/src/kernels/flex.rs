//! [`CpuKernels`] on burn-flex: the slice kernels on the tensors' storage (borrowed when
//! contiguous, the usual case) and results moved into new tensors without a copy.

use std::borrow::Cow;

use burn::backend::flex::FlexTensor;
use burn::backend::Flex;
use burn::tensor::TensorData;

use super::{
    batch_norm, conv2d, pool2d, recurrence, residual, Conv2dGeometry, CpuKernels, Pool2dGeometry,
    RecurrenceShape,
};

fn values(t: &FlexTensor) -> Cow<'_, [f32]> {
    match t.as_slice::<f32>() {
        Some(s) if t.is_contiguous() => Cow::Borrowed(s),
        _ => Cow::Owned(
            t.to_contiguous()
                .as_slice::<f32>()
                .expect("contiguous")
                .to_vec(),
        ),
    }
}

fn tensor(values: Vec<f32>, shape: Vec<usize>) -> FlexTensor {
    FlexTensor::from_data(TensorData::new(values, shape))
}

fn shape(t: &FlexTensor) -> Vec<usize> {
    t.layout().shape().to_vec()
}

impl CpuKernels for Flex {
    fn conv2d_nhwc(x: FlexTensor, w: FlexTensor, b: FlexTensor, g: Conv2dGeometry) -> FlexTensor {
        let y = conv2d::forward(&g, &values(&x), &values(&w), Some(&values(&b)));
        let [oh, ow] = g.output();
        tensor(y, vec![g.batch, oh, ow, g.out_c])
    }

    fn conv2d_nhwc_affine(
        x: FlexTensor,
        w: FlexTensor,
        b: FlexTensor,
        scale: FlexTensor,
        shift: FlexTensor,
        relu: bool,
        g: Conv2dGeometry,
    ) -> FlexTensor {
        let (scale, shift) = (values(&scale), values(&shift));
        let then = conv2d::Affine {
            scale: &scale,
            shift: &shift,
            relu,
        };
        let (x, w, b) = (values(&x), values(&w), values(&b));
        let y = conv2d::forward_affine(&g, &x, &w, Some(&b), Some(&then));
        let [oh, ow] = g.output();
        tensor(y, vec![g.batch, oh, ow, g.out_c])
    }

    fn conv2d_nhwc_grad_input(w: FlexTensor, dy: FlexTensor, g: Conv2dGeometry) -> FlexTensor {
        let dx = conv2d::grad_input(&g, &values(&w), &values(&dy));
        tensor(dx, vec![g.batch, g.input[0], g.input[1], g.in_c])
    }

    fn conv2d_nhwc_grad_weight(x: FlexTensor, dy: FlexTensor, g: Conv2dGeometry) -> FlexTensor {
        let dw = conv2d::grad_weight(&g, &values(&x), &values(&dy));
        tensor(dw, vec![g.kernel[0], g.kernel[1], g.in_c, g.out_c])
    }

    fn conv2d_nhwc_grad_bias(dy: FlexTensor, g: Conv2dGeometry) -> FlexTensor {
        tensor(conv2d::grad_bias(g.out_c, &values(&dy)), vec![g.out_c])
    }

    fn channel_moments(x: FlexTensor) -> FlexTensor {
        let c = *shape(&x).last().expect("rank ≥ 1");
        tensor(batch_norm::moments(&values(&x), c), vec![2 * c])
    }

    fn batch_norm_last_axis(
        x: FlexTensor,
        m: FlexTensor,
        gamma: FlexTensor,
        beta: FlexTensor,
        eps: f32,
        relu: bool,
    ) -> FlexTensor {
        let (x_, m, g, b) = (values(&x), values(&m), values(&gamma), values(&beta));
        let y = batch_norm::forward(&x_, &m, &g, &b, eps, relu);
        tensor(y, shape(&x))
    }

    fn batch_norm_last_axis_backward(
        x: FlexTensor,
        dy: FlexTensor,
        m: FlexTensor,
        gamma: FlexTensor,
        beta: FlexTensor,
        eps: f32,
        relu: bool,
    ) -> (FlexTensor, FlexTensor, FlexTensor) {
        let (x_, dy, m) = (values(&x), values(&dy), values(&m));
        let (g, b) = (values(&gamma), values(&beta));
        let (dx, dg, db) = batch_norm::backward(&x_, &dy, &m, &g, &b, eps, relu);
        let c = dg.len();
        (
            tensor(dx, shape(&x)),
            tensor(dg, vec![c]),
            tensor(db, vec![c]),
        )
    }

    fn recurrence(
        xw: FlexTensor,
        u: FlexTensor,
        mask: FlexTensor,
        s: RecurrenceShape,
    ) -> FlexTensor {
        let (out, _) = recurrence::forward(&s, &values(&xw), &values(&u), &values(&mask), false);
        let per_row = out.len() / s.batch.max(1);
        tensor(out, vec![s.batch, per_row])
    }

    fn recurrence_saving(
        xw: FlexTensor,
        u: FlexTensor,
        mask: FlexTensor,
        s: RecurrenceShape,
    ) -> (FlexTensor, FlexTensor) {
        let (out, saved) = recurrence::forward(&s, &values(&xw), &values(&u), &values(&mask), true);
        let per_row = out.len() / s.batch.max(1);
        let saved_len = saved.len();
        (
            tensor(out, vec![s.batch, per_row]),
            tensor(saved, vec![saved_len]),
        )
    }

    fn recurrence_backward(
        dout: FlexTensor,
        u: FlexTensor,
        mask: FlexTensor,
        saved: FlexTensor,
        s: RecurrenceShape,
    ) -> (FlexTensor, FlexTensor) {
        let (dxw, du) = recurrence::backward(
            &s,
            &values(&dout),
            &values(&u),
            &values(&mask),
            &values(&saved),
        );
        let g = s.gates() * s.units;
        (
            tensor(dxw, vec![s.batch, s.time, g]),
            tensor(du, vec![s.kernel_rows(), g]),
        )
    }

    fn scale_shift_last_axis(
        x: FlexTensor,
        a: FlexTensor,
        b: FlexTensor,
        relu: bool,
    ) -> FlexTensor {
        let y = batch_norm::scale_shift_forward(&values(&x), &values(&a), &values(&b), relu);
        tensor(y, shape(&x))
    }

    fn scale_shift_last_axis_backward(
        x: FlexTensor,
        dy: FlexTensor,
        a: FlexTensor,
        b: FlexTensor,
        relu: bool,
    ) -> FlexTensor {
        let (x_, dy) = (values(&x), values(&dy));
        let dx = batch_norm::scale_shift_backward(&x_, &dy, &values(&a), &values(&b), relu);
        tensor(dx, shape(&x))
    }

    fn add_relu(a: FlexTensor, b: FlexTensor) -> FlexTensor {
        let y = residual::forward(&values(&a), &values(&b));
        tensor(y, shape(&a))
    }

    fn add_relu_backward(a: FlexTensor, b: FlexTensor, dy: FlexTensor) -> FlexTensor {
        let dx = residual::backward(&values(&a), &values(&b), &values(&dy));
        tensor(dx, shape(&a))
    }

    fn pool2d_nhwc(x: FlexTensor, g: Pool2dGeometry) -> FlexTensor {
        let y = pool2d::forward(&g, &values(&x));
        let [oh, ow] = g.output();
        tensor(y, vec![g.batch, oh, ow, g.channels])
    }

    fn pool2d_nhwc_backward(x: FlexTensor, dy: FlexTensor, g: Pool2dGeometry) -> FlexTensor {
        let dx = pool2d::backward(&g, &values(&x), &values(&dy));
        tensor(dx, shape(&x))
    }
}
