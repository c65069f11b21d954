//! Pictures as both ends trade them: RGBA pixels, rows from the top, and how close one
//! is to another (PSNR).

/// A decoded frame: RGBA pixels, rows from the top.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodedImage {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// width × height × 4 bytes.
    pub rgba: Vec<u8>,
}

impl DecodedImage {
    /// The picture at `size`: itself when it has that size, else scaled bilinearly, as a
    /// browser's canvas or a GPU texture shows a frame sent smaller than its display size.
    /// `None` when the pixels do not fill the picture's sides.
    pub fn shown_at(self, size: [u32; 2]) -> Option<Self> {
        if [self.width, self.height] == size {
            return Some(self);
        }
        let picture = image::RgbaImage::from_raw(self.width, self.height, self.rgba)?;
        let shown = image::imageops::resize(
            &picture,
            size[0],
            size[1],
            image::imageops::FilterType::Triangle,
        );
        Some(Self {
            width: size[0],
            height: size[1],
            rgba: shown.into_raw(),
        })
    }
}

/// Peak signal-to-noise ratio of the RGBA pixels `a` against `b` (a decoded picture against
/// its source; alpha ignored), in dB; 99 when they are equal.
pub fn psnr(a: &[u8], b: &[u8]) -> f64 {
    let (mut sum, mut count) = (0.0f64, 0usize);
    for (p, q) in a.chunks_exact(4).zip(b.chunks_exact(4)) {
        for c in 0..3 {
            let d = f64::from(p[c]) - f64::from(q[c]);
            sum += d * d;
            count += 1;
        }
    }
    if sum == 0.0 || count == 0 {
        return 99.0;
    }
    10.0 * (255.0 * 255.0 / (sum / count as f64)).log10()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn psnr_is_infinite_for_equal_images_and_falls_with_error() {
        let a = vec![100u8; 64];
        assert_eq!(psnr(&a, &a), 99.0);
        let mut b = a.clone();
        b[0] = 110;
        let small = psnr(&a, &b);
        b[1] = 140;
        let large = psnr(&a, &b);
        assert!(small > large && large > 20.0, "{small} {large}");
    }
}
