//! The 3D camera, in patient coordinates (LPS, millimetres).
//!
//! Named views follow radiology convention: seen from anterior, the patient's left is on
//! the screen's right and superior is up, as if facing the patient; seen from inferior,
//! the patient's left is on the right and anterior up, as axial images are read.

use hounsfield_volume::Volume;

/// The camera, its named views and projections: the shared vocabulary's, one type for the
/// render core and the wire.
pub use hounsfield_vocabulary::{Camera, NamedView, Projection};

/// A camera looking at the volume's centre from `view`, the whole volume in sight.
pub fn looking_at(volume: &Volume, view: NamedView) -> Camera {
    let corners = volume.corner_centres_lps();
    let centre = volume.centre_lps();
    // The bounding sphere of the voxel *boxes*, not only their centres.
    let half_voxel = volume.spacing_mm.iter().fold(0.0_f64, |a, &s| a.max(s)) * 0.5;
    let radius = corners
        .iter()
        .map(|c| c.distance(centre))
        .fold(0.0_f64, f64::max)
        + half_voxel * 3f64.sqrt();
    let (direction, up) = view.direction_and_up();
    let view_angle_deg = Camera::DEFAULT_VIEW_ANGLE_DEG;
    let distance_mm = radius / (view_angle_deg.to_radians() * 0.5).sin();
    Camera {
        focal_point: centre,
        direction,
        up,
        distance_mm,
        scene_radius_mm: radius.max(1e-3),
        zoom: 1.0,
        view_angle_deg,
        projection: Projection::Perspective,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use glam::{DVec3, DVec4};

    fn project(camera: &Camera, lps: DVec3) -> (f64, f64) {
        let clip = camera.view_projection(1.0) * DVec4::from((lps, 1.0));
        (clip.x / clip.w, clip.y / clip.w)
    }

    #[test]
    fn anterior_view_puts_the_patients_left_on_the_right_and_superior_up() {
        let camera = looking_at(
            &hounsfield_volume::phantom::ct_phantom(),
            NamedView::Anterior,
        );
        let f = camera.focal_point;
        let (left_x, _) = project(&camera, f + DVec3::X * 50.0);
        let (_, superior_y) = project(&camera, f + DVec3::Z * 50.0);
        assert!(left_x > 0.1, "patient's left projects to x = {left_x}");
        assert!(superior_y > 0.1, "superior projects to y = {superior_y}");
    }

    #[test]
    fn each_named_view_has_the_documented_screen_axes() {
        let volume = hounsfield_volume::phantom::ct_phantom();
        // (view, LPS direction expected on screen right, LPS direction expected up)
        let cases = [
            (NamedView::Anterior, DVec3::X, DVec3::Z),
            (NamedView::Posterior, DVec3::NEG_X, DVec3::Z),
            (NamedView::Left, DVec3::Y, DVec3::Z),
            (NamedView::Right, DVec3::NEG_Y, DVec3::Z),
            (NamedView::Superior, DVec3::NEG_X, DVec3::NEG_Y),
            (NamedView::Inferior, DVec3::X, DVec3::NEG_Y),
        ];
        for (view, screen_right, screen_up) in cases {
            let camera = looking_at(&volume, view);
            let f = camera.focal_point;
            let (x, y) = project(&camera, f + screen_right * 40.0);
            assert!(
                x > 0.1 && y.abs() < 1e-6,
                "{view:?}: right went to ({x}, {y})"
            );
            let (x, y) = project(&camera, f + screen_up * 40.0);
            assert!(y > 0.1 && x.abs() < 1e-6, "{view:?}: up went to ({x}, {y})");
        }
    }

    #[test]
    fn orbiting_by_ninety_degrees_turns_anterior_into_right_and_back() {
        let volume = hounsfield_volume::phantom::ct_phantom();
        let mut camera = looking_at(&volume, NamedView::Anterior);
        camera.orbit(90.0, 0.0);
        // Moving the camera to its right, from the front, brings it to the patient's left.
        assert!(
            camera.direction.distance(DVec3::NEG_X) < 1e-9,
            "{:?}",
            camera.direction
        );
        camera.orbit(-90.0, 0.0);
        assert!(camera.direction.distance(DVec3::Y) < 1e-9);
        camera.orbit(0.0, 90.0);
        assert!(
            camera.direction.distance(DVec3::NEG_Z) < 1e-9,
            "{:?}",
            camera.direction
        );
        assert!(camera.up.dot(camera.direction).abs() < 1e-9);
    }

    #[test]
    fn the_whole_volume_fits_in_the_view_at_zoom_one() {
        let volume = hounsfield_volume::phantom::ct_phantom();
        for view in NamedView::ALL {
            let camera = looking_at(&volume, view);
            for corner in volume.corner_centres_lps() {
                let (x, y) = project(&camera, corner);
                assert!(
                    x.abs() <= 1.0 && y.abs() <= 1.0,
                    "{view:?}: corner at ({x}, {y})"
                );
            }
        }
    }

    #[test]
    fn pan_and_zoom_move_and_magnify() {
        let volume = hounsfield_volume::phantom::ct_phantom();
        let mut camera = looking_at(&volume, NamedView::Anterior);
        let before = camera.focal_point;
        camera.pan(0.5, 0.0);
        assert!((camera.focal_point - before).x > 0.0);
        let height = camera.view_height_mm_at_focus();
        camera.zoom_by(2.0);
        assert!((camera.view_height_mm_at_focus() - height / 2.0).abs() < height * 0.02);
        camera.zoom_by(f64::NAN);
        assert_eq!(camera.zoom, 2.0);
    }
}
