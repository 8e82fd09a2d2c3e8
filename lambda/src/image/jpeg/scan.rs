//! One scan (SOS): its header, the order the standard requires of scans,
//! its charge against the budget, the Huffman tables it needs, and the
//! walk over its blocks in bitstream order with restart intervals.
//! Sequential blocks go through the IDCT into the planes at once;
//! progressive ones update the kept coefficients (`coefficients.rs`).

use super::bits::BitReader;
use super::budget::{
    FAST_AC_MIN_BLOCKS, MAX_SCAN_BYTES_PER_BLOCK, MAX_SCANS, SCAN_BYTES_SLACK, SCAN_COST, TABLE_COST, charge,
};
use super::coefficients::{ac_first, ac_refine, decode_block};
use super::frame::{Component, Frame};
use super::huffman::Huffman;
use super::idct::{Dequant, output_block};
use super::{Decoder, ImageError, UNZIGZAG, corrupt, hostile};

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

impl Decoder<'_> {
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
    pub(super) fn decode_scan(&mut self, seg: &[u8], start: usize) -> Result<usize, ImageError> {
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
