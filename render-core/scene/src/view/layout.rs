//! How a frame or a window is divided into views: the 3D view alone, or two by two (3D top
//! left, axial top right, coronal bottom left, sagittal bottom right), and where the
//! cells of the 2×2 layout lie and which patient point each spot of a slice cell shows.
//! The server stitches its frames by this geometry and the thin clients map the pointer
//! with it, so both agree to the pixel.

use glam::DVec3;

use super::mpr::{MprPlane, SlicePlane};
use super::slice_frame::SliceFrame;
use hounsfield_volume::Volume;

/// How a frame is divided into views: the shared vocabulary's, given its geometry here.
pub use hounsfield_vocabulary::Layout;

/// A rectangle of a frame, in pixels from the frame's top-left corner.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cell {
    /// Left edge.
    pub x: u32,
    /// Top edge.
    pub y: u32,
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
}

/// The four cells of the 2×2 layout of a `size` frame, in the order 3D, axial, coronal,
/// sagittal. They tile the frame: of an odd side, the left column and the top row get
/// the smaller half.
pub fn quad_cells(size: [u32; 2]) -> [Cell; 4] {
    let [width, height] = size;
    let (left, top) = (width / 2, height / 2);
    let (right, bottom) = (width - left, height - top);
    let cell = |x, y, width, height| Cell {
        x,
        y,
        width,
        height,
    };
    [
        cell(0, 0, left, top),
        cell(left, 0, right, top),
        cell(0, top, left, bottom),
        cell(left, top, right, bottom),
    ]
}

/// The size every cell of a `size` frame is rendered at: the larger halves, so that one
/// render target serves all four; a smaller cell shows the top-left part of its render.
pub fn cell_render_size(size: [u32; 2]) -> [u32; 2] {
    size.map(|side| side.div_ceil(2).max(1))
}

/// The index of `plane`'s cell in [`quad_cells`].
pub fn cell_index(plane: SlicePlane) -> usize {
    match plane {
        SlicePlane::Axial => 1,
        SlicePlane::Coronal => 2,
        SlicePlane::Sagittal => 3,
    }
}

/// The slice `plane`'s cell of the 2×2 layout shows, its planes turned as `frame` says,
/// through `crosshair_lps`.
pub fn cell_slice(
    volume: &Volume,
    frame: &SliceFrame,
    plane: SlicePlane,
    crosshair_lps: DVec3,
) -> MprPlane {
    MprPlane::through(volume, frame.orientation(plane), crosshair_lps)
}

/// The patient point (LPS, mm) at fractions `x`, `y` (0..=1, from the top left) of
/// `plane`'s cell in a 2×2 frame of `size`, the slice (of `frame`) passing through
/// `crosshair_lps`.
pub fn lps_in_cell(
    volume: &Volume,
    frame: &SliceFrame,
    plane: SlicePlane,
    crosshair_lps: DVec3,
    size: [u32; 2],
    [x, y]: [f64; 2],
) -> DVec3 {
    let cell = quad_cells(size)[cell_index(plane)];
    let render = cell_render_size(size);
    let slice = cell_slice(volume, frame, plane, crosshair_lps);
    let mm_per_pixel = slice.mm_per_pixel(volume, render);
    let (right, down) = slice.orientation.right_and_down();
    let from_centre_x = x * f64::from(cell.width) - f64::from(render[0]) * 0.5;
    let from_centre_y = y * f64::from(cell.height) - f64::from(render[1]) * 0.5;
    slice.centre_lps + (right * from_centre_x + down * from_centre_y) * mm_per_pixel
}

/// Where `point_lps` shows in `plane`'s cell of a 2×2 frame of `size`, the slice (of
/// `frame`) passing through `crosshair_lps`: fractions of the cell's width and height from its top left
/// (inside the cell within 0..=1). The inverse of [`lps_in_cell`] within the slice's plane.
pub fn spot_in_cell(
    volume: &Volume,
    frame: &SliceFrame,
    plane: SlicePlane,
    crosshair_lps: DVec3,
    size: [u32; 2],
    point_lps: DVec3,
) -> [f64; 2] {
    let cell = quad_cells(size)[cell_index(plane)];
    let render = cell_render_size(size);
    let slice = cell_slice(volume, frame, plane, crosshair_lps);
    let mm_per_pixel = slice.mm_per_pixel(volume, render);
    let (right, down) = slice.orientation.right_and_down();
    let offset = (point_lps - slice.centre_lps) / mm_per_pixel;
    let from_left = offset.dot(right) + f64::from(render[0]) * 0.5;
    let from_top = offset.dot(down) + f64::from(render[1]) * 0.5;
    [
        from_left / f64::from(cell.width.max(1)),
        from_top / f64::from(cell.height.max(1)),
    ]
}

/// `point` moved into the volume (between its outermost voxel centres), along the voxel
/// grid's axes.
pub fn clamp_to_volume(volume: &Volume, point: DVec3) -> DVec3 {
    let ijk = volume.lps_to_voxel(point);
    let last = |n: usize| volume.dims[n].saturating_sub(1) as f64;
    let clamped = DVec3::new(
        ijk.x.clamp(0.0, last(0)),
        ijk.y.clamp(0.0, last(1)),
        ijk.z.clamp(0.0, last(2)),
    );
    volume.voxel_to_lps_point(clamped)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::view::mpr::PlaneGeometry;

    #[test]
    fn the_cells_tile_even_and_odd_frames() {
        for size in [[256, 192], [257, 193], [17, 16]] {
            let cells = quad_cells(size);
            let area: u32 = cells.iter().map(|c| c.width * c.height).sum();
            assert_eq!(area, size[0] * size[1], "{size:?}");
            assert_eq!(cells[0].x + cells[0].width, cells[1].x);
            assert_eq!(cells[0].y + cells[0].height, cells[2].y);
            assert_eq!(cells[3].x + cells[3].width, size[0]);
            assert_eq!(cells[3].y + cells[3].height, size[1]);
            let render = cell_render_size(size);
            assert!(
                cells
                    .iter()
                    .all(|c| c.width <= render[0] && c.height <= render[1])
            );
        }
        assert_eq!(quad_cells([257, 193])[0].width, 128);
        assert_eq!(quad_cells([257, 193])[1].width, 129);
    }

    #[test]
    fn the_middle_of_a_cell_is_on_the_slice_through_the_crosshair() {
        let volume = hounsfield_volume::phantom::ct_phantom();
        let frame = SliceFrame::STANDARD;
        let crosshair = volume.centre_lps() + DVec3::new(10.0, -20.0, 30.0);
        for plane in SlicePlane::ALL {
            let size = [256, 192];
            let point = lps_in_cell(&volume, &frame, plane, crosshair, size, [0.5, 0.5]);
            let normal = plane.normal();
            assert!(
                ((point - crosshair).dot(normal)).abs() < 1e-9,
                "{plane:?}: the point lies in the slice"
            );
            let centre = volume.centre_lps();
            let in_plane = (point - centre) - normal * (point - centre).dot(normal);
            assert!(in_plane.length() < 1e-9, "{plane:?}: the cell's middle");
            let right = lps_in_cell(&volume, &frame, plane, crosshair, size, [0.9, 0.5]);
            let (screen_right, _) = plane.orientation().right_and_down();
            assert!((right - point).dot(screen_right) > 0.0, "{plane:?}");
        }
    }

    #[test]
    fn a_spot_found_in_a_cell_is_the_spot_a_click_there_picks() {
        let volume = hounsfield_volume::phantom::ct_phantom();
        let crosshair = volume.centre_lps() + DVec3::new(10.0, -20.0, 30.0);
        let turned = SliceFrame::STANDARD
            .turned(SlicePlane::Axial, 25.0)
            .and_then(|frame| frame.turned(SlicePlane::Coronal, -15.0))
            .expect("a double oblique frame");
        for (size, frame) in [
            ([256, 192], SliceFrame::STANDARD),
            ([257, 193], SliceFrame::STANDARD),
            ([256, 192], turned),
        ] {
            for plane in SlicePlane::ALL {
                for [x, y] in [[0.5, 0.5], [0.2, 0.7], [0.9, 0.1]] {
                    let point = lps_in_cell(&volume, &frame, plane, crosshair, size, [x, y]);
                    let [found_x, found_y] =
                        spot_in_cell(&volume, &frame, plane, crosshair, size, point);
                    let normal = frame.normal(plane);
                    assert!((point - crosshair).dot(normal).abs() < 1e-9, "in the slice");
                    assert!(
                        (found_x - x).abs() < 1e-9 && (found_y - y).abs() < 1e-9,
                        "{plane:?} {size:?}: ({x}, {y}) came back as ({found_x}, {found_y})"
                    );
                }
            }
        }
    }

    #[test]
    fn points_outside_are_clamped_into_the_volume() {
        let volume = hounsfield_volume::phantom::ct_phantom();
        let inside = volume.centre_lps();
        assert!(clamp_to_volume(&volume, inside).distance(inside) < 1e-9);
        let far = inside + DVec3::new(0.0, 0.0, 1.0e4);
        let clamped = clamp_to_volume(&volume, far);
        let ijk = volume.lps_to_voxel(clamped);
        assert!(ijk.z <= volume.dims[2] as f64 - 1.0 + 1e-9 && ijk.z >= -1e-9);
        assert!((clamped.x - inside.x).abs() < 1e-9);
    }
}
