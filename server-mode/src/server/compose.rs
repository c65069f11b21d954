//! The 2×2 layout in one frame: where its cells lie (3D top left, axial top right, coronal
//! bottom left, sagittal bottom right), the slices through the crosshair, the patient point
//! under a spot of a cell, and the four cells rendered and stitched into the one image a
//! session streams. The last full-quality 3D cell is kept, so that scrolling through the
//! slices redraws only them (and the 3D cell stays sharp while they move).

use std::sync::{Arc, Weak};

use glam::DVec3;
use render_core::Volume;
use render_core::gpu::{FrameImage, RenderError, Renderer};
use render_core::view::{MprPlane, Quality, ViewState};

use crate::protocol::{CrosshairInCells, Layout, SlicePlane};

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
    [
        Cell {
            x: 0,
            y: 0,
            width: left,
            height: top,
        },
        Cell {
            x: left,
            y: 0,
            width: right,
            height: top,
        },
        Cell {
            x: 0,
            y: top,
            width: left,
            height: bottom,
        },
        Cell {
            x: left,
            y: top,
            width: right,
            height: bottom,
        },
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

/// The slice of `plane` through `crosshair_lps`, centred in-plane on the volume so that
/// its image stays put while the crosshair moves.
pub fn slice_through(volume: &Volume, plane: SlicePlane, crosshair_lps: DVec3) -> MprPlane {
    let orientation = plane.orientation();
    let mut slice = MprPlane::through_centre(volume, orientation);
    let normal = slice_normal(plane);
    slice.centre_lps += normal * (crosshair_lps - slice.centre_lps).dot(normal);
    slice
}

/// The unit normal of `plane` (LPS), screen right × screen down: towards S for axial, P
/// for coronal, R for sagittal.
pub fn slice_normal(plane: SlicePlane) -> DVec3 {
    let (right, down) = plane.orientation().right_and_down();
    right.cross(down).normalize()
}

/// The patient point (LPS, mm) at fractions `x`, `y` (0..=1, from the top left) of
/// `plane`'s cell in a 2×2 frame of `size`, the slice passing through `crosshair_lps`.
pub fn lps_in_cell(
    volume: &Volume,
    plane: SlicePlane,
    crosshair_lps: DVec3,
    size: [u32; 2],
    x: f64,
    y: f64,
) -> DVec3 {
    let cell = quad_cells(size)[cell_index(plane)];
    let render = cell_render_size(size);
    let slice = slice_through(volume, plane, crosshair_lps);
    let mm_per_pixel = slice.mm_per_pixel(volume, render);
    let (right, down) = plane.orientation().right_and_down();
    let from_centre_x = x * f64::from(cell.width) - f64::from(render[0]) * 0.5;
    let from_centre_y = y * f64::from(cell.height) - f64::from(render[1]) * 0.5;
    slice.centre_lps + (right * from_centre_x + down * from_centre_y) * mm_per_pixel
}

/// Where `point_lps` shows in `plane`'s cell of a 2×2 frame of `size`, the slice passing
/// through `crosshair_lps`: fractions of the cell's width and height from its top left
/// (inside the cell within 0..=1). The inverse of [`lps_in_cell`] within the slice's plane.
pub fn spot_in_cell(
    volume: &Volume,
    plane: SlicePlane,
    crosshair_lps: DVec3,
    size: [u32; 2],
    point_lps: DVec3,
) -> [f64; 2] {
    let cell = quad_cells(size)[cell_index(plane)];
    let render = cell_render_size(size);
    let slice = slice_through(volume, plane, crosshair_lps);
    let mm_per_pixel = slice.mm_per_pixel(volume, render);
    let (right, down) = plane.orientation().right_and_down();
    let offset = (point_lps - slice.centre_lps) / mm_per_pixel;
    let from_left = offset.dot(right) + f64::from(render[0]) * 0.5;
    let from_top = offset.dot(down) + f64::from(render[1]) * 0.5;
    [
        from_left / f64::from(cell.width.max(1)),
        from_top / f64::from(cell.height.max(1)),
    ]
}

/// Where the crosshair shows in each slice's cell of a 2×2 frame of `size`.
pub fn crosshair_in_cells(
    volume: &Volume,
    crosshair_lps: DVec3,
    size: [u32; 2],
) -> CrosshairInCells {
    let spot = |plane| spot_in_cell(volume, plane, crosshair_lps, size, crosshair_lps);
    CrosshairInCells {
        axial: spot(SlicePlane::Axial),
        coronal: spot(SlicePlane::Coronal),
        sagittal: spot(SlicePlane::Sagittal),
    }
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

/// The last full-quality 3D cell rendered, with what it shows.
#[derive(Default)]
pub struct ThreeDCell {
    last: Option<CachedCell>,
}

struct CachedCell {
    /// The volume it shows (not kept alive by the cache).
    volume: Weak<Volume>,
    /// Its view, at full quality.
    view: ViewState,
    size: [u32; 2],
    image: FrameImage,
}

impl ThreeDCell {
    /// The 3D cell of `view` on `volume` at `size`: the kept one when it shows the same
    /// view (at any quality asked: a full-quality image is as good), else a new render,
    /// kept when it is at full quality.
    fn render(
        &mut self,
        renderer: &mut Renderer,
        volume: &Arc<Volume>,
        view: &ViewState,
        size: [u32; 2],
    ) -> Result<FrameImage, RenderError> {
        let mut full = view.clone();
        full.quality = Quality::Full;
        if let Some(last) = &self.last
            && last.size == size
            && last.view == full
            && last
                .volume
                .upgrade()
                .is_some_and(|kept| Arc::ptr_eq(&kept, volume))
        {
            return Ok(last.image.clone());
        }
        let image = renderer.render_image(view, size)?;
        if view.quality == Quality::Full {
            self.last = Some(CachedCell {
                volume: Arc::downgrade(volume),
                view: full,
                size,
                image: image.clone(),
            });
        }
        Ok(image)
    }
}

/// Renders `view` (on the renderer's volume `volume`) at `size` as `layout` says: the 3D
/// view alone, or the 3D view and the three slices through `crosshair_lps` stitched into
/// one image. The slices use the view's grey window. With `three_d`, the 3D cell is
/// reused while its view stays the same (pass `None` for a renderer of another copy of
/// the volume, such as a preview's).
pub fn render_layout(
    renderer: &mut Renderer,
    volume: &Arc<Volume>,
    view: &ViewState,
    layout: Layout,
    crosshair_lps: DVec3,
    size: [u32; 2],
    three_d: Option<&mut ThreeDCell>,
) -> Result<FrameImage, RenderError> {
    match layout {
        Layout::Single => renderer.render_image(view, size),
        Layout::Quad => {
            let render_size = cell_render_size(size);
            let cells = quad_cells(size);
            let mut frame = FrameImage {
                width: size[0],
                height: size[1],
                rgba: vec![0; size[0] as usize * size[1] as usize * 4],
            };
            let three_d = match three_d {
                Some(cache) => cache.render(renderer, volume, view, render_size)?,
                None => renderer.render_image(view, render_size)?,
            };
            stitch(&mut frame, &three_d, cells[0]);
            for plane in SlicePlane::ALL {
                let mut slice_view = view.clone();
                slice_view.mpr = Some(slice_through(volume, plane, crosshair_lps));
                let image = renderer.render_image(&slice_view, render_size)?;
                stitch(&mut frame, &image, cells[cell_index(plane)]);
            }
            Ok(frame)
        }
    }
}

/// Copies the top-left `cell`-sized part of `image` into `cell` of `frame`.
fn stitch(frame: &mut FrameImage, image: &FrameImage, cell: Cell) {
    let width = cell.width.min(image.width) as usize * 4;
    let rows = cell.height.min(image.height) as usize;
    let frame_row = frame.width as usize * 4;
    let image_row = image.width as usize * 4;
    for row in 0..rows {
        let to = (cell.y as usize + row) * frame_row + cell.x as usize * 4;
        let from = row * image_row;
        if let (Some(target), Some(source)) = (
            frame.rgba.get_mut(to..to + width),
            image.rgba.get(from..from + width),
        ) {
            target.copy_from_slice(source);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let volume = render_core::phantom::ct_phantom();
        let crosshair = volume.centre_lps() + DVec3::new(10.0, -20.0, 30.0);
        for plane in SlicePlane::ALL {
            let size = [256, 192];
            let point = lps_in_cell(&volume, plane, crosshair, size, 0.5, 0.5);
            let normal = slice_normal(plane);
            assert!(
                ((point - crosshair).dot(normal)).abs() < 1e-9,
                "{plane:?}: the point lies in the slice"
            );
            let centre = volume.centre_lps();
            let in_plane = (point - centre) - normal * (point - centre).dot(normal);
            assert!(in_plane.length() < 1e-9, "{plane:?}: the cell's middle");
            let right = lps_in_cell(&volume, plane, crosshair, size, 0.9, 0.5);
            let (screen_right, _) = plane.orientation().right_and_down();
            assert!((right - point).dot(screen_right) > 0.0, "{plane:?}");
        }
    }

    #[test]
    fn a_spot_found_in_a_cell_is_the_spot_a_click_there_picks() {
        let volume = render_core::phantom::ct_phantom();
        let crosshair = volume.centre_lps() + DVec3::new(10.0, -20.0, 30.0);
        for size in [[256, 192], [257, 193]] {
            for plane in SlicePlane::ALL {
                for [x, y] in [[0.5, 0.5], [0.2, 0.7], [0.9, 0.1]] {
                    let point = lps_in_cell(&volume, plane, crosshair, size, x, y);
                    let [found_x, found_y] = spot_in_cell(&volume, plane, crosshair, size, point);
                    assert!(
                        (found_x - x).abs() < 1e-9 && (found_y - y).abs() < 1e-9,
                        "{plane:?} {size:?}: ({x}, {y}) came back as ({found_x}, {found_y})"
                    );
                }
            }
        }
        // The crosshair 10 mm towards L and 20 mm towards A of the centre: right of the
        // middle in the axial and coronal cells, above it in the axial cell, left of it in
        // the sagittal cell (A is on the left there); 30 mm towards S: above the middle in
        // the coronal and sagittal cells.
        let cells = crosshair_in_cells(&volume, crosshair, [256, 192]);
        assert!(cells.axial[0] > 0.5 && cells.axial[1] < 0.5, "{cells:?}");
        assert!(
            cells.coronal[0] > 0.5 && cells.coronal[1] < 0.5,
            "{cells:?}"
        );
        assert!(
            cells.sagittal[0] < 0.5 && cells.sagittal[1] < 0.5,
            "{cells:?}"
        );
        let centred = crosshair_in_cells(&volume, volume.centre_lps(), [256, 192]);
        for plane in SlicePlane::ALL {
            let [x, y] = centred.of(plane);
            assert!(
                (x - 0.5).abs() < 0.01 && (y - 0.5).abs() < 0.01,
                "{plane:?}: {x}, {y}"
            );
        }
    }

    #[test]
    fn points_outside_are_clamped_into_the_volume() {
        let volume = render_core::phantom::ct_phantom();
        let inside = volume.centre_lps();
        assert!(clamp_to_volume(&volume, inside).distance(inside) < 1e-9);
        let far = inside + DVec3::new(0.0, 0.0, 1.0e4);
        let clamped = clamp_to_volume(&volume, far);
        let ijk = volume.lps_to_voxel(clamped);
        assert!(ijk.z <= volume.dims[2] as f64 - 1.0 + 1e-9 && ijk.z >= -1e-9);
        assert!((clamped.x - inside.x).abs() < 1e-9);
    }

    #[test]
    fn the_kept_3d_cell_serves_frames_that_change_only_the_slices() {
        let context = render_core::gpu::GpuContext::headless().expect("a GPU adapter (lavapipe)");
        let mut renderer = Renderer::new(context, render_core::transfer::PresetLibrary::builtin());
        let volume = Arc::new(render_core::phantom::ct_phantom());
        renderer.load_volume(volume.clone());
        let view = ViewState::initial(
            &volume,
            "ct-bone",
            render_core::transfer::RenderMode::Composite,
        );
        let size = [96, 64];
        let crosshair = volume.centre_lps();
        let mut kept = ThreeDCell::default();
        let mut render = |view: &ViewState, crosshair: DVec3, cache: Option<&mut ThreeDCell>| {
            render_layout(
                &mut renderer,
                &volume,
                view,
                Layout::Quad,
                crosshair,
                size,
                cache,
            )
            .expect("renders")
        };
        let still = render(&view, crosshair, Some(&mut kept));
        let mut moving = view.clone();
        moving.quality = Quality::Interactive;
        let scrolled = crosshair + DVec3::new(0.0, 0.0, 30.0);
        let cached = render(&moving, scrolled, Some(&mut kept));
        let fresh = render(&moving, scrolled, None);
        let cells = quad_cells(size);
        let cell_pixels = |image: &FrameImage, cell: Cell| {
            let mut pixels = Vec::new();
            for y in cell.y..cell.y + cell.height {
                for x in cell.x..cell.x + cell.width {
                    pixels.push(image.pixel(x, y));
                }
            }
            pixels
        };
        assert_eq!(
            cell_pixels(&still, cells[0]),
            cell_pixels(&cached, cells[0]),
            "the full-quality 3D cell is reused"
        );
        assert_ne!(
            cell_pixels(&still, cells[0]),
            cell_pixels(&fresh, cells[0]),
            "an interactive 3D cell differs (so the test can tell)"
        );
        assert_eq!(
            cell_pixels(&cached, cells[1]),
            cell_pixels(&fresh, cells[1]),
            "the slices are drawn anew"
        );
        assert_ne!(
            cell_pixels(&still, cells[1]),
            cell_pixels(&cached, cells[1])
        );
        // Another view of the 3D cell is rendered, not taken from the cache.
        let mut turned = view.clone();
        turned.camera.orbit(90.0, 0.0);
        let other = render(&turned, scrolled, Some(&mut kept));
        assert_ne!(cell_pixels(&still, cells[0]), cell_pixels(&other, cells[0]));
    }

    #[test]
    fn stitching_copies_the_top_left_part_into_the_cell() {
        let mut frame = FrameImage {
            width: 5,
            height: 3,
            rgba: vec![0; 5 * 3 * 4],
        };
        let image = FrameImage {
            width: 3,
            height: 2,
            rgba: (0..24).collect(),
        };
        let cell = quad_cells([5, 3])[3];
        assert_eq!(
            cell,
            Cell {
                x: 2,
                y: 1,
                width: 3,
                height: 2
            }
        );
        stitch(&mut frame, &image, cell);
        assert_eq!(frame.pixel(2, 1), [0, 1, 2, 3]);
        assert_eq!(frame.pixel(4, 2), [20, 21, 22, 23]);
        assert_eq!(frame.pixel(1, 1), [0, 0, 0, 0]);
    }
}
