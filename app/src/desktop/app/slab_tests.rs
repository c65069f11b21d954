//! Slabs in the desktop window, driven through egui_kittest on the software adapter as a
//! user would: a slice cell's slab control thickens that cell alone, and a thin slice
//! brings its picture back; on the phantom rendered here.

use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use hounsfield_protocol::SlicePlane;
use render_core::view::{Slab, SlabMode};

use super::findings_tests::quad_settings;
use super::ui_tests::{settle, window, workspace};
use super::*;

/// The RGBA values of two pictures that differ by more than 16.
fn differing(a: &[u8], b: &[u8]) -> usize {
    assert_eq!(a.len(), b.len(), "pictures of one size");
    a.iter()
        .zip(b)
        .filter(|(a, b)| a.abs_diff(**b) > 16)
        .count()
}

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
