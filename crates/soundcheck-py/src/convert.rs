//! numpy ↔ ndarray at the boundary, through slices: the numpy crate and the soundcheck crates
//! use different ndarray releases, and a slice plus a shape is what both agree on. Inputs are
//! borrowed (the Python half makes them C-contiguous); outputs move into numpy without a copy
//! when already in C order.

use ndarray::{ArrayBase, ArrayView2, ArrayView3, Dimension, OwnedRepr};
use numpy::{
    Element, PyArray1, PyArrayDyn, PyArrayMethods, PyReadonlyArray, PyReadonlyArray2,
    PyReadonlyArray3, PyReadonlyArrayDyn,
};
use pyo3::prelude::*;

use crate::errors::to_py;

/// The data of a borrowed numpy array, with its shape.
fn borrowed<'a, T: Element, D: numpy::ndarray::Dimension>(
    a: &'a PyReadonlyArray<'_, T, D>,
) -> PyResult<(&'a [T], Vec<usize>)> {
    let shape = a.as_array().shape().to_vec();
    let data = a
        .as_slice()
        .map_err(|_| to_py("internal: the array is not C-contiguous"))?;
    Ok((data, shape))
}

/// A borrowed 2-D numpy array as an ndarray view.
pub fn view2<'a, T: Element>(a: &'a PyReadonlyArray2<'_, T>) -> PyResult<ArrayView2<'a, T>> {
    let (data, s) = borrowed(a)?;
    ArrayView2::from_shape((s[0], s[1]), data).map_err(to_py)
}

/// A borrowed 3-D numpy array as an ndarray view.
pub fn view3<'a, T: Element>(a: &'a PyReadonlyArray3<'_, T>) -> PyResult<ArrayView3<'a, T>> {
    let (data, s) = borrowed(a)?;
    ArrayView3::from_shape((s[0], s[1], s[2]), data).map_err(to_py)
}

/// A borrowed numpy array of any rank as one flat slice, with its shape.
pub fn flat<'a, T: Element>(a: &'a PyReadonlyArrayDyn<'_, T>) -> PyResult<(&'a [T], Vec<usize>)> {
    borrowed(a)
}

/// An owned ndarray as a new numpy array of the same shape.
pub fn output<'py, T: Element + Clone, D: Dimension>(
    py: Python<'py>,
    a: ArrayBase<OwnedRepr<T>, D>,
) -> PyResult<Bound<'py, PyArrayDyn<T>>> {
    let shape = a.shape().to_vec();
    let a = if a.is_standard_layout() {
        a
    } else {
        a.as_standard_layout().into_owned()
    };
    let (data, offset) = a.into_raw_vec_and_offset();
    if offset.unwrap_or(0) != 0 {
        return Err(to_py("internal: an output array does not start its buffer"));
    }
    PyArray1::from_vec(py, data).reshape(shape)
}

/// Equal-length rows as one new `(rows, n)` numpy array.
pub fn rows_out<T: Element + Clone>(
    py: Python<'_>,
    rows: Vec<Vec<T>>,
) -> PyResult<Bound<'_, PyArrayDyn<T>>> {
    let n = rows.first().map_or(0, Vec::len);
    output(
        py,
        ndarray::Array2::from_shape_vec((rows.len(), n), rows.concat()).map_err(to_py)?,
    )
}
