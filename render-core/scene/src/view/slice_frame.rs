//! The three slice planes of the 2×2 layout, turned together about the crosshair: the
//! standard planes at first, then oblique and double oblique as the user drags a plane's
//! line in another cell. The planes stay at right angles to one another; each cell shows
//! its plane the way its standard plane is shown (the same side up as far as the turn
//! allows), and a turn about one plane's normal leaves that plane's own picture as it was.

use glam::{DQuat, DVec3};
use serde::{Deserialize, Serialize};

use super::mpr::{MprOrientation, PlaneGeometry, SlicePlane};

/// The largest turn one change may make (degrees).
pub const MAX_TURN_DEG: f64 = 360.0;
/// How far from unit length a rotation taken from a client may be before it is refused.
const UNIT_SLACK: f64 = 1e-3;

/// The slice planes' common rotation from the standard planes (LPS).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SliceFrame {
    /// Applied to the standard planes' normals and screen directions.
    pub rotation: DQuat,
}

impl Default for SliceFrame {
    fn default() -> Self {
        Self::STANDARD
    }
}

impl SliceFrame {
    /// The standard axial, coronal and sagittal planes.
    pub const STANDARD: Self = Self {
        rotation: DQuat::IDENTITY,
    };

    /// Whether the planes are the standard ones.
    pub fn is_standard(&self) -> bool {
        self.rotation.abs_diff_eq(DQuat::IDENTITY, 1e-12)
            || self.rotation.abs_diff_eq(-DQuat::IDENTITY, 1e-12)
    }

    /// The frame of a rotation as it travels (`[x, y, z, w]`, a unit quaternion); the
    /// error names what is wrong with it.
    pub fn from_quaternion(xyzw: [f64; 4]) -> Result<Self, String> {
        let rotation = DQuat::from_array(xyzw);
        let length = rotation.length();
        if !rotation.is_finite() || (length - 1.0).abs() > UNIT_SLACK {
            return Err(format!(
                "slice_rotation {xyzw:?}: a unit quaternion [x, y, z, w] is needed"
            ));
        }
        Ok(Self {
            rotation: rotation / length,
        })
    }

    /// The rotation as it travels, `None` for the standard planes.
    pub fn quaternion(&self) -> Option<[f64; 4]> {
        (!self.is_standard()).then(|| self.rotation.to_array())
    }

    /// The unit normal of `plane` (LPS, pointing away from the viewer of its cell).
    pub fn normal(&self, plane: SlicePlane) -> DVec3 {
        self.rotation * plane.normal()
    }

    /// How `plane`'s cell shows it: its turned normal, the standard plane's top projected
    /// onto it (the turned top where that projection vanishes), right from the two.
    /// The standard frame gives the standard orientations exactly.
    pub fn orientation(&self, plane: SlicePlane) -> MprOrientation {
        if self.is_standard() {
            return plane.orientation();
        }
        let standard = plane.orientation();
        let (_, standard_down) = standard.right_and_down();
        let away = self.normal(plane);
        let standard_up = -standard_down;
        let projected = standard_up - away * standard_up.dot(away);
        let up = if projected.length() > 1e-3 {
            projected.normalize()
        } else {
            let turned = self.rotation * standard_up;
            (turned - away * turned.dot(away)).normalize_or(turned)
        };
        let right = (-up).cross(away).normalize();
        MprOrientation::Oblique { right, up }
    }

    /// The frame turned `degrees` about `plane`'s normal (counter-clockwise as its cell
    /// shows it): the other two planes turn about the crosshair, `plane` stays. The error
    /// names a turn that is not finite or over [`MAX_TURN_DEG`].
    pub fn turned(&self, plane: SlicePlane, degrees: f64) -> Result<Self, String> {
        if !degrees.is_finite() || degrees.abs() > MAX_TURN_DEG {
            return Err(format!(
                "degrees {degrees}: from -{MAX_TURN_DEG} to {MAX_TURN_DEG}"
            ));
        }
        // The normal points away from the viewer: a turn about it that looks
        // counter-clockwise on the screen is a negative angle.
        let turn = DQuat::from_axis_angle(self.normal(plane), -degrees.to_radians());
        Ok(Self {
            rotation: (turn * self.rotation).normalize(),
        })
    }

    /// The direction (`[x, y]`, x right and y down, unit length) along which `other`'s
    /// plane crosses `cell`'s cell: the line drawn through the crosshair there.
    pub fn line_in_cell(&self, cell: SlicePlane, other: SlicePlane) -> [f64; 2] {
        let (right, down) = self.orientation(cell).right_and_down();
        let along = self.normal(cell).cross(self.normal(other));
        let (x, y) = (along.dot(right), along.dot(down));
        let length = x.hypot(y).max(1e-12);
        [x / length, y / length]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_standard_frame_shows_the_standard_planes_with_level_and_upright_lines() {
        let frame = SliceFrame::STANDARD;
        for plane in SlicePlane::ALL {
            assert_eq!(frame.orientation(plane), plane.orientation());
        }
        // In the axial cell the coronal plane is a level line, the sagittal one upright.
        let [x, y] = frame.line_in_cell(SlicePlane::Axial, SlicePlane::Coronal);
        assert!(x.abs() > 0.999 && y.abs() < 1e-9);
        let [x, y] = frame.line_in_cell(SlicePlane::Axial, SlicePlane::Sagittal);
        assert!(x.abs() < 1e-9 && y.abs() > 0.999);
        assert_eq!(frame.quaternion(), None);
    }

    #[test]
    fn a_turn_in_the_axial_cell_tilts_the_other_planes_and_leaves_the_axial_picture() {
        let frame = SliceFrame::STANDARD
            .turned(SlicePlane::Axial, 20.0)
            .expect("a turn");
        let (right, down) = frame.orientation(SlicePlane::Axial).right_and_down();
        assert!(right.distance(DVec3::X) < 1e-9 && down.distance(DVec3::Y) < 1e-9);
        // The coronal line in the axial cell turned 20° counter-clockwise on the screen.
        let [x, y] = frame.line_in_cell(SlicePlane::Axial, SlicePlane::Coronal);
        let (x, y) = if x < 0.0 { (-x, -y) } else { (x, y) };
        let rising = (-y).atan2(x).to_degrees();
        assert!((rising - 20.0).abs() < 1e-9, "{rising}° up to the right");
        // The coronal plane keeps superior up, and its normal stays level.
        let (_, coronal_down) = frame.orientation(SlicePlane::Coronal).right_and_down();
        assert!(coronal_down.distance(DVec3::NEG_Z) < 1e-9);
        assert!(frame.normal(SlicePlane::Coronal).z.abs() < 1e-12);
        // The planes stay at right angles.
        let normals = SlicePlane::ALL.map(|plane| frame.normal(plane));
        assert!(normals[0].dot(normals[1]).abs() < 1e-12);
        assert!(normals[1].dot(normals[2]).abs() < 1e-12);
        // Turning back gives the standard frame again.
        let back = frame.turned(SlicePlane::Axial, -20.0).expect("a turn");
        assert!(back.is_standard(), "{back:?}");
    }

    #[test]
    fn rotations_from_clients_and_turns_are_checked() {
        assert!(SliceFrame::from_quaternion([0.0, 0.0, 0.0, 1.0]).is_ok());
        let far = SliceFrame::from_quaternion([0.0, 0.0, 0.0, 2.0]).expect_err("not unit");
        assert!(far.contains("slice_rotation"), "{far}");
        assert!(SliceFrame::from_quaternion([f64::NAN, 0.0, 0.0, 1.0]).is_err());
        let turn = SliceFrame::STANDARD.turned(SlicePlane::Coronal, 1e9);
        assert!(turn.expect_err("too far").contains("degrees"));
        let frame = SliceFrame::STANDARD
            .turned(SlicePlane::Sagittal, 30.0)
            .expect("a turn");
        let travelled = frame.quaternion().expect("not standard");
        assert_eq!(SliceFrame::from_quaternion(travelled), Ok(frame));
    }
}
