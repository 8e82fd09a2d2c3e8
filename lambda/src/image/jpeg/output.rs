//! The end of the image: the IDCT over a progressive frame's kept
//! coefficients, the colour model (Adobe transform, component ids), the
//! embedded profile's conversion to sRGB, and the planes made into RGB
//! rows (`color.rs`).

use super::super::colour::{self, Colour, Space};
use super::color::{self, Model, Plane};
use super::frame::Frame;
use super::idct::{Dequant, output_block};
use super::{Decoder, ImageError, Jpeg, unsupported};

impl Decoder<'_> {
    pub(super) fn finish(&mut self, mut frame: Frame) -> Result<Jpeg, ImageError> {
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
