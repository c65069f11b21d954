//! What `render --json` prints: the picture written and, for a reformat, the plane drawn
//! with the matrix taking its pixels to LPS millimetres.

use glam::DVec3;
use render_core::Volume;
use render_core::view::{MprOrientation, MprPlane};
use serde::Serialize;

use crate::cli::RenderArgs;

/// What `render --json` prints.
#[derive(Debug, Serialize)]
pub(super) struct Drawn {
    /// The PNG written.
    pub(super) out: String,
    pub(super) width: u32,
    pub(super) height: u32,
    /// The series drawn.
    pub(super) source: String,
    /// The GPU adapter that drew it.
    pub(super) adapter: String,
    /// The grey window `[width, center]` the slices and projections were shown with.
    pub(super) window: Option<[f64; 2]>,
    /// The reformatted plane, when `--mpr` drew one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) mpr: Option<DrawnPlane>,
    /// The curved reformat, when `--cpr` drew one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) cpr: Option<DrawnPath>,
}

/// A curved reformat as `render --json` reports it.
#[derive(Debug, Serialize)]
pub(super) struct DrawnPath {
    /// The points the path was given (LPS, mm).
    pub(super) points: Vec<[f64; 3]>,
    /// The length along the path (mm): the picture's height.
    pub(super) path_length_mm: f64,
    /// The side of a pixel (mm), down the path and across it alike.
    pub(super) mm_per_pixel: f64,
    /// The turn of the cut about the path (degrees).
    pub(super) angle_deg: f64,
}

/// A reformatted plane as `render --json` reports it (LPS, mm).
#[derive(Debug, Serialize)]
pub(super) struct DrawnPlane {
    /// `axial`, `coronal`, `sagittal` or `oblique`.
    pub(super) plane: &'static str,
    /// The unit normal asked for (`--normal`, normalised), or the standard plane's.
    pub(super) normal: [f64; 3],
    /// The unit direction towards the picture's right.
    pub(super) right: [f64; 3],
    /// The unit direction towards the picture's top.
    pub(super) up: [f64; 3],
    /// The point at the picture's centre.
    pub(super) centre_lps: [f64; 3],
    pub(super) mm_per_pixel: f64,
    pub(super) slab_mm: f64,
    pub(super) slab_mode: &'static str,
    /// Rows of the 4×4 matrix taking a pixel centre `(x, y, 0, 1)` to LPS mm.
    pub(super) pixel_to_lps: [[f64; 4]; 4],
}

impl DrawnPlane {
    /// The report of `plane`, drawn at `size` from `args`.
    pub(super) fn of(volume: &Volume, plane: &MprPlane, args: &RenderArgs, size: [u32; 2]) -> Self {
        let (right, down) = plane.orientation.right_and_down();
        let normal = match (plane.orientation, args.normal) {
            (_, Some(asked)) => DVec3::from(asked).normalize(),
            (orientation, None) => orientation.normal(),
        };
        let matrix = plane.pixel_to_lps(volume, size).transpose();
        Self {
            plane: match (plane.orientation, args.normal) {
                (_, Some(_)) | (MprOrientation::Oblique { .. }, None) => "oblique",
                (MprOrientation::Axial, None) => "axial",
                (MprOrientation::Coronal, None) => "coronal",
                (MprOrientation::Sagittal, None) => "sagittal",
            },
            normal: normal.to_array(),
            right: right.to_array(),
            // Plus zero: a component of -0 prints as 0.
            up: (DVec3::ZERO - down).to_array(),
            centre_lps: plane.centre_lps.to_array(),
            mm_per_pixel: plane.mm_per_pixel(volume, size),
            slab_mm: plane.slab_mm,
            slab_mode: plane.slab_mode.name(),
            pixel_to_lps: [0, 1, 2, 3].map(|row| matrix.col(row).to_array()),
        }
    }
}
