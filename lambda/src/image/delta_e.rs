//! How far apart two renderings' colours are, as CIEDE2000 (ΔE₀₀) over
//! sRGB pixels: the measure the colour tests and `cargo ops bench resize`
//! hold the colour management to. About 1 is the smallest difference a
//! viewer sees side by side.

/// Mean and largest ΔE₀₀ over a pair of images.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Difference {
    pub mean: f64,
    pub max: f64,
    pub pixels: usize,
}

impl Difference {
    /// Pools several images' differences, weighting each by its pixels.
    pub fn pool(all: &[Difference]) -> Difference {
        let pixels: usize = all.iter().map(|d| d.pixels).sum();
        if pixels == 0 {
            return Difference::default();
        }
        let mean = all.iter().map(|d| d.mean * d.pixels as f64).sum::<f64>() / pixels as f64;
        Difference { mean, max: all.iter().map(|d| d.max).fold(0.0, f64::max), pixels }
    }
}

/// ΔE₀₀ between two interleaved 8-bit sRGB buffers with `channels` per
/// pixel (alpha, if any, is not compared). `None` when their sizes differ.
pub fn compare(a: &[u8], b: &[u8], channels: usize) -> Option<Difference> {
    if a.len() != b.len() || channels < 3 || !a.len().is_multiple_of(channels) {
        return None;
    }
    let table = linear_table();
    let (mut sum, mut max) = (0.0, 0.0f64);
    let mut pixels = 0;
    for (p, q) in a.chunks_exact(channels).zip(b.chunks_exact(channels)) {
        let d = if p[..3] == q[..3] { 0.0 } else { ciede2000(lab(&table, p), lab(&table, q)) };
        sum += d;
        max = max.max(d);
        pixels += 1;
    }
    Some(Difference { mean: if pixels == 0 { 0.0 } else { sum / pixels as f64 }, max, pixels })
}

fn linear_table() -> [f64; 256] {
    std::array::from_fn(|i| {
        let v = i as f64 / 255.0;
        if v <= 0.040_45 { v / 12.92 } else { ((v + 0.055) / 1.055).powf(2.4) }
    })
}

/// CIELAB (D65 white) of an sRGB pixel.
fn lab(linear: &[f64; 256], p: &[u8]) -> [f64; 3] {
    let (r, g, b) = (linear[usize::from(p[0])], linear[usize::from(p[1])], linear[usize::from(p[2])]);
    let x = (0.412_456_4 * r + 0.357_576_1 * g + 0.180_437_5 * b) / 0.950_47;
    let y = 0.212_672_9 * r + 0.715_152_2 * g + 0.072_175 * b;
    let z = (0.019_333_9 * r + 0.119_192 * g + 0.950_304_1 * b) / 1.088_83;
    let f = |t: f64| if t > 216.0 / 24389.0 { t.cbrt() } else { (24389.0 / 27.0 * t + 16.0) / 116.0 };
    let (fx, fy, fz) = (f(x), f(y), f(z));
    [116.0 * fy - 16.0, 500.0 * (fx - fy), 200.0 * (fy - fz)]
}

/// CIEDE2000 (Sharma, Wu and Dalal's formulation, kL = kC = kH = 1).
pub fn ciede2000(a: [f64; 3], b: [f64; 3]) -> f64 {
    use std::f64::consts::PI;
    let [l1, a1, b1] = a;
    let [l2, a2, b2] = b;
    let c_bar = (a1.hypot(b1) + a2.hypot(b2)) / 2.0;
    let g = 0.5 * (1.0 - (c_bar.powi(7) / (c_bar.powi(7) + 25f64.powi(7))).sqrt());
    let (a1p, a2p) = ((1.0 + g) * a1, (1.0 + g) * a2);
    let (c1p, c2p) = (a1p.hypot(b1), a2p.hypot(b2));
    let hue = |bb: f64, ap: f64| if bb == 0.0 && ap == 0.0 { 0.0 } else { bb.atan2(ap).rem_euclid(2.0 * PI) };
    let (h1p, h2p) = (hue(b1, a1p), hue(b2, a2p));
    let dl = l2 - l1;
    let dc = c2p - c1p;
    let dh = if c1p * c2p == 0.0 {
        0.0
    } else {
        let d = h2p - h1p;
        if d > PI {
            d - 2.0 * PI
        } else if d < -PI {
            d + 2.0 * PI
        } else {
            d
        }
    };
    let dhh = 2.0 * (c1p * c2p).sqrt() * (dh / 2.0).sin();
    let l_bar = (l1 + l2) / 2.0;
    let c_bar_p = (c1p + c2p) / 2.0;
    let h_bar = if c1p * c2p == 0.0 {
        h1p + h2p
    } else if (h1p - h2p).abs() <= PI {
        (h1p + h2p) / 2.0
    } else if h1p + h2p < 2.0 * PI {
        (h1p + h2p + 2.0 * PI) / 2.0
    } else {
        (h1p + h2p - 2.0 * PI) / 2.0
    };
    let t = 1.0 - 0.17 * (h_bar - PI / 6.0).cos() + 0.24 * (2.0 * h_bar).cos() + 0.32 * (3.0 * h_bar + PI / 30.0).cos()
        - 0.20 * (4.0 * h_bar - 63.0 * PI / 180.0).cos();
    let d_theta = PI / 6.0 * (-((h_bar.to_degrees() - 275.0) / 25.0).powi(2)).exp();
    let rc = 2.0 * (c_bar_p.powi(7) / (c_bar_p.powi(7) + 25f64.powi(7))).sqrt();
    let sl = 1.0 + 0.015 * (l_bar - 50.0).powi(2) / (20.0 + (l_bar - 50.0).powi(2)).sqrt();
    let sc = 1.0 + 0.045 * c_bar_p;
    let sh = 1.0 + 0.015 * c_bar_p * t;
    let rt = -(2.0 * d_theta).sin() * rc;
    ((dl / sl).powi(2) + (dc / sc).powi(2) + (dhh / sh).powi(2) + rt * (dc / sc) * (dhh / sh)).sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Pairs from Sharma, Wu and Dalal (2005), "The CIEDE2000
    /// color-difference formula", table 1.
    #[test]
    fn matches_the_published_test_data() {
        let pairs = [
            ([50.0, 2.6772, -79.7751], [50.0, 0.0, -82.7485], 2.0425),
            ([50.0, 0.0, 0.0], [50.0, -1.0, 2.0], 2.3669),
            ([50.0, 2.5, 0.0], [73.0, 25.0, -18.0], 27.1492),
            ([60.2574, -34.0099, 36.2677], [60.4626, -34.1751, 39.4387], 1.2644),
        ];
        for (a, b, want) in pairs {
            let got = ciede2000(a, b);
            assert!((got - want).abs() < 1e-4, "{a:?} {b:?}: {got} not {want}");
            assert!((ciede2000(b, a) - want).abs() < 1e-4, "symmetric");
        }
    }

    #[test]
    fn compares_pixels_and_pools() {
        let white = [255u8, 255, 255, 0, 0, 0];
        assert_eq!(compare(&white, &white, 3).unwrap().max, 0.0);
        let d = compare(&[255, 255, 255], &[255, 255, 250], 3).unwrap();
        assert!(d.mean > 1.0 && d.mean < 3.0, "{d:?}");
        assert!(compare(&white, &white[..3], 3).is_none());
        let pooled = Difference::pool(&[
            Difference { mean: 1.0, max: 2.0, pixels: 3 },
            Difference { mean: 3.0, max: 5.0, pixels: 1 },
        ]);
        assert_eq!(pooled, Difference { mean: 1.5, max: 5.0, pixels: 4 });
    }
}
