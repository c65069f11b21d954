//! A slice's geometry on screen: which patient point each pixel of a slice shows, and
//! where a patient point shows, in physical pixels and in egui points.

use eframe::egui;
use glam::DVec3;
use render_core::Volume;
use render_core::view::MprPlane;

/// The geometry of a slice on screen: pixel ↔ patient coordinates.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SliceGeometry {
    /// LPS of the top-left pixel's corner.
    pub origin: DVec3,
    /// LPS direction of screen right (unit).
    pub right: DVec3,
    /// LPS direction of screen down (unit).
    pub down: DVec3,
    /// Millimetres per physical pixel.
    pub mm_per_pixel: f64,
}

impl SliceGeometry {
    /// The geometry `plane` has at `size` physical pixels on `volume`.
    pub fn of(plane: &MprPlane, volume: &Volume, size: [u32; 2]) -> Self {
        let (right, down) = plane.orientation.right_and_down();
        let mm_per_pixel = plane.mm_per_pixel(volume, size);
        let origin = plane.centre_lps
            - right * f64::from(size[0]) * 0.5 * mm_per_pixel
            - down * f64::from(size[1]) * 0.5 * mm_per_pixel;
        Self {
            origin,
            right,
            down,
            mm_per_pixel,
        }
    }

    /// The patient point under physical pixel position (`x`, `y`) from the top left.
    pub fn lps_at(self, x: f64, y: f64) -> DVec3 {
        self.origin + (self.right * x + self.down * y) * self.mm_per_pixel
    }

    /// Where a patient point falls on screen (physical pixels from the top left).
    pub fn pixel_of(self, lps: DVec3) -> (f64, f64) {
        let offset = lps - self.origin;
        (
            offset.dot(self.right) / self.mm_per_pixel,
            offset.dot(self.down) / self.mm_per_pixel,
        )
    }
}

/// A slice's geometry where it is drawn: egui points ↔ patient coordinates.
#[derive(Debug, Clone, Copy)]
pub(super) struct OnScreen {
    /// Where the slice is drawn (egui points).
    pub rect: egui::Rect,
    /// Physical pixels per egui point.
    pub pixels_per_point: f64,
    /// Its geometry in physical pixels.
    pub geometry: SliceGeometry,
}

impl OnScreen {
    /// The patient point under a pointer position.
    pub fn lps_at(&self, pos: egui::Pos2) -> DVec3 {
        self.geometry.lps_at(
            f64::from(pos.x - self.rect.min.x) * self.pixels_per_point,
            f64::from(pos.y - self.rect.min.y) * self.pixels_per_point,
        )
    }

    /// Where a patient point shows.
    pub fn screen_of(&self, lps: DVec3) -> egui::Pos2 {
        let (x, y) = self.geometry.pixel_of(lps);
        egui::pos2(
            self.rect.min.x + (x / self.pixels_per_point) as f32,
            self.rect.min.y + (y / self.pixels_per_point) as f32,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use render_core::view::MprOrientation;

    #[test]
    fn pixels_and_patient_points_round_trip_through_the_slice_geometry() {
        let volume = render_core::phantom::ct_phantom();
        let plane = MprPlane::through_centre(&volume, MprOrientation::Coronal);
        let geometry = SliceGeometry::of(&plane, &volume, [400, 300]);
        let centre = geometry.lps_at(200.0, 150.0);
        assert!(centre.distance(volume.centre_lps()) < 1e-9, "{centre}");
        let point = geometry.lps_at(37.0, 211.0);
        let (x, y) = geometry.pixel_of(point);
        assert!((x - 37.0).abs() < 1e-9 && (y - 211.0).abs() < 1e-9);
        // Screen right on a coronal slice is the patient's left.
        let right_of_centre = geometry.lps_at(300.0, 150.0);
        assert!(right_of_centre.x > centre.x);
    }
}
