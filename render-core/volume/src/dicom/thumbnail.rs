//! Thumbnails for a study browser: one image of a series (the middle of its stack),
//! decoded alone (never the whole series; its file's frames checked, and one frame
//! within the machine's budget, before its values are allocated), windowed and shrunk by
//! averaging to a small grey picture. A volume already in memory gives its middle axial
//! slice instead.

use super::budget::VoxelBudget;
use super::catalog::Series;
use super::checked_pixels::CheckedPixelData;
use super::error::DicomError;
use super::pixels::{FrameTarget, decode_checked};
use crate::volume::{Modality, Volume, Window};

/// The window of CT thumbnails without one of their own: soft tissue (W 400, L 40 HU).
const CT_WINDOW: Window = Window {
    width: 400.0,
    center: 40.0,
};
/// Share of the values left out at each end when a window is made from the image's own
/// values (so a few bright pixels do not darken it all).
const TAIL_SHARE: f64 = 0.01;

/// An 8-bit grey picture, rows from the top.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GreyImage {
    /// Width in pixels.
    pub width: usize,
    /// Height in pixels.
    pub height: usize,
    /// `width × height` grey levels.
    pub pixels: Vec<u8>,
}

/// The middle image of `series` as a picture no side of which exceeds `max_side`:
/// windowed with its header's window, else (CT) soft tissue, else its own values' range;
/// MONOCHROME1 is shown inverted, as it is meant to be.
pub fn series_thumbnail(series: &Series, max_side: usize) -> Result<GreyImage, DicomError> {
    let unsupported = |what: &str| DicomError::Unsupported {
        file: series
            .images
            .first()
            .map(|image| image.file.clone())
            .unwrap_or_default(),
        what: what.to_string(),
    };
    // The middle of the stack in space when it stacks, else of the images as listed.
    let middle = match &series.plan {
        Ok(plan) if !plan.slices.is_empty() => plan.slices[plan.slices.len() / 2].image,
        _ => series.images.len() / 2,
    };
    let header = series
        .images
        .get(middle)
        .ok_or_else(|| unsupported("a series without images has no thumbnail"))?;
    if header.pixel_format.samples_per_pixel != 1 {
        return Err(unsupported("colour images get no thumbnail"));
    }
    let pixels = CheckedPixelData::open(&header.file, VoxelBudget::for_machine())?;
    // The file's own size, checked with its frames: what the decoders are held to.
    let shape = pixels.shape();
    let (rows, columns) = (shape.rows as usize, shape.columns as usize);
    let mut values = vec![0f32; rows * columns];
    let mut targets = [FrameTarget {
        frame: header.frame,
        rescale: header.rescale,
        out: &mut values,
        tile: None,
    }];
    decode_checked(&pixels, header.pixel_format, &mut targets)?;
    let window = header
        .window
        .or_else(|| series.images.iter().find_map(|image| image.window))
        .or_else(|| {
            (Modality::from_code(&header.identity.modality) == Modality::CT).then_some(CT_WINDOW)
        });
    let invert = header.photometric.eq_ignore_ascii_case("MONOCHROME1");
    Ok(windowed(&values, columns, rows, window, invert, max_side))
}

/// The middle axial slice (k) of `volume` as a thumbnail, with its default window.
pub fn volume_thumbnail(volume: &Volume, max_side: usize) -> GreyImage {
    let [columns, rows, slices] = volume.dims;
    let k = slices / 2;
    let values: Vec<f32> = (0..rows)
        .flat_map(|j| (0..columns).map(move |i| [i, j, k]))
        .map(|ijk| volume.value(ijk).unwrap_or(0.0) as f32)
        .collect();
    let window = volume
        .default_window
        .or_else(|| (volume.modality == Modality::CT).then_some(CT_WINDOW));
    windowed(&values, columns, rows, window, false, max_side)
}

/// `values` (`columns × rows`) windowed and shrunk by averaging blocks so that no side
/// exceeds `max_side` (never enlarged); without a window, the values' own range less
/// [`TAIL_SHARE`] at each end.
pub fn windowed(
    values: &[f32],
    columns: usize,
    rows: usize,
    window: Option<Window>,
    invert: bool,
    max_side: usize,
) -> GreyImage {
    let window = window.unwrap_or_else(|| window_of_values(values));
    let step = columns.max(rows).div_ceil(max_side.max(1)).max(1);
    let (width, height) = (columns.div_ceil(step), rows.div_ceil(step));
    let mut pixels = Vec::with_capacity(width * height);
    for y in 0..height {
        for x in 0..width {
            let (mut sum, mut count) = (0f64, 0usize);
            for row in y * step..((y + 1) * step).min(rows) {
                for column in x * step..((x + 1) * step).min(columns) {
                    if let Some(&value) = values.get(row * columns + column) {
                        sum += f64::from(value);
                        count += 1;
                    }
                }
            }
            let grey = window.grey_u8(sum / count.max(1) as f64);
            pixels.push(if invert { 255 - grey } else { grey });
        }
    }
    GreyImage {
        width,
        height,
        pixels,
    }
}

/// A window over the values' range, less the darkest and brightest [`TAIL_SHARE`].
fn window_of_values(values: &[f32]) -> Window {
    let mut finite: Vec<f32> = values.iter().copied().filter(|v| v.is_finite()).collect();
    if finite.is_empty() {
        return Window {
            width: 1.0,
            center: 0.0,
        };
    }
    let tail = ((finite.len() as f64) * TAIL_SHARE) as usize;
    let last = finite.len() - 1;
    let (_, low, _) = finite.select_nth_unstable_by(tail, f32::total_cmp);
    let low = f64::from(*low);
    let (_, high, _) = finite.select_nth_unstable_by(last - tail, f32::total_cmp);
    let high = f64::from(*high);
    Window {
        width: (high - low).max(1.0),
        center: (high + low) * 0.5,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thumbnails_average_blocks_and_never_grow() {
        // A 4×2 ramp shrunk to at most 2 a side: 2×1 blocks of 2×2 values averaged.
        let values = [0.0, 10.0, 20.0, 30.0, 0.0, 10.0, 20.0, 30.0];
        let window = Window {
            width: 30.0,
            center: 15.0,
        };
        let small = windowed(&values, 4, 2, Some(window), false, 2);
        assert_eq!((small.width, small.height), (2, 1));
        assert_eq!(
            small.pixels,
            vec![window.grey_u8(5.0), window.grey_u8(25.0)]
        );
        let same = windowed(&values, 4, 2, Some(window), true, 128);
        assert_eq!((same.width, same.height), (4, 2));
        assert_eq!(same.pixels[0], 255, "MONOCHROME1 is inverted");
    }

    #[test]
    fn without_a_window_the_values_own_range_is_used() {
        let mut values: Vec<f32> = (0..1000).map(|v| v as f32).collect();
        values[999] = 1e9; // one outlier does not darken the picture
        let window = window_of_values(&values);
        assert!(window.center > 400.0 && window.center < 600.0, "{window:?}");
        assert!(window.width < 1100.0, "{window:?}");
    }
}
