//! A second series drawn over the slices of a series rendered here (a PET over its CT, an
//! ASL map over the MPRAGE), as the server draws one over its slice cells: each slice
//! pixel's point found in the second series, sampled, windowed, coloured and laid over at
//! an opacity ([`render_core::fusion`]). The bar that restyles it is shared with the
//! streamed view's, which asks the server for the same style.

use eframe::egui;
use glam::DVec3;
use render_core::Volume;
use render_core::Window;
use render_core::colour_map::ColourMap;
use render_core::fusion::{Fusion, SeriesOver};
use render_core::view::{MprPlane, SeriesLink};

use crate::layer_texture::LayerTexture;

/// A second series drawn over the slices rendered here.
#[derive(Debug, Clone)]
pub struct LocalOver {
    /// Its name as the bar shows it: its number, modality and description.
    pub label: String,
    /// Its volume, how it is drawn and how the first series' points are found in it.
    pub drawn: SeriesOver,
    /// SUV (body weight) a Bq/ml, for a PET whose header gives what it is computed from.
    pub suv_factor: Option<f64>,
}

impl LocalOver {
    /// `volume` (named `label`) over a series, linked by `link`, in the usual start style.
    pub fn new(
        label: String,
        volume: std::sync::Arc<Volume>,
        link: SeriesLink,
        suv_factor: Option<f64>,
    ) -> Self {
        let fusion = Fusion::initial(&volume);
        Self {
            label,
            drawn: SeriesOver {
                volume,
                fusion,
                link,
            },
            suv_factor,
        }
    }

    /// Its value at the first series' point `lps`, and that value in SUV for a PET.
    pub fn reading_at(&self, lps: DVec3) -> Option<(f64, Option<f64>)> {
        let value = self.drawn.value_at(lps)?;
        Some((value, self.suv_factor.map(|factor| value * factor)))
    }
}

/// The colour map, opacity and window a second series is drawn in, as the bar edits them.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OverStyle {
    /// The colour map.
    pub colours: ColourMap,
    /// How opaque, 0 to 1.
    pub opacity: f64,
    /// Its own window.
    pub window: Window,
}

impl OverStyle {
    /// The style `fusion` draws in.
    pub fn of(fusion: &Fusion) -> Self {
        Self {
            colours: fusion.colours,
            opacity: fusion.opacity,
            window: fusion.window,
        }
    }
}

/// What the reader did in the bar.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum OverEdit {
    /// Nothing.
    None,
    /// Changed the style.
    Restyled,
    /// Pressed Off: the second series goes.
    Off,
}

/// The bar of a series drawn over the slices: `heading` (its name and modality), a note
/// when the volumes' centres were lined up (`centres`), the colour map, opacity, window
/// and Off, editing `style`.
pub fn over_bar(
    ui: &mut egui::Ui,
    heading: &str,
    centres: bool,
    style: &mut OverStyle,
) -> OverEdit {
    let before = *style;
    let mut off = false;
    // Wrapped: a long series name or a narrow window puts the controls on a second line
    // rather than pushing the views aside.
    ui.horizontal_wrapped(|ui| {
        ui.label(heading);
        if centres {
            ui.label("centres lined up")
                .on_hover_text("another frame of reference: the volumes' centres meet");
        }
        egui::ComboBox::from_id_salt("over-colour-map")
            .selected_text(style.colours.name())
            .show_ui(ui, |ui| {
                for each in ColourMap::ALL {
                    ui.selectable_value(&mut style.colours, each, each.name());
                }
            });
        // Two decimals always: the bar keeps its width while the slider moves.
        ui.add(
            egui::Slider::new(&mut style.opacity, 0.0..=1.0)
                .fixed_decimals(2)
                .text("opacity"),
        );
        let step = (style.window.width / 100.0).max(0.01);
        ui.add(
            egui::DragValue::new(&mut style.window.width)
                .speed(step)
                .range(f64::MIN_POSITIVE..=f64::MAX)
                .prefix("W "),
        );
        ui.add(
            egui::DragValue::new(&mut style.window.center)
                .speed(step)
                .prefix("C "),
        );
        off = ui.button("Off").clicked();
    });
    if off {
        OverEdit::Off
    } else if *style != before {
        OverEdit::Restyled
    } else {
        OverEdit::None
    }
}

/// The bar of `over` rendered here; true when the reader pressed Off.
pub fn local_over_bar(ui: &mut egui::Ui, over: &mut LocalOver) -> bool {
    let heading = format!("Over: {}", over.label);
    let centres = matches!(over.drawn.link, SeriesLink::Offset(_));
    let mut style = OverStyle::of(&over.drawn.fusion);
    match over_bar(ui, &heading, centres, &mut style) {
        OverEdit::Off => true,
        OverEdit::Restyled => {
            let fusion = &mut over.drawn.fusion;
            fusion.colours = style.colours;
            fusion.opacity = style.opacity;
            fusion.window = style.window;
            false
        }
        OverEdit::None => false,
    }
}

/// One slice view's picture of the series drawn over it: transparent where the second
/// series does not reach, uploaded to egui and laid over the slice the renderer drew.
/// Made again only when the slice, its size or the series' style change.
pub struct OverTexture {
    /// The picture, made for a slice, a size and a series drawn a way.
    texture: LayerTexture<(MprPlane, [u32; 2], DrawnAlike)>,
}

/// A second series as a picture's key: equal to another that draws alike (the same
/// volume, style and link).
#[derive(Debug, Clone)]
struct DrawnAlike(SeriesOver);

impl PartialEq for DrawnAlike {
    fn eq(&self, other: &Self) -> bool {
        self.0.draws_as(&other.0)
    }
}

impl Default for OverTexture {
    fn default() -> Self {
        Self {
            texture: LayerTexture::new("over", egui::TextureOptions::LINEAR),
        }
    }
}

impl OverTexture {
    /// Lays `over` over the slice `plane` of `volume` drawn at `size` pixels in `rect`;
    /// nothing, and the picture dropped, without one.
    pub fn paint(
        &mut self,
        painter: &egui::Painter,
        rect: egui::Rect,
        volume: &Volume,
        plane: &MprPlane,
        size: [u32; 2],
        over: Option<&LocalOver>,
    ) {
        let Some(over) = over else {
            self.texture.clear();
            return;
        };
        let key = (*plane, size, DrawnAlike(over.drawn.clone()));
        self.texture.paint(painter, rect, key, || {
            let [width, height] = size;
            // Transparent black: the blend leaves the second series' colours premultiplied
            // by its opacity, and its opacity as alpha, where it reaches.
            let mut rgba = vec![0u8; width as usize * height as usize * 4];
            over.drawn
                .draw(&mut rgba, width, plane.pixel_to_lps(volume, size));
            egui::ColorImage::from_rgba_premultiplied([width as usize, height as usize], &rgba)
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::segments::ShownSegments;
    use crate::slice_view::SliceLayers;
    use glam::DMat4;
    use hounsfield_protocol::SlicePlane;
    use render_core::{Modality, Voxels};

    /// A 4×4×4 volume of 1 mm voxels at the origin of `modality`, each voxel's value `value`.
    fn cube(modality: Modality, value: i16) -> Volume {
        Volume::new(
            Voxels::I16(vec![value; 64]),
            [4, 4, 4],
            DMat4::IDENTITY,
            modality,
            None,
        )
        .expect("a 4×4×4 cube")
    }

    #[test]
    fn the_probe_tells_a_pets_suv_and_the_series_overs_value_and_suv() {
        let ct = cube(Modality::CT, -52);
        let pet = std::sync::Arc::new(cube(Modality::Other("PT".into()), 4000));
        let over = LocalOver::new(
            "Se 2 · PT".into(),
            pet,
            SeriesLink::SameFrame,
            Some(0.00125),
        );
        let segments = ShownSegments::default();
        let at = DVec3::new(1.0, 1.0, 1.0);
        let layers = SliceLayers {
            over: Some(&over),
            segments: &segments,
            suv_factor: None,
        };
        let text = layers.reading(&ct, SlicePlane::Axial, at, -52.0).text();
        assert_eq!(
            text,
            "-52 HU, over 4000.00 (SUV 5.00) at (1.0, 1.0, 1.0) mm LPS"
        );
        // A PET shown alone reads in SUV too; outside the series over, no value of it.
        let layers = SliceLayers {
            over: Some(&over),
            segments: &segments,
            suv_factor: Some(0.002),
        };
        let outside = DVec3::new(40.0, 1.0, 1.0);
        let text = layers
            .reading(&ct, SlicePlane::Axial, outside, 1000.0)
            .text();
        assert_eq!(text, "1000 HU (SUV 2.00) at (40.0, 1.0, 1.0) mm LPS");
    }
}
