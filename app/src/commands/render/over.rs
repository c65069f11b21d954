//! `render --mpr … --over SERIES`: a second series of the same frame of reference drawn
//! over the reformatted slice in a colour map, with its own window and an opacity. Each
//! pixel's centre is taken to LPS by the plane, sampled in the second series (trilinear,
//! or the nearest voxel with `--nearest`), windowed, coloured and blended; pixels outside
//! the second series keep the slice as drawn.

use glam::{DMat4, DVec3, DVec4};
use render_core::colour_map::ColourMap;
use render_core::{Volume, Window};

/// How the second series is drawn.
#[derive(Debug, Clone, Copy)]
pub(super) struct Fusion {
    /// Its colour map.
    pub(super) colours: ColourMap,
    /// How opaque it is, 0 to 1.
    pub(super) opacity: f64,
    /// Its window.
    pub(super) window: Window,
    /// Nearest-voxel sampling instead of trilinear.
    pub(super) nearest: bool,
}

/// The window of `over` when none is asked for: its header's, else its value range.
pub(super) fn default_window(over: &Volume) -> Window {
    over.default_window.unwrap_or_else(|| {
        let range = over.value_range;
        Window {
            width: (range.max - range.min).max(1.0),
            center: (range.max + range.min) / 2.0,
        }
    })
}

/// Blends `over` into `rgba` (`width` pixels a row), whose pixel centres `pixel_to_lps`
/// takes to LPS; the pixels it covered.
pub(super) fn draw_over(
    rgba: &mut [u8],
    width: u32,
    pixel_to_lps: DMat4,
    over: &Volume,
    fusion: Fusion,
) -> usize {
    let mut covered = 0;
    for (n, pixel) in rgba.chunks_exact_mut(4).enumerate() {
        let (x, y) = ((n as u32 % width) as f64, (n as u32 / width) as f64);
        let lps = (pixel_to_lps * DVec4::new(x, y, 0.0, 1.0)).truncate();
        let Some(value) = sample(over, lps, fusion.nearest) else {
            continue;
        };
        let t = (value - (fusion.window.center - fusion.window.width / 2.0)) / fusion.window.width;
        let colour = fusion.colours.rgb(t);
        for (channel, c) in pixel.iter_mut().zip(colour) {
            let blended = f64::from(*channel) * (1.0 - fusion.opacity) + c * 255.0 * fusion.opacity;
            *channel = blended.round().clamp(0.0, 255.0) as u8;
        }
        covered += 1;
    }
    covered
}

/// `over`'s value at `lps`: its nearest voxel's, or trilinear inside its voxel centres.
fn sample(over: &Volume, lps: DVec3, nearest: bool) -> Option<f64> {
    if nearest {
        over.nearest_voxel(lps).map(|(_, value)| value)
    } else {
        over.trilinear(over.lps_to_voxel(lps))
    }
}
