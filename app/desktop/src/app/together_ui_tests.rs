//! The thin client's bar for reading together, clicked as a user would: Record, Stop
//! recording, the Recordings menu and a recording's Play, which shows its timeline; and
//! Share, which shows the join link to copy.

use std::sync::Arc;

use egui_kittest::kittest::Queryable;

use super::ui_tests::{remote, settle, thin_client};
use super::*;
use crate::thin_client::connection::Together;

/// What the window's link was told of reading together.
fn together(app: &DesktopApp) -> Together {
    remote(app).map(RemoteView::together).unwrap_or_default()
}

#[test]
fn the_thin_client_records_lists_plays_and_shares_with_its_buttons() {
    let state = tempfile::tempdir().expect("a state folder");
    let mut config =
        hounsfield_server::ServerConfig::new(std::net::SocketAddr::from(([127, 0, 0, 1], 0)));
    config.recordings_folder = Some(state.path().join("recordings"));
    config.h264_encoders = Vec::new();
    let library = Arc::new(hounsfield_server::Library::phantom(256 << 20));
    let scheduler = hounsfield_workstation::renderer::start_renderer().expect("a render thread");
    let server =
        hounsfield_server::BackgroundServer::start("together-ui", config, library, scheduler)
            .expect("listens");
    let url = format!("http://127.0.0.1:{}", server.address().port());
    let mut harness = thin_client(url, state.path().join("settings.toml"));
    settle(
        &mut harness,
        "the server's frames",
        DesktopApp::full_frame_shown,
    );

    harness.get_by_label("Record").click();
    settle(&mut harness, "recording", |app| {
        together(app).recording.is_some()
    });
    std::thread::sleep(std::time::Duration::from_millis(300));
    harness.get_by_label("Stop recording").click();
    settle(&mut harness, "kept", |app| {
        together(app).recording.is_none()
    });
    harness.get_by_label("Recordings").click();
    settle(&mut harness, "listed", |app| {
        !together(app).recordings.is_empty()
    });
    harness.run_steps(3);
    let play = harness
        .get_all_by(|node| {
            node.label()
                .is_some_and(|label| label.starts_with("Play 0:"))
        })
        .next()
        .expect("a Play button for the recording");
    play.click();
    settle(&mut harness, "playing", |app| {
        together(app).playback.is_some()
    });
    let ended_or_pausable = together(harness.state()).playback.expect("playing");
    assert!(ended_or_pausable.duration_ms > 100, "{ended_or_pausable:?}");

    harness.get_by_label("Share").click();
    settle(&mut harness, "shared", |app| together(app).shared.is_some());
    harness.run_steps(3);
    let id = together(harness.state()).shared.unwrap_or_default();
    assert_eq!(id.len(), 32, "a join id: {id}");
    // The join link shows, with its Copy button; the recording's timeline plays on.
    harness.get_by_label("Copy");
    harness.get_by_label("Pause");
    drop(server);
}
