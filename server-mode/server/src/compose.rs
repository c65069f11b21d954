//! The 2×2 layout in one frame: the four cells (their geometry is the render core's
//! [`render_core::view::layout`]) rendered and stitched into the one image a session
//! streams, the series' segments painted over each slice cell (a coloured fill and
//! outline), and where the crosshair shows in each slice's cell. The cells of the last
//! frames are kept ([`KeptCells`]): scrolling through the slices redraws only them, and a
//! brush stroke only the slices it changed.

use std::sync::{Arc, Weak};

use glam::DVec3;
use render_core::Volume;
use render_core::fusion::SeriesOver;
use render_core::gpu::{FrameImage, MOST_LABELS, RenderError, Renderer, SegmentLabels};
use render_core::view::layout::{
    cell_index, cell_render_size, cell_slice, quad_cells, spot_in_cell,
};
use render_core::view::{Cell, MprPlane, Quality, SliceFrame, ViewState};

use hounsfield_findings::naming::LesionMasks;
use hounsfield_protocol::{
    CellAxes, CrosshairInCells, Layout, SlicePlane, SlicePlanesInCells, SliceScales,
};
use hounsfield_segment::Mask;

/// A segment as the slice cells show it: its voxels, its colour and its fill's opacity.
#[derive(Debug, Clone)]
pub struct SegmentOverlay {
    /// Its voxels, on the volume's grid.
    pub mask: Arc<Mask>,
    /// Its colour (sRGB).
    pub colour: [u8; 3],
    /// Its fill's opacity, 0 to 1 (its outline is drawn opaque).
    pub opacity: f32,
}

impl SegmentOverlay {
    /// A threshold's preview: the voxels of `mask` in `colour`, the slice showing through
    /// (a fill of 0.4), as every client lays it over the slices.
    pub fn threshold_preview(mask: Mask, colour: [u8; 3]) -> Self {
        Self {
            mask: Arc::new(mask),
            colour,
            opacity: 0.4,
        }
    }
}

/// How opaque a calcium lesion's fill is over the slices (its outline is opaque).
pub const LESION_FILL: f32 = 0.5;

/// A calcium score's lesions as the slice cells show them: each artery's and the
/// candidates' masks ([`LesionMasks`]) in their colours.
pub fn calcium_lesion_overlays(painted: &LesionMasks) -> Arc<[SegmentOverlay]> {
    painted
        .coloured()
        .into_iter()
        .map(|(mask, colour)| SegmentOverlay {
            mask,
            colour,
            opacity: LESION_FILL,
        })
        .collect()
}

/// Where the crosshair shows in each slice's cell of a 2×2 frame of `size`, the slices
/// turned as `frame` says.
pub fn crosshair_in_cells(
    volume: &Volume,
    frame: &SliceFrame,
    crosshair_lps: DVec3,
    size: [u32; 2],
) -> CrosshairInCells {
    let spot = |plane| spot_in_cell(volume, frame, plane, crosshair_lps, size, crosshair_lps);
    CrosshairInCells {
        axial: spot(SlicePlane::Axial),
        coronal: spot(SlicePlane::Coronal),
        sagittal: spot(SlicePlane::Sagittal),
    }
}

/// Millimetres per pixel of each slice's cell of a 2×2 frame of `size` (the slices are
/// centred on the volume, so this depends on the size and the planes' turn alone).
pub fn slice_scales(volume: &Volume, frame: &SliceFrame, size: [u32; 2]) -> SliceScales {
    let render = cell_render_size(size);
    let scale = |plane: SlicePlane| {
        MprPlane::through_centre(volume, frame.orientation(plane)).mm_per_pixel(volume, render)
    };
    SliceScales {
        axial: scale(SlicePlane::Axial),
        coronal: scale(SlicePlane::Coronal),
        sagittal: scale(SlicePlane::Sagittal),
    }
}

/// How each slice cell shows its plane when `frame` turns them: the LPS directions of
/// its right and its bottom.
pub fn slice_planes_in_cells(frame: &SliceFrame) -> SlicePlanesInCells {
    let axes = |plane: SlicePlane| {
        let (right, down) = frame.orientation(plane).right_and_down();
        CellAxes {
            right: right.to_array(),
            down: down.to_array(),
        }
    };
    SlicePlanesInCells {
        axial: axes(SlicePlane::Axial),
        coronal: axes(SlicePlane::Coronal),
        sagittal: axes(SlicePlane::Sagittal),
    }
}

/// The cells of the last 2×2 frames, kept with what each shows: the 3D cell at full
/// quality (scrolling through the slices redraws only them, and the 3D cell stays sharp
/// while they move), and each slice cell (a brush stroke on one slice redraws only the
/// cells whose slice it changed).
#[derive(Default)]
pub struct KeptCells {
    three_d: Option<CachedCell>,
    slices: [Option<KeptSlice>; 3],
    /// Slice cells served from here, for the tests.
    #[cfg(test)]
    slices_reused: usize,
}

struct CachedCell {
    /// The volume it shows (not kept alive by the cache).
    volume: Weak<Volume>,
    /// Its view, at full quality.
    view: ViewState,
    size: [u32; 2],
    /// The renderer's segments when it was drawn ([`Renderer::segments_generation`]).
    segments: u64,
    image: FrameImage,
}

/// A slice cell as drawn, with the segments painted over it.
struct KeptSlice {
    /// The volume it shows (not kept alive by the cache).
    volume: Weak<Volume>,
    /// The slice's view (its plane, window and quality).
    view: ViewState,
    size: [u32; 2],
    /// The voxel under each of its pixels (none when no segment was painted).
    voxels: Vec<usize>,
    /// The series drawn over it, beneath the segments.
    over: Option<SeriesOver>,
    /// The segments painted over it.
    segments: Vec<SegmentOverlay>,
    image: FrameImage,
}

impl KeptSlice {
    /// Whether it shows `view` of `volume` at `size` with `over` drawn and `segments`
    /// painted over it: the same segments, or segments that differ in no voxel under its
    /// pixels.
    fn shows(
        &self,
        volume: &Arc<Volume>,
        view: &ViewState,
        size: [u32; 2],
        (over, segments): (Option<&SeriesOver>, &[SegmentOverlay]),
    ) -> bool {
        self.size == size
            && self.view == *view
            && match (&self.over, over) {
                (None, None) => true,
                (Some(kept), Some(now)) => kept.draws_as(now),
                _ => false,
            }
            && self
                .volume
                .upgrade()
                .is_some_and(|kept| Arc::ptr_eq(&kept, volume))
            && self.segments.len() == segments.len()
            && self.segments.iter().zip(segments).all(|(kept, now)| {
                kept.colour == now.colour
                    && kept.opacity == now.opacity
                    && (Arc::ptr_eq(&kept.mask, &now.mask)
                        || self.voxels.iter().all(|&voxel| {
                            voxel == usize::MAX
                                || kept.mask.contains(voxel) == now.mask.contains(voxel)
                        }))
            })
    }
}

impl KeptCells {
    /// The 3D cell of `view` on `volume` at `size`: the kept one when it shows the same
    /// view (at any quality asked: a full-quality image is as good), else a new render,
    /// kept when it is at full quality.
    fn render_3d(
        &mut self,
        renderer: &mut Renderer,
        volume: &Arc<Volume>,
        view: &ViewState,
        size: [u32; 2],
    ) -> Result<FrameImage, RenderError> {
        let mut full = view.clone();
        full.quality = Quality::Full;
        // The slices' planes and slabs do not change the 3D cell.
        full.slice_frame = SliceFrame::STANDARD;
        full.cell_slabs = Default::default();
        if let Some(last) = &self.three_d
            && last.size == size
            && last.view == full
            && last.segments == renderer.segments_generation()
            && last
                .volume
                .upgrade()
                .is_some_and(|kept| Arc::ptr_eq(&kept, volume))
        {
            return Ok(last.image.clone());
        }
        let image = renderer.render_image(view, size)?;
        if view.quality == Quality::Full {
            self.three_d = Some(CachedCell {
                volume: Arc::downgrade(volume),
                view: full,
                size,
                segments: renderer.segments_generation(),
                image: image.clone(),
            });
        }
        Ok(image)
    }

    /// The slice cell `index` (axial, coronal, sagittal) of `slice_view` on `volume` at
    /// `size` with `over` drawn and `segments` painted over it: the kept one when nothing
    /// it shows changed, else drawn and kept.
    fn render_slice(
        &mut self,
        renderer: &mut Renderer,
        volume: &Arc<Volume>,
        (index, slice_view): (usize, &ViewState),
        size: [u32; 2],
        (over, segments): (Option<&SeriesOver>, &[SegmentOverlay]),
    ) -> Result<FrameImage, RenderError> {
        if let Some(kept) = &self.slices[index]
            && kept.shows(volume, slice_view, size, (over, segments))
        {
            #[cfg(test)]
            {
                self.slices_reused += 1;
            }
            return Ok(kept.image.clone());
        }
        let mut image = renderer.render_image(slice_view, size)?;
        let Some(slice) = slice_view.mpr else {
            return Ok(image);
        };
        draw_series_over(&mut image, volume, &slice, over);
        // Without segments there is nothing to paint, nor to compare with later.
        let voxels = if segments.is_empty() {
            Vec::new()
        } else {
            pixel_voxels(volume, &slice, [image.width, image.height])
        };
        paint_over(&mut image, &voxels, segments);
        self.slices[index] = Some(KeptSlice {
            volume: Arc::downgrade(volume),
            view: slice_view.clone(),
            size,
            voxels,
            over: over.cloned(),
            segments: segments.to_vec(),
            image: image.clone(),
        });
        Ok(image)
    }
}

/// Renders `view` (on the renderer's volume `volume`) at `size` as `layout` says: the 3D
/// view alone, or the 3D view and the three slices through `crosshair_lps` stitched into
/// one image, `over` drawn and `segments` painted over the slices. The slices use the
/// view's grey window.
/// With `kept`, the cells are reused while what they show stays the same (pass `None` for
/// a renderer of another copy of the volume, such as a preview's).
#[allow(clippy::too_many_arguments)] // each is one part of what a frame shows
pub fn render_layout(
    renderer: &mut Renderer,
    volume: &Arc<Volume>,
    view: &ViewState,
    layout: Layout,
    crosshair_lps: DVec3,
    size: [u32; 2],
    mut kept: Option<&mut KeptCells>,
    (over, segments): (Option<&SeriesOver>, &[SegmentOverlay]),
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
            // Without cells to keep (another copy of the volume), each is drawn and let go.
            let three_d = match kept.as_deref_mut() {
                Some(kept) => kept.render_3d(renderer, volume, view, render_size)?,
                None => renderer.render_image(view, render_size)?,
            };
            stitch(&mut frame, &three_d, cells[0]);
            for (index, plane) in SlicePlane::ALL.into_iter().enumerate() {
                let mut slice_view = view.clone();
                let mut slice = cell_slice(volume, &view.slice_frame, plane, crosshair_lps);
                let slab = view.cell_slabs.of(plane);
                slice.slab_mm = slab.mm;
                slice.slab_mode = slab.mode;
                slice_view.mpr = Some(slice);
                let image = match kept.as_deref_mut() {
                    Some(kept) => kept.render_slice(
                        renderer,
                        volume,
                        (index, &slice_view),
                        render_size,
                        (over, segments),
                    )?,
                    None => {
                        let mut image = renderer.render_image(&slice_view, render_size)?;
                        draw_series_over(&mut image, volume, &slice, over);
                        paint_segments(&mut image, volume, &slice, segments);
                        image
                    }
                };
                stitch(&mut frame, &image, cells[cell_index(plane)]);
            }
            Ok(frame)
        }
    }
}

/// `segments` as the 3D view shows them: a label a voxel of `volume`'s grid, a later
/// segment over an earlier one (as the slices paint them), each at its colour and fill
/// opacity; `None` when there are none.
pub fn segment_labels(volume: &Volume, segments: &[SegmentOverlay]) -> Option<SegmentLabels> {
    if segments.is_empty() {
        return None;
    }
    let mut labels = vec![0u8; volume.voxels.len()];
    // A series holds at most `segments::MOST_SEGMENTS` (well under a byte's labels).
    for (label, segment) in (1..=MOST_LABELS as u8).zip(segments) {
        for index in segment.mask.indices() {
            if let Some(voxel) = labels.get_mut(index) {
                *voxel = label;
            }
        }
    }
    let palette = segments
        .iter()
        .take(MOST_LABELS)
        .map(|segment| {
            let [r, g, b] = segment.colour;
            let opacity = (segment.opacity.clamp(0.0, 1.0) * 255.0).round() as u8;
            [r, g, b, opacity]
        })
        .collect();
    Some(SegmentLabels { labels, palette })
}

/// Draws `over` (a second series, [`SeriesOver`]) over `image`, the slice `slice` of
/// `volume` rendered.
fn draw_series_over(
    image: &mut FrameImage,
    volume: &Volume,
    slice: &MprPlane,
    over: Option<&SeriesOver>,
) {
    if let Some(over) = over {
        let pixel_to_lps = slice.pixel_to_lps(volume, [image.width, image.height]);
        over.draw(&mut image.rgba, image.width, pixel_to_lps);
    }
}

/// Paints `segments` over `image`, the slice `slice` rendered: each pixel whose centre's
/// nearest voxel is in a segment takes its colour at its opacity, and the pixels on a
/// segment's edge (a neighbour across it outside) take it whole.
pub fn paint_segments(
    image: &mut FrameImage,
    volume: &Volume,
    slice: &MprPlane,
    segments: &[SegmentOverlay],
) {
    if segments.is_empty() {
        return;
    }
    let voxels = pixel_voxels(volume, slice, [image.width, image.height]);
    paint_over(image, &voxels, segments);
}

/// [`paint_segments`] on an image whose pixels' voxels are `voxels`.
fn paint_over(image: &mut FrameImage, voxels: &[usize], segments: &[SegmentOverlay]) {
    for segment in segments {
        for_each_covered(voxels, image.width as usize, segment, |at, alpha| {
            let pixel = &mut image.rgba[at * 4..at * 4 + 3];
            for (channel, colour) in pixel.iter_mut().zip(segment.colour) {
                let blended = f32::from(*channel) * (1.0 - alpha) + f32::from(colour) * alpha;
                *channel = blended.round().clamp(0.0, 255.0) as u8;
            }
        });
    }
}

/// `segments` as [`paint_segments`] paints them, alone: an image of `size` for the slice
/// `slice`, transparent where no segment is, each pixel's colour and alpha (not
/// premultiplied) a later segment's over an earlier one's. A window that draws the slice
/// itself lays this over it.
pub fn segment_overlay(
    volume: &Volume,
    slice: &MprPlane,
    size: [u32; 2],
    segments: &[SegmentOverlay],
) -> FrameImage {
    let mut overlay = FrameImage {
        width: size[0],
        height: size[1],
        rgba: vec![0; size[0] as usize * size[1] as usize * 4],
    };
    if segments.is_empty() {
        return overlay;
    }
    let voxels = pixel_voxels(volume, slice, size);
    for segment in segments {
        for_each_covered(&voxels, size[0] as usize, segment, |at, alpha| {
            let pixel = &mut overlay.rgba[at * 4..at * 4 + 4];
            let below = f32::from(pixel[3]) / 255.0;
            let out = alpha + below * (1.0 - alpha);
            for (channel, colour) in pixel.iter_mut().zip(segment.colour) {
                let mixed = (f32::from(colour) * alpha
                    + f32::from(*channel) * below * (1.0 - alpha))
                    / out.max(f32::EPSILON);
                *channel = mixed.round().clamp(0.0, 255.0) as u8;
            }
            pixel[3] = (out * 255.0).round().clamp(0.0, 255.0) as u8;
        });
    }
    overlay
}

/// The flat voxel index under each pixel of the slice `slice` drawn at `size`
/// (`usize::MAX` outside the volume). A pixel's voxel follows from the slice's geometry as
/// a click's patient point does (`lps_in_cell`), stepped across the image rather than
/// inverted per pixel.
fn pixel_voxels(volume: &Volume, slice: &MprPlane, size: [u32; 2]) -> Vec<usize> {
    let (width, height) = (size[0] as usize, size[1] as usize);
    let mm_per_pixel = slice.mm_per_pixel(volume, size);
    let (right, down) = slice.orientation.right_and_down();
    let to_voxel = volume.voxel_to_lps.inverse();
    let first_lps = slice.centre_lps
        + (right * (0.5 - width as f64 * 0.5) + down * (0.5 - height as f64 * 0.5)) * mm_per_pixel;
    let first = to_voxel.transform_point3(first_lps);
    let step_x = to_voxel.transform_vector3(right * mm_per_pixel);
    let step_y = to_voxel.transform_vector3(down * mm_per_pixel);
    let [ni, nj, nk] = volume.dims;
    (0..height)
        .flat_map(|py| (0..width).map(move |px| (px, py)))
        .map(|(px, py)| {
            let v = (first + step_x * px as f64 + step_y * py as f64).round();
            let inside = v.x >= 0.0
                && v.y >= 0.0
                && v.z >= 0.0
                && (v.x as usize) < ni
                && (v.y as usize) < nj
                && (v.z as usize) < nk;
            if inside {
                v.x as usize + ni * (v.y as usize + nj * v.z as usize)
            } else {
                usize::MAX
            }
        })
        .collect()
}

/// Calls `cover` with each pixel `segment` covers (of an image `width` wide whose pixels'
/// voxels are `voxels`) and its alpha: the segment's opacity inside, opaque on its edge
/// (a neighbour across it outside).
fn for_each_covered(
    voxels: &[usize],
    width: usize,
    segment: &SegmentOverlay,
    mut cover: impl FnMut(usize, f32),
) {
    let height = voxels.len() / width.max(1);
    let inside: Vec<bool> = voxels
        .iter()
        .map(|&index| index != usize::MAX && segment.mask.contains(index))
        .collect();
    let fill = segment.opacity.clamp(0.0, 1.0);
    for py in 0..height {
        for px in 0..width {
            let at = py * width + px;
            if !inside[at] {
                continue;
            }
            let edge = (px == 0 || !inside[at - 1])
                || (px + 1 == width || !inside[at + 1])
                || (py == 0 || !inside[at - width])
                || (py + 1 == height || !inside[at + width]);
            cover(at, if edge { 1.0 } else { fill });
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
    fn the_crosshair_shows_where_a_click_would_put_it() {
        let volume = render_core::phantom::ct_phantom();
        let crosshair = volume.centre_lps() + DVec3::new(10.0, -20.0, 30.0);
        // The crosshair 10 mm towards L and 20 mm towards A of the centre: right of the
        // middle in the axial and coronal cells, above it in the axial cell, left of it in
        // the sagittal cell (A is on the left there); 30 mm towards S: above the middle in
        // the coronal and sagittal cells.
        let cells = crosshair_in_cells(&volume, &SliceFrame::STANDARD, crosshair, [256, 192]);
        assert!(cells.axial[0] > 0.5 && cells.axial[1] < 0.5, "{cells:?}");
        assert!(
            cells.coronal[0] > 0.5 && cells.coronal[1] < 0.5,
            "{cells:?}"
        );
        assert!(
            cells.sagittal[0] < 0.5 && cells.sagittal[1] < 0.5,
            "{cells:?}"
        );
        let centred = crosshair_in_cells(
            &volume,
            &SliceFrame::STANDARD,
            volume.centre_lps(),
            [256, 192],
        );
        for plane in SlicePlane::ALL {
            let [x, y] = centred.of(plane);
            assert!(
                (x - 0.5).abs() < 0.01 && (y - 0.5).abs() < 0.01,
                "{plane:?}: {x}, {y}"
            );
        }
    }

    #[test]
    fn the_kept_3d_cell_serves_frames_that_change_only_the_slices() {
        let (mut renderer, volume) = render_core::gpu::testing::phantom_renderer();
        let view = ViewState::initial(
            &volume,
            "ct-bone",
            render_core::transfer::RenderMode::Composite,
        );
        let size = [96, 64];
        let crosshair = volume.centre_lps();
        let mut kept = KeptCells::default();
        let mut render = |view: &ViewState, crosshair: DVec3, cache: Option<&mut KeptCells>| {
            render_layout(
                &mut renderer,
                &volume,
                view,
                Layout::Quad,
                crosshair,
                size,
                cache,
                (None, &[]),
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
    fn a_stroke_on_one_slice_redraws_only_the_slice_cells_it_changed() {
        let (mut renderer, volume) = render_core::gpu::testing::phantom_renderer();
        let view = ViewState::initial(
            &volume,
            "ct-bone",
            render_core::transfer::RenderMode::Composite,
        );
        let (size, crosshair) = ([96, 64], volume.centre_lps());
        let grid = hounsfield_segment::Grid::of(&volume);
        let centre = volume.lps_to_voxel(crosshair).round();
        let [ci, cj, ck] = [centre.x, centre.y, centre.z].map(|c| c as usize);
        // Boxes of voxels about the crosshair's axial slice: one off the coronal and
        // sagittal slices through it, one across the sagittal.
        let boxed = |i: std::ops::RangeInclusive<usize>, j: std::ops::RangeInclusive<usize>| {
            let indices = (ck - 1..=ck + 1).flat_map(|k| {
                let i = i.clone();
                j.clone().flat_map(move |j| {
                    i.clone()
                        .map(move |i| grid.index([i, j, k]).expect("inside"))
                })
            });
            SegmentOverlay {
                mask: Arc::new(Mask::from_indices(grid, indices)),
                colour: [255, 0, 0],
                opacity: 1.0,
            }
        };
        let empty = SegmentOverlay {
            mask: Arc::new(Mask::empty(grid)),
            colour: [255, 0, 0],
            opacity: 1.0,
        };
        let away = boxed(ci + 5..=ci + 9, cj + 5..=cj + 9);
        let across = boxed(ci - 3..=ci + 3, cj + 5..=cj + 9);
        let mut kept = KeptCells::default();
        let mut render = |segments: &[SegmentOverlay], kept: Option<&mut KeptCells>| {
            render_layout(
                &mut renderer,
                &volume,
                &view,
                Layout::Quad,
                crosshair,
                size,
                kept,
                (None, segments),
            )
            .expect("renders")
        };
        let before = render(&[empty], Some(&mut kept));
        assert_eq!(kept.slices_reused, 0);
        // Off the coronal and sagittal slices: those two cells are the kept ones.
        let stroked = render(std::slice::from_ref(&away), Some(&mut kept));
        assert_eq!(kept.slices_reused, 2);
        assert!(stroked.rgba == render(std::slice::from_ref(&away), None).rgba);
        assert!(
            stroked.rgba != before.rgba,
            "the axial cell shows the stroke"
        );
        // Across the sagittal slice: only the coronal cell is kept.
        let crossed = render(std::slice::from_ref(&across), Some(&mut kept));
        assert_eq!(kept.slices_reused, 3);
        assert!(crossed.rgba == render(std::slice::from_ref(&across), None).rgba);
        // Nothing changed: all three kept.
        render(std::slice::from_ref(&across), Some(&mut kept));
        assert_eq!(kept.slices_reused, 6);
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

    #[test]
    fn the_overlay_laid_over_a_slice_is_the_slice_painted() {
        let volume = render_core::phantom::ct_phantom();
        let grid = hounsfield_segment::Grid::of(&volume);
        let bright = hounsfield_segment::ValueInterval::new(200.0, 4000.0).expect("a range");
        let bone = hounsfield_segment::threshold(&volume, bright);
        // A second segment over the first: a block of the middle slices.
        let [ni, nj, nk] = volume.dims;
        let block = Mask::from_indices(
            grid,
            (0..ni * nj * nk).filter(|index| {
                let (i, j) = (index % ni, (index / ni) % nj);
                (ni / 3..ni / 2).contains(&i) && (nj / 3..nj / 2).contains(&j)
            }),
        );
        let segments = [
            SegmentOverlay {
                mask: Arc::new(bone),
                colour: [230, 80, 60],
                opacity: 0.4,
            },
            SegmentOverlay {
                mask: Arc::new(block),
                colour: [70, 130, 230],
                opacity: 0.6,
            },
        ];
        let slice = MprPlane::through_centre(&volume, render_core::view::MprOrientation::Axial);
        let size = [80, 64];
        let mut painted = FrameImage {
            width: size[0],
            height: size[1],
            rgba: [90, 90, 90, 255].repeat(size[0] as usize * size[1] as usize),
        };
        let grey = painted.clone();
        paint_segments(&mut painted, &volume, &slice, &segments);
        let overlay = segment_overlay(&volume, &slice, size, &segments);
        let mut covered = 0;
        for ((over, painted), grey) in overlay
            .rgba
            .chunks_exact(4)
            .zip(painted.rgba.chunks_exact(4))
            .zip(grey.rgba.chunks_exact(4))
        {
            let alpha = f32::from(over[3]) / 255.0;
            covered += usize::from(over[3] > 0);
            for channel in 0..3 {
                let laid =
                    f32::from(over[channel]) * alpha + f32::from(grey[channel]) * (1.0 - alpha);
                let difference = (laid - f32::from(painted[channel])).abs();
                assert!(difference <= 1.5, "{over:?} over {grey:?} vs {painted:?}");
            }
        }
        assert!(covered > 100, "{covered} pixels covered");
    }
}
