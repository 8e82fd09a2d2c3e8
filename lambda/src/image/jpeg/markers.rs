//! The walk over the file's marker segments: what lies between them, the
//! tables (DQT, DHT, DRI) and metadata (EXIF orientation, the Adobe
//! transform, the ICC profile's APP2 pieces) it keeps, and where it hands
//! on to the frame header (`frame.rs`) and each scan (`scan.rs`).

use super::super::colour::{Ignored, MAX_PROFILE_BYTES};
use super::budget::{MAX_SEGMENTS, MAX_STRAY_BYTES, QUANT_TABLE_COST, SEGMENT_COST, TABLE_DEFINITION_COST};
use super::{Decoder, ImageError, Jpeg, Limits, Probe, UNZIGZAG, corrupt, hostile, unsupported};

pub(super) fn be16(b: &[u8], at: usize) -> Result<usize, ImageError> {
    match b.get(at..at + 2) {
        Some(s) => Ok(usize::from(u16::from_be_bytes([s[0], s[1]]))),
        None => Err(corrupt("the file ends too early")),
    }
}

impl Decoder<'_> {
    pub(super) fn run(
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

    /// The ICC profile from its APP2 pieces, in sequence order. Every piece
    /// from 1 to the count must be there exactly once, all agreeing on the
    /// count, as ICC.1 Annex B asks; otherwise the profile is ignored.
    pub(super) fn icc_profile(&self) -> Result<Option<Vec<u8>>, Ignored> {
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
}

/// The EXIF orientation (1 to 8) in an APP1 segment, if it has a readable one.
pub(super) fn exif_orientation(seg: &[u8]) -> Option<u16> {
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
