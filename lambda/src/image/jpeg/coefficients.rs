//! Entropy decoding of one block's coefficients: a whole sequential
//! block, and a progressive AC band's first pass and refinements, which
//! keep each block's non-zero mask so a refinement reads its correction
//! bits in bulk.

use super::bits::BitReader;
use super::huffman::{Huffman, LOOKAHEAD};
use super::{ImageError, UNZIGZAG, corrupt};

/// One sequential block into `blk` (natural order, not dequantised).
/// Returns the zigzag index of the last coefficient written, 0 when only
/// DC is present.
#[inline(always)]
pub(super) fn decode_block(
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
pub(super) fn ac_first(
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
pub(super) fn ac_refine(
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
