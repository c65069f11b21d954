//! A segment's colour as DICOM recommends it be shown: CIELab (D65), scaled to 16 bits
//! (PS3.3 C.10.7.1.1), from and to sRGB.

/// sRGB → DICOM's scaled CIELab `[L, a, b]`.
pub(crate) fn srgb_to_dicom_lab(rgb: [u8; 3]) -> [u16; 3] {
    let linear = rgb.map(|c| {
        let c = f64::from(c) / 255.0;
        if c <= 0.04045 {
            c / 12.92
        } else {
            ((c + 0.055) / 1.055).powf(2.4)
        }
    });
    let [r, g, b] = linear;
    // sRGB's primaries to XYZ, over D65's white.
    let x = (0.4124 * r + 0.3576 * g + 0.1805 * b) / 0.95047;
    let y = 0.2126 * r + 0.7152 * g + 0.0722 * b;
    let z = (0.0193 * r + 0.1192 * g + 0.9505 * b) / 1.08883;
    let f = |t: f64| {
        if t > (6.0f64 / 29.0).powi(3) {
            t.cbrt()
        } else {
            t / (3.0 * (6.0f64 / 29.0).powi(2)) + 4.0 / 29.0
        }
    };
    let (fx, fy, fz) = (f(x), f(y), f(z));
    let l = 116.0 * fy - 16.0;
    let a = 500.0 * (fx - fy);
    let bb = 200.0 * (fy - fz);
    let scale = |v: f64, low: f64, span: f64| {
        ((v - low) / span * 65535.0).round().clamp(0.0, 65535.0) as u16
    };
    [
        scale(l, 0.0, 100.0),
        scale(a, -128.0, 255.0),
        scale(bb, -128.0, 255.0),
    ]
}

/// DICOM's scaled CIELab → sRGB.
pub(crate) fn dicom_lab_to_srgb(lab: [u16; 3]) -> [u8; 3] {
    let l = f64::from(lab[0]) / 65535.0 * 100.0;
    let a = f64::from(lab[1]) / 65535.0 * 255.0 - 128.0;
    let b = f64::from(lab[2]) / 65535.0 * 255.0 - 128.0;
    let fy = (l + 16.0) / 116.0;
    let (fx, fz) = (fy + a / 500.0, fy - b / 200.0);
    let inverse = |t: f64| {
        if t > 6.0 / 29.0 {
            t.powi(3)
        } else {
            3.0 * (6.0f64 / 29.0).powi(2) * (t - 4.0 / 29.0)
        }
    };
    let (x, y, z) = (inverse(fx) * 0.95047, inverse(fy), inverse(fz) * 1.08883);
    let linear = [
        3.2406 * x - 1.5372 * y - 0.4986 * z,
        -0.9689 * x + 1.8758 * y + 0.0415 * z,
        0.0557 * x - 0.2040 * y + 1.0570 * z,
    ];
    linear.map(|c| {
        let c = c.clamp(0.0, 1.0);
        let s = if c <= 0.0031308 {
            12.92 * c
        } else {
            1.055 * c.powf(1.0 / 2.4) - 0.055
        };
        (s * 255.0).round() as u8
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colours_survive_the_round_trip() {
        for rgb in [
            [255, 0, 0],
            [0, 128, 255],
            [240, 200, 40],
            [0, 0, 0],
            [255, 255, 255],
        ] {
            let back = dicom_lab_to_srgb(srgb_to_dicom_lab(rgb));
            for c in 0..3 {
                assert!(back[c].abs_diff(rgb[c]) <= 1, "{rgb:?} came back {back:?}");
            }
        }
        // White is L = 100, a = b = 0.
        let white = srgb_to_dicom_lab([255, 255, 255]);
        assert_eq!(white[0], 65535);
        assert!(
            white[1].abs_diff(32896) <= 40 && white[2].abs_diff(32896) <= 40,
            "{white:?}"
        );
    }
}
