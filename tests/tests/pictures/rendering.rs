//! The render core on the software adapter: orientation, exactness of MIP and reformats,
//! and golden images of the built-in torso, one per built-in preset and a few views and
//! modes (with a stated tolerance; regenerate them on purpose with
//! `HOUNSFIELD_UPDATE_GOLDEN=1 cargo test --release -p hounsfield-e2e --test end_to_end
//! pictures::rendering::golden`, then look at every image in `tests/golden/` before committing it).

use hounsfield_test_support as support;

use std::sync::Arc;

use glam::{DMat4, DVec3, DVec4};
use render_core::camera::{Camera, NamedView, Projection};
use render_core::gpu::gradients::cell_for;
use render_core::gpu::{FrameImage, InteractiveBudget};
use render_core::phantom::{MARKER_LPS_MM, ct_phantom, hu};
use render_core::transfer::RenderMode;
use render_core::view::{Interpolation, MprOrientation, MprPlane, ViewState};
use render_core::{Volume, Voxels, Window};
use support::phantom_dicom::{Layout, write_series};
use support::render::{
    Tolerance, assert_matches_golden, assert_similar, bright_centroid, lit_beside, renderer,
};

/// Golden images: a pixel differs when a channel is off by more than 12 levels; at most
/// 1% of pixels may differ (software rasterisers round differently between versions).
const GOLDEN: Tolerance = Tolerance {
    per_pixel: 12,
    max_share: 0.01,
};

/// The built-in phantom, loaded on the shared renderer.
fn phantom_on_renderer() -> (
    Arc<Volume>,
    std::sync::MutexGuard<'static, render_core::gpu::Renderer>,
) {
    let volume = Arc::new(ct_phantom());
    let mut renderer = renderer();
    renderer.load_volume(volume.clone());
    (volume, renderer)
}

/// The largest difference between a frame's grey (red channel) and `expected(i, j)` for
/// pixel column i, row j.
fn worst_grey_difference(frame: &FrameImage, expected: impl Fn(usize, usize) -> u8) -> u8 {
    let mut worst = 0u8;
    for j in 0..frame.height as usize {
        for i in 0..frame.width as usize {
            let got = frame.pixel(i as u32, j as u32)[0];
            worst = worst.max(got.abs_diff(expected(i, j)));
        }
    }
    worst
}

/// Where an LPS point lands on screen (pixel coordinates, y down).
fn screen_position(camera: &Camera, lps: DVec3, size: [u32; 2]) -> (f64, f64) {
    let aspect = f64::from(size[0]) / f64::from(size[1]);
    let clip = camera.view_projection(aspect) * DVec4::from((lps, 1.0));
    let (x, y) = (clip.x / clip.w, clip.y / clip.w);
    (
        (x + 1.0) * 0.5 * f64::from(size[0]),
        (1.0 - y) * 0.5 * f64::from(size[1]),
    )
}

/// A MIP that shows only the marker bead (2000 HU) white.
fn marker_view(volume: &Volume, named: NamedView) -> ViewState {
    let mut view = ViewState::initial(volume, "ct-mip", RenderMode::Mip);
    view.camera.set_view(named);
    view.window = Some(Window {
        width: 200.0,
        center: 1800.0,
    });
    view
}

#[test]
fn the_marker_appears_where_anatomy_says_from_anterior_left_and_superior() {
    let (volume, mut renderer) = phantom_on_renderer();
    let size = [256, 256];
    let marker = DVec3::from_array(MARKER_LPS_MM);
    for named in [NamedView::Anterior, NamedView::Left, NamedView::Superior] {
        let view = marker_view(&volume, named);
        let frame = renderer.render_image(&view, size).expect("renders");
        let (x, y, count) =
            bright_centroid(&frame, 200).unwrap_or_else(|| panic!("{named:?}: no marker seen"));
        let (ex, ey) = screen_position(&view.camera, marker, size);
        assert!(
            (x - ex).abs() < 3.0 && (y - ey).abs() < 3.0,
            "{named:?}: marker at ({x:.1}, {y:.1}), expected ({ex:.1}, {ey:.1})"
        );
        assert!(count > 10, "{named:?}: only {count} marker pixels");
        // And anatomically: from anterior the patient's left is on the right and
        // superior up; from the left, anterior is on the left; from superior, anterior up.
        let half = 128.0;
        match named {
            NamedView::Anterior => assert!(x > half && y < half, "anterior: ({x}, {y})"),
            NamedView::Left => assert!(x < half && y < half, "left: ({x}, {y})"),
            NamedView::Superior => assert!(x < half && y < half, "superior: ({x}, {y})"),
            _ => unreachable!(),
        }
    }
}

/// Centroid (x, y) of the red pixels (contrast-filled vessels in `ct-angio`; bone is white).
fn red_centroid(frame: &FrameImage) -> Option<(f64, f64, usize)> {
    let (mut sx, mut sy, mut n) = (0.0, 0.0, 0usize);
    for y in 0..frame.height {
        for x in 0..frame.width {
            let [r, g, ..] = frame.pixel(x, y);
            if r > 90 && u16::from(g) * 2 < u16::from(r) {
                sx += f64::from(x) + 0.5;
                sy += f64::from(y) + 0.5;
                n += 1;
            }
        }
    }
    (n > 0).then(|| (sx / n as f64, sy / n as f64, n))
}

#[test]
fn the_heart_and_its_contrast_lie_on_the_patients_left() {
    let (volume, mut renderer) = phantom_on_renderer();
    let size = [256, 256];
    for (named, left_is_right_of_screen) in
        [(NamedView::Anterior, true), (NamedView::Posterior, false)]
    {
        let mut view = ViewState::initial(&volume, "ct-angio", RenderMode::Composite);
        view.camera.set_view(named);
        // The chest around the heart without its wall and spine: bone, shown red-rimmed
        // in this preset too, would otherwise weigh on both sides.
        view.crop = render_core::view::CropBox {
            min: [0.21, 0.23, 0.3],
            max: [0.79, 0.56, 0.7],
        };
        view.camera.zoom = 2.0;
        let frame = renderer.render_image(&view, size).expect("renders");
        let (x, _, count) =
            red_centroid(&frame).unwrap_or_else(|| panic!("{named:?}: no contrast seen"));
        assert!(count > 500, "{named:?}: only {count} red pixels");
        let half = f64::from(size[0]) / 2.0;
        if left_is_right_of_screen {
            assert!(x > half + 4.0, "{named:?}: contrast centroid at x = {x:.1}");
        } else {
            assert!(x < half - 4.0, "{named:?}: contrast centroid at x = {x:.1}");
        }
    }
}

#[test]
fn an_axial_slice_shows_the_sternum_in_front_and_the_spine_behind() {
    let (volume, mut renderer) = phantom_on_renderer();
    let [ni, nj, _] = volume.dims;
    let mut view = ViewState::initial(&volume, "ct-bone", RenderMode::Composite);
    let mut plane = MprPlane::through_centre(&volume, MprOrientation::Axial);
    plane.centre_lps.z = 30.0;
    view.mpr = Some(plane);
    // Bone window: cortical bone white, everything under 400 HU black.
    view.window = Some(Window {
        width: 400.0,
        center: 600.0,
    });
    let frame = renderer
        .render_image(&view, [ni as u32, nj as u32])
        .expect("renders");
    // Rows with bone in the central columns (the midline).
    let middle = ni as u32 / 2;
    let rows: Vec<u32> = (0..nj as u32)
        .filter(|&y| (middle - 4..middle + 4).any(|x| frame.pixel(x, y)[0] > 200))
        .collect();
    let (first, last) = (rows.first().copied(), rows.last().copied());
    let (Some(first), Some(last)) = (first, last) else {
        panic!("no bone on the midline")
    };
    // Anterior is up: the sternum near the top, the vertebra in the lower half.
    assert!(
        f64::from(first) < nj as f64 * 0.25,
        "topmost midline bone at row {first} of {nj}"
    );
    assert!(
        f64::from(last) > nj as f64 * 0.6,
        "lowest midline bone at row {last} of {nj}"
    );
}

#[test]
fn a_scrambled_copy_of_the_phantom_renders_identically() {
    let phantom = ct_phantom();
    let standard = tempfile::tempdir().expect("temp dir");
    let scrambled = tempfile::tempdir().expect("temp dir");
    write_series(&phantom, standard.path(), Layout::Standard);
    write_series(&phantom, scrambled.path(), Layout::Scrambled);
    let load = |dir: &std::path::Path| {
        let catalog = render_core::dicom::Catalog::scan(
            &[dir.to_path_buf()],
            &render_core::progress::no_progress,
        );
        let series = catalog.default_series().expect("a series");
        Arc::new(support::load(series).volume)
    };
    let (a, b) = (load(standard.path()), load(scrambled.path()));
    assert_ne!(
        a.voxel_to_lps, b.voxel_to_lps,
        "the scrambled copy is stored differently"
    );
    let mut renderer = renderer();
    for (named, mode, preset) in [
        (NamedView::Anterior, RenderMode::Composite, "ct-bone"),
        (NamedView::Left, RenderMode::Mip, "ct-mip"),
        (NamedView::Superior, RenderMode::Composite, "ct-soft-tissue"),
    ] {
        let mut frames = Vec::new();
        for volume in [&a, &b] {
            renderer.load_volume(volume.clone());
            let mut view = ViewState::initial(volume, preset, mode);
            view.camera.set_view(named);
            view.camera.orbit(20.0, 10.0);
            frames.push(renderer.render_image(&view, [192, 160]).expect("renders"));
        }
        let what = format!("scrambled-{}-{}", named.name(), mode.name());
        assert_similar(
            &frames[0],
            &frames[1],
            Tolerance {
                per_pixel: 4,
                max_share: 0.002,
            },
            &what,
        );
    }
}

#[test]
fn mip_along_the_slice_axis_equals_the_cpu_maximum() {
    let (volume, mut renderer) = phantom_on_renderer();
    let [ni, nj, nk] = volume.dims;
    let window = Window {
        width: 1600.0,
        center: 300.0,
    };
    let mut view = ViewState::initial(&volume, "ct-mip", RenderMode::Mip);
    view.camera.set_view(NamedView::Inferior);
    view.camera.projection = Projection::Orthographic;
    // One pixel per voxel column: the view's height is the volume's j extent.
    view.camera.zoom = view.camera.scene_radius_mm / (nj as f64 * volume.spacing_mm[1] * 0.5);
    view.interpolation = Interpolation::Nearest;
    view.window = Some(window);
    let frame = renderer
        .render_image(&view, [ni as u32, nj as u32])
        .expect("renders");
    let worst = worst_grey_difference(&frame, |i, j| {
        let max = (0..nk)
            .map(|k| volume.value([i, j, k]).expect("inside"))
            .fold(f64::NEG_INFINITY, f64::max);
        window.grey_u8(max)
    });
    // One grey level for rounding.
    assert!(
        worst <= 1,
        "MIP differs from the CPU maximum by up to {worst} grey levels"
    );
}

#[test]
fn an_axial_reformat_equals_the_slice_after_window_and_level() {
    let (volume, mut renderer) = phantom_on_renderer();
    let [ni, nj, _] = volume.dims;
    let window = Window {
        width: 400.0,
        center: 40.0,
    };
    for k in [10usize, 60, 95] {
        for interpolation in [Interpolation::Nearest, Interpolation::Linear] {
            let mut view = ViewState::initial(&volume, "ct-bone", RenderMode::Composite);
            let mut plane = MprPlane::through_centre(&volume, MprOrientation::Axial);
            let centre = volume.voxel_to_lps_point(DVec3::new(
                (ni as f64 - 1.0) / 2.0,
                (nj as f64 - 1.0) / 2.0,
                k as f64,
            ));
            plane.centre_lps = centre;
            view.mpr = Some(plane);
            view.window = Some(window);
            view.interpolation = interpolation;
            let frame = renderer
                .render_image(&view, [ni as u32, nj as u32])
                .expect("renders");
            let worst = worst_grey_difference(&frame, |i, j| {
                window.grey_u8(volume.value([i, j, k]).expect("inside"))
            });
            assert!(
                worst <= 1,
                "slice {k} ({interpolation:?}) differs by up to {worst} levels"
            );
        }
    }
}

#[test]
fn a_thick_slab_mip_shows_what_a_thin_slice_misses() {
    let (volume, mut renderer) = phantom_on_renderer();
    // An axial slice 10 mm below the marker's centre misses the bead (radius 6 mm); a
    // 30 mm slab MIP around it catches it.
    let marker = DVec3::from_array(MARKER_LPS_MM);
    let mut view = ViewState::initial(&volume, "ct-bone", RenderMode::Composite);
    let mut plane = MprPlane::through_centre(&volume, MprOrientation::Axial);
    plane.centre_lps = DVec3::new(plane.centre_lps.x, plane.centre_lps.y, marker.z - 10.0);
    view.window = Some(Window {
        width: 200.0,
        center: f64::from(hu::MARKER) - 200.0,
    });
    view.mpr = Some(plane);
    let thin = renderer.render_image(&view, [160, 128]).expect("renders");
    assert!(
        bright_centroid(&thin, 200).is_none(),
        "the thin slice should miss the bead"
    );
    plane.slab_mm = 30.0;
    view.mpr = Some(plane);
    let slab = renderer.render_image(&view, [160, 128]).expect("renders");
    let (x, _, _) = bright_centroid(&slab, 200).expect("the slab shows the bead");
    assert!(
        x > 80.0,
        "the bead is on the patient's left, the screen's right: x = {x}"
    );
}

#[test]
fn golden_images_of_the_phantom() {
    let (volume, mut renderer) = phantom_on_renderer();
    let cases: [(&str, &str, RenderMode, NamedView, Option<MprOrientation>); 6] = [
        (
            "phantom-bone-anterior",
            "ct-bone",
            RenderMode::Composite,
            NamedView::Anterior,
            None,
        ),
        (
            "phantom-soft-tissue-left",
            "ct-soft-tissue",
            RenderMode::Composite,
            NamedView::Left,
            None,
        ),
        (
            "phantom-lung-anterior",
            "ct-lung",
            RenderMode::Composite,
            NamedView::Anterior,
            None,
        ),
        (
            "phantom-mip-superior",
            "ct-mip",
            RenderMode::Mip,
            NamedView::Superior,
            None,
        ),
        (
            "phantom-minip-anterior",
            "ct-lung",
            RenderMode::Minip,
            NamedView::Anterior,
            None,
        ),
        (
            "phantom-mpr-coronal",
            "ct-bone",
            RenderMode::Composite,
            NamedView::Anterior,
            Some(MprOrientation::Coronal),
        ),
    ];
    for (name, preset, mode, named, mpr) in cases {
        let mut view = ViewState::initial(&volume, preset, mode);
        view.camera.set_view(named);
        view.camera.orbit(25.0, 15.0);
        view.mpr = mpr.map(|o| MprPlane::through_centre(&volume, o));
        if mode == RenderMode::Minip {
            // Inside the body only: around it, every ray's minimum is air. In a lung
            // window the airways show black in grey lung.
            view.crop = render_core::view::CropBox {
                min: [0.2, 0.25, 0.1],
                max: [0.8, 0.75, 0.9],
            };
            view.window = Some(Window {
                width: 1500.0,
                center: -600.0,
            });
        }
        let frame = renderer.render_image(&view, [256, 224]).expect("renders");
        assert_matches_golden(name, &frame, GOLDEN);
    }
}

/// The phantom resampled at half its voxel spacing, each new voxel interpolated between
/// the phantom's: the same anatomy in eight times the voxels, more than keep a gradient
/// each.
fn phantom_at_half_spacing(phantom: &Volume) -> Volume {
    let dims = phantom.dims.map(|n| n * 2);
    let last = DVec3::new(
        (phantom.dims[0] - 1) as f64,
        (phantom.dims[1] - 1) as f64,
        (phantom.dims[2] - 1) as f64,
    );
    let mut voxels = Vec::with_capacity(dims.iter().product());
    for k in 0..dims[2] {
        for j in 0..dims[1] {
            for i in 0..dims[0] {
                // Fine voxel f lies at coarse index f / 2 − ¼: two of them about each
                // coarse centre.
                let coarse = (DVec3::new(i as f64, j as f64, k as f64) * 0.5 - 0.25)
                    .clamp(DVec3::ZERO, last);
                let value = phantom.trilinear(coarse).expect("inside the phantom");
                voxels.push(value.round() as i16);
            }
        }
    }
    let fine_to_coarse =
        DMat4::from_translation(DVec3::splat(-0.25)) * DMat4::from_scale(DVec3::splat(0.5));
    Volume::new(
        Voxels::I16(voxels),
        dims,
        phantom.voxel_to_lps * fine_to_coarse,
        phantom.modality.clone(),
        phantom.default_window,
    )
    .expect("as many voxels as the dims say")
}

/// The phantom against its resampling: a pixel differs when a channel is off by more than
/// 32 levels, and at most 2% may (the phantom's voxel noise, interpolated in the resampled
/// copy, and the rays' jitter differ from one to the other).
const RESAMPLED: Tolerance = Tolerance {
    per_pixel: 32,
    max_share: 0.02,
};

#[test]
fn a_large_volume_shaded_from_a_gradient_per_cell_of_voxels_looks_like_a_gradient_per_voxel() {
    let phantom = Arc::new(ct_phantom());
    let fine = Arc::new(phantom_at_half_spacing(&phantom));
    let to_u32 = |dims: [usize; 3]| dims.map(|n| n as u32);
    assert_eq!(
        cell_for(to_u32(phantom.dims)),
        1,
        "the phantom: a gradient per voxel"
    );
    assert_eq!(
        cell_for(to_u32(fine.dims)),
        2,
        "its resampling: one per 2×2×2 voxels"
    );
    let mut renderer = renderer();
    for (named, preset) in [
        (NamedView::Anterior, "ct-bone"),
        (NamedView::Left, "ct-soft-tissue"),
    ] {
        let mut frames = Vec::new();
        for volume in [&phantom, &fine] {
            renderer.load_volume(Arc::clone(volume));
            let mut view = ViewState::initial(volume, preset, RenderMode::Composite);
            view.camera.set_view(named);
            view.camera.orbit(25.0, 15.0);
            frames.push(renderer.render_image(&view, [256, 224]).expect("renders"));
        }
        let what = format!("cells-{}-{preset}", named.name());
        assert_similar(&frames[0], &frames[1], RESAMPLED, &what);
        let mean = mean_channel_difference(&frames[0], &frames[1]);
        assert!(
            mean.iter().all(|&m| m <= PRESET_GOLDEN_MEAN),
            "{what}: mean channel differences {mean:?} over {PRESET_GOLDEN_MEAN}"
        );
    }
}

/// Lit pixels on the patient's right and left of the plane i = ½ (which the anterior view
/// sees edge on) in `frame`, leaving out 2 % of the width around it.
fn lit_right_and_left(frame: &FrameImage, volume: &Volume, camera: &Camera) -> [usize; 2] {
    let size = [frame.width, frame.height];
    let centre = volume.centre_lps();
    let (cut_x, _) = screen_position(camera, centre, size);
    let (left_x, _) = screen_position(camera, centre + DVec3::X * 10.0, size);
    let margin = 0.02 * f64::from(frame.width);
    let [on_left_of_image, on_right_of_image] = lit_beside(frame.width, &frame.rgba, cut_x, margin);
    // From anterior the patient's left is on the image's right.
    if left_x > cut_x {
        [on_left_of_image, on_right_of_image]
    } else {
        [on_right_of_image, on_left_of_image]
    }
}

/// Per-preset goldens: a pixel differs when a channel is off by more than 24 levels; at
/// most 2% of pixels may differ, and each channel's mean absolute difference is at most 3
/// levels.
const PRESET_GOLDEN: Tolerance = Tolerance {
    per_pixel: 24,
    max_share: 0.02,
};
/// Largest mean absolute difference of a channel against a preset's golden, in levels.
const PRESET_GOLDEN_MEAN: f64 = 3.0;

/// The torso from the front, slightly turned, in `preset` and its own mode, 256×256.
fn preset_view_of_the_torso(
    volume: &Volume,
    renderer: &mut render_core::gpu::Renderer,
    preset: &render_core::transfer::Preset,
) -> FrameImage {
    let mut view = ViewState::initial(volume, &preset.name, preset.mode);
    view.camera.set_view(NamedView::Anterior);
    view.camera.orbit(20.0, 10.0);
    renderer.render_image(&view, [256, 256]).expect("renders")
}

/// Each channel's mean absolute difference between two images of one size.
fn mean_channel_difference(a: &FrameImage, b: &FrameImage) -> [f64; 4] {
    let mut sums = [0.0f64; 4];
    for (p, q) in a.rgba.chunks(4).zip(b.rgba.chunks(4)) {
        for c in 0..4 {
            sums[c] += f64::from(p[c].abs_diff(q[c]));
        }
    }
    let pixels = f64::from(a.width * a.height);
    sums.map(|s| s / pixels)
}

/// The golden image `tests/golden/NAME.png`.
fn golden(name: &str) -> FrameImage {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("golden")
        .join(format!("{name}.png"));
    let image = image::open(&path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .to_rgba8();
    FrameImage {
        width: image.width(),
        height: image.height(),
        rgba: image.into_raw(),
    }
}

#[test]
fn a_crop_to_the_patient_left_half_leaves_the_right_half_background() {
    let (volume, mut renderer) = phantom_on_renderer();
    let size = [256, 224];
    // Soft tissue: the body fills both halves (bone alone may not).
    let mut view = ViewState::initial(&volume, "ct-soft-tissue", RenderMode::Composite);
    let whole = renderer.render_image(&view, size).expect("renders");
    let [right, left] = lit_right_and_left(&whole, &volume, &view.camera);
    let area = f64::from(size[0] * size[1]);
    assert!(
        right as f64 > 0.02 * area && left as f64 > 0.02 * area,
        "the sample fills both halves: {right} right, {left} left of {area} pixels"
    );
    view.crop = render_core::view::CropBox {
        min: [0.5, 0.0, 0.0],
        max: [1.0, 1.0, 1.0],
    };
    let cropped = renderer.render_image(&view, size).expect("renders");
    let [cut_right, kept_left] = lit_right_and_left(&cropped, &volume, &view.camera);
    // Tolerance: at most 1 % of the uncropped right half's lit pixels stay lit (edge
    // sampling); the kept half keeps at least half of its own (its cut face may differ).
    assert!(
        cut_right as f64 <= 0.01 * right as f64,
        "the cut (right) half is background: {cut_right} of {right} pixels still lit"
    );
    assert!(
        kept_left as f64 >= 0.5 * left as f64,
        "the left half stays: {kept_left} of {left} pixels lit"
    );
    // And the picture itself: the torso's left half, its cut face towards the viewer's left.
    assert_matches_golden("torso-crop-patient-left-half", &cropped, PRESET_GOLDEN);
}

#[test]
fn golden_images_of_the_torso_in_every_built_in_preset() {
    let (volume, mut renderer) = phantom_on_renderer();
    let library = render_core::transfer::PresetLibrary::builtin();
    let mut frames = Vec::new();
    for preset in library.presets() {
        let frame = preset_view_of_the_torso(&volume, &mut renderer, preset);
        let name = format!("torso-{}", preset.name);
        assert_matches_golden(&name, &frame, PRESET_GOLDEN);
        let mean = mean_channel_difference(&frame, &golden(&name));
        assert!(
            mean.iter().all(|&m| m <= PRESET_GOLDEN_MEAN),
            "{name}: mean channel differences {mean:?} over {PRESET_GOLDEN_MEAN}"
        );
        frames.push((name, frame));
    }
    assert!(frames.len() >= 7, "every built-in preset is drawn");
    // The tolerance tells presets apart: each render fails against every other preset's
    // golden.
    for (name, frame) in &frames {
        for (other, _) in frames.iter().filter(|(other, _)| other != name) {
            let reference = golden(other);
            let share =
                support::render::differing_share(frame, &reference, PRESET_GOLDEN.per_pixel);
            let mean = mean_channel_difference(frame, &reference);
            assert!(
                share > PRESET_GOLDEN.max_share || mean.iter().any(|&m| m > PRESET_GOLDEN_MEAN),
                "{name} passes as {other}: {:.2}% differ, means {mean:?}",
                share * 100.0
            );
        }
    }
}

#[test]
fn interactive_frames_resemble_full_ones_at_a_fraction_of_the_pixels() {
    let (volume, mut renderer) = phantom_on_renderer();
    let mut view = ViewState::initial(&volume, "ct-bone", RenderMode::Composite);
    let full = renderer.render_image(&view, [256, 256]).expect("renders");
    view.quality = render_core::view::Quality::Interactive;
    renderer.interactive.scale = 0.5;
    let interactive = renderer.render_image(&view, [256, 256]).expect("renders");
    assert_eq!((interactive.width, interactive.height), (256, 256));
    // Blurrier and noisier, but the same picture. Compared in 4×4-pixel blocks: the
    // torso's ribs are a few pixels wide, so their edges alone differ pixel by pixel.
    let tolerance = Tolerance {
        per_pixel: 40,
        max_share: 0.08,
    };
    let (full_blocks, interactive_blocks) = (block_means(&full, 4), block_means(&interactive, 4));
    assert_similar(&full_blocks, &interactive_blocks, tolerance, "interactive");
    // A different picture does not pass: the lung preset's.
    view.quality = render_core::view::Quality::Full;
    view.preset = "ct-lung".into();
    let lung = renderer.render_image(&view, [256, 256]).expect("renders");
    let share =
        support::render::differing_share(&block_means(&lung, 4), &full_blocks, tolerance.per_pixel);
    assert!(
        share > tolerance.max_share,
        "the lung preset passes as the bone preset: {:.1}% of blocks differ",
        share * 100.0
    );
}

/// `frame` shrunk by `block` on each side, each pixel the mean of a block of pixels.
fn block_means(frame: &FrameImage, block: u32) -> FrameImage {
    let (width, height) = (frame.width / block, frame.height / block);
    let mut rgba = Vec::with_capacity((width * height * 4) as usize);
    for y in 0..height {
        for x in 0..width {
            let mut sums = [0u32; 4];
            for dy in 0..block {
                for dx in 0..block {
                    let pixel = frame.pixel(x * block + dx, y * block + dy);
                    for (sum, channel) in sums.iter_mut().zip(pixel) {
                        *sum += u32::from(channel);
                    }
                }
            }
            rgba.extend(sums.map(|sum| (sum / (block * block)) as u8));
        }
    }
    FrameImage {
        width,
        height,
        rgba,
    }
}

#[test]
fn an_interactive_frame_read_as_drawn_scales_up_to_the_frame_shown() {
    let (volume, mut renderer) = phantom_on_renderer();
    let mut view = ViewState::initial(&volume, "ct-bone", RenderMode::Composite);
    view.quality = render_core::view::Quality::Interactive;
    let size = [256, 200];
    // Held at 0.35 of the sides: the budget alone would draw so small a view at half.
    renderer.interactive = InteractiveBudget::pinned(0.35, InteractiveBudget::STEP);
    let shown = renderer.render_image(&view, size).expect("renders");
    let drawn = renderer
        .render_image_as_drawn(&view, size)
        .expect("renders");
    // 0.35 of each side, rounded to even: 89.6 → 90, 70.
    assert_eq!((drawn.width, drawn.height), (90, 70));
    // Scaled up bilinearly (as a browser or a GPU texture draws it), it is the frame shown.
    let picture =
        image::RgbaImage::from_raw(drawn.width, drawn.height, drawn.rgba).expect("a whole picture");
    let upscaled = image::imageops::resize(
        &picture,
        size[0],
        size[1],
        image::imageops::FilterType::Triangle,
    );
    let upscaled = FrameImage {
        width: size[0],
        height: size[1],
        rgba: upscaled.into_raw(),
    };
    assert_similar(
        &shown,
        &upscaled,
        Tolerance {
            per_pixel: 2,
            max_share: 0.002,
        },
        "as-drawn-upscaled",
    );
    // A full-quality frame is drawn at its own size.
    view.quality = render_core::view::Quality::Full;
    let full = renderer.render_image(&view, size).expect("renders");
    let full_as_drawn = renderer
        .render_image_as_drawn(&view, size)
        .expect("renders");
    assert_eq!(full, full_as_drawn);
}

#[test]
fn bad_requests_get_errors_not_panics() {
    let (volume, mut renderer) = phantom_on_renderer();
    let mut view = ViewState::initial(&volume, "no-such-preset", RenderMode::Composite);
    let error = renderer
        .render_image(&view, [64, 64])
        .expect_err("unknown preset");
    assert!(error.to_string().contains("no-such-preset"), "{error}");
    assert!(
        error.to_string().contains("ct-bone"),
        "lists the known presets: {error}"
    );
    view.preset = "ct-bone".into();
    let error = renderer
        .render_image(&view, [0, 64])
        .expect_err("zero width");
    assert!(error.to_string().contains("0×64"), "{error}");
    // The renderer still works after refusing.
    renderer
        .render_image(&view, [64, 64])
        .expect("renders after errors");
}
