//! Reading a scan's entropy-coded data MSB-first. The scan is first copied
//! out with its 0xFF00 stuffing removed and its restart markers noted, so
//! that reading is a load and a shift with no refill test: on progressive
//! photographs a data-dependent refill branch mispredicted often enough
//! to cost a fifth of the decode. Past the end it reads zeros and notes
//! the overrun, which the decoder checks once per unit (an MCU, or a block
//! in a one-component scan).

pub(super) struct BitReader {
    /// The unstuffed data plus 8 zero bytes, so a read near the end is one
    /// load; reads past it (after an overrun) give zeros.
    buf: Vec<u8>,
    /// Bit position in `buf`; it may run past `limit`, where reads give
    /// zeros and `overrun` tells the decoder to stop.
    pos: usize,
    /// The end of the scan's real data, in bits.
    limit: usize,
    /// Where each restart interval after the first begins, in bytes of `buf`.
    restarts: Vec<usize>,
    next_restart: usize,
    /// Where the marker after this scan's data starts in the file.
    end: usize,
}

/// A scan's data is longer than any encoder could need for its blocks.
#[derive(Debug)]
pub(super) struct TooLong;

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGHS: u64 = 0x8080_8080_8080_8080;

#[inline(always)]
fn has_ff(x: u64) -> bool {
    let inverted = !x;
    inverted.wrapping_sub(ONES) & !inverted & HIGHS != 0
}

impl BitReader {
    /// The scan whose data starts at `start` in `data`; `scratch` is a
    /// buffer to reuse between scans.
    /// Copying stops with `TooLong` once the unstuffed data passes
    /// `max_len` bytes, before the rest of an oversized scan is touched.
    pub(super) fn new(data: &[u8], start: usize, scratch: Vec<u8>, max_len: usize) -> Result<Self, TooLong> {
        let mut buf = scratch;
        buf.clear();
        let mut restarts = Vec::new();
        let n = data.len();
        let mut i = start.min(n);
        let end = loop {
            // Copy up to the next 0xFF, eight bytes at a time where possible.
            let run_start = i;
            // Never look further than the longest scan allowed.
            let stop = n.min(run_start.saturating_add(max_len.saturating_sub(buf.len()).saturating_add(1)));
            while i + 8 <= stop && !has_ff(u64::from_ne_bytes(data[i..i + 8].try_into().unwrap_or([0xFF; 8]))) {
                i += 8;
            }
            while i < stop && data[i] != 0xFF {
                i += 1;
            }
            buf.extend_from_slice(&data[run_start..i]);
            if buf.len() > max_len {
                return Err(TooLong);
            }
            if i >= n {
                break n;
            }
            let mut j = i + 1;
            while j < n && data[j] == 0xFF {
                j += 1; // fill bytes
            }
            match data.get(j) {
                Some(0x00) => {
                    buf.push(0xFF);
                    i = j + 1;
                }
                Some(0xD0..=0xD7) => {
                    restarts.push(buf.len());
                    i = j + 1;
                }
                _ => break i,
            }
        };
        let limit = buf.len() * 8;
        buf.extend_from_slice(&[0; 8]);
        Ok(BitReader { buf, pos: 0, limit, restarts, next_restart: 0, end })
    }

    /// Whether decoding has consumed bits the scan does not have.
    #[inline(always)]
    pub(super) fn overrun(&self) -> bool {
        self.pos > self.limit
    }

    /// The buffer back, for the next scan.
    pub(super) fn into_scratch(self) -> Vec<u8> {
        self.buf
    }

    /// The next `n` bits (1 to 57) without consuming them.
    #[inline(always)]
    pub(super) fn peek64(&self, n: u32) -> u64 {
        let byte = self.pos >> 3;
        let word = match self.buf.get(byte..byte + 8) {
            Some(b) => u64::from_be_bytes(b.try_into().unwrap_or([0; 8])),
            None => 0,
        };
        (word << (self.pos & 7)) >> (64 - n)
    }

    /// The next `n` bits (1 to 32) without consuming them.
    #[inline(always)]
    pub(super) fn peek(&self, n: u32) -> u32 {
        self.peek64(n) as u32
    }

    #[inline(always)]
    pub(super) fn consume(&mut self, n: u32) {
        self.pos += n as usize;
    }

    /// `n` bits (0 to 16) as an unsigned number.
    #[inline(always)]
    pub(super) fn bits(&mut self, n: u32) -> u32 {
        // Two shifts so that n = 0 yields 0 without a branch.
        let v = ((self.peek64(57) >> 1) >> (56 - n)) as u32;
        self.consume(n);
        v
    }

    #[inline(always)]
    pub(super) fn bit(&mut self) -> bool {
        let v = self.peek64(1) != 0;
        self.consume(1);
        v
    }

    /// Skips `n` bits, any number.
    #[inline(always)]
    pub(super) fn skip(&mut self, n: u32) {
        self.consume(n);
    }

    /// JPEG's "receive and extend": `s` bits (1 to 16) as a signed magnitude category.
    #[inline(always)]
    pub(super) fn receive_extend(&mut self, s: u32) -> i32 {
        let v = self.bits(s) as i32;
        if v < 1 << (s - 1) { v - (1 << s) + 1 } else { v }
    }

    /// At the end of a restart interval: continues at the next interval's
    /// data. When its marker is missing there is no data left, so the next
    /// read is an overrun and the decoder refuses the scan as cut short
    /// (libjpeg reads on with a warning; we do not invent pixels).
    pub(super) fn restart(&mut self) {
        match self.restarts.get(self.next_restart) {
            Some(&at) => {
                self.pos = at * 8;
                self.next_restart += 1;
            }
            // Past the end: the next read is an overrun.
            None => self.pos = self.limit + 1,
        }
    }

    /// Where the marker after this scan's data starts in the file.
    pub(super) fn next_marker(&self) -> usize {
        self.end
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_across_stuffed_bytes_and_pads_after_a_marker() {
        let data = [0b1010_0000, 0xFF, 0x00, 0x12, 0xFF, 0xD9];
        let mut r = BitReader::new(&data, 0, Vec::new(), usize::MAX).unwrap();
        assert_eq!(r.bits(3), 0b101);
        assert_eq!(r.bits(5), 0);
        assert_eq!(r.bits(8), 0xFF);
        assert_eq!(r.bits(8), 0x12);
        assert_eq!(r.bits(16), 0, "zeros after the marker");
        assert_eq!(r.bits(0), 0);
        assert_eq!(r.next_marker(), 4);
    }

    #[test]
    fn long_runs_without_ff_copy_whole() {
        let data: Vec<u8> = (0..200u32).map(|i| (i * 37 % 255) as u8).collect();
        let mut r = BitReader::new(&data, 0, Vec::new(), usize::MAX).unwrap();
        for &b in &data {
            assert_eq!(r.bits(8), u32::from(b));
        }
        assert_eq!(r.next_marker(), data.len());
    }

    #[test]
    fn receive_extend_is_signed() {
        let mut r = BitReader::new(&[0b0111_0000, 0, 0, 0], 0, Vec::new(), usize::MAX).unwrap();
        assert_eq!(r.receive_extend(3), -4, "011 in category 3");
        let mut r = BitReader::new(&[0b1000_0000, 0, 0, 0], 0, Vec::new(), usize::MAX).unwrap();
        assert_eq!(r.receive_extend(1), 1);
    }

    #[test]
    fn restart_moves_past_rst_and_fill_bytes() {
        let data = [0xAB, 0xFF, 0xFF, 0xD3, 0xCD, 0xFF, 0xD9];
        let mut r = BitReader::new(&data, 0, Vec::new(), usize::MAX).unwrap();
        assert_eq!(r.bits(4), 0xA);
        r.restart();
        assert_eq!(r.bits(8), 0xCD);
        r.restart();
        assert_eq!(r.bits(8), 0, "no further interval: zeros");
        assert_eq!(r.next_marker(), 5);
    }
}
