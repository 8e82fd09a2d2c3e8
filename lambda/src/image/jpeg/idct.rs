//! Inverse DCTs writing 8-bit samples: the AAN float algorithm for full
//! 8×8 blocks, and a direct separable product for the reduced sizes that
//! shrink-on-load uses (1, 2 or 4 samples a side: the block's low
//! frequencies evaluated at the centres of the coarser grid, as libjpeg's
//! scaled IDCTs do). Float code keeps the work in plain array loops that
//! the compiler vectorises on both x86-64 (SSE2) and aarch64 (NEON)
//! without `unsafe` or per-CPU dispatch.

/// Per quantisation table: the multipliers each IDCT wants.
pub(super) struct Dequant {
    /// For [`idct8`]: q × AAN scale factors ÷ 8.
    aan: [f32; 64],
    /// For [`idct_scaled`] and DC fills: q itself.
    raw: [f32; 64],
}

impl Dequant {
    /// `q` in natural (row-major) order.
    pub(super) fn new(q: &[u16; 64]) -> Dequant {
        let mut scale = [1.0f64; 8];
        for (k, s) in scale.iter_mut().enumerate().skip(1) {
            *s = (k as f64 * std::f64::consts::PI / 16.0).cos() * std::f64::consts::SQRT_2;
        }
        let mut aan = [0f32; 64];
        let mut raw = [0f32; 64];
        for i in 0..64 {
            raw[i] = f32::from(q[i]);
            aan[i] = (f64::from(q[i]) * scale[i / 8] * scale[i % 8] / 8.0) as f32;
        }
        Dequant { aan, raw }
    }
}

/// Cosine basis for an `n`-point output from an 8-point spectrum:
/// `m[u][x] = C(u)/2 · cos((2x+1)uπ / 2n)`.
#[derive(Clone)]
pub(super) struct Basis {
    pub(super) n: usize,
    m: [[f32; 8]; 8],
}

impl Basis {
    pub(super) fn new(n: usize) -> Basis {
        let mut m = [[0f32; 8]; 8];
        for (u, row) in m.iter_mut().enumerate().take(n) {
            let c = if u == 0 { std::f64::consts::FRAC_1_SQRT_2 } else { 1.0 };
            for (x, v) in row.iter_mut().enumerate().take(n) {
                let angle = (2 * x + 1) as f64 * u as f64 * std::f64::consts::PI / (2 * n) as f64;
                *v = (c / 2.0 * angle.cos()) as f32;
            }
        }
        Basis { n, m }
    }
}

/// Adding 1.5 × 2²³ to a float in [0, 255] leaves it rounded to an
/// integer in the low mantissa bits. Rust's `as` conversions saturate,
/// which the compiler does not vectorise; this bit trick does, and the
/// conversion was costing more than the IDCT itself.
const MAGIC: f32 = 12_582_912.0;

#[inline(always)]
fn to_u8(v: f32) -> u8 {
    ((v + 128.0).clamp(0.0, 255.0) + MAGIC).to_bits() as u8
}

/// Level shift, round and clamp a row of samples (`max`/`min`: the form
/// measured to vectorise).
#[allow(clippy::manual_clamp)]
#[inline(always)]
fn store_row<const N: usize>(vals: &[f32; N], row: &mut [u8]) {
    for (o, v) in row[..N].iter_mut().zip(vals) {
        *o = ((v + 128.0).max(0.0).min(255.0) + MAGIC).to_bits() as u8;
    }
}

/// A block whose only non-zero coefficient is DC is flat.
#[inline]
fn fill_dc(dc: i32, q: &Dequant, nx: usize, ny: usize, out: &mut [u8], stride: usize) {
    let v = to_u8(dc as f32 * q.raw[0] / 8.0);
    for y in 0..ny {
        out[y * stride..y * stride + nx].fill(v);
    }
}

/// One 8-point AAN pass over eight lanes at once.
#[inline(always)]
fn aan_1d(i: &[[f32; 8]; 8]) -> [[f32; 8]; 8] {
    let mut o = [[0f32; 8]; 8];
    for l in 0..8 {
        let tmp0 = i[0][l];
        let tmp1 = i[2][l];
        let tmp2 = i[4][l];
        let tmp3 = i[6][l];
        let tmp10 = tmp0 + tmp2;
        let tmp11 = tmp0 - tmp2;
        let tmp13 = tmp1 + tmp3;
        let tmp12 = (tmp1 - tmp3) * std::f32::consts::SQRT_2 - tmp13;
        let e0 = tmp10 + tmp13;
        let e3 = tmp10 - tmp13;
        let e1 = tmp11 + tmp12;
        let e2 = tmp11 - tmp12;

        let tmp4 = i[1][l];
        let tmp5 = i[3][l];
        let tmp6 = i[5][l];
        let tmp7 = i[7][l];
        let z13 = tmp6 + tmp5;
        let z10 = tmp6 - tmp5;
        let z11 = tmp4 + tmp7;
        let z12 = tmp4 - tmp7;
        let o7 = z11 + z13;
        let t11 = (z11 - z13) * std::f32::consts::SQRT_2;
        let z5 = (z10 + z12) * 1.847_759;
        let t10 = 1.082_392_2 * z12 - z5;
        let t12 = -2.613_126 * z10 + z5;
        let o6 = t12 - o7;
        let o5 = t11 - o6;
        let o4 = t10 + o5;

        o[0][l] = e0 + o7;
        o[7][l] = e0 - o7;
        o[1][l] = e1 + o6;
        o[6][l] = e1 - o6;
        o[2][l] = e2 + o5;
        o[5][l] = e2 - o5;
        o[4][l] = e3 + o4;
        o[3][l] = e3 - o4;
    }
    o
}

/// Full 8×8 IDCT of natural-order coefficients `c`.
fn idct8(c: &[i32; 64], q: &Dequant, out: &mut [u8], stride: usize) {
    let mut rows = [[0f32; 8]; 8];
    for v in 0..8 {
        for u in 0..8 {
            rows[v][u] = c[v * 8 + u] as f32 * q.aan[v * 8 + u];
        }
    }
    // Columns first, eight at a time; then the same on the transpose.
    let cols = aan_1d(&rows);
    let mut t = [[0f32; 8]; 8];
    for y in 0..8 {
        for u in 0..8 {
            t[u][y] = cols[y][u];
        }
    }
    let px = aan_1d(&t);
    let mut fin = [[0f32; 8]; 8];
    for (x, col) in px.iter().enumerate() {
        for (y, v) in col.iter().enumerate() {
            fin[y][x] = *v;
        }
    }
    for (y, vals) in fin.iter().enumerate() {
        store_row(vals, &mut out[y * stride..y * stride + 8]);
    }
}

/// [`idct_scaled`] for sizes known at compile time, so the loops unroll
/// and vectorise (indexed loops keep the row and column roles visible).
#[allow(clippy::needless_range_loop)]
#[inline(always)]
fn scaled<const NX: usize, const NY: usize>(
    c: &[i32; 64],
    q: &Dequant,
    bx: &Basis,
    by: &Basis,
    out: &mut [u8],
    stride: usize,
) {
    let mut tmp = [[0f32; NX]; NY];
    for (v, acc) in tmp.iter_mut().enumerate() {
        for u in 0..NX {
            let f = c[v * 8 + u] as f32 * q.raw[v * 8 + u];
            for x in 0..NX {
                acc[x] += f * bx.m[u][x];
            }
        }
    }
    for y in 0..NY {
        let mut acc = [0f32; NX];
        for (v, t) in tmp.iter().enumerate() {
            let w = by.m[v][y];
            for x in 0..NX {
                acc[x] += w * t[x];
            }
        }
        store_row(&acc, &mut out[y * stride..]);
    }
}

/// `bx.n`×`by.n` samples from the low frequencies of `c`, by the fastest
/// available route.
fn idct_reduced(c: &[i32; 64], q: &Dequant, bx: &Basis, by: &Basis, out: &mut [u8], stride: usize) {
    macro_rules! sizes {
        ($(($x:literal, $y:literal)),*) => {
            match (bx.n, by.n) {
                $(($x, $y) => scaled::<$x, $y>(c, q, bx, by, out, stride),)*
                _ => idct_scaled(c, q, bx, by, out, stride),
            }
        };
    }
    sizes!(
        (4, 4),
        (8, 4),
        (4, 8),
        (2, 2),
        (8, 2),
        (2, 8),
        (4, 2),
        (2, 4),
        (1, 1),
        (8, 1),
        (1, 8),
        (4, 1),
        (1, 4),
        (2, 1),
        (1, 2)
    )
}

/// `bx.n`×`by.n` samples from the low frequencies of `c`.
#[allow(clippy::needless_range_loop)]
pub(super) fn idct_scaled(c: &[i32; 64], q: &Dequant, bx: &Basis, by: &Basis, out: &mut [u8], stride: usize) {
    let (nx, ny) = (bx.n, by.n);
    let mut tmp = [[0f32; 8]; 8];
    for v in 0..ny {
        for u in 0..nx {
            let f = c[v * 8 + u] as f32 * q.raw[v * 8 + u];
            if f != 0.0 {
                for x in 0..nx {
                    tmp[v][x] += f * bx.m[u][x];
                }
            }
        }
    }
    for y in 0..ny {
        let row = &mut out[y * stride..y * stride + nx];
        for (x, px) in row.iter_mut().enumerate() {
            let mut s = 0.0;
            for v in 0..ny {
                s += by.m[v][y] * tmp[v][x];
            }
            *px = to_u8(s);
        }
    }
}

/// One block's samples into `out`, by the cheapest route its
/// coefficients allow: a flat fill when only DC is non-zero, else the
/// full 8×8 IDCT or the reduced one shrink-on-load asked for.
#[inline]
pub(super) fn output_block(
    blk: &[i32; 64],
    dc_only: bool,
    q: &Dequant,
    bx: &Basis,
    by: &Basis,
    out: &mut [u8],
    stride: usize,
) {
    if dc_only {
        fill_dc(blk[0], q, bx.n, by.n, out, stride);
    } else if bx.n == 8 && by.n == 8 {
        idct8(blk, q, out, stride);
    } else {
        idct_reduced(blk, q, bx, by, out, stride);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block(seed: u32) -> [i32; 64] {
        let mut c = [0i32; 64];
        let mut s = seed;
        for (i, v) in c.iter_mut().enumerate() {
            s = s.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            let range = if i == 0 { 120 } else { 40 / (1 + i as i32 / 8) };
            *v = (s >> 16) as i32 % (range + 1) - range / 2;
        }
        c
    }

    #[test]
    fn aan_matches_the_direct_formula() {
        let q = Dequant::new(&[3; 64]);
        let b8 = Basis::new(8);
        for seed in 0..50 {
            let c = block(seed);
            let (mut fast, mut direct) = ([0u8; 64], [0u8; 64]);
            idct8(&c, &q, &mut fast, 8);
            idct_scaled(&c, &q, &b8, &b8, &mut direct, 8);
            for i in 0..64 {
                assert!(fast[i].abs_diff(direct[i]) <= 1, "seed {seed} at {i}: {} vs {}", fast[i], direct[i]);
            }
        }
    }

    #[test]
    fn specialised_sizes_match_the_general_one() {
        let q = Dequant::new(&[2; 64]);
        for (nx, ny) in [(4, 4), (8, 4), (4, 8), (2, 2), (8, 1), (3, 6)] {
            let (bx, by) = (Basis::new(nx), Basis::new(ny));
            for seed in 0..10 {
                let c = block(seed);
                let (mut a, mut b) = ([0u8; 64], [0u8; 64]);
                idct_reduced(&c, &q, &bx, &by, &mut a, 8);
                idct_scaled(&c, &q, &bx, &by, &mut b, 8);
                // Same arithmetic in another order: at most a rounding apart.
                assert!(a.iter().zip(&b).all(|(x, y)| x.abs_diff(*y) <= 1), "{nx}×{ny} seed {seed}");
            }
        }
    }

    #[test]
    fn scaled_outputs_keep_the_block_mean() {
        let q = Dequant::new(&[1; 64]);
        let mut c = [0i32; 64];
        c[0] = 400; // mean 50 above mid-grey
        c[1] = 30;
        for n in [1, 2, 4] {
            let b = Basis::new(n);
            let mut out = [0u8; 64];
            idct_scaled(&c, &q, &b, &b, &mut out, 8);
            let sum: u32 =
                (0..n).flat_map(|y| (0..n).map(move |x| (y, x))).map(|(y, x)| u32::from(out[y * 8 + x])).sum();
            let mean = sum as f32 / (n * n) as f32;
            assert!((mean - 178.0).abs() <= 1.0, "n={n}: mean {mean}");
        }
        let mut flat = [0u8; 64];
        fill_dc(400, &q, 2, 2, &mut flat, 8);
        assert_eq!(&flat[..2], &[178, 178]);
    }

    #[test]
    fn a_horizontal_ramp_stays_horizontal_when_halved() {
        let q = Dequant::new(&[1; 64]);
        let mut c = [0i32; 64];
        c[1] = -200; // brightness rising to the right
        let b4 = Basis::new(4);
        let mut out = [0u8; 64];
        idct_scaled(&c, &q, &b4, &b4, &mut out, 8);
        for y in 0..4 {
            assert!(out[y * 8] < out[y * 8 + 3], "{:?}", &out[y * 8..y * 8 + 4]);
            assert_eq!(out[y * 8], out[0], "every row alike");
        }
    }
}
