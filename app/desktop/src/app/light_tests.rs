//! The Light menu, driven through egui_kittest on the software adapter as a user would: on
//! the phantom rendered here a light from the patient's left brightens the picture's
//! right (the anterior view puts the patient's left there) and one from the right its
//! left, and shadows and ambient occlusion change the picture; cinematic rendering refines
//! the resting view here; in `connect` the same menu sends `light`, the server's view
//! carries it back, and with Cinematic the server streams its refinements.

use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use render_core::view::{LightDirection, Lighting};

use super::findings_tests::thin_client_of_phantom_server;
use super::ui_tests::{differing, remote, settle, window, workspace};
use super::*;

/// Opens the Light menu and clicks `choice` in it.
fn pick(harness: &mut Harness<'_, DesktopApp>, choice: &str) {
    if harness.query_by_label(choice).is_none() {
        harness.get_by_label("Light").click();
        harness.run_steps(2);
    }
    harness.get_by_label(choice).click();
    harness.run_steps(2);
}

/// The 3D view's pixels (RGBA rows) once drawn at full quality, with its width.
fn view_pixels(harness: &mut Harness<'_, DesktopApp>) -> (Vec<u8>, usize) {
    let State::Local(workspace) = &mut harness.state_mut().state else {
        panic!("rendered here");
    };
    let width = workspace
        .view3d
        .drawn_size()
        .map(|[width, _]| width as usize)
        .expect("drawn");
    (workspace.view3d_pixels().expect("the 3D view"), width)
}

/// Red + green + blue summed over the left and the right half of a picture.
fn halves((pixels, width): &(Vec<u8>, usize)) -> [f64; 2] {
    hounsfield_test_support::render::brightness_halves(*width as u32, pixels)
}

/// Steps the window until the local view is lit as `lighting` and drawn in full.
fn lit_as(harness: &mut Harness<'_, DesktopApp>, what: &str, lighting: Lighting) {
    settle(harness, what, |app| {
        workspace(app).is_some_and(|w| w.view3d.view.lighting == lighting) && app.full_frame_shown()
    });
}

#[test]
fn the_light_menu_lights_the_phantom_from_the_side_picked_and_adds_shadows_and_occlusion() {
    let folder = tempfile::tempdir().expect("temp folder");
    let mut harness = window(None, folder.path().join("settings.toml"));
    settle(&mut harness, "the phantom shown", |app| {
        app.full_frame_shown()
    });
    let headlight = view_pixels(&mut harness);

    let mut lighting = Lighting {
        direction: LightDirection::Toward([1.0, 0.0, 0.0]),
        ..Lighting::default()
    };
    pick(&mut harness, "from the patient's left");
    lit_as(&mut harness, "lit from the left", lighting);
    let from_left = view_pixels(&mut harness);
    lighting.direction = LightDirection::Toward([-1.0, 0.0, 0.0]);
    pick(&mut harness, "from the patient's right");
    lit_as(&mut harness, "lit from the right", lighting);
    let from_right = view_pixels(&mut harness);
    let ([left_a, right_a], [left_b, right_b]) = (halves(&from_left), halves(&from_right));
    assert!(
        right_a > 1.1 * right_b && left_b > 1.1 * left_a,
        "each half brighter lit from its own side: right {right_a:.0} against {right_b:.0}, left {left_b:.0} against {left_a:.0}"
    );
    assert!(differing(&headlight.0, &from_right.0) > headlight.0.len() / 100);

    lighting.shadows = true;
    pick(&mut harness, "Shadows");
    lit_as(&mut harness, "with shadows", lighting);
    lighting.occlusion = true;
    pick(&mut harness, "Ambient occlusion");
    lit_as(&mut harness, "with shadows and occlusion", lighting);
    let shaded = view_pixels(&mut harness);
    let [left_s, right_s] = halves(&shaded);
    assert!(
        left_s + right_s < 0.98 * (left_b + right_b),
        "shadows and occlusion darken the picture: {:.0} against {:.0}",
        left_s + right_s,
        left_b + right_b
    );
}

#[test]
fn cinematic_refines_the_resting_view_here_to_the_picture_render_cinematic_draws() {
    let folder = tempfile::tempdir().expect("temp folder");
    let mut harness = window(None, folder.path().join("settings.toml"));
    settle(&mut harness, "the phantom shown", |app| {
        app.full_frame_shown()
    });
    pick(&mut harness, "Cinematic");
    settle(&mut harness, "two whole passes", |app| {
        workspace(app)
            .and_then(|w| w.view3d.cinematic_passes())
            .is_some_and(|(passes, under_way)| passes >= 2 && !under_way)
    });
    assert!(harness.query_by_label_contains("cinematic · ").is_some());
    let State::Local(local) = &mut harness.state_mut().state else {
        panic!("rendered here");
    };
    let [shown, drawn] = local.cinematic_pictures().expect("both pictures");
    assert!(
        shown.rgba == drawn.rgba,
        "refined between frames, the picture render_cinematic draws with the same paths"
    );
    // A turn of the camera starts the picture again.
    let State::Local(local) = &mut harness.state_mut().state else {
        panic!("rendered here");
    };
    local.view3d.view.camera.orbit(20.0, 0.0);
    local.view3d.refresh();
    settle(&mut harness, "a new picture", |app| {
        workspace(app)
            .and_then(|w| w.view3d.cinematic_passes())
            .is_some_and(|(passes, _)| passes < 2)
    });
}

#[test]
fn connect_sends_the_light_picked_and_the_servers_view_carries_it() {
    let (server, _folder, mut harness) = thin_client_of_phantom_server();
    settle(&mut harness, "the server's frame", |app| {
        app.full_frame_shown() && remote(app).is_some_and(|view| view.mirror.is_some())
    });
    pick(&mut harness, "from above the head");
    pick(&mut harness, "Shadows");
    let wanted = Lighting {
        direction: LightDirection::Toward([0.0, 0.0, 1.0]),
        shadows: true,
        occlusion: false,
        cinematic: false,
    };
    // The client's copy of the view, and the view the server tells at rest.
    settle(&mut harness, "the server's view lit from above", |app| {
        remote(app).is_some_and(|view| {
            view.mirror
                .as_ref()
                .is_some_and(|mirror| mirror.lighting == wanted)
                && view.told_view().is_some_and(|told| told.lighting == wanted)
        }) && app.full_frame_shown()
    });
    // Cinematic: the server path traces the resting view (the 3D view alone) and streams
    // its refinements, which the status line counts.
    harness.get_by_label("1×1").click();
    harness.run_steps(2);
    pick(&mut harness, "Cinematic");
    settle(
        &mut harness,
        "the server's cinematic picture of 2 paths",
        |app| {
            remote(app).is_some_and(|view| {
                view.told_view().is_some_and(|told| told.lighting.cinematic)
                    && view.status_text().contains("cinematic · 2 paths a pixel")
            })
        },
    );
    drop(harness);
    server.stop().expect("served");
}
