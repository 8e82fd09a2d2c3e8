//! Easel's own JPEG decoder (baseline and progressive, Huffman-coded,
//! 8-bit), written for the resizer's one job: it can shrink on load by
//! 2, 4 or 8 in the DCT domain, and it stores progressive coefficients
//! compactly.
//!
//! Why not a crate: the 16 photographs of the benchmark corpus spend most
//! of their decode time in three large progressive files, and there in
//! successive-approximation refinement scans, which every decoder we
//! measured (zune-jpeg, jpeg-decoder, libjpeg-turbo) walks one coefficient
//! and one branch at a time. Here each block keeps a 64-bit mask of its
//! non-zero coefficients, so a refinement pass reads all its correction
//! bits at once and jumps between positions with bit arithmetic. The
//! same mask lets shrink-on-load keep only the coefficients the reduced
//! IDCT reads (a 16th of them at ⅛ scale), which is what keeps peak
//! memory on an 18 MP progressive upload well below libvips's.
//!
//! It is pure safe Rust with no per-CPU code, so the Lambda's aarch64
//! build is the same code as the x86-64 one.

mod bits;
mod color;
mod huffman;
mod idct;

use bits::BitReader;
use color::{Model, Plane};
use huffman::{Huffman, LOOKAHEAD};
use idct::{Basis, Dequant};

use super::colour::{self, Colour, Ignored, MAX_PROFILE_BYTES, Space};
use super::{ImageError, ImageFormat, Limits, Work};

/// Scans in one file. Common encoders write at most 11 (libjpeg's
/// progressive script has 10, mozjpeg's up to 11, Photoshop's 3 to 5);
/// jpegtran scripts that split every band and bit stay well below 64.
/// libjpeg-turbo leaves the limit to the application (its fuzzers use
/// 500); ours can be lower because the block budget below, not this
/// count, is what bounds the work. This only bounds the per-scan setup.
const MAX_SCANS: u32 = 64;
/// The work budget is counted in blocks: one per block a scan covers,
/// plus the fixed costs below in what they take compared with decoding a
/// block (about 140 instructions at the sizes where fixed costs matter;
/// measured with `cargo ops bench hostile`). It is the floor below plus
/// `PASSES_PER_BLOCK × the frame's blocks`.
///
/// Entropy-decoding passes over the frame's blocks, on average. libjpeg's
/// progressive script makes 6 over luma and 4 over chroma (5.3 over a
/// 4:2:0 frame), mozjpeg's at most 8: 16 leaves twice that, and keeps a
/// file whose scans each cover the frame with one end-of-band run (the
/// standard allows 14 scans per coefficient) at a small multiple of a real
/// photograph's cost.
const PASSES_PER_BLOCK: u64 = 16;
/// Building a Huffman table (its 512-entry lookup) costs about what
/// decoding 10 blocks does. Tables are built when a scan first uses them,
/// so a definition alone costs only its copy.
const TABLE_COST: u64 = 10;
const TABLE_DEFINITION_COST: u64 = 2;
/// Below this many blocks the AC tables' combined run/size/value lookup
/// costs more to build than it saves.
const FAST_AC_MIN_BLOCKS: u64 = 4096;
/// Setting up a scan (header, buffers, copying its data out).
const SCAN_COST: u64 = 7;
/// Reading a marker segment's header.
const SEGMENT_COST: u64 = 1;
/// Reading a quantisation table.
const QUANT_TABLE_COST: u64 = 1;
/// One scan with a table of its own, the unit of the floor.
const STEP: u64 = SCAN_COST + TABLE_DEFINITION_COST + TABLE_COST;
/// What a small real file needs whatever its pixel count, with room to
/// spare: libjpeg's optimised progressive script (`cjpeg -progressive
/// -optimize`) writes 6 scans and 5 tables for a grey image and 10 of each
/// for a colour one, plus a dozen segments or more of metadata (a one-pixel
/// file of each uses 123 of 168 and 236 of 362). Per component, so that a
/// tiny grey file cannot spend what a colour one may; the floor is what
/// keeps the decision on a one-pixel file within twice a photograph's.
const FLOOR_BASE: u64 = 5 * STEP;
const FLOOR_PER_COMPONENT: u64 = 3 * STEP;

/// The budget for a frame of `components` and `blocks` in all.
fn block_budget(components: u64, blocks: u64) -> u64 {
    FLOOR_BASE + FLOOR_PER_COMPONENT * components + PASSES_PER_BLOCK * blocks
}
/// Marker segments (APPn, COM, DQT, DHT, …). Cameras write a dozen or
/// two; an ICC profile split over APP2 segments may add up to 255. Each
/// is also charged `SEGMENT_COST`, so on a small image the budget binds
/// first (a one-pixel grey file has room for about 150).
const MAX_SEGMENTS: u32 = 512;
/// Bytes that belong to no segment (stray bytes between segments, empty
/// markers). libjpeg skips them with a warning; a few are common, but a
/// file made of them is not an image.
const MAX_STRAY_BYTES: usize = 4096;
/// Entropy-coded bytes a scan may carry per block it covers. Even at
/// quality 100 on noise a block takes under 100 bytes; the worst case the
/// code allows (63 coefficients of 16 bits plus their codes) is about 200.
const MAX_SCAN_BYTES_PER_BLOCK: u64 = 256;
const SCAN_BYTES_SLACK: u64 = 4096;

/// Zigzag position → natural (row-major) position. Indices past 63 clamp
/// to 63, as in libjpeg, so a corrupt run cannot index out of the block.
const UNZIGZAG: [usize; 80] = [
    0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5, 12, 19, 26, 33, 40, 48, 41, 34, 27, 20, 13, 6, 7, 14, 21,
    28, 35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51, 58, 59, 52, 45, 38, 31, 39, 46, 53, 60, 61, 54,
    47, 55, 62, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63,
];

/// A decoded JPEG: RGB pixels in the file's stored orientation, shrunk by
/// `shrink` (rounding up), and what EXIF says about turning them upright.
pub(crate) struct Jpeg {
    /// Stored (not yet oriented) size of the full image.
    pub(crate) width: u32,
    pub(crate) height: u32,
    /// EXIF orientation, 1 to 8 (1 when absent or unreadable).
    pub(crate) orientation: u16,
    pub(crate) pixel_width: u32,
    pub(crate) pixel_height: u32,
    pub(crate) rgb: Vec<u8>,
}

/// What the caller learns before any pixel memory is committed: the
/// upright size, from which it picks the shrink factor (1, 2, 4 or 8).
pub(crate) struct Probe {
    pub(crate) width: u32,
    pub(crate) height: u32,
}

fn corrupt(msg: impl Into<String>) -> ImageError {
    ImageError::Corrupt(msg.into())
}

fn hostile(detail: impl Into<String>) -> ImageError {
    ImageError::Contrived(detail.into())
}

fn unsupported(detail: impl Into<String>) -> ImageError {
    ImageError::UnsupportedVariant { format: ImageFormat::Jpeg, detail: detail.into() }
}

/// Decodes `bytes`. `choose_shrink` sees the upright size after the header
/// and the pixel limit have been checked, before anything large is
/// allocated; an error from it stops the decode.
pub(crate) fn decode(
    bytes: &[u8],
    limits: &Limits,
    choose_shrink: &dyn Fn(&Probe) -> Result<u32, ImageError>,
    manage_colour: bool,
    work: &mut Work,
) -> Result<Jpeg, ImageError> {
    if bytes.len() < 4 || bytes[0] != 0xFF || bytes[1] != 0xD8 {
        return Err(corrupt("not a JPEG stream"));
    }
    let mut d = Decoder {
        data: bytes,
        qt: [None; 4],
        dc: [None, None, None, None],
        ac: [None, None, None, None],
        defined: [None, None, None, None, None, None, None, None],
        restart_interval: 0,
        orientation: None,
        adobe_transform: None,
        frame: None,
        scans: 0,
        segments: 0,
        stray: 0,
        exif_read: false,
        manage_colour,
        icc: Vec::new(),
        colour: Colour::Untagged,
        blocks_decoded: 0,
        blocks_visited: 0,
        // Until the frame header says more: one component, no blocks.
        block_budget: block_budget(1, 0),
        frame_blocks: 0,
        scratch: Vec::new(),
    };
    let result = d.run(limits, choose_shrink);
    work.blocks_decoded += d.blocks_decoded;
    work.blocks_visited += d.blocks_visited;
    work.block_budget += d.block_budget;
    work.colour = d.colour;
    result
}

struct Decoder<'a> {
    data: &'a [u8],
    qt: [Option<[u16; 64]>; 4],
    dc: [Option<Box<Huffman>>; 4],
    ac: [Option<Box<Huffman>>; 4],
    /// Huffman tables defined but not built yet (DC 0–3, then AC 0–3):
    /// code-length counts and symbols.
    defined: [Option<Box<([u8; 16], [u8; 256])>>; 8],
    restart_interval: usize,
    orientation: Option<u16>,
    adobe_transform: Option<u8>,
    frame: Option<Frame>,
    scans: u32,
    segments: u32,
    stray: usize,
    exif_read: bool,
    /// Whether to read the ICC profile and convert to sRGB.
    manage_colour: bool,
    /// The ICC profile's APP2 pieces: sequence number, count, and where
    /// the piece lies in `data`.
    icc: Vec<(u8, u8, std::ops::Range<usize>)>,
    colour: Colour,
    /// Work so far and the most allowed, in blocks (see `PASSES_PER_BLOCK`).
    blocks_decoded: u64,
    block_budget: u64,
    /// Blocks actually entropy-decoded (see `Work::blocks_visited`).
    blocks_visited: u64,
    /// The frame's blocks, once its header is read.
    frame_blocks: u64,
    /// The unstuffed-data buffer, reused from scan to scan.
    scratch: Vec<u8>,
}

struct Component {
    id: u8,
    h: usize,
    v: usize,
    tq: usize,
    /// Blocks per row and column on the MCU-padded grid.
    bw: usize,
    bh: usize,
    /// Blocks that actually cover the component (single-component scans).
    cbw: usize,
    cbh: usize,
    bx: Basis,
    by: Basis,
    ux: usize,
    uy: usize,
    plane: Vec<u8>,
    stride: usize,
    dequant: Option<Box<Dequant>>,
    dc_pred: i32,
    dc_table: usize,
    ac_table: usize,
    // Progressive storage: for each block, the kept coefficients (natural
    // positions u < nx, v < ny) and a mask of every non-zero coefficient
    // by zigzag index, kept or not (refinement needs the history of all).
    slots: usize,
    zz_slot: [u8; 64],
    kept: u64,
    coefs: Vec<i16>,
    masks: Vec<u64>,
    /// Progressive: per zigzag position, the point transform (Al) the
    /// last scan left it at, or -1 before its first scan. The standard
    /// lets a scan start a coefficient once and then refine it one bit at
    /// a time, which bounds the scans that can touch it.
    coef_bits: [i8; 64],
    /// Sequential: the component's one scan has been read.
    scanned: bool,
}

struct Frame {
    width: usize,
    height: usize,
    progressive: bool,
    comps: Vec<Component>,
    mcux: usize,
    mcuy: usize,
    out_w: usize,
    out_h: usize,
}

#[derive(Clone, Copy)]
struct ScanComp {
    index: usize,
}

struct Scan {
    comps: Vec<ScanComp>,
    ss: u32,
    se: u32,
    ah: u32,
    al: u32,
}

fn be16(b: &[u8], at: usize) -> Result<usize, ImageError> {
    match b.get(at..at + 2) {
        Some(s) => Ok(usize::from(u16::from_be_bytes([s[0], s[1]]))),
        None => Err(corrupt("the file ends too early")),
    }
}

impl Decoder<'_> {
    fn run(
        &mut self,
        limits: &Limits,
        choose_shrink: &dyn Fn(&Probe) -> Result<u32, ImageError>,
    ) -> Result<Jpeg, ImageError> {
        let data = self.data;
        let mut pos = 2;
        loop {
            // Find the next marker, skipping fill bytes and tolerating a
            // little junk between segments as libjpeg does.
            let junk_from = pos;
            let junk_end = data.len().min(pos + (MAX_STRAY_BYTES + 1 - self.stray.min(MAX_STRAY_BYTES)));
            while pos < junk_end && data[pos] != 0xFF {
                pos += 1;
            }
            self.stray += pos - junk_from;
            while pos < data.len() && data[pos] == 0xFF {
                pos += 1;
            }
            if self.stray > MAX_STRAY_BYTES {
                return Err(hostile(format!("more than {MAX_STRAY_BYTES} bytes outside any segment")));
            }
            if pos >= data.len() {
                // Browsers show what arrived, but an upload cut off part-way
                // must be refused, not stored grey at the bottom.
                return Err(corrupt("the JPEG data ends before its end-of-image marker"));
            }
            let marker = data[pos];
            pos += 1;
            match marker {
                0xD9 => break,
                0xD8 | 0xD0..=0xD7 | 0x01 | 0x00 => {
                    self.stray += 2;
                    continue;
                }
                _ => {}
            }
            self.segments += 1;
            if self.segments > MAX_SEGMENTS {
                return Err(hostile(format!("more than {MAX_SEGMENTS} marker segments")));
            }
            self.charge(SEGMENT_COST, "its marker segments")?;
            let len = be16(data, pos)?;
            if len < 2 {
                return Err(corrupt(format!("JPEG segment {marker:#04X} has length {len}")));
            }
            let seg = data.get(pos + 2..pos + len).ok_or_else(|| corrupt("the file ends too early"))?;
            pos += len;
            match marker {
                0xC0..=0xC2 => self.start_frame(seg, marker == 0xC2, limits, choose_shrink)?,
                0xC3 | 0xC5..=0xC7 | 0xC9..=0xCB | 0xCD..=0xCF => {
                    return Err(unsupported(format!(
                        "{} JPEG (SOF{})",
                        if marker >= 0xC9 { "arithmetic-coded" } else { "lossless or hierarchical" },
                        marker - 0xC0
                    )));
                }
                0xC4 => self.read_dht(seg)?,
                0xDB => self.read_dqt(seg)?,
                0xDD => self.restart_interval = be16(seg, 0)?,
                0xDA => pos = self.decode_scan(seg, pos)?,
                0xE1 if !self.exif_read && seg.starts_with(b"Exif\0\0") => {
                    self.exif_read = true;
                    self.orientation = exif_orientation(seg);
                }
                0xEE if seg.starts_with(b"Adobe") && seg.len() >= 12 => self.adobe_transform = Some(seg[11]),
                0xE2 if seg.starts_with(b"ICC_PROFILE\0") && seg.len() >= 14 => {
                    self.icc.push((seg[12], seg[13], pos - len + 16..pos));
                }
                0xDC => return Err(unsupported("a DNL marker (height given after the image data)")),
                _ => {}
            }
        }
        let frame = self.frame.take().ok_or_else(|| corrupt("the JPEG has no frame header"))?;
        if self.scans == 0 {
            return Err(corrupt("the JPEG has no image data"));
        }
        self.finish(frame)
    }

    fn start_frame(
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

    /// Takes `blocks` of work from the budget (see `charge`).
    fn charge(&mut self, blocks: u64, what: &str) -> Result<(), ImageError> {
        charge(&mut self.blocks_decoded, self.block_budget, blocks, what)
    }

    fn read_dht(&mut self, mut seg: &[u8]) -> Result<(), ImageError> {
        while !seg.is_empty() {
            self.charge(TABLE_DEFINITION_COST, "its Huffman tables")?;
            if seg.len() < 17 {
                return Err(corrupt("short Huffman table"));
            }
            let (class, id) = (seg[0] >> 4, usize::from(seg[0] & 15));
            if class > 1 || id > 3 {
                return Err(corrupt(format!("Huffman table class {class} id {id}")));
            }
            let counts: [u8; 16] = seg[1..17].try_into().map_err(|_| corrupt("short Huffman table"))?;
            let total: usize = counts.iter().map(|&c| usize::from(c)).sum();
            if total > 256 {
                return Err(corrupt("Huffman table has a bad symbol count"));
            }
            let symbols = seg.get(17..17 + total).ok_or_else(|| corrupt("short Huffman table"))?;
            let slot = usize::from(class) * 4 + id;
            // Overwritten in place: a flood of definitions allocates nothing.
            let def = self.defined[slot].get_or_insert_with(|| Box::new(([0; 16], [0; 256])));
            def.0 = counts;
            def.1[..total].copy_from_slice(symbols);
            if class == 0 {
                self.dc[id] = None;
            } else {
                self.ac[id] = None;
            }
            seg = &seg[17 + total..];
        }
        Ok(())
    }

    fn read_dqt(&mut self, mut seg: &[u8]) -> Result<(), ImageError> {
        while !seg.is_empty() {
            self.charge(QUANT_TABLE_COST, "its quantisation tables")?;
            let (precision, id) = (seg[0] >> 4, usize::from(seg[0] & 15));
            if id > 3 || precision > 1 {
                return Err(corrupt(format!("quantisation table {id} with precision {precision}")));
            }
            let size = if precision == 0 { 64 } else { 128 };
            let body = seg.get(1..1 + size).ok_or_else(|| corrupt("short quantisation table"))?;
            let mut q = [0u16; 64];
            for (k, &nat) in UNZIGZAG[..64].iter().enumerate() {
                q[nat] = if precision == 0 {
                    u16::from(body[k])
                } else {
                    u16::from_be_bytes([body[2 * k], body[2 * k + 1]])
                };
            }
            self.qt[id] = Some(q);
            seg = &seg[1 + size..];
        }
        Ok(())
    }

    /// Builds the tables defined since they were last built (a file may
    /// redefine a table before every scan), charging each build.
    fn build_tables(&mut self, used: &[(Option<usize>, Option<usize>)]) -> Result<(), ImageError> {
        let fast = self.frame_blocks >= FAST_AC_MIN_BLOCKS;
        for &(dc, ac) in used {
            for slot in [dc, ac.map(|a| 4 + a)].into_iter().flatten() {
                let Some(def) = self.defined[slot].take() else { continue };
                self.charge(TABLE_COST, "its Huffman tables")?;
                let total: usize = def.0.iter().map(|&c| usize::from(c)).sum();
                let table = Huffman::new(&def.0, &def.1[..total.min(256)], fast && slot >= 4)?;
                if slot < 4 {
                    self.dc[slot] = Some(table);
                } else {
                    self.ac[slot - 4] = Some(table);
                }
            }
        }
        Ok(())
    }

    /// Decodes one scan whose entropy-coded data starts at `start`; returns
    /// where the next marker is.
    fn decode_scan(&mut self, seg: &[u8], start: usize) -> Result<usize, ImageError> {
        if self.scans >= MAX_SCANS {
            return Err(hostile(format!("more than {MAX_SCANS} scans")));
        }
        let n = usize::from(*seg.first().ok_or_else(|| corrupt("short scan header"))?);
        if n == 0 || n > 4 || seg.len() < 4 + 2 * n {
            return Err(corrupt("bad scan header"));
        }
        // Only the tables this scan decodes with: progressive DC scans use
        // no AC table and refinements of DC none at all.
        let (ss, ah) = (seg[1 + 2 * n], seg[3 + 2 * n] >> 4);
        let (needs_dc, needs_ac) = match self.frame.as_ref().map(|f| f.progressive) {
            Some(true) => (ss == 0 && ah == 0, ss > 0),
            _ => (true, true),
        };
        let mut used = [(None, None); 4];
        for (i, u) in used.iter_mut().enumerate().take(n) {
            let tables = seg[2 + 2 * i];
            *u = (needs_dc.then_some(usize::from(tables >> 4) & 3), needs_ac.then_some(usize::from(tables & 15) & 3));
        }
        self.build_tables(&used[..n])?;
        let frame = self.frame.as_mut().ok_or_else(|| corrupt("scan before frame header"))?;
        let mut comps = Vec::with_capacity(n);
        for i in 0..n {
            let (id, tables) = (seg[1 + 2 * i], seg[2 + 2 * i]);
            let index = frame
                .comps
                .iter()
                .position(|c| c.id == id)
                .ok_or_else(|| corrupt(format!("scan names unknown component {id}")))?;
            if comps.iter().any(|sc: &ScanComp| sc.index == index) {
                return Err(corrupt(format!("scan names component {id} twice")));
            }
            let c = &mut frame.comps[index];
            c.dc_table = usize::from(tables >> 4) & 3;
            c.ac_table = usize::from(tables & 15) & 3;
            if c.dequant.is_none() {
                let q = self.qt[c.tq].as_ref().ok_or_else(|| corrupt("missing quantisation table"))?;
                c.dequant = Some(Box::new(Dequant::new(q)));
            }
            comps.push(ScanComp { index });
        }
        let p = 1 + 2 * n;
        let scan = Scan {
            comps,
            ss: u32::from(seg[p]),
            se: u32::from(seg[p + 1]),
            ah: u32::from(seg[p + 2] >> 4),
            al: u32::from(seg[p + 2] & 15),
        };
        check_order(frame, &scan)?;
        let covered = scan_blocks(frame, &scan);
        // The frame is borrowed, so the budget's fields are charged directly.
        charge(&mut self.blocks_decoded, self.block_budget, covered + SCAN_COST, "its scans")?;
        let max_len = usize::try_from(covered * MAX_SCAN_BYTES_PER_BLOCK + SCAN_BYTES_SLACK).unwrap_or(usize::MAX);
        let mut r = BitReader::new(self.data, start, std::mem::take(&mut self.scratch), max_len)
            .map_err(|_| hostile("a scan carries far more data than its blocks can hold"))?;
        let ri = self.restart_interval;
        if !frame.progressive {
            let tables = |c: &Component| -> Result<(&Huffman, &Huffman), ImageError> {
                let dc = self.dc[c.dc_table].as_deref().ok_or_else(|| corrupt("missing Huffman table"))?;
                let ac = self.ac[c.ac_table].as_deref().ok_or_else(|| corrupt("missing Huffman table"))?;
                Ok((dc, ac))
            };
            for sc in &scan.comps {
                tables(&frame.comps[sc.index])?;
            }
            let mut blk = [0i32; 64];
            self.blocks_visited += each_block(frame, &scan, ri, &mut r, false, |c, bx, by, r, _| {
                let (dc, ac) = tables(c)?;
                let last = decode_block(r, dc, ac, &mut c.dc_pred, &mut blk)?;
                let off = by * c.by.n * c.stride + bx * c.bx.n;
                let q = c.dequant.as_deref().ok_or_else(|| corrupt("missing quantisation table"))?;
                output_block(&blk, last == 0, q, &c.bx, &c.by, &mut c.plane[off..], c.stride);
                // Only what was written needs clearing; most blocks are sparse.
                for &at in &UNZIGZAG[..=last] {
                    blk[at] = 0;
                }
                Ok(())
            })?;
        } else {
            let (ss, se, al) = (scan.ss, scan.se, scan.al);
            match (ss == 0, scan.ah == 0) {
                (true, true) => {
                    for sc in &scan.comps {
                        let c = &frame.comps[sc.index];
                        self.dc[c.dc_table].as_deref().ok_or_else(|| corrupt("missing Huffman table"))?;
                    }
                    let dc = &self.dc;
                    self.blocks_visited += each_block(frame, &scan, ri, &mut r, false, |c, bx, by, r, _| {
                        let table = dc[c.dc_table].as_deref().ok_or_else(|| corrupt("missing Huffman table"))?;
                        let s = u32::from(table.decode(r)?);
                        if s > 16 {
                            return Err(corrupt("bad DC magnitude"));
                        }
                        let diff = if s == 0 { 0 } else { r.receive_extend(s) };
                        c.dc_pred = c.dc_pred.wrapping_add(diff);
                        let b = by * c.bw + bx;
                        c.coefs[b * c.slots] = (c.dc_pred << al) as i16;
                        Ok(())
                    })?;
                }
                (true, false) => {
                    self.blocks_visited += each_block(frame, &scan, ri, &mut r, false, |c, bx, by, r, _| {
                        if r.bit() {
                            let b = by * c.bw + bx;
                            c.coefs[b * c.slots] |= 1 << al;
                        }
                        Ok(())
                    })?;
                }
                (false, first) => {
                    let c = &frame.comps[scan.comps[0].index];
                    let table = self.ac[c.ac_table].as_deref().ok_or_else(|| corrupt("missing Huffman table"))?;
                    let band = (u64::MAX >> (63 - se)) & (u64::MAX << ss);
                    self.blocks_visited += each_block(frame, &scan, ri, &mut r, first, |c, bx, by, r, eobrun| {
                        let b = by * c.bw + bx;
                        let coefs = &mut c.coefs[b * c.slots..(b + 1) * c.slots];
                        let mask = &mut c.masks[b];
                        if first {
                            ac_first(r, table, ss, se, al, eobrun, coefs, mask, &c.zz_slot)
                        } else {
                            ac_refine(r, table, ss, se, al, band, eobrun, coefs, mask, &c.zz_slot, c.kept)
                        }
                    })?;
                }
            }
        }
        self.scans += 1;
        let next = r.next_marker();
        self.scratch = r.into_scratch();
        Ok(next)
    }

    /// The ICC profile from its APP2 pieces, in sequence order. Every piece
    /// from 1 to the count must be there exactly once, all agreeing on the
    /// count, as ICC.1 Annex B asks; otherwise the profile is ignored.
    fn icc_profile(&self) -> Result<Option<Vec<u8>>, Ignored> {
        let Some(&(_, count, _)) = self.icc.first() else {
            return Ok(None);
        };
        if count == 0 || self.icc.len() != usize::from(count) || self.icc.iter().any(|p| p.1 != count) {
            return Err(Ignored::Incomplete);
        }
        let total: usize = self.icc.iter().map(|p| p.2.len()).sum();
        if total > MAX_PROFILE_BYTES {
            return Err(Ignored::TooLarge);
        }
        let mut profile = Vec::with_capacity(total);
        for seq in 1..=count {
            let mut pieces = self.icc.iter().filter(|p| p.0 == seq);
            match (pieces.next(), pieces.next()) {
                (Some(piece), None) => profile.extend_from_slice(&self.data[piece.2.clone()]),
                _ => return Err(Ignored::Incomplete),
            }
        }
        Ok(Some(profile))
    }

    fn finish(&mut self, mut frame: Frame) -> Result<Jpeg, ImageError> {
        if frame.progressive {
            let mut blk = [0i32; 64];
            // A component no scan mentioned stays mid-grey.
            let fallback = Dequant::new(&[1; 64]);
            for c in &mut frame.comps {
                let q = c.dequant.as_deref().unwrap_or(&fallback);
                c.plane = vec![0; c.stride * c.bh * c.by.n];
                let (nx, ny) = (c.bx.n, c.by.n);
                for by in 0..c.bh {
                    for bx in 0..c.bw {
                        let b = by * c.bw + bx;
                        let coefs = &c.coefs[b * c.slots..(b + 1) * c.slots];
                        for row in 0..ny {
                            for (dst, &src) in blk[row * 8..row * 8 + nx].iter_mut().zip(&coefs[row * nx..]) {
                                *dst = i32::from(src);
                            }
                        }
                        let dc_only = c.masks[b] & c.kept & !1 == 0;
                        let off = by * ny * c.stride + bx * nx;
                        output_block(&blk, dc_only, q, &c.bx, &c.by, &mut c.plane[off..], c.stride);
                    }
                }
                // Freed as soon as the samples exist: the coefficients are
                // the largest buffer of a progressive decode.
                c.coefs = Vec::new();
                c.masks = Vec::new();
            }
        }
        let model = match (frame.comps.len(), self.adobe_transform) {
            (1, _) => Model::Gray,
            (3, Some(0)) => Model::Rgb,
            (3, None) if frame.comps.iter().map(|c| c.id).eq(*b"RGB") => Model::Rgb,
            (3, _) => Model::YCbCr,
            (4, Some(2)) => Model::Ycck,
            (4, _) => Model::Cmyk,
            (n, _) => return Err(unsupported(format!("{n} colour components"))),
        };
        let samples = match model {
            Model::Gray => Space::Gray,
            Model::YCbCr | Model::Rgb => Space::Rgb,
            Model::Cmyk | Model::Ycck => Space::Cmyk,
        };
        let to_srgb = match if self.manage_colour { self.icc_profile() } else { Ok(None) } {
            Ok(Some(icc)) => colour::from_icc(&icc, samples, &mut self.colour),
            Ok(None) => None,
            Err(why) => {
                self.colour = Colour::Ignored(why);
                None
            }
        };
        let planes: Vec<Plane> = frame
            .comps
            .iter_mut()
            .map(|c| Plane {
                data: std::mem::take(&mut c.plane),
                stride: c.stride,
                rows: c.bh * c.by.n,
                ux: c.ux,
                uy: c.uy,
            })
            .collect();
        let cmyk = to_srgb.as_ref().filter(|t| t.is_cmyk());
        let mut rgb = color::to_rgb(&planes, model, frame.out_w, frame.out_h, cmyk);
        if let Some(t) = to_srgb.as_ref().filter(|t| !t.is_cmyk()) {
            t.apply(&mut rgb, 3);
        }
        Ok(Jpeg {
            width: frame.width as u32,
            height: frame.height as u32,
            orientation: self.orientation.unwrap_or(1),
            pixel_width: frame.out_w as u32,
            pixel_height: frame.out_h as u32,
            rgb,
        })
    }
}

/// Takes `blocks` of work from what is left of `budget`, or refuses the
/// file once it would need more than a real image of its size.
fn charge(spent: &mut u64, budget: u64, blocks: u64, what: &str) -> Result<(), ImageError> {
    if *spent + blocks > budget {
        return Err(hostile(format!(
            "{what} would take more work than decoding its blocks {PASSES_PER_BLOCK} times over"
        )));
    }
    *spent += blocks;
    Ok(())
}

/// The largest of 8, 4, 2, 1 not above `wanted` that every component can
/// be decoded at. An IDCT gives at most 8 samples a side, so a component
/// needing more (subsampled chroma near full size) is upsampled by a whole
/// factor, which odd subsampling ratios do not always allow.
fn usable_shrink(wanted: u32, sampling: &[(usize, usize)]) -> usize {
    let hmax = sampling.iter().map(|c| c.0).max().unwrap_or(1);
    let vmax = sampling.iter().map(|c| c.1).max().unwrap_or(1);
    let fits = |ratio: usize, s: usize| 8 * ratio / s <= 8 || ratio.is_multiple_of(s);
    [8, 4, 2]
        .into_iter()
        .filter(|&s| s <= wanted as usize)
        .find(|&s| sampling.iter().all(|&(h, v)| fits(hmax / h, s) && fits(vmax / v, s)))
        .unwrap_or(1)
}

#[inline]
fn output_block(blk: &[i32; 64], dc_only: bool, q: &Dequant, bx: &Basis, by: &Basis, out: &mut [u8], stride: usize) {
    if dc_only {
        idct::fill_dc(blk[0], q, bx.n, by.n, out, stride);
    } else if bx.n == 8 && by.n == 8 {
        idct::idct8(blk, q, out, stride);
    } else {
        idct::idct_reduced(blk, q, bx, by, out, stride);
    }
}

/// Calls `f` for every block of the scan in bitstream order, handling
/// restart intervals. `f` gets the component, the block's position on the
/// component's grid, the reader and the scan's end-of-band run.
///
/// `skip_eob_runs` is for first AC scans, where a block inside an
/// end-of-band run reads nothing and changes nothing: such runs are
/// stepped over whole. A scan whose data runs out is an error.
fn each_block(
    frame: &mut Frame,
    scan: &Scan,
    restart_interval: usize,
    r: &mut BitReader,
    skip_eob_runs: bool,
    mut f: impl FnMut(&mut Component, usize, usize, &mut BitReader, &mut u32) -> Result<(), ImageError>,
) -> Result<u64, ImageError> {
    let single = scan.comps.len() == 1;
    // Counted where the blocks are decoded, apart from what was charged
    // for them, so the tests can check that no path decodes uncharged.
    let mut visited = 0u64;
    let (units_x, units_y) = scan_units(frame, scan);
    for sc in &scan.comps {
        frame.comps[sc.index].dc_pred = 0;
    }
    let total = units_x * units_y;
    let mut eobrun = 0u32;
    let mut left = restart_interval;
    let mut unit = 0;
    while unit < total {
        if restart_interval > 0 && left == 0 {
            r.restart();
            eobrun = 0;
            for sc in &scan.comps {
                frame.comps[sc.index].dc_pred = 0;
            }
            left = restart_interval;
        }
        if skip_eob_runs && eobrun > 0 {
            let interval_left = if restart_interval > 0 { left } else { usize::MAX };
            let n = (eobrun as usize).min(interval_left).min(total - unit);
            eobrun -= n as u32;
            unit += n;
            if restart_interval > 0 {
                left -= n;
            }
            continue;
        }
        if restart_interval > 0 {
            left -= 1;
        }
        let (ux, uy) = (unit % units_x, unit / units_x);
        for sc in &scan.comps {
            let c = &mut frame.comps[sc.index];
            if single {
                f(c, ux, uy, r, &mut eobrun)?;
                visited += 1;
            } else {
                for v in 0..c.v {
                    for h in 0..c.h {
                        let (bx, by) = (ux * c.h + h, uy * c.v + v);
                        f(c, bx, by, r, &mut eobrun)?;
                    }
                }
                visited += (c.v * c.h) as u64;
            }
        }
        // A real encoder writes every bit its blocks need; decoding the
        // rest from invented zeros is what kept a 4 KB file busy for
        // seconds, and a scan cut short is a damaged file anyway.
        if r.overrun() {
            return Err(corrupt("a scan's data ends before its last block"));
        }
        unit += 1;
    }
    Ok(visited)
}

/// The units (MCUs, or blocks for a one-component scan) a scan walks.
fn scan_units(frame: &Frame, scan: &Scan) -> (usize, usize) {
    if let [only] = scan.comps[..] {
        let c = &frame.comps[only.index];
        (c.cbw, c.cbh)
    } else {
        (frame.mcux, frame.mcuy)
    }
}

/// The blocks a scan covers, known before any of its data is read.
fn scan_blocks(frame: &Frame, scan: &Scan) -> u64 {
    let (ux, uy) = scan_units(frame, scan);
    let per_unit: usize = if scan.comps.len() == 1 {
        1
    } else {
        scan.comps.iter().map(|sc| frame.comps[sc.index].h * frame.comps[sc.index].v).sum()
    };
    (ux * uy * per_unit) as u64
}

/// Refuses scan sequences the standard forbids, before any data is read:
/// in a sequential frame a component has one scan; in a progressive one
/// every coefficient is started once (after its DC) and then refined one
/// bit at a time. Both bound how often a block can be decoded.
fn check_order(frame: &mut Frame, scan: &Scan) -> Result<(), ImageError> {
    if !frame.progressive {
        for sc in &scan.comps {
            let c = &mut frame.comps[sc.index];
            if c.scanned {
                return Err(hostile(format!("component {} appears in more than one sequential scan", c.id)));
            }
            c.scanned = true;
        }
        return Ok(());
    }
    let (ss, se, ah, al) = (scan.ss, scan.se, scan.ah, scan.al);
    if se > 63 || ss > se || al > 13 || (ss == 0 && se != 0) {
        return Err(corrupt(format!("bad progressive scan {ss}..{se} a{ah}/{al}")));
    }
    if ss > 0 && scan.comps.len() != 1 {
        return Err(corrupt("an AC scan with more than one component"));
    }
    if ah != 0 && al + 1 != ah {
        return Err(hostile(format!("a refinement scan from bit {ah} to bit {al}")));
    }
    for sc in &scan.comps {
        let c = &mut frame.comps[sc.index];
        if ss > 0 && c.coef_bits[0] < 0 {
            return Err(hostile(format!("component {} has an AC scan before its DC scan", c.id)));
        }
        for bits in &mut c.coef_bits[ss as usize..=se as usize] {
            let follows = if ah == 0 { *bits < 0 } else { i32::from(*bits) == ah as i32 };
            if !follows {
                return Err(hostile(if ah == 0 {
                    format!("component {} has coefficients {ss}..{se} started twice", c.id)
                } else {
                    format!("component {} refines coefficients {ss}..{se} it never started at bit {ah}", c.id)
                }));
            }
            *bits = al as i8;
        }
    }
    Ok(())
}

/// One sequential block into `blk` (natural order, not dequantised).
/// Returns the zigzag index of the last coefficient written, 0 when only
/// DC is present.
#[inline(always)]
fn decode_block(
    r: &mut BitReader,
    dc: &Huffman,
    ac: &Huffman,
    pred: &mut i32,
    blk: &mut [i32; 64],
) -> Result<usize, ImageError> {
    let s = u32::from(dc.decode(r)?);
    if s > 16 {
        return Err(corrupt("bad DC magnitude"));
    }
    if s > 0 {
        *pred = pred.wrapping_add(r.receive_extend(s));
    }
    blk[0] = *pred;
    let mut k = 1usize;
    let mut last = 0usize;
    let fast_ac = ac.fast_ac();
    while k < 64 {
        let fast = fast_ac[r.peek(LOOKAHEAD) as usize];
        if fast != 0 {
            r.consume((fast & 0xFF) as u32);
            k += ((fast >> 8) & 0xFF) as usize;
            let at = UNZIGZAG[k.min(79)];
            blk[at] = fast >> 16;
            last = k;
            k += 1;
            continue;
        }
        let rs = ac.decode(r)?;
        let (run, size) = (usize::from(rs >> 4), u32::from(rs & 15));
        if size == 0 {
            if run == 15 {
                k += 16;
                continue;
            }
            break;
        }
        k += run;
        blk[UNZIGZAG[k.min(79)]] = r.receive_extend(size);
        last = k;
        k += 1;
    }
    Ok(last.min(63))
}

/// First pass over an AC band (spectral selection, first approximation).
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn ac_first(
    r: &mut BitReader,
    table: &Huffman,
    ss: u32,
    se: u32,
    al: u32,
    eobrun: &mut u32,
    coefs: &mut [i16],
    mask: &mut u64,
    zz_slot: &[u8; 64],
) -> Result<(), ImageError> {
    if *eobrun > 0 {
        *eobrun -= 1;
        return Ok(());
    }
    let mut k = ss;
    let fast_ac = table.fast_ac();
    while k <= se {
        let fast = fast_ac[r.peek(LOOKAHEAD) as usize];
        let (run, value) = if fast != 0 {
            r.consume((fast & 0xFF) as u32);
            (((fast >> 8) & 0xFF) as u32, fast >> 16)
        } else {
            let rs = table.decode(r)?;
            let (run, size) = (u32::from(rs >> 4), u32::from(rs & 15));
            if size == 0 {
                if run < 15 {
                    *eobrun = (1 << run) + r.bits(run) - 1;
                    return Ok(());
                }
                k += 16;
                continue;
            }
            (run, r.receive_extend(size))
        };
        k += run;
        // A run past the band still places its value, at the last
        // position for runs past 63, as libjpeg does (its natural-order
        // table clamps there); the loop then ends.
        let at = k.min(63);
        *mask |= 1 << at;
        let slot = zz_slot[at as usize];
        if slot != u8::MAX {
            coefs[usize::from(slot)] = (value << al) as i16;
        }
        k += 1;
    }
    Ok(())
}

/// Successive-approximation refinement of an AC band. Coefficients that
/// are already non-zero each take one correction bit; the mask finds them
/// (and the zero ones that runs count) without walking the block.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn ac_refine(
    r: &mut BitReader,
    table: &Huffman,
    ss: u32,
    se: u32,
    al: u32,
    band: u64,
    eobrun: &mut u32,
    coefs: &mut [i16],
    mask: &mut u64,
    zz_slot: &[u8; 64],
    kept: u64,
) -> Result<(), ImageError> {
    let p1 = (1i32 << al) as i16;
    let m1 = (-1i32 << al) as i16;
    let mut k = ss;
    if *eobrun == 0 {
        while k <= se {
            let rs = table.decode(r)?;
            let (run, size) = (u32::from(rs >> 4), rs & 15);
            let mut value = 0i16;
            if size == 0 {
                if run < 15 {
                    *eobrun = (1 << run) + r.bits(run);
                    break;
                }
            } else {
                value = if r.bit() { p1 } else { m1 };
            }
            let from = u64::MAX << k;
            // Skip `run` zero-history coefficients; land on the next one.
            let mut zeros = !*mask & band & from;
            for _ in 0..run {
                zeros &= zeros.wrapping_sub(1);
            }
            let p = if zeros == 0 { se + 1 } else { zeros.trailing_zeros() };
            let below = if p >= 64 { u64::MAX } else { (1u64 << p) - 1 };
            correct(r, *mask & band & from & below, coefs, zz_slot, kept, p1, m1);
            if p > se {
                k = p;
                break;
            }
            if value != 0 {
                *mask |= 1 << p;
                let slot = zz_slot[p as usize];
                if slot != u8::MAX {
                    coefs[usize::from(slot)] = value;
                }
            }
            k = p + 1;
        }
    }
    if *eobrun > 0 {
        if k <= se {
            correct(r, *mask & band & (u64::MAX << k), coefs, zz_slot, kept, p1, m1);
        }
        *eobrun -= 1;
    }
    Ok(())
}

/// Reads one correction bit for each coefficient in `nonzero` (zigzag
/// positions, in order) and applies those that land on kept coefficients.
/// Bits for positions past the last kept one are skipped in one go (at ½
/// scale that is most of them), and the update itself is branch-free:
/// correction bits are random, and a branch on each mispredicted half the
/// time.
#[inline(always)]
fn correct(r: &mut BitReader, nonzero: u64, coefs: &mut [i16], zz_slot: &[u8; 64], kept: u64, p1: i16, m1: i16) {
    let n = nonzero.count_ones();
    if nonzero & kept == 0 {
        r.skip(n);
        return;
    }
    // All positions up to the highest kept one.
    let span = u64::MAX >> kept.leading_zeros();
    let mut rest = nonzero & span;
    let low = rest.count_ones();
    let apply = |c: &mut i16, bit: u64| {
        let wanted = (bit & 1) as i16 & i16::from(*c & p1 == 0);
        let step = if *c >= 0 { p1 } else { m1 };
        *c = c.wrapping_add(step * wanted);
    };
    if low > 57 {
        while rest != 0 {
            let pos = rest.trailing_zeros() as usize;
            rest &= rest - 1;
            let bit = u64::from(r.bit());
            if let Some(slot) = zz_slot.get(pos).filter(|&&s| s != u8::MAX) {
                apply(&mut coefs[usize::from(*slot)], bit);
            }
        }
    } else {
        let bits = r.peek64(57) >> (57 - low);
        r.consume(low);
        let mut i = low;
        while rest != 0 {
            i -= 1;
            let pos = rest.trailing_zeros() as usize;
            rest &= rest - 1;
            let slot = zz_slot[pos];
            if slot != u8::MAX {
                apply(&mut coefs[usize::from(slot)], bits >> i);
            }
        }
    }
    r.skip(n - low);
}

/// The EXIF orientation (1 to 8) in an APP1 segment, if it has a readable one.
fn exif_orientation(seg: &[u8]) -> Option<u16> {
    let tiff = seg.strip_prefix(b"Exif\0\0")?;
    let le = match tiff.get(..2)? {
        b"II" => true,
        b"MM" => false,
        _ => return None,
    };
    let u16_at = |at: usize| -> Option<u16> {
        let b: [u8; 2] = tiff.get(at..at + 2)?.try_into().ok()?;
        Some(if le { u16::from_le_bytes(b) } else { u16::from_be_bytes(b) })
    };
    let u32_at = |at: usize| -> Option<u32> {
        let b: [u8; 4] = tiff.get(at..at + 4)?.try_into().ok()?;
        Some(if le { u32::from_le_bytes(b) } else { u32::from_be_bytes(b) })
    };
    let ifd = u32_at(4)? as usize;
    let count = usize::from(u16_at(ifd)?);
    for i in 0..count {
        let entry = ifd + 2 + 12 * i;
        if u16_at(entry)? == 0x0112 && u16_at(entry + 2)? == 3 {
            let v = u16_at(entry + 8)?;
            return (1..=8).contains(&v).then_some(v);
        }
    }
    None
}

#[cfg(test)]
mod tests;
