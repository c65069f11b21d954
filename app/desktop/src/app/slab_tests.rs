//! Slabs in the desktop window, driven through egui_kittest on the software adapter as a
//! user would: a slice cell's slab control thickens that cell alone, and a thin slice
//! brings its picture back; on the phantom rendered here, and on a server's 2×2 frame in
//! `connect`.

use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use hounsfield_protocol::SlicePlane;
use render_core::view::{Slab, SlabMode};

use super::findings_tests::{quad_settings, thin_client_of_phantom_server};
use super::ui_tests::{differing, remote, settle, window, workspace};
use super::*;

/// The axial, coronal and sagittal slices' pixels as the window last drew them.
fn slices(harness: &mut Harness<'_, DesktopApp>) -> [Vec<u8>; 3] {
    let State::Local(workspace) = &mut harness.state_mut().state else {
        panic!("rendered here");
    };
    [0, 1, 2].map(|index| workspace.slice_pixels(index).expect("the slice drawn"))
}

/// Picks `choice` in the menu of the coronal cell's slab control, labelled `button`.
fn choose(harness: &mut Harness<'_, DesktopApp>, button: &str, choice: &str) {
    harness.get_by_label(button).click();
    harness.run_steps(2);
    harness.get_by_label(choice).click();
    harness.run_steps(2);
}

#[test]
fn a_coronal_slab_thickens_the_coronal_cell_alone_and_thin_brings_it_back() {
    let (_folder, settings) = quad_settings();
    let mut harness = window(None, settings);
    settle(&mut harness, "the phantom in 2×2", |app| {
        app.full_frame_shown()
            && workspace(app).is_some_and(|w| w.slices.iter().all(|slice| slice.rect().is_some()))
    });
    let before = slices(&mut harness);

    choose(&mut harness, "Coronal slab: thin", "20 mm");
    settle(&mut harness, "the coronal slab drawn", |app| {
        workspace(app).is_some_and(|w| !w.link.slabs.coronal.is_thin()) && app.full_frame_shown()
    });
    let link = workspace(harness.state()).expect("local").link;
    assert_eq!(
        link.slabs.coronal,
        Slab {
            mm: 20.0,
            mode: SlabMode::Mip
        }
    );
    assert!(link.slabs.axial.is_thin() && link.slabs.sagittal.is_thin());
    assert!(harness.query_by_label("Coronal slab: 20 mm MIP").is_some());
    let thick = slices(&mut harness);
    for (index, name) in [(0, "axial"), (2, "sagittal")] {
        let off = differing(&before[index], &thick[index]);
        assert!(
            off <= before[index].len() / 1000,
            "the {name} slice changed ({off} values)"
        );
    }
    let changed = differing(&before[1], &thick[1]);
    assert!(
        changed > before[1].len() / 200,
        "the coronal slab did not change the picture ({changed} values)"
    );
    let shared = workspace(harness.state()).expect("local").shared_view();
    assert_eq!(shared.slabs.of(SlicePlane::Coronal).mm, 20.0);

    choose(&mut harness, "Coronal slab: 20 mm MIP", "thin");
    settle(&mut harness, "the thin coronal slice drawn", |app| {
        workspace(app).is_some_and(|w| w.link.slabs.all_thin()) && app.full_frame_shown()
    });
    let thin = slices(&mut harness);
    let off = differing(&before[1], &thin[1]);
    assert!(
        off <= before[1].len() / 1000,
        "the thin coronal slice is not as before ({off} values)"
    );
}

/// The window's pixels inside `cell` (points; the harness draws at one pixel a point).
fn cell_pixels(harness: &mut Harness<'_, DesktopApp>, cell: egui::Rect) -> Vec<u8> {
    let image = harness.render().expect("the window rendered");
    let (x, y) = (cell.min.x.round() as u32, cell.min.y.round() as u32);
    let (w, h) = (cell.width().round() as u32, cell.height().round() as u32);
    image::imageops::crop_imm(&image, x, y, w, h)
        .to_image()
        .into_raw()
}

/// Steps the window until the pixels in `cell` differ from `before` in more than `least`
/// values (`more`) or in at most `least` (`!more`); the pixels then.
fn until_cell(
    harness: &mut Harness<'_, DesktopApp>,
    cell: egui::Rect,
    before: &[u8],
    least: usize,
    more: bool,
) -> Vec<u8> {
    let started = std::time::Instant::now();
    loop {
        harness.step();
        let now = cell_pixels(harness, cell);
        if (differing(before, &now) > least) == more {
            return now;
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(60),
            "the server's cell did not change as wanted: {} values differ",
            differing(before, &now)
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

/// The pixels in `cell` once two frames a moment apart show the same.
fn steady_cell(harness: &mut Harness<'_, DesktopApp>, cell: egui::Rect) -> Vec<u8> {
    let mut last = cell_pixels(harness, cell);
    let started = std::time::Instant::now();
    loop {
        std::thread::sleep(std::time::Duration::from_millis(200));
        harness.step();
        let now = cell_pixels(harness, cell);
        if differing(&last, &now) == 0 {
            return now;
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(60),
            "the server's frame did not settle"
        );
        last = now;
    }
}

#[test]
fn connect_thickens_one_cell_of_the_servers_layout_with_its_slab_control() {
    let (server, _folder, mut harness) = thin_client_of_phantom_server();
    // The server's own 2×2 frame: its crosshair message places the planes' lines.
    settle(&mut harness, "the server's 2×2 frame", |app| {
        app.full_frame_shown()
            && remote(app).is_some_and(|view| {
                view.handle(SlicePlane::Axial, SlicePlane::Coronal)
                    .is_some()
            })
    });
    let cells = remote(harness.state())
        .map(|view| SlicePlane::ALL.map(|plane| view.slice_cell(plane)))
        .expect("streamed");
    let [Some(axial), Some(coronal), Some(_)] = cells else {
        panic!("the 2×2 cells: {cells:?}");
    };
    // The slab buttons sit at the cells' bottom edge: compare the cells above them.
    let upper = |cell: egui::Rect| {
        egui::Rect::from_min_size(cell.min, egui::vec2(cell.width(), cell.height() * 0.7))
    };
    let axial_before = steady_cell(&mut harness, upper(axial));
    let coronal_before = cell_pixels(&mut harness, upper(coronal));

    choose(&mut harness, "Coronal slab: thin", "20 mm");
    let coronal_thick = until_cell(
        &mut harness,
        upper(coronal),
        &coronal_before,
        coronal_before.len() / 200,
        true,
    );
    let mirrored = remote(harness.state())
        .and_then(|view| view.mirror.as_ref().map(|mirror| mirror.slabs))
        .expect("the mirror");
    assert_eq!(
        mirrored.coronal,
        Slab {
            mm: 20.0,
            mode: SlabMode::Mip
        }
    );
    assert!(mirrored.axial.is_thin() && mirrored.sagittal.is_thin());
    // The server's final still: the axial cell as it was (an interactive frame on the way
    // may differ everywhere, coarser).
    until_cell(
        &mut harness,
        upper(axial),
        &axial_before,
        axial_before.len() / 1000,
        false,
    );
    assert!(differing(&coronal_before, &coronal_thick) > coronal_before.len() / 200);

    choose(&mut harness, "Coronal slab: 20 mm MIP", "thin");
    until_cell(
        &mut harness,
        upper(coronal),
        &coronal_before,
        coronal_before.len() / 1000,
        false,
    );
    drop(harness);
    server.stop().expect("served");
}
