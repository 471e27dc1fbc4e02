//! A safe strided matrix product over the `gemm` crate, single-threaded (the CPU trainer
//! splits the batch over threads itself).

use gemm::Parallelism;

/// `dst[m×n] (+)= lhs[m×k] · rhs[k×n]` with explicit row/column strides (elements).
#[allow(clippy::too_many_arguments)]
pub fn matmul(
    m: usize,
    n: usize,
    k: usize,
    dst: &mut [f32],
    dst_rs: usize,
    accumulate: bool,
    lhs: &[f32],
    lhs_rs: usize,
    lhs_cs: usize,
    rhs: &[f32],
    rhs_rs: usize,
    rhs_cs: usize,
) {
    if m == 0 || n == 0 {
        return;
    }
    // Bounds: the last element each operand reaches must lie inside its slice.
    assert!(dst.len() > (m - 1) * dst_rs + (n - 1));
    if k > 0 {
        assert!(lhs.len() > (m - 1) * lhs_rs + (k - 1) * lhs_cs);
        assert!(rhs.len() > (k - 1) * rhs_rs + (n - 1) * rhs_cs);
    }
    // SAFETY: the asserts above keep every access of gemm inside the three slices; `dst`
    // is exclusively borrowed and does not alias `lhs`/`rhs` (distinct borrows).
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            dst.as_mut_ptr(),
            1,
            dst_rs as isize,
            accumulate,
            lhs.as_ptr(),
            lhs_cs as isize,
            lhs_rs as isize,
            rhs.as_ptr(),
            rhs_cs as isize,
            rhs_rs as isize,
            1.0,
            1.0,
            false,
            false,
            false,
            Parallelism::None,
        );
    }
}
