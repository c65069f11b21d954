//! Segments in the 3D view, on the software adapter: a segment alone covers the pixels
//! whose rays reach its voxels (checked against a MIP of the values it was made from),
//! a half-opaque segment shows the one behind it, hidden segments change nothing, and
//! labels that do not fit the volume are refused with the shown ones kept.

use std::sync::Arc;

use glam::DMat4;

use crate::gpu::testing::{phantom_renderer, pixels_where, renderer_with};
use crate::gpu::{FrameImage, LabelsError, RenderError, SegmentLabels};
use crate::transfer::RenderMode;
use crate::view::{Interpolation, SegmentsIn3d, ViewState};
use crate::{Modality, Volume, Voxels, Window};

/// Frames are this many pixels a side.
const SIDE: u32 = 96;

/// Label 1 on every voxel of `volume` of at least 300 HU (bone, and the phantom's marker).
fn bone_labels(volume: &Volume) -> Vec<u8> {
    (0..volume.voxels.len())
        .map(|n| u8::from(volume.voxels.get(n).is_some_and(|v| v >= 300.0)))
        .collect()
}

#[test]
fn a_segment_alone_covers_the_pixels_whose_rays_reach_its_voxels() {
    let (mut renderer, volume) = phantom_renderer();
    // Bone and the marker, red and opaque.
    let labels = bone_labels(&volume);
    renderer
        .show_segments(Some(&SegmentLabels {
            labels,
            palette: vec![[255, 0, 0, 255]],
        }))
        .expect("labels that fit");
    // Nearest voxels and no jitter: the segment and the MIP sample the same voxels.
    let mut view = ViewState::initial(&volume, "ct-bone", RenderMode::Composite);
    view.interpolation = Interpolation::Nearest;
    view.segments_3d = SegmentsIn3d::Alone;
    let alone = renderer.render_image(&view, [SIDE; 2]).expect("drawn");
    let mut mip = view.clone();
    mip.mode = RenderMode::Mip;
    // Grey at least one half from 300 HU up.
    mip.window = Some(Window {
        width: 2.0,
        center: 300.0,
    });
    let reference = renderer.render_image(&mip, [SIDE; 2]).expect("drawn");

    let segment = pixels_where(&alone, |[r, _, _, _]| r > 40);
    let reached = pixels_where(&reference, |[r, _, _, _]| r >= 128);
    let covered = segment.iter().filter(|&&hit| hit).count();
    let differing = segment.iter().zip(&reached).filter(|(a, b)| a != b).count();
    assert!(
        covered > (SIDE * SIDE / 20) as usize,
        "the bone shows: {covered} pixels"
    );
    assert!(
        differing * 100 <= covered,
        "{differing} of {covered} pixels differ from the MIP's (at most 1%)"
    );
    for p in alone.rgba.chunks_exact(4).filter(|p| p[0] > 40) {
        assert!(p[1] <= 40 && p[2] <= 40 && p[0] >= 76, "a lit red: {p:?}");
    }
    for p in alone.rgba.chunks_exact(4).filter(|p| p[0] <= 40) {
        assert_eq!(&p[..3], &[0, 0, 0], "nothing but the segment, on black");
    }
}

/// A 48³ volume of 1 mm air voxels, with labels: a slab of label 1 in front (anterior,
/// low j), a block of label 2 behind it.
fn air_with_two_segments() -> (Arc<Volume>, Vec<u8>) {
    let side = 48;
    let volume = Volume::new(
        Voxels::I16(vec![-1000; side * side * side]),
        [side; 3],
        DMat4::IDENTITY,
        Modality::CT,
        None,
    )
    .expect("a volume");
    let labels = (0..side * side * side)
        .map(|n| {
            let (i, j, k) = (n % side, n / side % side, n / (side * side));
            let middle = (12..36).contains(&i) && (12..36).contains(&k);
            match j {
                10..14 if middle => 1,
                24..40 if middle => 2,
                _ => 0,
            }
        })
        .collect();
    (Arc::new(volume), labels)
}

/// The middle pixel of `frame`.
fn middle(frame: &FrameImage) -> [u8; 4] {
    frame.pixel(frame.width / 2, frame.height / 2)
}

#[test]
fn a_half_opaque_segment_in_front_shows_the_one_behind() {
    let (volume, labels) = air_with_two_segments();
    let mut renderer = renderer_with(Arc::clone(&volume));
    let mut view = ViewState::initial(&volume, "ct-bone", RenderMode::Composite);
    view.segments_3d = SegmentsIn3d::Alone;
    let mut draw = |front_opacity: u8| {
        renderer
            .show_segments(Some(&SegmentLabels {
                labels: labels.clone(),
                palette: vec![[0, 255, 0, front_opacity], [255, 0, 0, 255]],
            }))
            .expect("labels that fit");
        middle(&renderer.render_image(&view, [SIDE; 2]).expect("drawn"))
    };
    let opaque = draw(255);
    let half = draw(128);
    assert!(opaque[1] > 150 && opaque[0] < 40, "green alone: {opaque:?}");
    assert!(
        half[1] > 60 && half[0] > 60,
        "half green in front, red behind: {half:?}"
    );
    assert!(
        half[1] < opaque[1],
        "less green: {half:?} against {opaque:?}"
    );
}

#[test]
fn hidden_segments_change_nothing_and_shown_ones_tint_the_rendering() {
    let (mut renderer, volume) = phantom_renderer();
    let view = ViewState::initial(&volume, "ct-bone", RenderMode::Composite);
    let without = renderer.render_image(&view, [SIDE; 2]).expect("drawn");
    let labels = bone_labels(&volume);
    renderer
        .show_segments(Some(&SegmentLabels {
            labels,
            palette: vec![[0, 0, 255, 255]],
        }))
        .expect("labels that fit");
    let mut hidden = view.clone();
    hidden.segments_3d = SegmentsIn3d::Hidden;
    let hidden = renderer.render_image(&hidden, [SIDE; 2]).expect("drawn");
    assert_eq!(hidden.rgba, without.rgba, "hidden: the same picture");
    let with_volume = renderer.render_image(&view, [SIDE; 2]).expect("drawn");
    let bluer = with_volume
        .rgba
        .chunks_exact(4)
        .zip(without.rgba.chunks_exact(4))
        .filter(|(with, before)| with[2] > before[2] + 40)
        .count();
    assert!(
        bluer > (SIDE * SIDE / 50) as usize,
        "the bone turns blue in {bluer} pixels"
    );
}

#[test]
fn labels_that_do_not_fit_are_refused_and_the_shown_ones_stay() {
    let (volume, labels) = air_with_two_segments();
    let mut renderer = renderer_with(Arc::clone(&volume));
    let shown = SegmentLabels {
        labels: labels.clone(),
        palette: vec![[0, 255, 0, 255], [255, 0, 0, 255]],
    };
    renderer.show_segments(Some(&shown)).expect("fits");
    let generation = renderer.segments_generation();
    let mut view = ViewState::initial(&volume, "ct-bone", RenderMode::Composite);
    view.segments_3d = SegmentsIn3d::Alone;
    let before = renderer.render_image(&view, [SIDE; 2]).expect("drawn");

    let short = SegmentLabels {
        labels: labels[1..].to_vec(),
        palette: shown.palette.clone(),
    };
    let uncoloured = SegmentLabels {
        labels,
        palette: vec![[0, 255, 0, 255]],
    };
    assert!(matches!(
        renderer.show_segments(Some(&short)),
        Err(RenderError::Segments(LabelsError::WrongCount { .. }))
    ));
    assert!(matches!(
        renderer.show_segments(Some(&uncoloured)),
        Err(RenderError::Segments(LabelsError::Uncoloured {
            label: 2,
            ..
        }))
    ));
    assert_eq!(renderer.segments_generation(), generation);
    let after = renderer.render_image(&view, [SIDE; 2]).expect("drawn");
    assert_eq!(after.rgba, before.rgba, "the shown segments stay");
}
