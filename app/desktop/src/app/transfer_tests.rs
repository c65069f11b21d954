//! The Transfer panel, driven through egui_kittest on the software adapter as a user
//! would: on the phantom rendered here a mouse drag of the opacity curve's highest point
//! (among the volume's values) down to nothing makes that range transparent — the 3D view
//! then equals the render core's drawing of the preset file Save wrote, read back from the
//! reader's presets folder, and that file reads back byte-identical; in `connect` the same
//! drag sends `transfer`, the server's view at rest carries the edited function, and
//! `Save on the server` writes it into the server's presets folder and offers it.

use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use render_core::gpu::{GpuContext, Renderer};
use render_core::transfer::{Preset, PresetLibrary, PresetRules};

use super::findings_tests::drag;
use super::ui_tests::{differing, remote, settle, thin_client, window, workspace};
use super::*;
use crate::transfer_editor::Curve;

/// Opens the Transfer panel and waits until the editor shows a function.
fn open_editor(harness: &mut Harness<'_, DesktopApp>) {
    harness.get_by_label("Transfer").click();
    settle(harness, "the editor filled", |app| app.transfer.is_shown());
}

/// Drags the opacity curve's highest point among the volume's values down to nothing;
/// which point it was.
fn drag_highest_point_down(harness: &mut Harness<'_, DesktopApp>) -> usize {
    let preset = harness.state().transfer.edited().expect("a function");
    let high = harness
        .state()
        .transfer
        .histogram()
        .expect("the histogram")
        .high;
    let (n, _) = preset
        .opacity
        .iter()
        .enumerate()
        .filter(|(_, point)| point.value < high)
        .max_by(|a, b| a.1.opacity.total_cmp(&b.1.opacity))
        .expect("a point among the values");
    let from = harness
        .state()
        .transfer
        .point_on_screen(Curve::Opacity, n)
        .expect("drawn");
    drag(harness, from, from + egui::vec2(0.0, 200.0));
    n
}

#[test]
fn dragging_an_opacity_point_here_draws_what_the_saved_preset_draws_and_it_reloads_byte_identical()
{
    let folder = tempfile::tempdir().expect("temp folder");
    let mut harness = window(None, folder.path().join("settings.toml"));
    settle(&mut harness, "the phantom shown", |app| {
        app.full_frame_shown()
    });
    // The panel narrows the 3D view: its picture before the edit is taken beside it.
    open_editor(&mut harness);
    settle(&mut harness, "the narrower view drawn", |app| {
        app.full_frame_shown()
    });
    let State::Local(local) = &mut harness.state_mut().state else {
        panic!("rendered here");
    };
    let before = local.view3d_pixels().expect("the 3D view");
    let n = drag_highest_point_down(&mut harness);
    settle(&mut harness, "the edit drawn in full", |app| {
        workspace(app).is_some_and(|w| {
            w.view3d
                .view
                .transfer
                .as_ref()
                .is_some_and(|edited| edited.opacity[n].opacity == 0.0)
        }) && app.full_frame_shown()
    });
    let State::Local(local) = &mut harness.state_mut().state else {
        panic!("rendered here");
    };
    let edited_view = local.view3d_pixels().expect("the 3D view");
    assert!(
        differing(&before, &edited_view) > before.len() / 100,
        "the edit changes the picture"
    );

    // Saved under a name of the reader's into the presets folder beside the settings.
    harness.state_mut().transfer.name = "bone see-through".to_string();
    harness.get_by_label("Save preset").click();
    harness.run_steps(3);
    let file = folder.path().join("presets").join("bone see-through.toml");
    let text = std::fs::read_to_string(&file).expect("the preset saved");
    let saved = Preset::from_toml(&text, "saved").expect("the saved file reads");
    assert_eq!(
        saved.to_toml().expect("written again"),
        text,
        "the saved preset reloads byte-identical"
    );
    let mut shown = workspace(harness.state())
        .and_then(|w| w.view3d.view.transfer.clone())
        .expect("the edit shown");
    shown.name.clone_from(&saved.name);
    assert_eq!(*shown, saved, "the file holds the function shown");
    assert!(
        workspace(harness.state()).is_some_and(|w| w
            .renderer()
            .presets()
            .get(&saved.name)
            .is_some()),
        "the saved preset is offered"
    );

    // The render core draws the saved preset, by name, as the window shows the edit.
    let State::Local(local) = &mut harness.state_mut().state else {
        panic!("rendered here");
    };
    let volume = local.renderer().volume().cloned().expect("a volume");
    let size = local.view3d.drawn_size().expect("drawn");
    let mut view = local.view3d.view.clone();
    view.transfer = None;
    view.preset.clone_from(&saved.name);
    view.quality = render_core::view::Quality::Full;
    let context = GpuContext::headless().expect("an adapter");
    let mut renderer = Renderer::new(context, PresetLibrary::builtin().with_preset(saved));
    renderer.load_volume(volume);
    let drawn = renderer.render_image(&view, size).expect("drawn");
    assert_eq!(
        differing(&drawn.rgba, &edited_view),
        0,
        "the saved preset draws the picture the edit showed"
    );
}

#[test]
fn connect_sends_the_dragged_function_the_servers_view_carries_it_and_it_is_saved_there() {
    let folder = tempfile::tempdir().expect("temp folder");
    let presets = folder.path().join("server presets");
    let mut config =
        hounsfield_server::ServerConfig::new(std::net::SocketAddr::from(([127, 0, 0, 1], 0)));
    config.h264_encoders = Vec::new();
    config.presets_folder = Some(presets.clone());
    let library = Arc::new(hounsfield_server::Library::phantom(256 << 20));
    let scheduler = Arc::new(
        hounsfield_server::Scheduler::start(PresetLibrary::builtin(), 1).expect("a render thread"),
    );
    let server = hounsfield_server::BackgroundServer::start(
        "transfer-ui-server",
        config,
        library,
        scheduler,
    )
    .expect("listens");
    let url = format!("http://127.0.0.1:{}", server.address().port());
    let mut harness = thin_client(url, folder.path().join("settings.toml"));
    settle(&mut harness, "the server's frame", |app| {
        app.full_frame_shown() && remote(app).is_some_and(|view| view.mirror.is_some())
    });
    open_editor(&mut harness);
    let n = drag_highest_point_down(&mut harness);
    settle(&mut harness, "the server's view with the edit", |app| {
        let edited = |preset: Option<&Preset>| preset.is_some_and(|p| p.opacity[n].opacity == 0.0);
        remote(app).is_some_and(|view| {
            edited(view.mirror.as_ref().and_then(|m| m.transfer.as_deref()))
                && edited(
                    view.told_view()
                        .as_ref()
                        .and_then(|t| t.transfer.as_deref()),
                )
        }) && app.full_frame_shown()
    });

    // Open to anyone, the server takes this client for its administrator: it saves there.
    harness.state_mut().transfer.name = "bone on the server".to_string();
    harness.get_by_label("Save on the server").click();
    settle(&mut harness, "the server's answer", |app| {
        app.transfer
            .status
            .as_deref()
            .is_some_and(|said| said.starts_with("Saved on the server"))
    });
    let text = std::fs::read_to_string(presets.join("bone on the server.toml"))
        .expect("written on the server");
    let saved = Preset::from_toml(&text, "saved").expect("reads");
    assert_eq!(saved.opacity[n].opacity, 0.0, "the function dragged");
    assert!(
        remote(harness.state())
            .and_then(|view| view.opened.as_ref())
            .is_some_and(|opened| opened.presets.iter().any(|name| name == &saved.name)),
        "the preset menu offers it"
    );
    drop(harness);
    server.stop().expect("served");
}
