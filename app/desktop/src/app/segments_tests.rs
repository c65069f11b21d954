//! Segments in the desktop window, driven through egui_kittest on the software adapter as
//! a user would: the panel opened and its buttons clicked, the brush and the eraser
//! dragged over a slice with the pointer. The voxels are checked against the geometry of
//! the drag (every voxel of the slice near the path painted, none far from it), a
//! threshold against a count of the CT's own values, the 3D view against itself before,
//! and the saved Segmentation with dciodvfy and read back.

use std::sync::Arc;

use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use glam::DVec3;
use hounsfield_findings::segmentation::read_segmentation_file;
use hounsfield_segment::Mask;
use hounsfield_test_support::{data, dciodvfy_passes};
use render_core::Volume;
use render_core::view::SliceFrame;

use hounsfield_client::{Client, Event};
use hounsfield_protocol::{ClientMessage, SegmentInfo, ServerMessage, SlicePlane, Viewport};

use super::findings_tests::{drag, quad_settings, thin_client_of_phantom_server};
use super::ui_tests::{differing, remote, settle, window, window_with, workspace};
use super::*;
use crate::segments::panel::numbers_line;

/// The window's local workspace, to change.
fn workspace_mut<'h>(harness: &'h mut Harness<'_, DesktopApp>) -> &'h mut LocalWorkspace {
    match &mut harness.state_mut().state {
        State::Local(workspace) => workspace,
        _ => panic!("a series rendered here"),
    }
}

/// The voxels of segment `id`, once no edit is under way.
fn voxels_of(harness: &Harness<'_, DesktopApp>, id: u32) -> Mask {
    workspace(harness.state())
        .and_then(|w| w.segments.mask(id))
        .expect("the segment")
}

/// Waits until no edit is under way.
fn edits_done(harness: &mut Harness<'_, DesktopApp>, what: &str) {
    settle(harness, what, |app| {
        workspace(app).is_some_and(|w| !w.segments.busy())
    });
}

/// The distance from `p` to the segment from `a` to `b`.
fn to_segment(p: DVec3, a: DVec3, b: DVec3) -> f64 {
    let along = b - a;
    let t = ((p - a).dot(along) / along.length_squared()).clamp(0.0, 1.0);
    p.distance(a + along * t)
}

/// The voxel centres (LPS) of the axial slice of `volume` through `on_slice`, with their
/// flat indices.
fn axial_slice(volume: &Volume, on_slice: DVec3) -> Vec<(usize, DVec3)> {
    let k = volume.lps_to_voxel(on_slice).z.round() as usize;
    let [ni, nj, _] = volume.dims;
    (0..nj)
        .flat_map(|j| (0..ni).map(move |i| (i, j)))
        .map(|(i, j)| {
            let centre = volume
                .voxel_to_lps
                .transform_point3(DVec3::new(i as f64, j as f64, k as f64));
            (i + ni * (j + nj * k), centre)
        })
        .collect()
}

#[test]
fn a_segment_painted_and_erased_by_mouse_thresholded_shown_in_3d_and_saved_as_a_valid_seg() {
    let (_folder, settings) = quad_settings();
    let mut harness = window(Some(data("ct-head-neck")), settings.clone());
    settle(&mut harness, "the CT in 2×2", |app| {
        app.full_frame_shown() && workspace(app).is_some_and(|w| w.slices[0].rect().is_some())
    });
    let volume: Arc<Volume> = workspace(harness.state())
        .and_then(|w| w.renderer().volume().cloned())
        .expect("a volume");
    harness.get_by_label("Segments").click();
    harness.run_steps(4);
    let before_3d = workspace_mut(&mut harness)
        .view3d_pixels()
        .expect("the 3D view drawn");
    // A stroke of the 5 mm brush across the axial slice.
    let (painted_id, rect) = added_and_painting(&mut harness);
    let (from, to) = (
        rect.center() + egui::vec2(-50.0, 10.0),
        rect.center() + egui::vec2(45.0, -10.0),
    );
    let under = |harness: &Harness<'_, DesktopApp>, pos| {
        workspace(harness.state())
            .and_then(|w| w.slices[0].lps_at(pos))
            .expect("drawn")
    };
    let (a, b) = (under(&harness, from), under(&harness, to));
    drag(&mut harness, from, to);
    edits_done(&mut harness, "the stroke painted");
    let painted = voxels_of(&harness, painted_id);
    let radius = 5.0;
    // Every voxel of the slice within nine tenths of the radius of the path is painted
    // (the discs, half a radius apart, cover that much), and none beyond the radius or
    // off the slice.
    let slice = axial_slice(&volume, a);
    let near: Vec<usize> = slice
        .iter()
        .filter(|(_, c)| to_segment(*c, a, b) <= radius * 0.9)
        .map(|(index, _)| *index)
        .collect();
    assert!(near.len() > 500, "{} voxels near the path", near.len());
    let missing = near.iter().filter(|&&i| !painted.contains(i)).count();
    assert_eq!(missing, 0, "voxels near the path left out");
    let within: std::collections::HashSet<usize> = slice
        .iter()
        .filter(|(_, c)| to_segment(*c, a, b) <= radius + 1e-6)
        .map(|(index, _)| *index)
        .collect();
    let stray = painted.indices().filter(|i| !within.contains(i)).count();
    assert_eq!(stray, 0, "voxels painted beyond the brush or off the slice");

    // The panel's numbers: the voxels times one voxel's volume, in mL.
    let info = workspace(harness.state())
        .map(|w| w.segments.list())
        .and_then(|list| list.into_iter().find(|i| i.id == painted_id))
        .expect("listed");
    let voxel_ml = volume.spacing_mm.iter().product::<f64>() / 1000.0;
    assert_eq!(info.numbers.voxels, painted.count());
    assert!((info.numbers.volume_ml - painted.count() as f64 * voxel_ml).abs() < 1e-9);
    harness.get_by_label(&numbers_line(&info));

    // The eraser across the stroke (clear of the crosshair's lines and their handles)
    // takes the voxels near its own path out.
    harness.get_by_label("Erase").click();
    harness.run_steps(2);
    let (across_from, across_to) = (
        rect.center() + egui::vec2(20.0, -40.0),
        rect.center() + egui::vec2(20.0, 40.0),
    );
    let (c, d) = (under(&harness, across_from), under(&harness, across_to));
    drag(&mut harness, across_from, across_to);
    edits_done(&mut harness, "the stroke erased");
    let erased = voxels_of(&harness, painted_id);
    assert!(erased.count() < painted.count());
    for index in painted.indices() {
        let centre = slice
            .iter()
            .find(|(i, _)| *i == index)
            .map(|(_, c)| *c)
            .expect("on the slice");
        let distance = to_segment(centre, c, d);
        if distance <= radius * 0.9 {
            assert!(
                !erased.contains(index),
                "{centre} is {distance:.2} mm from the eraser"
            );
        } else if distance > radius + 1e-6 {
            assert!(erased.contains(index), "{centre} is beyond the eraser");
        }
    }
    // Undo takes the eraser's stroke back.
    harness.get_by_label("Undo").click();
    edits_done(&mut harness, "the erase taken back");
    harness.run_steps(2);
    assert_eq!(voxels_of(&harness, painted_id), painted);
    filled_between_on_a_turned_slice(&mut harness, &volume);

    // A second segment, the CT's bone by threshold: as many voxels as the CT has values
    // in the range, counted here.
    workspace_mut(&mut harness).segments.tools.range = [300.0, 3000.0];
    // Preview first: the slices show the range's voxels over the segments, before
    // Threshold takes them (which ends the preview).
    harness.get_by_label("Preview").click();
    settle(&mut harness, "the threshold's preview", |app| {
        workspace(app).is_some_and(|w| {
            w.segments.on_slices().segments.len() == w.segments.shown().segments.len() + 1
        })
    });
    let previewed = workspace(harness.state())
        .and_then(|w| w.segments.on_slices().segments.last().cloned())
        .map(|overlay| overlay.mask.count())
        .expect("the preview");
    harness.get_by_label("Add segment").click();
    harness.run_steps(2);
    let bone_id = workspace(harness.state())
        .and_then(|w| w.segments.tools.selected)
        .expect("selected");
    assert_ne!(bone_id, painted_id);
    harness.get_by_label("Threshold").click();
    harness.run_steps(1);
    edits_done(&mut harness, "the threshold");
    let bone = voxels_of(&harness, bone_id);
    let counted = (0..volume.voxels.len())
        .filter(|&i| {
            volume
                .voxels
                .get(i)
                .is_some_and(|v| (300.0..=3000.0).contains(&v))
        })
        .count();
    assert_eq!(bone.count(), counted);
    assert!(counted > 10_000, "{counted} bone voxels");
    assert_eq!(previewed, counted, "the preview showed what Threshold took");
    let preview_gone = workspace(harness.state()).is_some_and(|w| {
        w.segments.on_slices().segments.len() == w.segments.shown().segments.len()
    });
    assert!(preview_gone, "Threshold ends the preview");

    // The 3D view shows the segments: the bone takes its segment's colour.
    harness.run_steps(4);
    let after_3d = workspace_mut(&mut harness)
        .view3d_pixels()
        .expect("the 3D view drawn");
    let changed = differing(&before_3d, &after_3d);
    assert!(changed > 2_000, "{changed} values of the 3D view changed");

    // Saved: a Segmentation that dciodvfy passes, with both segments' voxels.
    harness.get_by_label("Save segments").click();
    settle(&mut harness, "the segments saved", |app| {
        workspace(app).is_some_and(|w| w.segments.tools.last_save.is_some())
    });
    let said = workspace(harness.state())
        .and_then(|w| w.segments.tools.last_save.clone())
        .expect("a save")
        .expect("saved");
    let file = said
        .split(" to ")
        .nth(1)
        .map(std::path::PathBuf::from)
        .expect("the file named");
    assert!(said.starts_with("Saved 2 segments"), "{said}");
    dciodvfy_passes(&file);
    let read = read_segmentation_file(&file, &volume).expect("read back");
    let counts: Vec<usize> = read.segments.iter().map(|s| s.mask.count()).collect();
    assert_eq!(counts, vec![painted.count(), bone.count()]);
    assert_eq!(*read.segments[1].mask, bone);
    drop(harness);
    shown_again(settings, &[painted, bone], counted);
}

/// Adds a segment by the panel and picks Paint: the new segment's id and where the axial
/// slice is drawn.
fn added_and_painting(harness: &mut Harness<'_, DesktopApp>) -> (u32, egui::Rect) {
    harness.get_by_label("Add segment").click();
    harness.run_steps(2);
    let id = workspace(harness.state())
        .and_then(|w| w.segments.tools.selected)
        .expect("the new segment is selected");
    harness.get_by_label("Paint").click();
    harness.run_steps(2);
    let rect = workspace(harness.state())
        .and_then(|w| w.slices[0].rect())
        .expect("the axial slice drawn");
    (id, rect)
}

/// The slice planes turned 30° about L: a short stroke on the axial slice, the same stroke
/// 4 mm further along its normal, and Fill between joins them across the turned slices
/// between: beyond one stroke, the stroke's area times the 4 mm (one stroke is its area
/// times a voxel's extent along the normal), within 8 %. The segment is deleted after and
/// the planes turned back.
fn filled_between_on_a_turned_slice(harness: &mut Harness<'_, DesktopApp>, volume: &Volume) {
    let turn = 30f64.to_radians();
    workspace_mut(harness).link.frame = SliceFrame {
        rotation: glam::DQuat::from_rotation_x(turn),
    };
    harness.run_steps(2);
    let (id, rect) = added_and_painting(harness);
    let (from, to) = (
        rect.center() + egui::vec2(-45.0, 35.0),
        rect.center() + egui::vec2(-15.0, 35.0),
    );
    drag(harness, from, to);
    edits_done(harness, "the first stroke");
    let one = voxels_of(harness, id).count();
    let normal = {
        let link = &mut workspace_mut(harness).link;
        let normal = link.frame.normal(SlicePlane::Axial);
        link.crosshair += normal * 4.0;
        normal
    };
    harness.run_steps(2);
    drag(harness, from, to);
    edits_done(harness, "the second stroke");
    let two = voxels_of(harness, id).count();
    assert!(two > one * 19 / 10, "two strokes apart: {one} then {two}");
    harness.get_by_label("Fill between").click();
    harness.run_steps(1);
    edits_done(harness, "filled between");
    let filled = voxels_of(harness, id).count();
    let thickness: f64 = (0..3)
        .map(|axis| normal[axis].abs() * volume.spacing_mm[axis])
        .sum();
    let ratio = (filled - one) as f64 / one as f64 / (4.0 / thickness);
    assert!(
        (ratio - 1.0).abs() < 0.08,
        "{filled} voxels filled from {one} a stroke ({thickness:.2} mm thick): {ratio}"
    );
    let workspace = workspace_mut(harness);
    workspace.segments.delete(id);
    workspace.link.frame = SliceFrame::STANDARD;
    harness.run_steps(2);
}

/// Opened again on `settings`: the panel lists the Segmentation saved, and Show brings its
/// segments back as they were (`saved`, the second `counted` voxels).
fn shown_again(settings: std::path::PathBuf, saved: &[Mask], counted: usize) {
    let mut harness = window(Some(data("ct-head-neck")), settings);
    settle(&mut harness, "the CT again", |app| {
        app.full_frame_shown() && workspace(app).is_some_and(|w| w.slices[0].rect().is_some())
    });
    harness.get_by_label("Segments").click();
    harness.run_steps(2);
    assert!(
        workspace(harness.state()).is_some_and(|w| w.segments.list().is_empty()),
        "none shown before asked"
    );
    harness.get_by_label("Show").click();
    settle(&mut harness, "the saved segments shown", |app| {
        workspace(app).is_some_and(|w| w.segments.list().len() == 2 && !w.segments.busy())
    });
    let back = workspace(harness.state())
        .map(|w| w.segments.list())
        .expect("local");
    let masks: Vec<Mask> = back
        .iter()
        .map(|info| voxels_of(&harness, info.id))
        .collect();
    assert_eq!(masks, saved);
    assert_eq!(back[1].numbers.voxels, counted);
    assert_eq!(back[0].algorithm, "MANUAL");
}

/// The segments of the phantom as a second session on `server` is told them (`segments`).
fn segments_of_a_second_session(server: &hounsfield_server::BackgroundServer) -> Vec<SegmentInfo> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    runtime.block_on(async {
        let mut second = Client::connect(&server.websocket_url())
            .await
            .expect("connects");
        let viewport = Viewport {
            width: 160,
            height: 120,
        };
        second.hello(None, viewport).await.expect("welcome");
        second.open("phantom").await.expect("opened");
        second.send(&ClientMessage::Segments).await.expect("asked");
        tokio::time::timeout(std::time::Duration::from_secs(20), async {
            loop {
                if let Event::Message(ServerMessage::Segments { segments, .. }) =
                    second.next_event().await.expect("the server answers")
                {
                    return segments;
                }
            }
        })
        .await
        .expect("told in time")
    })
}

/// The segments `connect` lists.
fn listed(harness: &Harness<'_, DesktopApp>) -> Vec<SegmentInfo> {
    remote(harness.state())
        .map(|view| view.segments.list.clone())
        .unwrap_or_default()
}

#[test]
fn connect_paints_and_thresholds_segments_the_server_measures_and_a_second_session_is_told_the_same()
 {
    let (server, _folder, mut harness) = thin_client_of_phantom_server();
    harness.get_by_label("Segments").click();
    harness.run_steps(2);
    harness.get_by_label("Add segment").click();
    settle(&mut harness, "the segment listed and selected", |app| {
        remote(app).is_some_and(|view| {
            view.segments.list.len() == 1 && view.segments.tools.selected.is_some()
        })
    });

    // A stroke of the brush over the axial cell: the server paints and measures it.
    harness.get_by_label("Paint").click();
    harness.run_steps(2);
    let cell = remote(harness.state())
        .and_then(|view| view.slice_cell(SlicePlane::Axial))
        .expect("the axial cell");
    drag(
        &mut harness,
        cell.center() + egui::vec2(-40.0, 15.0),
        cell.center() + egui::vec2(35.0, -15.0),
    );
    settle(&mut harness, "the stroke measured", |app| {
        remote(app).is_some_and(|view| {
            view.segments
                .list
                .first()
                .is_some_and(|info| info.numbers.voxels > 0)
        })
    });
    let painted = listed(&harness)[0].clone();
    assert_eq!(painted.algorithm, "MANUAL");
    assert!(painted.numbers.volume_ml > 0.0);

    // A second segment, the phantom's bone by threshold, previewed first: Preview sends
    // the range (segment_preview), and Threshold ends it.
    if let State::Remote { view, .. } = &mut harness.state_mut().state {
        view.segments.tools.range = [300.0, 3000.0];
    }
    harness.get_by_label("Preview").click();
    settle(&mut harness, "the preview asked", |app| {
        remote(app).is_some_and(|view| {
            view.segments.preview_asked() == Some(Some(([300.0, 3000.0], Some(painted.id))))
        })
    });
    harness.get_by_label("Add segment").click();
    settle(&mut harness, "the second segment selected", |app| {
        remote(app).is_some_and(|view| {
            view.segments.list.len() == 2
                && view.segments.tools.selected == view.segments.list.last().map(|i| i.id)
        })
    });
    harness.get_by_label("Threshold").click();
    settle(&mut harness, "the threshold measured", |app| {
        remote(app).is_some_and(|view| {
            view.segments
                .list
                .last()
                .is_some_and(|info| info.numbers.voxels > 0)
        })
    });
    let bone = listed(&harness)[1].clone();
    settle(&mut harness, "the preview ended", |app| {
        remote(app).is_some_and(|view| view.segments.preview_asked() == Some(None))
    });
    let phantom = render_core::phantom::ct_phantom();
    let counted = (0..phantom.voxels.len())
        .filter(|&i| {
            phantom
                .voxels
                .get(i)
                .is_some_and(|v| (300.0..=3000.0).contains(&v))
        })
        .count();
    assert_eq!(bone.numbers.voxels, counted);
    assert!(bone.algorithm == "SEMIAUTOMATIC", "{}", bone.algorithm);
    harness.get_by_label(&numbers_line(&bone));

    // A second session is told the same segments with the same numbers.
    let told = segments_of_a_second_session(&server);
    let numbers = |list: &[SegmentInfo]| {
        list.iter()
            .map(|info| (info.id, info.numbers.voxels, info.numbers.volume_ml))
            .collect::<Vec<_>>()
    };
    assert_eq!(numbers(&told), numbers(&listed(&harness)));

    // Undo takes the threshold back; saving the phantom is refused with the reason.
    harness.get_by_label("Undo").click();
    settle(&mut harness, "the threshold taken back", |app| {
        remote(app).is_some_and(|view| {
            view.segments
                .list
                .last()
                .is_some_and(|info| info.numbers.voxels == 0)
        })
    });
    harness.get_by_label("Save segments").click();
    settle(&mut harness, "the save answered", |app| {
        remote(app).is_some_and(|view| view.segments.tools.last_save.is_some())
    });
    let why = remote(harness.state())
        .and_then(|view| view.segments.tools.last_save.clone())
        .expect("answered")
        .expect_err("the phantom is no DICOM study");
    assert!(why.contains("no DICOM study"), "{why}");
    // Run model asks the server, which has none and says how to give it one.
    harness.get_by_label("Run model").click();
    settle(&mut harness, "the model refused", |app| {
        remote(app).is_some_and(|view| {
            view.segments
                .tools
                .problem
                .as_deref()
                .is_some_and(|why| why.contains("--model"))
        })
    });
}

/// The site's model (`open --model`), a three-class model the test builds with onnx's
/// helpers: Run model runs it here on the real CT, its progress shown; its two classes
/// become segments with as many voxels as NumPy counts; a run stopped at once adds none.
#[test]
fn the_sites_model_runs_here_and_its_classes_become_segments_as_numpy_counts_them() {
    let folder = tempfile::tempdir().expect("a folder");
    let model_path = folder.path().join("three-classes.onnx");
    let model_arg = model_path.to_string_lossy().into_owned();
    hounsfield_test_support::imaging_python_script(
        "onnx_model.py",
        &["make", &model_arg, "--patch", "16,64,64"],
    );
    let ct = data("ct-head-neck");
    let numpy = hounsfield_test_support::imaging_python_script(
        "onnx_model.py",
        &["expect", &ct.to_string_lossy()],
    );
    let model = hounsfield_model::SegmentationModel::load(&model_path).expect("the model read");
    let (_settings_folder, settings) = quad_settings();
    let mut harness = window_with(Some(ct), None, settings, Some(Arc::new(model)));
    settle(&mut harness, "the CT in 2×2", |app| {
        app.full_frame_shown() && workspace(app).is_some_and(|w| w.slices[0].rect().is_some())
    });
    harness.get_by_label("Segments").click();
    harness.run_steps(4);
    harness.get_by_label("Run model").click();
    harness.run_steps(2);
    harness.get_by_label_contains("three-classes: ");
    settle(&mut harness, "the model's segments", |app| {
        workspace(app).is_some_and(|w| w.segments.list().len() == 2)
    });
    let here = |harness: &Harness<'_, DesktopApp>| {
        workspace(harness.state())
            .map(|w| w.segments.list())
            .unwrap_or_default()
    };
    let list = here(&harness);
    assert_eq!(list.len(), 2, "{list:?}");
    for (info, class) in list.iter().zip(["class 1", "class 2"]) {
        assert_eq!(info.label, format!("three-classes {class}"), "{info:?}");
        assert_eq!(info.algorithm, "AUTOMATIC", "{info:?}");
        assert_eq!(
            Some(info.numbers.voxels as u64),
            numpy[class].as_u64(),
            "{class}: {info:?}\n{numpy}"
        );
    }
    harness.get_by_label("three-classes: 2 segments found");
    // Run again and stopped at once: after its first patch, nothing more is added.
    harness.get_by_label("Run model").click();
    harness.run_steps(1);
    harness.get_by_label("Stop model").click();
    settle(&mut harness, "the run stopped", |app| {
        workspace(app).is_some_and(|w| {
            w.segments
                .offer(Ok(()))
                .model
                .flatten()
                .is_some_and(|said| said.contains("stopped after"))
        })
    });
    assert_eq!(here(&harness), list);
}

/// `connect` to a server keeping findings in a folder (the GE EPI series): a threshold
/// saved as a Segmentation is listed under Saved before once the server has kept it, and
/// Show adds its segment again, voxel for voxel as the server counts them.
#[test]
fn connect_lists_the_segmentation_the_server_kept_and_shows_it_again() {
    let state = tempfile::tempdir().expect("temp folder");
    let server = super::key_image_tests::epi_server(&state.path().join("findings"));
    let url = format!("http://127.0.0.1:{}", server.address().port());
    let mut harness = super::ui_tests::thin_client_in_quad(url, state.path().join("settings.toml"));
    harness.get_by_label("Segments").click();
    harness.run_steps(2);
    if let State::Remote { view, .. } = &mut harness.state_mut().state {
        view.segments.tools.range = [300.0, 100_000.0];
    }
    harness.get_by_label("Add segment").click();
    settle(&mut harness, "the segment selected", |app| {
        remote(app).is_some_and(|view| view.segments.tools.selected.is_some())
    });
    harness.get_by_label("Threshold").click();
    settle(&mut harness, "the threshold measured", |app| {
        remote(app).is_some_and(|view| {
            view.segments
                .list
                .first()
                .is_some_and(|info| info.numbers.voxels > 0)
        })
    });
    let thresholded = listed(&harness)[0].clone();
    assert!(remote(harness.state()).is_some_and(|view| view.segments.saved.is_empty()));
    harness.get_by_label("Save segments").click();
    settle(&mut harness, "the save answered and listed", |app| {
        remote(app).is_some_and(|view| {
            view.segments.tools.last_save.is_some() && !view.segments.saved.is_empty()
        })
    });
    let saved = remote(harness.state())
        .map(|view| view.segments.saved.clone())
        .expect("listed");
    assert_eq!(saved.len(), 1, "{saved:?}");
    assert_eq!(
        saved[0].segments,
        vec![thresholded.label.clone()],
        "{saved:?}"
    );
    // Show adds the saved segment beside the one drawn, with the same voxels.
    harness.get_by_label("Show").click();
    settle(&mut harness, "the saved segment shown", |app| {
        remote(app).is_some_and(|view| view.segments.list.len() == 2)
    });
    let shown = listed(&harness)[1].clone();
    assert_eq!(shown.label, thresholded.label);
    assert_eq!(shown.numbers.voxels, thresholded.numbers.voxels);
    assert_eq!(shown.numbers.volume_ml, thresholded.numbers.volume_ml);
}

/// A PET rendered here (written by the test with pydicom, its SUV factor worked out by
/// QIBA's formula in Python): a segment made by a threshold over its hot ball is told in
/// SUV, its SUVmax the highest voxel's Bq/ml of the segment times Python's factor.
#[test]
fn a_pets_segment_made_here_is_told_in_suv_by_the_factor_of_qibas_formula() {
    let (folder, settings) = quad_settings();
    let pet = folder.path().join("pet");
    std::fs::create_dir(&pet).expect("a folder");
    let pet_arg = pet.to_string_lossy().to_string();
    let theirs = hounsfield_test_support::imaging_python_script(
        "pet_phantom.py",
        &[&pet_arg, "-20,-20,-15,20,20,30"],
    );
    let factor = theirs["factor"].as_f64().expect("Python's SUV factor");
    let hot = theirs["centre_bq_ml"].as_f64().expect("the ball's Bq/ml");
    let mut harness = window(Some(pet), settings);
    settle(&mut harness, "the PET in 2×2", |app| {
        app.full_frame_shown() && workspace(app).is_some_and(|w| w.slices[0].rect().is_some())
    });
    harness.get_by_label("Segments").click();
    harness.run_steps(2);
    workspace_mut(&mut harness).segments.tools.range = [hot * 0.5, hot * 10.0];
    harness.get_by_label("Add segment").click();
    harness.run_steps(2);
    harness.get_by_label("Threshold").click();
    harness.run_steps(1);
    edits_done(&mut harness, "the threshold");
    let local = workspace(harness.state()).expect("rendered here");
    let info = local.segments.list().remove(0);
    assert!(info.numbers.voxels > 0, "the ball's voxels");
    let suv = info.numbers.suv.expect("a PET's segment in SUV");
    let volume = local.renderer().volume().cloned().expect("the PET");
    let highest = voxels_of(&harness, info.id)
        .indices()
        .filter_map(|index| volume.voxels.get(index))
        .fold(f64::NEG_INFINITY, f64::max);
    let expected = highest * factor;
    assert!(
        (suv.suv_max - expected).abs() <= 0.01 + 1e-6 * expected,
        "SUVmax {} against {expected} (Bq/ml {highest} × {factor})",
        suv.suv_max
    );
    assert!(suv.suv_mean <= suv.suv_max && suv.suv_peak <= suv.suv_max);
    harness.get_by_label_contains(&format!("SUVmax {:.2}", suv.suv_max));
}
