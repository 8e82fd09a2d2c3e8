//! What a file may make the decoder do: the work budget, counted in
//! blocks and charged before the work is done, and the caps on scans,
//! segments, stray bytes and scan data. Each number keeps its reason
//! beside it; README's "Hostile files cost bounded work" sums them up.

use super::{Decoder, ImageError, hostile};

/// Scans in one file. Common encoders write at most 11 (libjpeg's
/// progressive script has 10, mozjpeg's up to 11, Photoshop's 3 to 5);
/// jpegtran scripts that split every band and bit stay well below 64.
/// libjpeg-turbo leaves the limit to the application (its fuzzers use
/// 500); ours can be lower because the block budget below, not this
/// count, is what bounds the work. This only bounds the per-scan setup.
pub(super) const MAX_SCANS: u32 = 64;
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
pub(super) const TABLE_COST: u64 = 10;
pub(super) const TABLE_DEFINITION_COST: u64 = 2;
/// Below this many blocks the AC tables' combined run/size/value lookup
/// costs more to build than it saves.
pub(super) const FAST_AC_MIN_BLOCKS: u64 = 4096;
/// Setting up a scan (header, buffers, copying its data out).
pub(super) const SCAN_COST: u64 = 7;
/// Reading a marker segment's header.
pub(super) const SEGMENT_COST: u64 = 1;
/// Reading a quantisation table.
pub(super) const QUANT_TABLE_COST: u64 = 1;
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
pub(super) fn block_budget(components: u64, blocks: u64) -> u64 {
    FLOOR_BASE + FLOOR_PER_COMPONENT * components + PASSES_PER_BLOCK * blocks
}
/// Marker segments (APPn, COM, DQT, DHT, …). Cameras write a dozen or
/// two; an ICC profile split over APP2 segments may add up to 255. Each
/// is also charged `SEGMENT_COST`, so on a small image the budget binds
/// first (a one-pixel grey file has room for about 150).
pub(super) const MAX_SEGMENTS: u32 = 512;
/// Bytes that belong to no segment (stray bytes between segments, empty
/// markers). libjpeg skips them with a warning; a few are common, but a
/// file made of them is not an image.
pub(super) const MAX_STRAY_BYTES: usize = 4096;
/// Entropy-coded bytes a scan may carry per block it covers. Even at
/// quality 100 on noise a block takes under 100 bytes; the worst case the
/// code allows (63 coefficients of 16 bits plus their codes) is about 200.
pub(super) const MAX_SCAN_BYTES_PER_BLOCK: u64 = 256;
pub(super) const SCAN_BYTES_SLACK: u64 = 4096;

impl Decoder<'_> {
    /// Takes `blocks` of work from the budget (see `charge`).
    pub(super) fn charge(&mut self, blocks: u64, what: &str) -> Result<(), ImageError> {
        charge(&mut self.blocks_decoded, self.block_budget, blocks, what)
    }
}

/// Takes `blocks` of work from what is left of `budget`, or refuses the
/// file once it would need more than a real image of its size.
pub(super) fn charge(spent: &mut u64, budget: u64, blocks: u64, what: &str) -> Result<(), ImageError> {
    if *spent + blocks > budget {
        return Err(hostile(format!(
            "{what} would take more work than decoding its blocks {PASSES_PER_BLOCK} times over"
        )));
    }
    *spent += blocks;
    Ok(())
}
