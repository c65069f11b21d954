//! "Export movie…" in the window: the dialog opens from the toolbar, writes the movie off
//! the UI thread while the window goes on drawing, and says where it is; `ffprobe` reads
//! what it wrote.

use egui_kittest::kittest::Queryable;
use hounsfield_test_support::probed;

use super::ui_tests::{settle, window};

#[test]
fn export_movie_writes_an_orbit_of_the_view_that_ffprobe_reads() {
    let folder = tempfile::tempdir().expect("temp folder");
    let mut harness = window(None, folder.path().join("settings.toml"));
    settle(&mut harness, "the phantom shown", |app| {
        app.full_frame_shown()
    });
    harness.get_by_label("Export movie…").click();
    harness.run_steps(3);
    let out = folder.path().join("orbit.mp4");
    {
        let dialog = harness
            .state_mut()
            .movie_dialog
            .as_mut()
            .expect("the dialog opened");
        dialog.file = out.display().to_string();
        dialog.options.shape.frames = 4;
        dialog.options.shape.size = [128, 96];
    }
    harness.run_steps(2);
    harness.get_by_label("Export").click();
    settle(&mut harness, "the movie written", |app| {
        app.movie_dialog
            .as_ref()
            .is_some_and(|dialog| dialog.said.is_some())
    });
    let said = harness
        .state()
        .movie_dialog
        .as_ref()
        .and_then(|dialog| dialog.said.clone())
        .unwrap_or_default();
    assert!(said.starts_with("Saved"), "{said}");
    assert_eq!(probed(&out).as_tuple(), ("h264", 128, 96, 4));
}
