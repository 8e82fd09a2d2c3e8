//! The frame header (SOF) and what it sets up: the pixel and memory
//! checks, the shrink the caller picks, and each component's geometry on
//! the block grid, its reduced IDCT and where its samples or progressive
//! coefficients are kept.

use super::budget::block_budget;
use super::idct::{Basis, Dequant};
use super::markers::be16;
use super::{Decoder, ImageError, Limits, Probe, UNZIGZAG, corrupt, unsupported};

pub(super) struct Component {
    pub(super) id: u8,
    pub(super) h: usize,
    pub(super) v: usize,
    pub(super) tq: usize,
    /// Blocks per row and column on the MCU-padded grid.
    pub(super) bw: usize,
    pub(super) bh: usize,
    /// Blocks that actually cover the component (single-component scans).
    pub(super) cbw: usize,
    pub(super) cbh: usize,
    pub(super) bx: Basis,
    pub(super) by: Basis,
    pub(super) ux: usize,
    pub(super) uy: usize,
    pub(super) plane: Vec<u8>,
    pub(super) stride: usize,
    pub(super) dequant: Option<Box<Dequant>>,
    pub(super) dc_pred: i32,
    pub(super) dc_table: usize,
    pub(super) ac_table: usize,
    // Progressive storage: for each block, the kept coefficients (natural
    // positions u < nx, v < ny) and a mask of every non-zero coefficient
    // by zigzag index, kept or not (refinement needs the history of all).
    pub(super) slots: usize,
    pub(super) zz_slot: [u8; 64],
    pub(super) kept: u64,
    pub(super) coefs: Vec<i16>,
    pub(super) masks: Vec<u64>,
    /// Progressive: per zigzag position, the point transform (Al) the
    /// last scan left it at, or -1 before its first scan. The standard
    /// lets a scan start a coefficient once and then refine it one bit at
    /// a time, which bounds the scans that can touch it.
    pub(super) coef_bits: [i8; 64],
    /// Sequential: the component's one scan has been read.
    pub(super) scanned: bool,
}

pub(super) struct Frame {
    pub(super) width: usize,
    pub(super) height: usize,
    pub(super) progressive: bool,
    pub(super) comps: Vec<Component>,
    pub(super) mcux: usize,
    pub(super) mcuy: usize,
    pub(super) out_w: usize,
    pub(super) out_h: usize,
}

impl Decoder<'_> {
    pub(super) fn start_frame(
        &mut self,
        seg: &[u8],
        progressive: bool,
        limits: &Limits,
        choose_shrink: &dyn Fn(&Probe) -> Result<u32, ImageError>,
    ) -> Result<(), ImageError> {
        if self.frame.is_some() {
            return Err(corrupt("the JPEG has two frame headers"));
        }
        if seg.len() < 6 {
            return Err(corrupt("short frame header"));
        }
        if seg[0] != 8 {
            return Err(unsupported(format!("{}-bit samples", seg[0])));
        }
        let height = be16(seg, 1)?;
        let width = be16(seg, 3)?;
        let n = usize::from(seg[5]);
        if height == 0 {
            return Err(unsupported("a DNL marker (height given after the image data)"));
        }
        if width == 0 {
            return Err(corrupt(format!("the header claims {width}×{height} pixels")));
        }
        if !matches!(n, 1 | 3 | 4) || seg.len() < 6 + 3 * n {
            return Err(unsupported(format!("{n} colour components")));
        }
        let pixels = width as u64 * height as u64;
        let orientation = self.orientation.unwrap_or(1);
        let (up_w, up_h) = if orientation >= 5 { (height, width) } else { (width, height) };
        if pixels > limits.max_pixels {
            return Err(ImageError::TooManyPixels {
                width: up_w as u32,
                height: up_h as u32,
                limit: limits.max_pixels,
            });
        }
        let mut raw = Vec::with_capacity(n);
        for i in 0..n {
            let c = &seg[6 + 3 * i..9 + 3 * i];
            let (h, v, tq) = (usize::from(c[1] >> 4), usize::from(c[1] & 15), usize::from(c[2]));
            if !(1..=4).contains(&h) || !(1..=4).contains(&v) || tq > 3 {
                return Err(corrupt(format!("bad sampling factors {h}×{v} or table {tq}")));
            }
            raw.push((c[0], h, v, tq));
        }
        let hmax = raw.iter().map(|c| c.1).max().unwrap_or(1);
        let vmax = raw.iter().map(|c| c.2).max().unwrap_or(1);
        if raw.iter().any(|c| hmax % c.1 != 0 || vmax % c.2 != 0) {
            return Err(unsupported("fractional chroma subsampling"));
        }
        let mcux = width.div_ceil(8 * hmax);
        let mcuy = height.div_ceil(8 * vmax);

        // The memory check assumes a full-size decode whatever the shrink,
        // so `inspect` and `render` accept exactly the same files.
        let blocks: u64 = raw.iter().map(|c| (mcux * c.1 * mcuy * c.2) as u64).sum();
        self.block_budget = block_budget(n as u64, blocks);
        self.frame_blocks = blocks;
        let mut needed = pixels * 3 + blocks * 64;
        if progressive {
            needed += blocks * (64 * 2 + 8);
        }
        if orientation >= 5 {
            needed += pixels * 3;
        }
        if needed > limits.max_alloc {
            return Err(ImageError::TooMuchMemory { limit: limits.max_alloc });
        }

        let wanted = choose_shrink(&Probe { width: up_w as u32, height: up_h as u32 })?;
        let sampling: Vec<(usize, usize)> = raw.iter().map(|c| (c.1, c.2)).collect();
        let shrink = usable_shrink(wanted, &sampling);
        let mut comps = Vec::with_capacity(n);
        for &(id, h, v, tq) in &raw {
            let (tx, ty) = (8 * hmax / h / shrink, 8 * vmax / v / shrink);
            let (nx, ny) = (tx.min(8), ty.min(8));
            let (bw, bh) = (mcux * h, mcuy * v);
            let (cw, ch) = ((width * h).div_ceil(hmax), (height * v).div_ceil(vmax));
            let mut zz_slot = [u8::MAX; 64];
            let mut kept = 0u64;
            for (k, slot) in zz_slot.iter_mut().enumerate() {
                let nat = UNZIGZAG[k];
                let (row, col) = (nat / 8, nat % 8);
                if col < nx && row < ny {
                    *slot = (row * nx + col) as u8;
                    kept |= 1 << k;
                }
            }
            comps.push(Component {
                id,
                h,
                v,
                tq,
                bw,
                bh,
                cbw: cw.div_ceil(8),
                cbh: ch.div_ceil(8),
                bx: Basis::new(nx),
                by: Basis::new(ny),
                ux: tx / nx,
                uy: ty / ny,
                plane: Vec::new(),
                stride: bw * nx,
                dequant: None,
                dc_pred: 0,
                dc_table: 0,
                ac_table: 0,
                slots: nx * ny,
                zz_slot,
                kept,
                coefs: Vec::new(),
                masks: Vec::new(),
                coef_bits: [-1; 64],
                scanned: false,
            });
        }
        for c in &mut comps {
            if progressive {
                c.coefs = vec![0; c.bw * c.bh * c.slots];
                c.masks = vec![0; c.bw * c.bh];
            } else {
                c.plane = vec![0; c.stride * c.bh * c.by.n];
            }
        }
        self.frame = Some(Frame {
            width,
            height,
            progressive,
            comps,
            mcux,
            mcuy,
            out_w: width.div_ceil(shrink),
            out_h: height.div_ceil(shrink),
        });
        Ok(())
    }
}

/// The largest of 8, 4, 2, 1 not above `wanted` that every component can
/// be decoded at. An IDCT gives at most 8 samples a side, so a component
/// needing more (subsampled chroma near full size) is upsampled by a whole
/// factor, which odd subsampling ratios do not always allow.
pub(super) fn usable_shrink(wanted: u32, sampling: &[(usize, usize)]) -> usize {
    let hmax = sampling.iter().map(|c| c.0).max().unwrap_or(1);
    let vmax = sampling.iter().map(|c| c.1).max().unwrap_or(1);
    let fits = |ratio: usize, s: usize| 8 * ratio / s <= 8 || ratio.is_multiple_of(s);
    [8, 4, 2]
        .into_iter()
        .filter(|&s| s <= wanted as usize)
        .find(|&s| sampling.iter().all(|&(h, v)| fits(hmax / h, s) && fits(vmax / v, s)))
        .unwrap_or(1)
}
