//! Rulers and the value under the cursor on the slices of the thin client's 2×2 layout,
//! measured by the server (where the voxels are). A ruler is kept with the slice it was
//! drawn on: its plane and its ends in patient space (LPS mm), so it shows only while its
//! cell shows that slice, placed by the geometry of the server's `crosshair` message (the
//! turned planes' axes once the planes are turned).

use glam::DVec3;
use hounsfield_protocol::{CrosshairInCells, SlicePlane, SlicePlanesInCells, SliceScales};
use render_core::view::PlaneGeometry;
use render_core::view::layout::{cell_index, quad_cells};

/// Where the slices lie in their cells of the 2×2 layout, as the server told it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SlicePlacement {
    /// The crosshair (LPS, mm): every slice passes through it.
    pub crosshair_lps: DVec3,
    /// Where it shows in each slice's cell (fractions from the top left).
    pub cells: CrosshairInCells,
    /// Millimetres per frame pixel of each slice's cell.
    pub mm_per_pixel: SliceScales,
    /// How each cell shows its plane once the planes are turned (`None`: standard).
    pub planes: Option<SlicePlanesInCells>,
}

/// How `plane`'s cell shows it: its right and down (LPS unit vectors), the turned ones of
/// `planes` when given, else the standard plane's.
pub fn cell_axes(planes: Option<&SlicePlanesInCells>, plane: SlicePlane) -> (DVec3, DVec3) {
    match planes {
        Some(planes) => {
            let axes = match plane {
                SlicePlane::Axial => planes.axial,
                SlicePlane::Coronal => planes.coronal,
                SlicePlane::Sagittal => planes.sagittal,
            };
            (DVec3::from_array(axes.right), DVec3::from_array(axes.down))
        }
        None => plane.orientation().right_and_down(),
    }
}

impl SlicePlacement {
    /// Where the patient point `point` of `plane`'s slice shows in that plane's cell of a
    /// frame of `size` pixels: fractions of the cell from its top left.
    pub fn spot_of(&self, plane: SlicePlane, point: DVec3, size: [u32; 2]) -> [f64; 2] {
        let cell = quad_cells(size)[cell_index(plane)];
        let (right, down) = cell_axes(self.planes.as_ref(), plane);
        let scale = scale_of(&self.mm_per_pixel, plane).max(1e-9);
        let [x, y] = self.cells.of(plane);
        let offset = point - self.crosshair_lps;
        [
            x + offset.dot(right) / (scale * f64::from(cell.width.max(1))),
            y + offset.dot(down) / (scale * f64::from(cell.height.max(1))),
        ]
    }

    /// Whether `plane`'s slice through the crosshair passes within `tolerance_mm` of
    /// `point`: that cell shows the slice `point` was taken on.
    pub fn shows(&self, plane: SlicePlane, point: DVec3, tolerance_mm: f64) -> bool {
        let (right, down) = cell_axes(self.planes.as_ref(), plane);
        (point - self.crosshair_lps).dot(right.cross(down)).abs() <= tolerance_mm
    }
}

/// The millimetres per pixel of `plane`'s cell.
pub fn scale_of(scales: &SliceScales, plane: SlicePlane) -> f64 {
    match plane {
        SlicePlane::Axial => scales.axial,
        SlicePlane::Coronal => scales.coronal,
        SlicePlane::Sagittal => scales.sagittal,
    }
}

/// A ruler the server measured on one slice.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Ruler {
    /// The slice's plane.
    pub plane: SlicePlane,
    /// Its start (LPS, mm).
    pub from_lps: DVec3,
    /// Its end (LPS, mm).
    pub to_lps: DVec3,
    /// Its length as the server measured it (mm).
    pub mm: f64,
}

/// The value under the cursor, as the server read it.
#[derive(Debug, Clone, PartialEq)]
pub struct ProbeReading {
    /// The slice it was read on.
    pub plane: SlicePlane,
    /// The point (LPS, mm).
    pub lps_mm: DVec3,
    /// The nearest voxel's value; none outside the volume.
    pub value: Option<f64>,
    /// `HU` for CT, empty otherwise.
    pub unit: String,
    /// In a series over time, the voxel's value in every volume (its curve).
    pub values: Vec<f64>,
    /// That curve's measures, with `values`.
    pub curve: Option<hounsfield_protocol::CurveInfo>,
    /// The value of the series drawn over the slices there (`over`), if any.
    pub over_value: Option<f64>,
    /// A PET's `value` in SUV, when the server gives it.
    pub suv: Option<f64>,
    /// The PET drawn over's `over_value` in SUV, likewise.
    pub over_suv: Option<f64>,
}

impl ProbeReading {
    /// As the slice's corner shows it: "-52 HU at (1.0, 2.0, 3.0) mm LPS", with the
    /// series drawn over's value after the first ("-52 HU, over 4.21 at …").
    pub fn text(&self) -> String {
        let value = self.value.map_or_else(
            || "outside the volume".to_string(),
            |value| {
                if self.unit.is_empty() {
                    format!("{value:.0}")
                } else {
                    format!("{value:.0} {}", self.unit)
                }
            },
        );
        let in_suv =
            |suv: Option<f64>| suv.map_or_else(String::new, |suv| format!(" (SUV {suv:.2})"));
        let over = self.over_value.map_or_else(String::new, |over| {
            format!(", over {over:.2}{}", in_suv(self.over_suv))
        });
        format!(
            "{value}{}{over} at ({:.1}, {:.1}, {:.1}) mm LPS",
            in_suv(self.suv),
            self.lps_mm.x,
            self.lps_mm.y,
            self.lps_mm.z
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hounsfield_protocol::CellAxes;
    use render_core::view::SliceFrame;
    use render_core::view::layout::{cell_render_size, cell_slice, lps_in_cell, spot_in_cell};

    #[test]
    fn a_point_of_a_slice_shows_where_the_server_draws_it_and_only_on_its_slice() {
        let volume = render_core::phantom::ct_phantom();
        let crosshair = DVec3::new(12.5, -20.0, 7.0);
        let turned = SliceFrame::STANDARD
            .turned(SlicePlane::Axial, 25.0)
            .and_then(|frame| frame.turned(SlicePlane::Sagittal, -35.0))
            .expect("a double oblique frame");
        for (size, frame) in [
            ([400, 300], SliceFrame::STANDARD),
            ([801, 599], SliceFrame::STANDARD),
            ([64, 200], SliceFrame::STANDARD),
            ([400, 300], turned),
            ([801, 599], turned),
        ] {
            let render = cell_render_size(size);
            let scale = |plane: SlicePlane| {
                cell_slice(&volume, &frame, plane, crosshair).mm_per_pixel(&volume, render)
            };
            let spot = |plane| spot_in_cell(&volume, &frame, plane, crosshair, size, crosshair);
            // As the server tells them: the turned cells' right and down.
            let axes = |plane: SlicePlane| {
                let (right, down) = frame.orientation(plane).right_and_down();
                CellAxes {
                    right: right.to_array(),
                    down: down.to_array(),
                }
            };
            let planes = (!frame.is_standard()).then(|| SlicePlanesInCells {
                axial: axes(SlicePlane::Axial),
                coronal: axes(SlicePlane::Coronal),
                sagittal: axes(SlicePlane::Sagittal),
            });
            let placement = SlicePlacement {
                crosshair_lps: crosshair,
                cells: CrosshairInCells {
                    axial: spot(SlicePlane::Axial),
                    coronal: spot(SlicePlane::Coronal),
                    sagittal: spot(SlicePlane::Sagittal),
                },
                mm_per_pixel: SliceScales {
                    axial: scale(SlicePlane::Axial),
                    coronal: scale(SlicePlane::Coronal),
                    sagittal: scale(SlicePlane::Sagittal),
                },
                planes,
            };
            for plane in SlicePlane::ALL {
                for at in [[0.1, 0.2], [0.5, 0.5], [0.93, 0.71]] {
                    let point = lps_in_cell(&volume, &frame, plane, crosshair, size, at);
                    let [x, y] = placement.spot_of(plane, point, size);
                    assert!(
                        (x - at[0]).abs() < 1e-9 && (y - at[1]).abs() < 1e-9,
                        "{plane:?} {size:?}: {at:?} came back as [{x}, {y}]"
                    );
                    assert!(placement.shows(plane, point, 0.01));
                    let elsewhere = point + frame.normal(plane) * 1.0;
                    assert!(!placement.shows(plane, elsewhere, 0.5), "{plane:?}");
                }
            }
        }
    }

    #[test]
    fn a_reading_says_the_value_and_where() {
        let reading = ProbeReading {
            plane: SlicePlane::Axial,
            lps_mm: DVec3::new(1.0, -2.26, 3.0),
            value: Some(-52.4),
            unit: "HU".to_string(),
            values: Vec::new(),
            curve: None,
            over_value: None,
            suv: None,
            over_suv: None,
        };
        assert_eq!(reading.text(), "-52 HU at (1.0, -2.3, 3.0) mm LPS");
        let fused = ProbeReading {
            over_value: Some(4.2071),
            ..reading.clone()
        };
        assert_eq!(fused.text(), "-52 HU, over 4.21 at (1.0, -2.3, 3.0) mm LPS");
        let pet = ProbeReading {
            over_value: Some(21500.0),
            over_suv: Some(5.126),
            ..reading.clone()
        };
        assert_eq!(
            pet.text(),
            "-52 HU, over 21500.00 (SUV 5.13) at (1.0, -2.3, 3.0) mm LPS"
        );
        let outside = ProbeReading {
            value: None,
            ..reading
        };
        assert!(outside.text().starts_with("outside the volume"));
    }
}
