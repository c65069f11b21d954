//! The 3D camera, in patient coordinates (LPS, millimetres): one type for the render core,
//! which draws with it, and the wire, which carries it in a shared view.
//!
//! Named views follow radiology convention: seen from anterior, the patient's left is on
//! the screen's right and superior is up, as if facing the patient; seen from inferior,
//! the patient's left is on the right and anterior up, as axial images are read.

use glam::dcamera::rh::{proj::directx, view::look_at_mat4};
use glam::{DMat4, DQuat, DVec3};
use serde::{Deserialize, Serialize};

use crate::Projection;

/// A view named after the side of the patient the camera looks from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NamedView {
    /// From the front: patient's left on the screen's right, superior up.
    Anterior,
    /// From behind: patient's right on the screen's right, superior up.
    Posterior,
    /// From the patient's left side: anterior on the screen's left, superior up.
    Left,
    /// From the patient's right side: anterior on the screen's right, superior up.
    Right,
    /// From above the head: patient's right on the screen's right, anterior up.
    Superior,
    /// From the feet: patient's left on the screen's right, anterior up (as axial images).
    Inferior,
}

impl NamedView {
    /// Every named view, in menu order.
    pub const ALL: [NamedView; 6] = [
        NamedView::Anterior,
        NamedView::Posterior,
        NamedView::Left,
        NamedView::Right,
        NamedView::Superior,
        NamedView::Inferior,
    ];

    /// The view's name, as the CLI and the protocol spell it.
    pub fn name(&self) -> &'static str {
        match self {
            NamedView::Anterior => "anterior",
            NamedView::Posterior => "posterior",
            NamedView::Left => "left",
            NamedView::Right => "right",
            NamedView::Superior => "superior",
            NamedView::Inferior => "inferior",
        }
    }

    /// Parses a view name (`anterior`, `posterior`, `left`, `right`, `superior`, `inferior`).
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|view| view.name().eq_ignore_ascii_case(name.trim()))
    }

    /// The viewing direction (from the camera towards the patient) and the screen's up, in LPS.
    pub fn direction_and_up(&self) -> (DVec3, DVec3) {
        match self {
            NamedView::Anterior => (DVec3::Y, DVec3::Z),
            NamedView::Posterior => (DVec3::NEG_Y, DVec3::Z),
            NamedView::Left => (DVec3::NEG_X, DVec3::Z),
            NamedView::Right => (DVec3::X, DVec3::Z),
            NamedView::Superior => (DVec3::NEG_Z, DVec3::NEG_Y),
            NamedView::Inferior => (DVec3::Z, DVec3::NEG_Y),
        }
    }
}

/// A camera orbiting a focal point in the patient.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Camera {
    /// The point looked at and orbited around (LPS, mm).
    pub focal_point: DVec3,
    /// Unit vector from the camera towards the focal point (LPS).
    pub direction: DVec3,
    /// Unit vector pointing up on the screen, orthogonal to `direction` (LPS).
    pub up: DVec3,
    /// Distance from the camera to the focal point (mm).
    pub distance_mm: f64,
    /// Radius (mm) of a sphere around the focal point that holds the whole volume.
    pub scene_radius_mm: f64,
    /// Magnification: 1 fits the volume in the view's height.
    pub zoom: f64,
    /// Vertical view angle at zoom 1 (degrees), for perspective projection.
    pub view_angle_deg: f64,
    /// Perspective or orthographic.
    pub projection: Projection,
}

impl Camera {
    /// VTK's default view angle, so views compare with VTK-based tools.
    pub const DEFAULT_VIEW_ANGLE_DEG: f64 = 30.0;
    /// The least magnification: the volume a twentieth of the view's height.
    pub const MIN_ZOOM: f64 = 0.05;
    /// The greatest magnification.
    pub const MAX_ZOOM: f64 = 50.0;

    /// Turns to a named view, keeping focal point, distance and zoom.
    pub fn set_view(&mut self, view: NamedView) {
        (self.direction, self.up) = view.direction_and_up();
    }

    /// The unit vector pointing right on the screen (LPS).
    pub fn right(&self) -> DVec3 {
        self.direction.cross(self.up).normalize_or_zero()
    }

    /// The camera's position (LPS, mm).
    pub fn eye(&self) -> DVec3 {
        self.focal_point - self.direction * self.distance_mm
    }

    /// Rotates the camera around the focal point: `azimuth_deg` about the screen's up axis
    /// (positive moves the camera to its right, as VTK's Azimuth), `elevation_deg` about the
    /// screen's right axis (positive moves the camera up).
    pub fn orbit(&mut self, azimuth_deg: f64, elevation_deg: f64) {
        let azimuth = DQuat::from_axis_angle(self.up, azimuth_deg.to_radians());
        self.direction = azimuth * self.direction;
        let right = self.right();
        let elevation = DQuat::from_axis_angle(right, -elevation_deg.to_radians());
        self.direction = (elevation * self.direction).normalize();
        self.up = (elevation * self.up).normalize();
        self.orthonormalise();
    }

    /// Rolls the view around the viewing direction (degrees, clockwise on screen).
    pub fn roll(&mut self, degrees: f64) {
        let roll = DQuat::from_axis_angle(self.direction, degrees.to_radians());
        self.up = (roll * self.up).normalize();
        self.orthonormalise();
    }

    /// Moves the focal point across the screen by a fraction of the view's height
    /// (`dx` right, `dy` up).
    pub fn pan(&mut self, dx: f64, dy: f64) {
        let height_mm = self.view_height_mm_at_focus();
        self.focal_point += (self.right() * dx + self.up * dy) * height_mm;
    }

    /// Multiplies the magnification by `factor` (above 1 zooms in), kept within
    /// [`Self::MIN_ZOOM`]–[`Self::MAX_ZOOM`].
    pub fn zoom_by(&mut self, factor: f64) {
        if factor.is_finite() && factor > 0.0 {
            self.zoom = (self.zoom * factor).clamp(Self::MIN_ZOOM, Self::MAX_ZOOM);
        }
    }

    /// The height of the view at the focal point's depth (mm).
    pub fn view_height_mm_at_focus(&self) -> f64 {
        match self.projection {
            Projection::Perspective => 2.0 * self.distance_mm * (self.view_angle_rad() * 0.5).tan(),
            Projection::Orthographic => 2.0 * self.scene_radius_mm / self.zoom,
        }
    }

    /// World (LPS) → view transform.
    pub fn view_matrix(&self) -> DMat4 {
        look_at_mat4(self.eye(), self.focal_point, self.up)
    }

    /// View → clip transform for a viewport of `aspect` = width / height (depth 0..1).
    pub fn projection_matrix(&self, aspect: f64) -> DMat4 {
        let margin = self.scene_radius_mm * 1.05;
        let far = self.distance_mm + margin;
        match self.projection {
            Projection::Perspective => {
                let near = (self.distance_mm - margin).max(self.distance_mm * 1e-3);
                directx::perspective(self.view_angle_rad(), aspect, near, far)
            }
            Projection::Orthographic => {
                let half_height = self.scene_radius_mm / self.zoom;
                let half_width = half_height * aspect;
                let near = self.distance_mm - margin;
                directx::orthographic(
                    -half_width,
                    half_width,
                    -half_height,
                    half_height,
                    near,
                    far,
                )
            }
        }
    }

    /// World (LPS) → clip transform.
    pub fn view_projection(&self, aspect: f64) -> DMat4 {
        self.projection_matrix(aspect) * self.view_matrix()
    }

    fn view_angle_rad(&self) -> f64 {
        // Zooming narrows the view angle, as VTK's Zoom does.
        let half = (self.view_angle_deg.to_radians() * 0.5).tan() / self.zoom;
        2.0 * half.atan()
    }

    fn orthonormalise(&mut self) {
        self.direction = self.direction.normalize();
        let right = self.direction.cross(self.up).normalize_or_zero();
        if right != DVec3::ZERO {
            self.up = right.cross(self.direction).normalize();
        }
    }
}
