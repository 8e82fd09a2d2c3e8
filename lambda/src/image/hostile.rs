//! Hostile files, made on demand: one generator per class of file that is
//! shaped to make deciding on it expensive. The regression tests and
//! `cargo ops bench hostile` both take them from here, so they always
//! attack the same things. (The fuzz seeds are legitimate files; libFuzzer
//! finds its own way to the hostile ones.)
//! It is long (about 640 lines) because it is a catalogue: one small,
//! independent generator per class of hostile file.
//!
//! Every file is small to store and names the pixel count it claims, so
//! the benchmark can compare its cost with a real photograph of that size.

/// What the image core must decide on a hostile file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Expect {
    /// Refused, whatever the reason.
    Refused,
    /// Legal, if odd: accepted or refused, but within the budget either way.
    Either,
}

/// One hostile file.
#[derive(Clone, Debug)]
pub struct Hostile {
    /// A short, file-name-safe name.
    pub name: String,
    /// The class it belongs to, as the issue names them.
    pub class: &'static str,
    pub bytes: Vec<u8>,
    /// The size its header claims.
    pub width: u32,
    pub height: u32,
    pub expect: Expect,
}

impl Hostile {
    pub fn pixels(&self) -> u64 {
        u64::from(self.width) * u64::from(self.height)
    }
}

/// Every hostile file, at sizes from one pixel to near the default limit.
pub fn corpus() -> Vec<Hostile> {
    let mut all = Vec::new();
    for (w, h) in [(1024, 1024), (8000, 6000)] {
        all.push(empty_scans(w, h));
        all.push(eob_run_passes(w, h));
        all.push(dc_refinement_ladder(w, h));
        all.push(repeated_sequential_scans(w, h));
        all.push(refinement_never_started(w, h));
        all.push(claims_huge_frame(w, h));
        all.push(deep_huffman_tables(w, h));
        all.push(png_ancillary_bomb(w, h, *b"zTXt"));
        all.push(png_ancillary_bomb(w, h, *b"iCCP"));
        all.push(png_ancillary_bomb(w, h, *b"iTXt"));
        all.push(png_idat_overlong(w, h));
    }
    for (w, h) in [(1, 1), (64, 64)] {
        all.push(many_scans(w, h));
        all.push(table_flood(w, h));
        all.push(table_per_scan(w, h));
        all.push(segment_flood(w, h));
        all.push(stray_bytes(w, h));
        all.push(overlong_scan_data(w, h));
        all.push(png_chunk_flood(w, h));
        all.push(png_ancillary_bomb(w, h, *b"zTXt"));
        all.push(png_ancillary_bomb(w, h, *b"iCCP"));
    }
    all.extend(truncations());
    all.extend(hostile_icc());
    all
}

// ---- JPEG ------------------------------------------------------------------

fn segment(marker: u8, body: &[u8]) -> Vec<u8> {
    let len = u16::try_from(body.len() + 2).unwrap_or(u16::MAX);
    let mut out = vec![0xFF, marker];
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(body);
    out
}

/// Quantisation table 0, all ones.
fn dqt() -> Vec<u8> {
    let mut body = vec![0u8];
    body.extend_from_slice(&[1; 64]);
    segment(0xDB, &body)
}

/// A one-component (grey) frame header; `progressive` picks SOF2 over SOF0.
fn sof_grey(progressive: bool, w: u32, h: u32) -> Vec<u8> {
    let (w, h) = (w as u16, h as u16);
    let mut body = vec![8];
    body.extend_from_slice(&h.to_be_bytes());
    body.extend_from_slice(&w.to_be_bytes());
    body.extend_from_slice(&[1, 1, 0x11, 0]);
    segment(if progressive { 0xC2 } else { 0xC0 }, &body)
}

/// A Huffman table (`class_id` = class << 4 | id) with `n` codes of
/// `len` bits for `symbols`.
fn dht(class_id: u8, len: usize, symbols: &[u8]) -> Vec<u8> {
    let mut counts = [0u8; 16];
    counts[len - 1] = symbols.len() as u8;
    let mut body = vec![class_id];
    body.extend_from_slice(&counts);
    body.extend_from_slice(symbols);
    segment(0xC4, &body)
}

/// Scan header for the grey component with tables 0/0.
fn sos(ss: u8, se: u8, ah: u8, al: u8) -> Vec<u8> {
    segment(0xDA, &[1, 1, 0x00, ss, se, (ah << 4) | al])
}

/// MSB-first bits with 0xFF stuffing, padded with ones as encoders do.
struct Bits {
    out: Vec<u8>,
    acc: u32,
    n: u32,
}

impl Bits {
    fn new() -> Self {
        Bits { out: Vec::new(), acc: 0, n: 0 }
    }

    fn put(&mut self, value: u32, bits: u32) {
        for i in (0..bits).rev() {
            self.acc = (self.acc << 1) | ((value >> i) & 1);
            self.n += 1;
            if self.n == 8 {
                self.byte();
            }
        }
    }

    fn byte(&mut self) {
        let b = self.acc as u8;
        self.out.push(b);
        if b == 0xFF {
            self.out.push(0);
        }
        self.acc = 0;
        self.n = 0;
    }

    fn finish(mut self) -> Vec<u8> {
        while self.n != 0 {
            self.put(1, 1);
        }
        self.out
    }
}

fn blocks(w: u32, h: u32) -> u64 {
    u64::from(w.div_ceil(8)) * u64::from(h.div_ceil(8))
}

/// Scan data where every block's DC difference is category 0, with a
/// one-bit code `0`: one bit per block.
fn dc_zero_data(w: u32, h: u32) -> Vec<u8> {
    vec![0; blocks(w, h).div_ceil(8) as usize]
}

/// Scan data for a refinement scan: one correction bit per block.
fn one_bit_per_block(w: u32, h: u32) -> Vec<u8> {
    vec![0x55; blocks(w, h).div_ceil(8) as usize]
}

/// First-AC-scan data covering every block with end-of-band runs of
/// 32767 (code `0` for symbol 0xE0, then 14 one bits).
fn eob_runs(w: u32, h: u32) -> Vec<u8> {
    let mut bits = Bits::new();
    for _ in 0..blocks(w, h).div_ceil(32_767) {
        bits.put(0, 1);
        bits.put(0x3FFF, 14);
    }
    bits.finish()
}

fn jpeg(parts: Vec<Vec<u8>>) -> Vec<u8> {
    let mut out = vec![0xFF, 0xD8];
    for p in parts {
        out.extend_from_slice(&p);
    }
    out.extend_from_slice(&[0xFF, 0xD9]);
    out
}

fn progressive_head(w: u32, h: u32) -> Vec<Vec<u8>> {
    vec![dqt(), sof_grey(true, w, h), dht(0x00, 1, &[0x00]), dht(0x10, 1, &[0xE0])]
}

fn hostile(name: &str, class: &'static str, w: u32, h: u32, expect: Expect, bytes: Vec<u8>) -> Hostile {
    Hostile { name: format!("{name}-{w}x{h}"), class, bytes, width: w, height: h, expect }
}

/// The file first measured: a large frame and 300 scans with no data.
pub fn empty_scans(w: u32, h: u32) -> Hostile {
    let mut parts = progressive_head(w, h);
    for _ in 0..300 {
        parts.push(sos(0, 0, 0, 0));
    }
    hostile("empty-scans", "many scans", w, h, Expect::Refused, jpeg(parts))
}

/// Legal scan by legal scan: a DC scan, then one first-AC scan per
/// coefficient, each covering every block with a few end-of-band runs.
/// The standard allows 63 of them; the block budget stops it.
pub fn eob_run_passes(w: u32, h: u32) -> Hostile {
    let mut parts = progressive_head(w, h);
    parts.push(sos(0, 0, 0, 0));
    parts.push(dc_zero_data(w, h));
    push_ac_eob_scans(&mut parts, w, h);
    hostile("eob-run-passes", "many scans", w, h, Expect::Refused, jpeg(parts))
}

/// DC started at bit 13 and refined one bit at a time: the 14 scans the
/// standard allows, each reading a bit from every block.
pub fn dc_refinement_ladder(w: u32, h: u32) -> Hostile {
    let mut parts = progressive_head(w, h);
    push_dc_ladder(&mut parts, w, h);
    hostile("dc-refinement-ladder", "endless refinement", w, h, Expect::Either, jpeg(parts))
}

/// DC from bit 13, then its 13 refinements.
fn push_dc_ladder(parts: &mut Vec<Vec<u8>>, w: u32, h: u32) {
    parts.push(sos(0, 0, 0, 13));
    parts.push(dc_zero_data(w, h));
    for al in (0..13).rev() {
        parts.push(sos(0, 0, al + 1, al));
        parts.push(one_bit_per_block(w, h));
    }
}

/// One first-AC scan per coefficient, each all end-of-band runs.
fn push_ac_eob_scans(parts: &mut Vec<Vec<u8>>, w: u32, h: u32) {
    for k in 1..=63 {
        parts.push(sos(k, k, 0, 0));
        parts.push(eob_runs(w, h));
    }
}

/// A sequential frame whose one component is scanned again and again.
pub fn repeated_sequential_scans(w: u32, h: u32) -> Hostile {
    // DC code `0` (category 0), AC code `0` (end of block): two bits a block.
    let mut parts = vec![dqt(), sof_grey(false, w, h), dht(0x00, 1, &[0x00]), dht(0x10, 1, &[0x00])];
    let data = vec![0u8; blocks(w, h).div_ceil(4) as usize];
    // As many as fit in 20 MB, at most 200.
    for _ in 0..((20 << 20) / data.len().max(1)).min(200) {
        parts.push(segment(0xDA, &[1, 1, 0x00, 0, 63, 0]));
        parts.push(data.clone());
    }
    hostile("repeated-sequential-scans", "repeated scans", w, h, Expect::Refused, jpeg(parts))
}

/// Refinement scans for coefficients no scan ever started.
pub fn refinement_never_started(w: u32, h: u32) -> Hostile {
    let mut parts = progressive_head(w, h);
    parts.push(sos(0, 0, 0, 0));
    parts.push(dc_zero_data(w, h));
    for _ in 0..200 {
        parts.push(sos(1, 63, 1, 0));
        parts.push(one_bit_per_block(w, h));
    }
    hostile("refinement-never-started", "endless refinement", w, h, Expect::Refused, jpeg(parts))
}

/// A few hundred bytes claiming a large frame, with one scan and no data.
pub fn claims_huge_frame(w: u32, h: u32) -> Hostile {
    let mut parts = progressive_head(w, h);
    parts.push(sos(0, 0, 0, 0));
    hostile("claims-huge-frame", "tiny file, huge frame", w, h, Expect::Refused, jpeg(parts))
}

/// Every code 16 bits long, so no symbol decodes through the lookahead.
pub fn deep_huffman_tables(w: u32, h: u32) -> Hostile {
    let mut parts = vec![dqt(), sof_grey(false, w, h), dht(0x00, 16, &[0x00, 0x01]), dht(0x10, 16, &[0x00, 0x01])];
    parts.push(segment(0xDA, &[1, 1, 0x00, 0, 63, 0]));
    // Per block: DC code 0x0000 (category 0), AC code 0x0000 (end of block).
    parts.push(vec![0; (blocks(w, h) * 4) as usize]);
    hostile("deep-huffman-tables", "degenerate Huffman tables", w, h, Expect::Either, jpeg(parts))
}

/// A progressive file with far more scans than any encoder writes, each
/// legal and each cheap.
pub fn many_scans(w: u32, h: u32) -> Hostile {
    let mut parts = progressive_head(w, h);
    push_dc_ladder(&mut parts, w, h);
    push_ac_eob_scans(&mut parts, w, h);
    hostile("many-scans", "many scans", w, h, Expect::Refused, jpeg(parts))
}

/// A new Huffman table before every one of many legal scans, so each
/// scan must build one.
pub fn table_per_scan(w: u32, h: u32) -> Hostile {
    let mut parts = progressive_head(w, h);
    parts.push(sos(0, 0, 0, 0));
    parts.push(dc_zero_data(w, h));
    for k in 1..=63 {
        parts.push(dht(0x10, 1, &[0xE0]));
        parts.push(sos(k, k, 0, 0));
        parts.push(eob_runs(w, h));
    }
    hostile("table-per-scan", "many markers", w, h, Expect::Either, jpeg(parts))
}

/// Huffman tables defined again and again before the scan.
pub fn table_flood(w: u32, h: u32) -> Hostile {
    let mut parts = vec![dqt(), sof_grey(false, w, h)];
    let symbols: Vec<u8> = (0..=255).collect();
    let mut counts = [0u8; 16];
    counts[7] = 255;
    counts[8] = 1;
    let mut body = vec![0x10];
    body.extend_from_slice(&counts);
    body.extend_from_slice(&symbols);
    let table = segment(0xC4, &body);
    for _ in 0..20_000 {
        parts.push(table.clone());
    }
    hostile("table-flood", "many markers", w, h, Expect::Refused, jpeg(parts))
}

/// Comment segments by the hundred thousand.
pub fn segment_flood(w: u32, h: u32) -> Hostile {
    let mut parts = vec![dqt(), sof_grey(false, w, h)];
    for _ in 0..200_000 {
        parts.push(segment(0xFE, b""));
    }
    hostile("segment-flood", "many markers", w, h, Expect::Refused, jpeg(parts))
}

/// Megabytes of bytes between segments, which decoders skip one by one.
pub fn stray_bytes(w: u32, h: u32) -> Hostile {
    let parts = vec![dqt(), vec![0x42; 4 << 20], sof_grey(false, w, h)];
    hostile("stray-bytes", "many markers", w, h, Expect::Refused, jpeg(parts))
}

/// A scan followed by megabytes more entropy-coded data than its blocks use.
pub fn overlong_scan_data(w: u32, h: u32) -> Hostile {
    let mut parts = vec![dqt(), sof_grey(false, w, h), dht(0x00, 1, &[0x00]), dht(0x10, 1, &[0x00])];
    parts.push(segment(0xDA, &[1, 1, 0x00, 0, 63, 0]));
    parts.push(vec![0; 8 << 20]);
    hostile("overlong-scan-data", "truncated everything", w, h, Expect::Refused, jpeg(parts))
}

/// A real photograph-like JPEG and PNG cut at many points.
/// A real RGB picture, `w`×`h`, as a progressive JPEG and a PNG (either
/// empty if its encoder failed).
pub fn real_pair(w: u32, h: u32) -> [(&'static str, Vec<u8>); 2] {
    let pixels: Vec<u8> = (0..w * h)
        .flat_map(|i| {
            let (x, y) = (i % w, i / w);
            [(x * 255 / w) as u8, (y * 255 / h) as u8, ((x ^ y) & 0xFF) as u8]
        })
        .collect();
    let mut jpeg = Vec::new();
    let mut enc = jpeg_encoder::Encoder::new(&mut jpeg, 85);
    enc.set_progressive(true);
    if enc.encode(&pixels, w as u16, h as u16, jpeg_encoder::ColorType::Rgb).is_err() {
        jpeg.clear();
    }
    let mut png = Vec::new();
    let png_ok = {
        let mut e = png::Encoder::new(&mut png, w, h);
        e.set_color(png::ColorType::Rgb);
        e.set_depth(png::BitDepth::Eight);
        e.write_header().and_then(|mut wr| wr.write_image_data(&pixels)).is_ok()
    };
    if !png_ok {
        png.clear();
    }
    [("jpeg", jpeg), ("png", png)]
}

/// A small real picture carrying each hostile form of a Display P3
/// profile: ignored, never refused, and costing little beside the pixels.
pub fn hostile_icc() -> Vec<Hostile> {
    let (w, h) = (64u32, 64u32);
    let Ok(icc) = moxcms::ColorProfile::new_display_p3().encode() else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (what, file) in real_pair(w, h) {
        if file.is_empty() {
            continue;
        }
        for (form, bad) in hostile_profiles(&icc) {
            out.push(hostile(
                &format!("icc-{form}-{what}"),
                "hostile ICC profile",
                w,
                h,
                Expect::Either,
                with_icc_profile(&file, &bad),
            ));
        }
    }
    out
}

pub fn truncations() -> Vec<Hostile> {
    let (w, h) = (640u32, 480u32);
    let mut out = Vec::new();
    for (what, file) in real_pair(w, h) {
        if file.is_empty() {
            continue;
        }
        for percent in [5, 30, 60, 95, 99] {
            let cut = file.len() * percent / 100;
            out.push(Hostile {
                name: format!("truncated-{what}-{percent}pct"),
                class: "truncated everything",
                bytes: file[..cut].to_vec(),
                width: w,
                height: h,
                expect: Expect::Refused,
            });
        }
    }
    out
}

// ---- ICC profiles ------------------------------------------------------------

fn be32_at(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

/// The hostile forms of a real profile `icc`, each named: cut short; a tag
/// count of 2^28 over a table of a dozen; every tag pointing back into the
/// tag table itself (a loop: each tag's data is the table that names it);
/// and, where it has a lut16 or lut8 table, a grid claiming gigabytes.
pub fn hostile_profiles(icc: &[u8]) -> Vec<(&'static str, Vec<u8>)> {
    let mut out = vec![("truncated", icc[..icc.len() / 2].to_vec())];
    let mut flood = icc.to_vec();
    if flood.len() >= 132 {
        flood[128..132].copy_from_slice(&(1u32 << 28).to_be_bytes());
    }
    out.push(("tag-count-flood", flood));
    let tags = be32_at(icc, 128).unwrap_or(0) as usize;
    let mut looped = icc.to_vec();
    for i in 0..tags {
        let at = 132 + 12 * i;
        if at + 12 <= looped.len() {
            looped[at + 4..at + 8].copy_from_slice(&128u32.to_be_bytes());
            looped[at + 8..at + 12].copy_from_slice(&(12 * tags as u32 + 4).to_be_bytes());
        }
    }
    out.push(("tags-loop-into-their-table", looped));
    let mut huge = icc.to_vec();
    let mut grown = false;
    for i in 0..tags {
        let entry = 132 + 12 * i;
        let Some(offset) = be32_at(icc, entry + 4) else { continue };
        let at = offset as usize;
        if matches!(icc.get(at..at + 4), Some(b"mft2" | b"mft1")) && at + 10 < huge.len() {
            huge[at + 10] = 255; // grid points per input: 255⁴ × 3 outputs
            grown = true;
        }
    }
    if grown {
        out.push(("lut-grid-claims-gigabytes", huge));
    }
    out
}

/// `file`, a JPEG or PNG, with `icc` embedded in place of any profile it
/// had: APP2 pieces right after the start of a JPEG, an iCCP chunk right
/// after a PNG's header (any sRGB chunk dropped).
pub fn with_icc_profile(file: &[u8], icc: &[u8]) -> Vec<u8> {
    if file.starts_with(b"\x89PNG") {
        let mut data = b"icc\0\0".to_vec();
        data.extend_from_slice(&miniz_oxide::deflate::compress_to_vec_zlib(icc, 6));
        let mut out = file[..33].to_vec();
        out.extend_from_slice(&chunk(b"iCCP", &data));
        let mut at = 33;
        while at + 12 <= file.len() {
            let len = be32_at(file, at).unwrap_or(0) as usize;
            let end = (at + 12 + len).min(file.len());
            if !matches!(&file[at + 4..at + 8], b"iCCP" | b"sRGB") {
                out.extend_from_slice(&file[at..end]);
            }
            at = end;
        }
        return out;
    }
    // At most 255 pieces (their count is one byte): a longer profile is cut,
    // as no JPEG can carry more (past 8 MB the decoder ignores it anyway).
    let pieces: Vec<&[u8]> = icc.chunks(65_519).take(255).collect();
    let mut out = file[..2].to_vec();
    for (i, piece) in pieces.iter().enumerate() {
        let mut body = b"ICC_PROFILE\0".to_vec();
        body.extend_from_slice(&[i as u8 + 1, pieces.len() as u8]);
        body.extend_from_slice(piece);
        out.extend_from_slice(&segment(0xE2, &body));
    }
    let mut at = 2;
    while at + 4 <= file.len() && file[at] == 0xFF {
        let marker = file[at + 1];
        if marker == 0xDA {
            break;
        }
        let len = usize::from(u16::from_be_bytes([file[at + 2], file[at + 3]]));
        let end = (at + 2 + len).min(file.len());
        if !(marker == 0xE2 && file[at + 4..end].starts_with(b"ICC_PROFILE\0")) {
            out.extend_from_slice(&file[at..end]);
        }
        at = end;
    }
    out.extend_from_slice(&file[at..]);
    out
}

// ---- PNG -------------------------------------------------------------------

fn chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
    let mut out = (data.len() as u32).to_be_bytes().to_vec();
    out.extend_from_slice(kind);
    out.extend_from_slice(data);
    let crc = crc32fast::hash(&out[4..]);
    out.extend_from_slice(&crc.to_be_bytes());
    out
}

fn ihdr_grey(w: u32, h: u32) -> Vec<u8> {
    let mut d = w.to_be_bytes().to_vec();
    d.extend_from_slice(&h.to_be_bytes());
    d.extend_from_slice(&[8, 0, 0, 0, 0]);
    chunk(b"IHDR", &d)
}

/// A zlib stream of `n` zero bytes, written by hand with deflate's fixed
/// codes: a literal zero, then copies of 258 bytes at distance 1, 13 bits
/// each, which is how real decompression bombs reach a ratio near 1000.
fn zlib_zeros(n: usize) -> Vec<u8> {
    let mut w = LsbWriter { out: vec![0x78, 0x01], acc: 0, nbits: 0 };
    // Huffman codes go most significant bit first inside LSB-first packing.
    let code = |c: u32, len: u32| c.reverse_bits() >> (32 - len);
    w.put(0b011, 3); // final block, fixed codes
    let literal_zero = code(0x30, 8);
    if n > 0 {
        w.put(literal_zero, 8);
        let rest = n - 1;
        for _ in 0..rest / 258 {
            w.put(code(0b1100_0101, 8), 8); // length 258
            w.put(0, 5); // distance 1
        }
        for _ in 0..rest % 258 {
            w.put(literal_zero, 8);
        }
    }
    w.put(0, 7); // end of block
    let mut out = w.finish();
    // Adler-32 of n zeros: A stays 1, B adds A once per byte.
    let adler = (((n % 65_521) as u32) << 16) | 1;
    out.extend_from_slice(&adler.to_be_bytes());
    out
}

struct LsbWriter {
    out: Vec<u8>,
    acc: u64,
    nbits: u32,
}

impl LsbWriter {
    fn put(&mut self, value: u32, bits: u32) {
        self.acc |= u64::from(value) << self.nbits;
        self.nbits += bits;
        while self.nbits >= 8 {
            self.out.push(self.acc as u8);
            self.acc >>= 8;
            self.nbits -= 8;
        }
    }

    fn finish(mut self) -> Vec<u8> {
        if self.nbits > 0 {
            self.out.push(self.acc as u8);
        }
        self.out
    }
}

/// An all-black grey image's IDAT, compressed.
fn idat_grey(w: u32, h: u32) -> Vec<u8> {
    chunk(b"IDAT", &zlib_zeros((w as usize + 1) * h as usize))
}

fn png(chunks: Vec<Vec<u8>>) -> Vec<u8> {
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    for c in chunks {
        out.extend_from_slice(&c);
    }
    out.extend_from_slice(&chunk(b"IEND", b""));
    out
}

/// A compressed ancillary chunk (`zTXt`, `iTXt` or `iCCP`) of 400 KB that
/// inflates to 64 MB.
pub fn png_ancillary_bomb(w: u32, h: u32, kind: [u8; 4]) -> Hostile {
    let inflated = zlib_zeros(64 << 20);
    let mut data = match &kind {
        b"iTXt" => b"Comment\0\x01\0\0\0".to_vec(),
        _ => b"name\0\0".to_vec(),
    };
    data.extend_from_slice(&inflated);
    let bytes = png(vec![ihdr_grey(w, h), chunk(&kind, &data), idat_grey(w, h)]);
    let label = String::from_utf8_lossy(&kind).to_lowercase();
    hostile(&format!("png-{label}-bomb"), "compressed-chunk bombs", w, h, Expect::Either, bytes)
}

/// Hundreds of thousands of empty ancillary chunks.
pub fn png_chunk_flood(w: u32, h: u32) -> Hostile {
    let mut chunks = vec![ihdr_grey(w, h)];
    let flood = chunk(b"teXx", b"");
    for _ in 0..200_000 {
        chunks.push(flood.clone());
    }
    chunks.push(idat_grey(w, h));
    hostile("png-chunk-flood", "many markers", w, h, Expect::Refused, png(chunks))
}

/// The image data followed by megabytes of IDAT chunks that no pixel needs.
pub fn png_idat_overlong(w: u32, h: u32) -> Hostile {
    let mut chunks = vec![ihdr_grey(w, h), idat_grey(w, h)];
    let junk = chunk(b"IDAT", &vec![0u8; 1 << 20]);
    for _ in 0..8 {
        chunks.push(junk.clone());
    }
    // Refused where the extra data passes what the pixels could need;
    // at 48 MP that needs more than the size limit, so the file is only
    // bounded, by the pixels' own size.
    let expect = if u64::from(w) * u64::from(h) < 4 << 20 { Expect::Refused } else { Expect::Either };
    hostile("png-idat-overlong", "compressed-chunk bombs", w, h, expect, png(chunks))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc_matches_the_png_reference_value() {
        // The CRC of "IEND" with no data, as every PNG ends.
        assert_eq!(chunk(b"IEND", &[])[8..], 0xAE42_6082u32.to_be_bytes());
    }

    #[test]
    fn hand_made_zlib_inflates_to_zeros() {
        for n in [0, 1, 2, 258, 259, 1000, 70_000] {
            let inflated = miniz_oxide::inflate::decompress_to_vec_zlib(&zlib_zeros(n)).unwrap();
            assert_eq!(inflated.len(), n);
            assert!(inflated.iter().all(|&b| b == 0));
        }
    }

    #[test]
    fn names_are_unique_and_file_safe() {
        let all = corpus();
        let mut names: Vec<&str> = all.iter().map(|h| h.name.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), all.len());
        assert!(names.iter().all(|n| n.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')));
    }
}
