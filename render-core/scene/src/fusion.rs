//! One series drawn over another (a PET over its CT, a perfusion map over an anatomical
//! MR): each pixel of a slice of the first is taken to LPS, found in the second through
//! their [`SeriesLink`], sampled there, windowed, coloured by a [`ColourMap`] and blended
//! at an opacity. Pixels outside the second series keep the slice as drawn. The command
//! line's `render --over`, the server's slice cells and every client draw it this way.

use std::sync::Arc;

use glam::{DMat4, DVec3, DVec4};
use hounsfield_volume::{Volume, Window};

use crate::colour_map::ColourMap;
use crate::view::series_link::SeriesLink;

/// How the second series is drawn.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Fusion {
    /// Its colour map.
    pub colours: ColourMap,
    /// How opaque it is, 0 to 1.
    pub opacity: f64,
    /// Its window.
    pub window: Window,
    /// Nearest-voxel sampling instead of trilinear.
    pub nearest: bool,
}

impl Fusion {
    /// The usual start: the hot map at half opacity in `over`'s own window, trilinear.
    pub fn initial(over: &Volume) -> Self {
        Self {
            colours: ColourMap::Hot,
            opacity: 0.5,
            window: default_window(over),
            nearest: false,
        }
    }

    /// Its opacity as drawn: clamped to 0 to 1, and 0 when not a number.
    pub fn drawn_opacity(&self) -> f64 {
        if self.opacity.is_finite() {
            self.opacity.clamp(0.0, 1.0)
        } else {
            0.0
        }
    }
}

/// The window of `over` when none is asked for: its header's, else its value range.
pub fn default_window(over: &Volume) -> Window {
    over.default_window.unwrap_or_else(|| {
        let range = over.value_range;
        Window {
            width: (range.max - range.min).max(1.0),
            center: (range.max + range.min) / 2.0,
        }
    })
}

/// A series drawn over another: its volume, how it is drawn and how the first series'
/// points are found in it.
#[derive(Debug, Clone)]
pub struct SeriesOver {
    /// The second series' volume.
    pub volume: Arc<Volume>,
    /// How it is drawn.
    pub fusion: Fusion,
    /// How a point of the first series is found in it.
    pub link: SeriesLink,
}

impl SeriesOver {
    /// Whether it draws as `other` does: the same volume, drawn and linked alike.
    pub fn draws_as(&self, other: &SeriesOver) -> bool {
        Arc::ptr_eq(&self.volume, &other.volume)
            && self.fusion == other.fusion
            && self.link == other.link
    }

    /// Its nearest voxel's value at the first series' point `lps`, as a probe reads the
    /// first series' own; none outside it.
    pub fn value_at(&self, lps: DVec3) -> Option<f64> {
        let (_, value) = self.volume.nearest_voxel(self.link.follow(lps))?;
        Some(value)
    }

    /// Blends it into `rgba` (`width` pixels a row), a slice of the first series whose
    /// pixel centres `pixel_to_lps` takes to LPS; the pixels it covered.
    pub fn draw(&self, rgba: &mut [u8], width: u32, pixel_to_lps: DMat4) -> usize {
        let followed = DMat4::from_translation(self.link.follow(DVec3::ZERO)) * pixel_to_lps;
        draw_over(rgba, width, followed, &self.volume, self.fusion)
    }
}

/// Blends `over` into `rgba` (`width` pixels a row), whose pixel centres `pixel_to_lps`
/// takes to LPS in `over`'s frame; the pixels it covered. Over a transparent image it
/// leaves `over` alone, premultiplied by its opacity, with that opacity as alpha.
pub fn draw_over(
    rgba: &mut [u8],
    width: u32,
    pixel_to_lps: DMat4,
    over: &Volume,
    fusion: Fusion,
) -> usize {
    if width == 0 {
        return 0;
    }
    let opacity = fusion.drawn_opacity();
    let low = fusion.window.center - fusion.window.width / 2.0;
    let mut covered = 0;
    for (n, pixel) in rgba.chunks_exact_mut(4).enumerate() {
        let (x, y) = ((n as u32 % width) as f64, (n as u32 / width) as f64);
        let lps = (pixel_to_lps * DVec4::new(x, y, 0.0, 1.0)).truncate();
        let Some(value) = sample(over, lps, fusion.nearest) else {
            continue;
        };
        let [red, green, blue] = fusion.colours.rgb((value - low) / fusion.window.width);
        // Alpha blends towards opaque too: an opaque slice stays opaque, and a transparent
        // image takes the series alone, premultiplied, for a client to lay over its own.
        for (channel, c) in pixel.iter_mut().zip([red, green, blue, 1.0]) {
            let blended = f64::from(*channel) * (1.0 - opacity) + c * 255.0 * opacity;
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

#[cfg(test)]
mod tests {
    use super::*;
    use hounsfield_volume::{Modality, Voxels};

    /// A 4×4×4 cube of 1 mm voxels at the origin, each voxel's value its `i`.
    fn ramp() -> Volume {
        let values = (0..64).map(|n| (n % 4) as i16).collect();
        Volume::new(
            Voxels::I16(values),
            [4, 4, 4],
            DMat4::IDENTITY,
            Modality::Other("PT".into()),
            None,
        )
        .expect("a 4×4×4 ramp")
    }

    fn over(link: SeriesLink) -> SeriesOver {
        let volume = Arc::new(ramp());
        SeriesOver {
            fusion: Fusion {
                colours: ColourMap::Grey,
                opacity: 1.0,
                window: Window {
                    width: 3.0,
                    center: 1.5,
                },
                nearest: true,
            },
            volume,
            link,
        }
    }

    #[test]
    fn a_pixel_takes_the_colour_of_the_value_beneath_it_and_outside_keeps_the_slice() {
        let over = over(SeriesLink::SameFrame);
        // Two pixels a row, one millimetre apart along i, at j = k = 1: i = 2 and i = 3;
        // then a row outside the volume.
        let pixel_to_lps = DMat4::from_cols(
            DVec4::new(1.0, 0.0, 0.0, 0.0),
            DVec4::new(0.0, 10.0, 0.0, 0.0),
            DVec4::new(0.0, 0.0, 1.0, 0.0),
            DVec4::new(2.0, 1.0, 1.0, 1.0),
        );
        let mut rgba = vec![7u8; 4 * 4];
        assert_eq!(over.draw(&mut rgba, 2, pixel_to_lps), 2);
        assert_eq!(&rgba[0..3], &[170, 170, 170], "value 2 of 0..3");
        assert_eq!(&rgba[4..7], &[255, 255, 255], "value 3");
        assert_eq!(&rgba[8..], &[7; 8], "outside keeps the slice");
        assert_eq!(over.value_at(DVec3::new(2.0, 1.0, 1.0)), Some(2.0));
    }

    #[test]
    fn a_linked_series_is_sampled_at_the_point_moved_by_the_offset() {
        let over = over(SeriesLink::Offset(DVec3::new(1.0, 0.0, 0.0)));
        assert_eq!(over.value_at(DVec3::new(1.0, 1.0, 1.0)), Some(2.0));
        let pixel_to_lps = DMat4::from_translation(DVec3::new(0.0, 1.0, 1.0));
        let mut rgba = vec![0u8; 4];
        over.draw(&mut rgba, 1, pixel_to_lps);
        assert_eq!(&rgba[0..3], &[85, 85, 85], "value 1 at i = 0 + 1");
    }

    #[test]
    fn half_opacity_blends_half_of_each() {
        let mut over = over(SeriesLink::SameFrame);
        over.fusion.opacity = 0.5;
        let mut rgba = vec![100u8; 4];
        over.draw(
            &mut rgba,
            1,
            DMat4::from_translation(DVec3::new(3.0, 0.0, 0.0)),
        );
        assert_eq!(&rgba[0..3], &[178, 178, 178]);
    }

    #[test]
    fn over_a_transparent_image_the_series_is_left_alone_premultiplied() {
        let mut over = over(SeriesLink::SameFrame);
        over.fusion.opacity = 0.4;
        // One pixel at i = 3 (white in the grey map), one outside the volume.
        let pixel_to_lps = DMat4::from_cols(
            DVec4::new(10.0, 0.0, 0.0, 0.0),
            DVec4::new(0.0, 1.0, 0.0, 0.0),
            DVec4::new(0.0, 0.0, 1.0, 0.0),
            DVec4::new(3.0, 1.0, 1.0, 1.0),
        );
        let mut rgba = vec![0u8; 8];
        assert_eq!(over.draw(&mut rgba, 2, pixel_to_lps), 1);
        assert_eq!(
            &rgba[0..4],
            &[102, 102, 102, 102],
            "white at 0.4, premultiplied"
        );
        assert_eq!(&rgba[4..8], &[0; 4], "outside stays transparent");
        let mut opaque = vec![50u8, 50, 50, 255];
        over.draw(&mut opaque, 1, pixel_to_lps);
        assert_eq!(opaque[3], 255, "an opaque slice stays opaque");
    }
}
