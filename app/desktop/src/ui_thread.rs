//! Work that would freeze the window (scanning a folder, asking a PACS) done on a thread of
//! its own, its answer taken when it comes.

use std::sync::mpsc::{Receiver, sync_channel};

use eframe::egui;

/// Runs `work` on a thread called `name`; its answer comes through the receiver, and the
/// window is woken to take it.
pub(super) fn off_the_ui_thread<T: Send + 'static>(
    ctx: &egui::Context,
    name: &str,
    work: impl FnOnce() -> T + Send + 'static,
) -> std::io::Result<Receiver<T>> {
    let (sender, receiver) = sync_channel(1);
    let wake = ctx.clone();
    std::thread::Builder::new()
        .name(name.to_string())
        .spawn(move || {
            let _ = sender.send(work());
            wake.request_repaint();
        })?;
    Ok(receiver)
}
