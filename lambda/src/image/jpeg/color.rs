//! From decoded component planes to interleaved 8-bit RGB: chroma
//! upsampling (libjpeg's "fancy" triangle filter for 2× factors, sample
//! replication otherwise) and colour conversion, one output row at a time
//! so the working set stays in cache.

use super::super::colour::{CmykScratch, ToSrgb};

/// One component's samples after the IDCT.
pub(super) struct Plane {
    pub(super) data: Vec<u8>,
    pub(super) stride: usize,
    pub(super) rows: usize,
    /// How many output pixels each sample covers, across and down.
    pub(super) ux: usize,
    pub(super) uy: usize,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Model {
    Gray,
    YCbCr,
    Rgb,
    /// Adobe CMYK, stored inverted (0 = full ink).
    Cmyk,
    /// Adobe YCCK: YCbCr-coded inverted CMY, plus K.
    Ycck,
}

impl Plane {
    fn row(&self, y: usize) -> &[u8] {
        let y = y.min(self.rows - 1);
        &self.data[y * self.stride..(y + 1) * self.stride]
    }

    /// This component's samples for output row `y`, at output resolution.
    fn upsampled_row<'a>(&'a self, y: usize, width: usize, buf: &'a mut Vec<u8>, sums: &mut Vec<u16>) -> &'a [u8] {
        match (self.ux, self.uy) {
            (1, 1) => &self.row(y)[..width],
            (2, 1) => {
                h2_fancy(self.row(y), width, buf);
                &buf[..width]
            }
            (1, 2) => {
                let (near, far) = self.v2_rows(y);
                let bias = 1 + (y & 1) as u16;
                buf.clear();
                buf.extend(
                    near[..width]
                        .iter()
                        .zip(&far[..width])
                        .map(|(&n, &f)| ((3 * u16::from(n) + u16::from(f) + bias) >> 2) as u8),
                );
                &buf[..width]
            }
            (2, 2) => {
                let (near, far) = self.v2_rows(y);
                let n = width.div_ceil(2).min(self.stride);
                sums.clear();
                sums.extend(near[..n].iter().zip(&far[..n]).map(|(&a, &b)| 3 * u16::from(a) + u16::from(b)));
                h2v2_fancy(sums, width, buf);
                &buf[..width]
            }
            (ux, uy) => {
                let src = self.row(y / uy);
                buf.clear();
                buf.extend((0..width).map(|x| src[(x / ux).min(self.stride - 1)]));
                &buf[..width]
            }
        }
    }

    /// For vertical 2× upsampling: the sample row this output row lies in,
    /// and the neighbouring one on the side it is nearer to.
    fn v2_rows(&self, y: usize) -> (&[u8], &[u8]) {
        let near = y / 2;
        let far = if y.is_multiple_of(2) { near.saturating_sub(1) } else { near + 1 };
        (self.row(near), self.row(far))
    }
}

/// Doubles a row across: each output sample is ¾ its own input sample and
/// ¼ the nearer neighbour (libjpeg's `h2v1_fancy_upsample`).
fn h2_fancy(src: &[u8], width: usize, out: &mut Vec<u8>) {
    out.clear();
    out.resize(width + 1, 0);
    let n = width.div_ceil(2).min(src.len());
    let at = |i: usize| u16::from(src[i.min(src.len() - 1)]);
    for i in [0, n - 1] {
        let c = 3 * at(i);
        out[2 * i] = ((c + at(i.saturating_sub(1)) + 1) >> 2) as u8;
        out[2 * i + 1] = ((c + at(i + 1) + 2) >> 2) as u8;
    }
    // The interior without edge tests, so it vectorises.
    for (o, w) in out[2..].chunks_exact_mut(2).zip(src.windows(3)).take(n.saturating_sub(2)) {
        let c = 3 * u16::from(w[1]);
        o[0] = ((c + u16::from(w[0]) + 1) >> 2) as u8;
        o[1] = ((c + u16::from(w[2]) + 2) >> 2) as u8;
    }
}

/// As [`h2_fancy`] on column sums that already weigh the two nearest
/// sample rows 3:1 (libjpeg's `h2v2_fancy_upsample`).
fn h2v2_fancy(sums: &[u16], width: usize, out: &mut Vec<u8>) {
    out.clear();
    out.resize(width + 1, 0);
    let n = width.div_ceil(2).min(sums.len());
    let at = |i: usize| sums[i.min(sums.len() - 1)];
    for i in [0, n - 1] {
        let c = 3 * at(i);
        out[2 * i] = ((c + at(i.saturating_sub(1)) + 8) >> 4) as u8;
        out[2 * i + 1] = ((c + at(i + 1) + 7) >> 4) as u8;
    }
    for (o, w) in out[2..].chunks_exact_mut(2).zip(sums.windows(3)).take(n.saturating_sub(2)) {
        let c = 3 * w[1];
        o[0] = ((c + w[0] + 8) >> 4) as u8;
        o[1] = ((c + w[2] + 7) >> 4) as u8;
    }
}

/// `c × k / 255`, rounded: ink and key combined, as zune-jpeg and libjpeg users do.
#[inline(always)]
fn blinn(c: u8, k: u8) -> u8 {
    let t = u32::from(c) * u32::from(k) + 128;
    ((t + (t >> 8)) >> 8) as u8
}

const N: usize = 16;

/// libjpeg's fixed-point YCbCr to RGB for 16 pixels: planar arithmetic on
/// fixed-size arrays (which vectorises), then one interleaving pass.
#[inline(always)]
fn ycc16(ys: &[u8; N], cbs: &[u8; N], crs: &[u8; N], out: &mut [u8; 3 * N]) {
    let (mut r, mut g, mut b) = ([0u8; N], [0u8; N], [0u8; N]);
    for i in 0..N {
        let (l, u, v) = (i32::from(ys[i]), i32::from(cbs[i]) - 128, i32::from(crs[i]) - 128);
        r[i] = (l + ((91_881 * v + 32_768) >> 16)).clamp(0, 255) as u8;
        g[i] = (l + ((-22_554 * u - 46_802 * v + 32_768) >> 16)).clamp(0, 255) as u8;
        b[i] = (l + ((116_130 * u + 32_768) >> 16)).clamp(0, 255) as u8;
    }
    for i in 0..N {
        out[3 * i] = r[i];
        out[3 * i + 1] = g[i];
        out[3 * i + 2] = b[i];
    }
}

fn ycc_row(y: &[u8], cb: &[u8], cr: &[u8], out: &mut [u8]) {
    let width = out.len() / 3;
    let whole = width / N * N;
    for (((ys, cbs), crs), o) in y
        .chunks_exact(N)
        .zip(cb.chunks_exact(N))
        .zip(cr.chunks_exact(N))
        .zip(out.chunks_exact_mut(3 * N))
        .take(whole / N)
    {
        let arr = |s: &[u8]| -> [u8; N] { s.try_into().unwrap_or([0; N]) };
        let o: &mut [u8; 3 * N] = match o.try_into() {
            Ok(o) => o,
            Err(_) => return,
        };
        ycc16(&arr(ys), &arr(cbs), &arr(crs), o);
    }
    let rest = width - whole;
    if rest > 0 {
        let pad = |s: &[u8]| -> [u8; N] {
            let mut a = [0u8; N];
            a[..rest].copy_from_slice(&s[whole..width]);
            a
        };
        let mut o = [0u8; 3 * N];
        ycc16(&pad(y), &pad(cb), &pad(cr), &mut o);
        out[3 * whole..3 * width].copy_from_slice(&o[..3 * rest]);
    }
}

/// Interleaved RGB, `width`×`height`, from the planes of one frame. CMYK
/// and YCCK go through `profile` when the file embeds one, else through
/// the naive formula (each of C, M and Y multiplied by K's complement),
/// which is what libjpeg's users and browsers without colour management do.
pub(super) fn to_rgb(planes: &[Plane], model: Model, width: usize, height: usize, profile: Option<&ToSrgb>) -> Vec<u8> {
    let mut out = vec![0u8; width * height * 3];
    let mut bufs: Vec<Vec<u8>> = planes.iter().map(|_| Vec::with_capacity(width + 1)).collect();
    let mut sums = Vec::with_capacity(width);
    let mut inks = if profile.is_some() { vec![0u8; width * 4] } else { Vec::new() };
    let mut scratch = CmykScratch::default();
    for (y, row) in out.chunks_exact_mut(width * 3).enumerate() {
        let mut ins: Vec<&[u8]> = Vec::with_capacity(planes.len());
        for (plane, buf) in planes.iter().zip(bufs.iter_mut()) {
            ins.push(plane.upsampled_row(y, width, buf, &mut sums));
        }
        match model {
            Model::Gray => {
                for (px, &g) in row.chunks_exact_mut(3).zip(ins[0]) {
                    px.fill(g);
                }
            }
            Model::YCbCr => ycc_row(ins[0], ins[1], ins[2], row),
            Model::Rgb => {
                for (((px, &r), &g), &b) in row.chunks_exact_mut(3).zip(ins[0]).zip(ins[1]).zip(ins[2]) {
                    px.copy_from_slice(&[r, g, b]);
                }
            }
            // Adobe stores CMYK inverted (255 = no ink); ICC profiles count ink.
            Model::Cmyk if let Some(profile) = profile => {
                for ((((ink, &c), &m), &ye), &k) in
                    inks.chunks_exact_mut(4).zip(ins[0]).zip(ins[1]).zip(ins[2]).zip(ins[3])
                {
                    ink.copy_from_slice(&[255 - c, 255 - m, 255 - ye, 255 - k]);
                }
                profile.cmyk_row(&inks, row, &mut scratch);
            }
            Model::Cmyk => {
                for ((((px, &c), &m), &ye), &k) in
                    row.chunks_exact_mut(3).zip(ins[0]).zip(ins[1]).zip(ins[2]).zip(ins[3])
                {
                    px.copy_from_slice(&[blinn(c, k), blinn(m, k), blinn(ye, k)]);
                }
            }
            // YCCK's colour part decodes to the inverted C, M and Y.
            Model::Ycck if let Some(profile) = profile => {
                ycc_row(ins[0], ins[1], ins[2], row);
                for ((ink, px), &k) in inks.chunks_exact_mut(4).zip(row.chunks_exact(3)).zip(ins[3]) {
                    ink.copy_from_slice(&[px[0], px[1], px[2], 255 - k]);
                }
                profile.cmyk_row(&inks, row, &mut scratch);
            }
            Model::Ycck => {
                ycc_row(ins[0], ins[1], ins[2], row);
                for (px, &k) in row.chunks_exact_mut(3).zip(ins[3]) {
                    for v in px.iter_mut() {
                        *v = blinn(255 - *v, k);
                    }
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plane(data: Vec<u8>, stride: usize, ux: usize, uy: usize) -> Plane {
        let rows = data.len() / stride;
        Plane { data, stride, rows, ux, uy }
    }

    #[test]
    fn flat_chroma_upsamples_flat_and_converts_grey() {
        let y = plane(vec![100; 16], 4, 1, 1);
        let cb = plane(vec![128; 4], 2, 2, 2);
        let cr = plane(vec![128; 4], 2, 2, 2);
        let rgb = to_rgb(&[y, cb, cr], Model::YCbCr, 4, 4, None);
        assert!(rgb.iter().all(|&v| v == 100));
    }

    #[test]
    fn fancy_upsampling_blends_neighbours() {
        let mut out = Vec::new();
        h2_fancy(&[0, 200], 4, &mut out);
        assert_eq!(&out[..4], &[0, 50, 150, 200]);
        h2_fancy(&[0, 40, 80, 120], 8, &mut out);
        assert_eq!(&out[..8], &[0, 10, 30, 50, 70, 90, 110, 120]);
        h2_fancy(&[77], 1, &mut out);
        assert_eq!(out[0], 77);
        let sums: Vec<u16> = [0u16, 40, 80, 120].iter().map(|v| v * 4).collect();
        h2v2_fancy(&sums, 7, &mut out);
        assert_eq!(&out[..7], &[0, 10, 30, 50, 70, 90, 110]);
    }

    #[test]
    fn pure_colours_convert() {
        let y = plane(vec![76], 1, 1, 1);
        let cb = plane(vec![85], 1, 1, 1);
        let cr = plane(vec![255], 1, 1, 1);
        let rgb = to_rgb(&[y, cb, cr], Model::YCbCr, 1, 1, None);
        assert!(rgb[0] > 245 && rgb[1] < 10 && rgb[2] < 10, "red: {rgb:?}");
        let k = |v| plane(vec![v], 1, 1, 1);
        let rgb = to_rgb(&[k(0), k(255), k(255), k(255)], Model::Cmyk, 1, 1, None);
        assert_eq!(rgb, [0, 255, 255], "inverted full cyan ink, no black");
    }
}
