//! "Share this session": the dialog (port, reach, view-only before; the address with its
//! token while it runs), starting and stopping the in-process server, and showing its
//! viewers the view on screen.

use eframe::egui;
use eframe::egui_wgpu::RenderState;

use super::{DesktopApp, State, window_device};
use crate::findings::model::FindingList;
use crate::pointer_spots::{cell_under, paint_pointers};
use crate::session_share::{ShareOptions, SharedSeries, Sharing};
use crate::share_room::FollowerFinding;
use crate::thin_client::remote_view::entry_of;

impl DesktopApp {
    /// The share dialog: options before sharing, the address and token while it runs.
    pub(super) fn share_window(&mut self, ctx: &egui::Context, render_state: Option<&RenderState>) {
        let Some(mut options) = self.share_dialog.take() else {
            return;
        };
        let mut open = true;
        let mut start = false;
        let mut stop = false;
        egui::Window::new("Share this session")
            .collapsible(false)
            .resizable(false)
            .open(&mut open)
            .show(ctx, |ui| match &self.sharing {
                Some(sharing) => {
                    ui.label("Colleagues open this address (the token is part of it):");
                    let url = sharing.url();
                    ui.horizontal(|ui| {
                        ui.monospace(&url);
                        if ui.button("Copy").clicked() {
                            ui.ctx().copy_text(url.clone());
                        }
                    });
                    ui.label(format!(
                        "Over HTTPS with this machine's own certificate; its SHA-256 fingerprint (in the address too): {}",
                        sharing.fingerprint
                    ));
                    ui.label(if sharing.view_only {
                        "View-only: they see what you see."
                    } else {
                        "They may turn the view on their side."
                    });
                    stop = ui.button("Stop sharing").clicked();
                }
                None => {
                    ui.horizontal(|ui| {
                        ui.label("port");
                        ui.add(egui::DragValue::new(&mut options.port))
                            .on_hover_text("0: any free port");
                    });
                    ui.checkbox(&mut options.all_interfaces, "reachable from other machines");
                    ui.checkbox(&mut options.view_only, "view-only");
                    ui.label("A token is generated; only who has the address with it can connect.");
                    start = ui.button("Start sharing").clicked();
                }
            });
        if start {
            self.start_sharing(&options, render_state);
        }
        if stop {
            self.stop_sharing("sharing stopped");
        }
        if open {
            self.share_dialog = Some(options);
        }
    }

    /// While the session is shared: the window's pointer over the pictures and its
    /// findings told to the followers, theirs drawn over the pictures and added to the
    /// findings as they are made (polled as the window draws, which it does at least 20
    /// times a second while shared).
    pub(super) fn share_room(&mut self, ctx: &egui::Context) {
        let (Some(sharing), State::Local(workspace)) = (&mut self.sharing, &mut self.state) else {
            return;
        };
        let Some((rect, cells)) = workspace.shown else {
            return;
        };
        let under = ctx
            .pointer_hover_pos()
            .and_then(|pos| cell_under(rect, cells.as_ref(), pos));
        let room = &mut sharing.room;
        room.point(under);
        let followers = room.followers();
        for told in room.take_findings() {
            take_follower_finding(&mut workspace.findings.list, &mut room.local_ids, told);
        }
        let theirs: std::collections::BTreeSet<u32> = room.local_ids.values().copied().collect();
        room.tell_findings(
            workspace
                .findings
                .list
                .iter()
                .filter(|entry| !theirs.contains(&entry.id()))
                .map(|entry| &entry.measured),
        );
        let painter = ctx.layer_painter(egui::LayerId::new(
            egui::Order::Foreground,
            egui::Id::unique("followers' pointers"),
        ));
        paint_pointers(&painter, rect, cells.as_ref(), &followers);
        ctx.request_repaint_after(std::time::Duration::from_millis(50));
    }

    /// Starts the in-process server on the window's device for the series on screen.
    fn start_sharing(&mut self, options: &ShareOptions, render_state: Option<&RenderState>) {
        let (State::Local(workspace), Some(render_state)) = (&self.state, render_state) else {
            return;
        };
        let Some(volume) = workspace.renderer().volume().cloned() else {
            return;
        };
        let context = window_device(render_state);
        let series = SharedSeries {
            id: self.label.clone(),
            modality: volume.modality.code().to_string(),
            description: self.overlay.last().cloned().unwrap_or_default(),
            volume,
        };
        let view = workspace.shared_view();
        let presets = workspace.renderer().presets().clone();
        let folder = self
            .settings_path
            .as_deref()
            .and_then(std::path::Path::parent);
        match Sharing::start(context, presets, series, view, options, folder) {
            Ok(sharing) => {
                self.note = Some(format!("sharing at {}", sharing.url()));
                self.sharing = Some(sharing);
            }
            Err(error) => self.warnings.push(format!("sharing failed: {error}")),
        }
    }

    /// Ends the share (its viewers are disconnected), saying why.
    pub(super) fn stop_sharing(&mut self, why: &str) {
        if self.sharing.take().is_some() {
            self.note = Some(why.to_string());
        }
    }

    /// Shows the viewers of a share what is on screen now.
    pub(super) fn publish_shared_view(&self) {
        if let (Some(sharing), State::Local(workspace)) = (&self.sharing, &self.state) {
            sharing.publish(workspace.shared_view());
        }
    }
}

/// A follower's finding taken into the window's findings: numbered here (apart from the
/// desktop's own), by the follower's name; deleted when they delete it.
fn take_follower_finding(
    list: &mut FindingList,
    local_ids: &mut std::collections::BTreeMap<(u64, u32), u32>,
    told: FollowerFinding,
) {
    match told {
        FollowerFinding::Told {
            session,
            name,
            mut finding,
        } => {
            let theirs = finding.id;
            let here = *local_ids
                .entry((session, theirs))
                .or_insert_with(|| list.next_id());
            finding.id = here;
            if finding.author.is_empty() {
                finding.author = name;
            }
            match entry_of(*finding) {
                Some(entry) => list.put(entry),
                None => {
                    local_ids.remove(&(session, theirs));
                }
            }
        }
        FollowerFinding::Deleted { session, id } => {
            if let Some(id) = local_ids.remove(&(session, id)) {
                list.remove(id);
            }
        }
    }
}
