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
    psnr_where(a, b, |_, _| true)
}

/// How far above black a channel must be for its pixel to show the volume rather than the
/// background (a codec leaves the black background a level or two off black).
pub const BACKGROUND_LEVEL: u8 = 8;

/// PSNR of `a` against `b` over the pixels that show the volume: those where either
/// picture has a channel above [`BACKGROUND_LEVEL`] over a black background. A frame's
/// black surroundings match exactly and would raise a whole-frame figure; this one
/// measures the anatomy alone. 99 when those pixels are equal or there are none.
pub fn psnr_over_volume(a: &[u8], b: &[u8]) -> f64 {
    let shows = |p: &[u8]| p[..3].iter().any(|&c| c > BACKGROUND_LEVEL);
    psnr_where(a, b, |p, q| shows(p) || shows(q))
}

/// PSNR over R, G and B of the pixels of `a` and `b` that `counted` keeps.
fn psnr_where(a: &[u8], b: &[u8], counted: impl Fn(&[u8], &[u8]) -> bool) -> f64 {
    let (mut sum, mut count) = (0.0f64, 0usize);
    for (p, q) in a.chunks_exact(4).zip(b.chunks_exact(4)) {
        if !counted(p, q) {
            continue;
        }
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

    #[test]
    fn psnr_over_the_volume_leaves_out_the_black_both_pictures_share() {
        // Four pixels: two black in both, two of anatomy, one of them off by 10.
        let a = [
            0, 0, 0, 255, 0, 0, 0, 255, 100, 100, 100, 255, 50, 60, 70, 255,
        ];
        let mut b = a;
        b[8] = 110;
        let whole = psnr(&a, &b);
        let anatomy = psnr_over_volume(&a, &b);
        // The error is one channel of 12 over the frame, one of 6 over the anatomy.
        assert!(
            (whole - anatomy - 10.0 * 2f64.log10()).abs() < 1e-9,
            "{whole} {anatomy}"
        );
        // A pixel black in one picture and bright in the other counts.
        let mut c = a;
        c[0] = 200;
        assert!(psnr_over_volume(&a, &c) < 20.0);
        assert_eq!(psnr_over_volume(&a, &a), 99.0);
        assert_eq!(psnr_over_volume(&[0; 8], &[3; 8]), 99.0);
    }
}
