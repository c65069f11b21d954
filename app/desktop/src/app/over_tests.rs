//! A second series drawn over the slices rendered here, driven through egui_kittest on the
//! software adapter: Philips' ASL (series 1903) over the MPRAGE (1301) of one frame of
//! reference, picked as the studies panel's row menu picks it. From opacity 0 to 0.5, the
//! axial cell's pixels become the slice's blended with the ASL's hot colour (worked out
//! here from the ASL's voxels at each pixel's point) and the 3D view takes its
//! projection's; the probe tells both values, Off takes the series away from both, and
//! another patient's series is refused.

use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use render_core::colour_map::ColourMap;
use render_core::view::SeriesLink;

use super::findings_tests::quad_settings;
use super::ui_tests::{differing, settle, window_on, workspace};
use super::*;
use hounsfield_test_support::data;

/// The window's RGBA pixels inside `cell` (the harness draws one pixel a point), and
/// their width and height (the part of the cell inside the window).
fn cell_pixels(harness: &mut Harness<'_, DesktopApp>, cell: egui::Rect) -> (Vec<u8>, [u32; 2]) {
    let image = harness.render().expect("the window rendered");
    let (x, y) = (cell.min.x.round() as u32, cell.min.y.round() as u32);
    let (w, h) = (cell.width().round() as u32, cell.height().round() as u32);
    let cropped = image::imageops::crop_imm(&image, x, y, w, h).to_image();
    let size = [cropped.width(), cropped.height()];
    (cropped.into_raw(), size)
}

/// Sets the opacity of the series drawn over (as the bar's slider does) and steps.
fn set_opacity(harness: &mut Harness<'_, DesktopApp>, opacity: f64) {
    if let State::Local(local) = &mut harness.state_mut().state
        && let Some(over) = &mut local.over
    {
        over.drawn.fusion.opacity = opacity;
    }
    harness.run_steps(3);
}

/// The 3D view's pixels, rendered again as it is drawn now.
fn three_d_pixels(harness: &mut Harness<'_, DesktopApp>) -> Vec<u8> {
    match &mut harness.state_mut().state {
        State::Local(local) => local.view3d_pixels().expect("the 3D view drawn"),
        _ => panic!("rendered here"),
    }
}

/// The pixels of `cell` once two renders a moment apart agree.
fn steady(harness: &mut Harness<'_, DesktopApp>, cell: egui::Rect) -> (Vec<u8>, [u32; 2]) {
    let mut last = cell_pixels(harness, cell);
    for _ in 0..20 {
        harness.run_steps(3);
        let now = cell_pixels(harness, cell);
        if differing(&last.0, &now.0) == 0 {
            return now;
        }
        last = now;
    }
    last
}

#[test]
fn the_asl_drawn_over_the_mprage_is_blended_into_the_slices_and_the_probe_tells_both_values() {
    let (_folder, settings) = quad_settings();
    let cl = data("philips-enhanced/In/cl");
    let mut harness = window_on(Some(cl.clone()), Some("1301".to_string()), settings);
    settle(&mut harness, "the MPRAGE in 2×2", |app| {
        app.full_frame_shown()
            && workspace(app).is_some_and(|w| w.slices.iter().all(|s| s.rect().is_some()))
    });
    harness.state_mut().browser.over = Some(OpenChoice {
        path: cl,
        series: Some("1903".to_string()),
    });
    settle(&mut harness, "the ASL drawn over", |app| {
        app.full_frame_shown() && workspace(app).is_some_and(|w| w.over.is_some())
    });
    assert!(
        harness.query_by_label_contains("Over: Se 1903").is_some(),
        "the bar names the series over"
    );
    // The slice alone: the series over at opacity 0 (the bar above the views stays, so
    // the cells stay where they are).
    set_opacity(&mut harness, 0.0);
    let axial = workspace(harness.state())
        .and_then(|w| w.slices[0].rect())
        .expect("the axial cell");
    let (before, [width, height]) = steady(&mut harness, axial);
    let three_d_before = three_d_pixels(&mut harness);
    set_opacity(&mut harness, 0.5);
    let (after, _) = steady(&mut harness, axial);
    // The 3D view has the ASL's projection blended over it too.
    let three_d_after = three_d_pixels(&mut harness);
    let tinted = three_d_before
        .chunks_exact(4)
        .zip(three_d_after.chunks_exact(4))
        .filter(|(a, b)| a.iter().zip(b.iter()).any(|(x, y)| x.abs_diff(*y) > 30))
        .count();
    assert!(
        tinted * 20 >= three_d_before.len() / 4,
        "the ASL shows over the 3D view in {tinted} pixels"
    );
    assert_eq!(
        workspace(harness.state()).and_then(|w| w.slices[0].rect()),
        Some(axial),
        "the axial cell stays where it was"
    );
    let over = workspace(harness.state())
        .and_then(|w| w.over.clone())
        .expect("a series over");
    assert_eq!(
        over.drawn.link,
        SeriesLink::SameFrame,
        "one frame of reference"
    );
    assert_eq!(over.drawn.fusion.colours, ColourMap::Hot);

    // Each pixel where the ASL reaches and its colour shows: the slice's pixel blended
    // with the ASL's hot colour at its window and half opacity, sampled at the pixel's
    // point (trilinear, as the drawing samples).
    let local = workspace(harness.state()).expect("rendered here");
    let fusion = over.drawn.fusion;
    let low = fusion.window.center - fusion.window.width / 2.0;
    let (mut coloured, mut agreeing) = (0, 0);
    for y in (4..height - 4).step_by(7) {
        for x in (4..width - 4).step_by(7) {
            let centre = axial.min + egui::vec2(x as f32 + 0.5, y as f32 + 0.5);
            let Some(lps) = local.slices[0].lps_at(centre) else {
                continue;
            };
            let volume = &over.drawn.volume;
            let Some(value) = volume.trilinear(volume.lps_to_voxel(lps)) else {
                continue;
            };
            let colour = fusion.colours.rgb((value - low) / fusion.window.width);
            let at = ((y * width + x) * 4) as usize;
            let expected: Vec<f64> = (0..3)
                .map(|c| f64::from(before[at + c]) * 0.5 + colour[c] * 255.0 * 0.5)
                .collect();
            let shows = (0..3).any(|c| (expected[c] - f64::from(before[at + c])).abs() > 40.0);
            if !shows {
                continue;
            }
            coloured += 1;
            if (0..3).all(|c| (expected[c] - f64::from(after[at + c])).abs() <= 20.0) {
                agreeing += 1;
            }
        }
    }
    assert!(
        coloured >= 30,
        "the ASL shows in too few pixels ({coloured})"
    );
    assert!(
        agreeing * 10 >= coloured * 9,
        "{agreeing} of {coloured} pixels are the slice blended with the ASL's colour"
    );

    // The probe over a coloured spot tells the MPRAGE's value and the ASL's there.
    harness.hover_at(axial.center());
    harness.run_steps(3);
    let local = workspace(harness.state()).expect("rendered here");
    let (lps, _) = local.slices[0].probe.expect("a probe under the pointer");
    let asl = over
        .drawn
        .value_at(lps)
        .expect("the ASL reaches the centre");
    let text = local.slices[0]
        .probe_text
        .clone()
        .expect("the probe's text");
    assert!(
        text.contains(&format!(", over {asl:.2} at")),
        "{text:?} tells the ASL's {asl:.2}"
    );

    // Off takes the series away.
    harness.get_by_label("Off").click();
    harness.run_steps(3);
    assert!(workspace(harness.state()).is_some_and(|w| w.over.is_none()));
    // (The bar gone, the 3D cell is taller: it is compared with what a renderer of its
    // own, the MPRAGE alone, draws of the same view at the same size.)
    let without = three_d_pixels(&mut harness);
    let local = workspace(harness.state()).expect("rendered here");
    let volume = local.renderer().volume().cloned().expect("the MPRAGE");
    let size = local.view3d.drawn_size().expect("drawn");
    let mut view = local.view3d.view.clone();
    view.quality = render_core::view::Quality::Full;
    let alone = render_core::gpu::testing::renderer_with(volume)
        .render_image(&view, size)
        .expect("drawn");
    assert!(
        without == alone.rgba,
        "the 3D view without it: {} pixels differ",
        differing(&without, &alone.rgba)
    );

    // Another patient's series is not drawn over.
    harness.state_mut().browser.over = Some(OpenChoice {
        path: data("mr-lumbar/SagT1Flair"),
        series: None,
    });
    settle(&mut harness, "another patient's series refused", |app| {
        app.warnings.iter().any(|w| w.contains("another patient"))
    });
    assert!(workspace(harness.state()).is_some_and(|w| w.over.is_none()));
}
