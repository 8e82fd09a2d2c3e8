//! Canonical Huffman tables with a 9-bit lookahead, plus a combined table
//! for AC codes whose run, size and value all fit in those 9 bits: on
//! photographs most coefficients decode with one lookup.

use super::super::ImageError;
use super::bits::BitReader;

pub(super) const LOOKAHEAD: u32 = 9;

pub(super) struct Huffman {
    /// `(length << 8) | symbol`, or 0 for codes longer than the lookahead.
    lookup: [u16; 1 << LOOKAHEAD],
    /// `value << 16 | run << 8 | bits used`, or 0 where not applicable;
    /// only on tables built with `fast_ac` (see `fast_ac()`).
    fast_ac: Option<Box<[i32; 1 << LOOKAHEAD]>>,
    maxcode: [i32; 18],
    valoffset: [i32; 17],
    values: [u8; 256],
}

fn corrupt(msg: &str) -> ImageError {
    ImageError::Corrupt(msg.to_owned())
}

impl Huffman {
    /// From a DHT segment's 16 code-length counts and its symbols.
    /// `fast_ac` also builds the combined AC lookup, which pays for
    /// itself only on images of some size; without it `fast_ac` is all
    /// zeros, which decoding reads as "use the plain lookup".
    pub(super) fn new(counts: &[u8; 16], symbols: &[u8], fast_ac: bool) -> Result<Box<Huffman>, ImageError> {
        let total: usize = counts.iter().map(|&c| usize::from(c)).sum();
        if total > 256 || total != symbols.len() {
            return Err(corrupt("Huffman table has a bad symbol count"));
        }
        let mut t = Box::new(Huffman {
            lookup: [0; 1 << LOOKAHEAD],
            fast_ac: None,
            maxcode: [-1; 18],
            valoffset: [0; 17],
            values: [0; 256],
        });
        t.values[..total].copy_from_slice(symbols);
        let mut code: u32 = 0;
        let mut k = 0usize;
        for len in 1..=16u32 {
            let n = u32::from(counts[len as usize - 1]);
            t.valoffset[len as usize] = k as i32 - code as i32;
            if code + n > 1 << len {
                return Err(corrupt("Huffman table is over-subscribed"));
            }
            for _ in 0..n {
                if len <= LOOKAHEAD {
                    let shift = LOOKAHEAD - len;
                    let first = (code << shift) as usize;
                    let entry = ((len as u16) << 8) | u16::from(symbols[k]);
                    t.lookup[first..first + (1 << shift)].fill(entry);
                }
                code += 1;
                k += 1;
            }
            if n > 0 {
                t.maxcode[len as usize] = code as i32 - 1;
            }
            code <<= 1;
        }
        t.maxcode[17] = i32::MAX;
        if !fast_ac {
            return Ok(t);
        }
        let mut fast = Box::new([0; 1 << LOOKAHEAD]);
        for look in 0..1usize << LOOKAHEAD {
            let e = t.lookup[look];
            if e == 0 {
                continue;
            }
            let (len, sym) = (u32::from(e >> 8), u32::from(e & 0xFF));
            let (run, size) = (sym >> 4, sym & 15);
            if size == 0 || len + size > LOOKAHEAD {
                continue;
            }
            let raw = ((look as u32) >> (LOOKAHEAD - len - size)) & ((1 << size) - 1);
            let raw = raw as i32;
            let value = if raw < 1 << (size - 1) { raw - (1 << size) + 1 } else { raw };
            fast[look] = (value << 16) | ((run as i32) << 8) | (len + size) as i32;
        }
        t.fast_ac = Some(fast);
        Ok(t)
    }

    /// The combined AC lookup, all zeros ("use the plain lookup") when it
    /// was not built: most tables of small images, where zeroing it cost
    /// more than decoding. Fetch it once per block, not per symbol.
    #[inline(always)]
    pub(super) fn fast_ac(&self) -> &[i32; 1 << LOOKAHEAD] {
        static NONE: [i32; 1 << LOOKAHEAD] = [0; 1 << LOOKAHEAD];
        self.fast_ac.as_deref().unwrap_or(&NONE)
    }

    #[inline(always)]
    pub(super) fn decode(&self, r: &mut BitReader) -> Result<u8, ImageError> {
        let e = self.lookup[r.peek(LOOKAHEAD) as usize];
        if e != 0 {
            r.consume(u32::from(e >> 8));
            return Ok(e as u8);
        }
        self.decode_long(r)
    }

    #[cold]
    fn decode_long(&self, r: &mut BitReader) -> Result<u8, ImageError> {
        for len in LOOKAHEAD + 1..=16 {
            let code = r.peek(len) as i32;
            if code <= self.maxcode[len as usize] {
                r.consume(len);
                let idx = code + self.valoffset[len as usize];
                return usize::try_from(idx)
                    .ok()
                    .and_then(|i| self.values.get(i).copied())
                    .ok_or_else(|| corrupt("bad Huffman code"));
            }
        }
        Err(corrupt("bad Huffman code"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_short_and_long_codes() {
        // Lengths: one code of 1 bit (symbol 0x01), one of 2 bits (0x02), and
        // one of 12 bits (0x33): codes 0, 10, 110000000000.
        let mut counts = [0u8; 16];
        counts[0] = 1;
        counts[1] = 1;
        counts[11] = 1;
        let t = Huffman::new(&counts, &[0x01, 0x02, 0x33], true).unwrap();
        // 0 | 10 | 110000000000 | then padding
        let data = [0b0101_1000, 0b0000_0000, 0b0000_0000, 0, 0, 0, 0, 0, 0];
        let mut r = BitReader::new(&data, 0, Vec::new(), usize::MAX).unwrap();
        assert_eq!(t.decode(&mut r).unwrap(), 0x01);
        assert_eq!(t.decode(&mut r).unwrap(), 0x02);
        assert_eq!(t.decode(&mut r).unwrap(), 0x33);
    }

    #[test]
    fn fast_ac_entries_carry_run_and_value() {
        // One 2-bit code for symbol 0x12 (run 1, size 2) and one for 0x01.
        let mut counts = [0u8; 16];
        counts[1] = 2;
        let t = Huffman::new(&counts, &[0x12, 0x01], true).unwrap();
        // Code 00 then value bits 01 (size 2: 01 means -2).
        let look = 0b0001usize << 5;
        let e = t.fast_ac()[look];
        assert_eq!((e >> 16, (e >> 8) & 0xFF, e & 0xFF), (-2, 1, 4));
    }

    #[test]
    fn over_subscribed_tables_are_refused() {
        let mut counts = [0u8; 16];
        counts[0] = 3;
        assert!(Huffman::new(&counts, &[1, 2, 3], true).is_err());
    }
}
