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
//!
//! How a file flows through: `decode` makes a `Decoder`, whose state
//! every file below works on through its own `impl Decoder` block.
//! - `markers.rs` walks the marker segments: tables (DQT, DHT, DRI),
//!   metadata (EXIF orientation, the Adobe transform, the ICC profile's
//!   APP2 pieces), and hands on the frame header and each scan.
//! - `frame.rs` reads the frame header (SOF): the pixel and memory
//!   limits, the caller's shrink, and each component's geometry and
//!   storage.
//! - `scan.rs` checks each scan (SOS) and walks its blocks;
//!   `coefficients.rs` entropy-decodes one block (`huffman.rs` over
//!   `bits.rs`). A sequential scan goes through the IDCT (`idct.rs`)
//!   into sample planes at once; a progressive one keeps coefficients.
//! - `output.rs`, at the end of the image, runs the IDCT over kept
//!   coefficients, picks the colour model and the ICC conversion, and has
//!   `color.rs` upsample and convert the planes into RGB rows.
//!
//! What bounds a hostile file (every number and its reason in
//! `budget.rs`): before any work is done it is charged, in blocks,
//! against a budget set by the frame's size (`Decoder::charge`), so
//! `blocks_decoded` never passes `block_budget`, and `blocks_visited`,
//! counted where blocks are really decoded, never passes what was
//! charged (`Work::within_budget` checks both). Scans,
//! segments, stray bytes and each scan's data are capped; scans must come
//! in the order the standard requires (`scan.rs`), which bounds how often
//! a block is decoded; a scan whose data runs out is refused. Memory is
//! checked against the limits at the frame header, for a full-size decode
//! whatever the shrink, before anything large is allocated.

mod bits;
mod budget;
mod coefficients;
mod color;
mod frame;
mod huffman;
mod idct;
mod markers;
mod output;
mod scan;

use frame::Frame;
use huffman::Huffman;

use super::colour::Colour;
use super::{ImageError, ImageFormat, Limits, Work};

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
        block_budget: budget::block_budget(1, 0),
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

/// What the decoder has read of the file so far and the work it has
/// done. Each stage's file adds its methods in an `impl Decoder` block;
/// being submodules, they see its private fields.
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
    /// Work so far and the most allowed, in blocks (see `budget.rs`).
    blocks_decoded: u64,
    block_budget: u64,
    /// Blocks actually entropy-decoded (see `Work::blocks_visited`).
    blocks_visited: u64,
    /// The frame's blocks, once its header is read.
    frame_blocks: u64,
    /// The unstuffed-data buffer, reused from scan to scan.
    scratch: Vec<u8>,
}

/// Zigzag position → natural (row-major) position. Indices past 63 clamp
/// to 63, as in libjpeg, so a corrupt run cannot index out of the block.
const UNZIGZAG: [usize; 80] = [
    0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5, 12, 19, 26, 33, 40, 48, 41, 34, 27, 20, 13, 6, 7, 14, 21,
    28, 35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51, 58, 59, 52, 45, 38, 31, 39, 46, 53, 60, 61, 54,
    47, 55, 62, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63,
];

fn corrupt(msg: impl Into<String>) -> ImageError {
    ImageError::Corrupt(msg.into())
}

fn hostile(detail: impl Into<String>) -> ImageError {
    ImageError::Contrived(detail.into())
}

fn unsupported(detail: impl Into<String>) -> ImageError {
    ImageError::UnsupportedVariant { format: ImageFormat::Jpeg, detail: detail.into() }
}

#[cfg(test)]
mod tests;
