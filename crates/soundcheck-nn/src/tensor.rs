//! Tensors whose rank is known only at run time (a spec's layers change it), over burn's
//! rank-typed `Tensor<D>`.

use burn::tensor::ops::PadMode;
use burn::tensor::{Device, Tensor, TensorData};

/// A float tensor of rank 2 to 5, batch axis first, in Keras's layout.
#[derive(Clone, Debug)]
pub enum DynTensor {
    /// Rank 2: `(batch, features)`.
    R2(Tensor<2>),
    /// Rank 3: `(batch, time, features)`.
    R3(Tensor<3>),
    /// Rank 4: an image batch.
    R4(Tensor<4>),
    /// Rank 5: a volume batch.
    R5(Tensor<5>),
}

/// Applies the same rank-generic expression to whichever rank the tensor has.
macro_rules! each_rank {
    ($t:expr, $x:ident => $e:expr) => {
        match $t {
            DynTensor::R2($x) => DynTensor::R2($e),
            DynTensor::R3($x) => DynTensor::R3($e),
            DynTensor::R4($x) => DynTensor::R4($e),
            DynTensor::R5($x) => DynTensor::R5($e),
        }
    };
}
pub(crate) use each_rank;

impl DynTensor {
    /// A tensor of `shape` (rank 2 to 5) holding `data` in C order.
    pub fn from_data(shape: &[usize], data: Vec<f32>, device: &Device) -> DynTensor {
        macro_rules! make {
            ($d:literal, $v:ident) => {{
                let s: [usize; $d] = shape.try_into().expect("rank matches");
                DynTensor::$v(Tensor::from_data(TensorData::new(data, s), device))
            }};
        }
        match shape.len() {
            2 => make!(2, R2),
            3 => make!(3, R3),
            4 => make!(4, R4),
            5 => make!(5, R5),
            r => panic!("rank {r} tensors are not supported (2 to 5)"),
        }
    }

    /// The tensor's shape.
    pub fn dims(&self) -> Vec<usize> {
        match self {
            DynTensor::R2(t) => t.dims().to_vec(),
            DynTensor::R3(t) => t.dims().to_vec(),
            DynTensor::R4(t) => t.dims().to_vec(),
            DynTensor::R5(t) => t.dims().to_vec(),
        }
    }

    /// The device the tensor lives on.
    pub fn device(&self) -> Device {
        match self {
            DynTensor::R2(t) => t.device(),
            DynTensor::R3(t) => t.device(),
            DynTensor::R4(t) => t.device(),
            DynTensor::R5(t) => t.device(),
        }
    }

    /// Mean and (biased) variance over `axes`, which are kept with size 1.
    pub fn moments(self, axes: &[usize]) -> (DynTensor, DynTensor) {
        fn both<const D: usize>(x: Tensor<D>, axes: &[usize]) -> (Tensor<D>, Tensor<D>) {
            let mean_over = |t: Tensor<D>| axes.iter().fold(t, |m, &a| m.mean_dim(a));
            let mean = mean_over(x.clone());
            let centered = x - mean.clone();
            (mean, mean_over(centered.clone() * centered))
        }
        match self {
            DynTensor::R2(t) => {
                let (m, v) = both(t, axes);
                (DynTensor::R2(m), DynTensor::R2(v))
            }
            DynTensor::R3(t) => {
                let (m, v) = both(t, axes);
                (DynTensor::R3(m), DynTensor::R3(v))
            }
            DynTensor::R4(t) => {
                let (m, v) = both(t, axes);
                (DynTensor::R4(m), DynTensor::R4(v))
            }
            DynTensor::R5(t) => {
                let (m, v) = both(t, axes);
                (DynTensor::R5(m), DynTensor::R5(v))
            }
        }
    }

    /// A vector laid along the axes of `shape` that are not 1, to broadcast against a tensor.
    pub fn along(v: Tensor<1>, shape: &[usize]) -> DynTensor {
        DynTensor::R2(v.unsqueeze::<2>()).reshape(shape)
    }

    /// `self · gamma + beta` with the (optional) vectors laid along the axes of `shape` that are
    /// not 1 (see [`along`](Self::along)): the affine step of the normalisations.
    pub(crate) fn scale_shift(
        mut self,
        gamma: Option<Tensor<1>>,
        beta: Option<Tensor<1>>,
        shape: &[usize],
    ) -> DynTensor {
        if let Some(g) = gamma {
            self = self.zip_with(DynTensor::along(g, shape), Binary::Mul);
        }
        if let Some(b) = beta {
            self = self.zip_with(DynTensor::along(b, shape), Binary::Add);
        }
        self
    }

    /// Zeros added on every axis, one `(before, after)` pair per axis.
    pub(crate) fn pad(self, pairs: &[(usize, usize)]) -> DynTensor {
        each_rank!(self, t => t.pad(pairs.to_vec(), PadMode::Constant(0.0)))
    }

    /// The values in C order.
    pub fn to_vec(&self) -> Vec<f32> {
        let data = match self {
            DynTensor::R2(t) => t.to_data(),
            DynTensor::R3(t) => t.to_data(),
            DynTensor::R4(t) => t.to_data(),
            DynTensor::R5(t) => t.to_data(),
        };
        data.try_into_vec_as::<f32>().expect("float data")
    }

    /// The same values in another shape (any rank 2 to 5).
    pub fn reshape(self, shape: &[usize]) -> DynTensor {
        macro_rules! to {
            ($t:expr) => {{
                match shape.len() {
                    2 => DynTensor::R2(
                        $t.reshape::<2, [usize; 2]>(shape.try_into().expect("rank 2")),
                    ),
                    3 => DynTensor::R3(
                        $t.reshape::<3, [usize; 3]>(shape.try_into().expect("rank 3")),
                    ),
                    4 => DynTensor::R4(
                        $t.reshape::<4, [usize; 4]>(shape.try_into().expect("rank 4")),
                    ),
                    5 => DynTensor::R5(
                        $t.reshape::<5, [usize; 5]>(shape.try_into().expect("rank 5")),
                    ),
                    r => panic!("rank {r} tensors are not supported (2 to 5)"),
                }
            }};
        }
        match self {
            DynTensor::R2(t) => to!(t),
            DynTensor::R3(t) => to!(t),
            DynTensor::R4(t) => to!(t),
            DynTensor::R5(t) => to!(t),
        }
    }

    /// Axes reordered: `axes[i]` is the source axis of axis `i`.
    pub fn permute(self, axes: &[usize]) -> DynTensor {
        match self {
            DynTensor::R2(t) => DynTensor::R2(t.permute::<usize>(axes.try_into().expect("rank 2"))),
            DynTensor::R3(t) => DynTensor::R3(t.permute::<usize>(axes.try_into().expect("rank 3"))),
            DynTensor::R4(t) => DynTensor::R4(t.permute::<usize>(axes.try_into().expect("rank 4"))),
            DynTensor::R5(t) => DynTensor::R5(t.permute::<usize>(axes.try_into().expect("rank 5"))),
        }
    }

    /// Element-wise with another tensor of the same rank (size-1 axes broadcast).
    pub fn zip_with(self, other: DynTensor, f: Binary) -> DynTensor {
        macro_rules! op {
            ($a:expr, $b:expr) => {
                match f {
                    Binary::Add => $a + $b,
                    Binary::Sub => $a - $b,
                    Binary::Mul => $a * $b,
                    Binary::Div => $a / $b,
                    Binary::Max => $a.max_pair($b),
                    Binary::Min => $a.min_pair($b),
                }
            };
        }
        match (self, other) {
            (DynTensor::R2(a), DynTensor::R2(b)) => DynTensor::R2(op!(a, b)),
            (DynTensor::R3(a), DynTensor::R3(b)) => DynTensor::R3(op!(a, b)),
            (DynTensor::R4(a), DynTensor::R4(b)) => DynTensor::R4(op!(a, b)),
            (DynTensor::R5(a), DynTensor::R5(b)) => DynTensor::R5(op!(a, b)),
            (a, b) => {
                // Keras broadcasting aligns from the right: give the shorter leading size-1 axes.
                let (ra, rb) = (a.dims().len(), b.dims().len());
                let lift = |t: DynTensor, r: usize| {
                    let mut d = t.dims();
                    let batch = d.remove(0);
                    let mut s = vec![batch];
                    s.extend(std::iter::repeat_n(1, r - d.len() - 1));
                    s.extend(d);
                    t.reshape(&s)
                };
                if ra < rb {
                    lift(a, rb).zip_with(b, f)
                } else {
                    a.zip_with(lift(b, ra), f)
                }
            }
        }
    }

    /// The parts joined along `axis` (all of one rank).
    pub fn concat(parts: Vec<DynTensor>, axis: usize) -> DynTensor {
        macro_rules! cat {
            ($v:ident) => {
                DynTensor::$v(Tensor::cat(
                    parts
                        .into_iter()
                        .map(|p| match p {
                            DynTensor::$v(t) => t,
                            _ => unreachable!("the shape engine checked that the ranks agree"),
                        })
                        .collect(),
                    axis,
                ))
            };
        }
        match &parts[0] {
            DynTensor::R2(_) => cat!(R2),
            DynTensor::R3(_) => cat!(R3),
            DynTensor::R4(_) => cat!(R4),
            DynTensor::R5(_) => cat!(R5),
        }
    }
}

/// Element-wise operations between two tensors.
#[derive(Clone, Copy, Debug)]
pub enum Binary {
    /// `a + b`.
    Add,
    /// `a − b`.
    Sub,
    /// `a · b`.
    Mul,
    /// `a / b`.
    Div,
    /// The larger of `a` and `b`.
    Max,
    /// The smaller of `a` and `b`.
    Min,
}
