//! A second series beside the first: opened from the studies panel's row menu ("Open
//! beside"), `--beside` or a hanging protocol's second cell (`--study`), loaded off the UI
//! thread with a renderer of its own on the window's device, and drawn in the right half
//! of the window, linked to the first.

use std::sync::Arc;

use eframe::egui;
use eframe::egui_wgpu::RenderState;
use render_core::gpu::Renderer;
use render_core::view::SeriesLink;

use super::{DesktopApp, State, load_presets, window_device};
use crate::beside::Beside;
use crate::browser::{OpenChoice, reading_heading};
use crate::loading::{Loaded, Loading, Poll};
use crate::study_hanging::{LocalHanging, apply_cell};
use crate::workspace::LocalWorkspace;

/// The second series: loading, or shown beside the first.
pub(super) enum BesideState {
    /// Being read; the renderer it will have.
    Loading(Loading, Box<Renderer>),
    /// Shown and linked.
    Shown(Box<Beside>),
}

impl DesktopApp {
    /// Starts loading `choice` to show beside the series rendered here (a streamed view
    /// opens none); one at a time, replacing the one beside.
    pub(super) fn open_beside(
        &mut self,
        choice: OpenChoice,
        ctx: &egui::Context,
        render_state: Option<&RenderState>,
    ) {
        if !matches!(self.state, State::Local(_)) {
            self.note = Some(
                "a series opens beside another only when the first is rendered here".to_string(),
            );
            return;
        }
        if matches!(self.beside, Some(BesideState::Loading(..))) {
            self.note =
                Some("a series is still loading beside; open the next one after it".to_string());
            return;
        }
        let Some(render_state) = render_state else {
            return;
        };
        let (presets, _) = load_presets(&self.settings);
        let renderer = Renderer::new(window_device(render_state), presets);
        let ctx = ctx.clone();
        let loading = Loading::start(Some(choice.path), choice.series, None, move || {
            ctx.request_repaint()
        });
        self.beside = Some(BesideState::Loading(loading, Box::new(renderer)));
    }

    /// Lays the reading out as `hung` says: `first` (its first cell's series, just
    /// loaded) starts as that cell hangs it, and the second cell's series opens beside it.
    pub(super) fn hang(&mut self, first: &mut LocalWorkspace, hung: LocalHanging) {
        if let Some(protocol) = &hung.protocol {
            tracing::info!(
                "hanging protocol {protocol:?}: series {} in the first cell",
                hung.first.series
            );
        }
        apply_cell(first, &hung.first);
        if let Some(second) = hung.beside {
            self.start_beside = Some(OpenChoice {
                path: hung.path,
                series: Some(second.series.clone()),
            });
            self.beside_cell = Some(second);
        }
        for unshown in hung.unshown {
            tracing::info!(
                "the hanging protocol's cell of series {unshown} is not shown: the window shows two"
            );
        }
    }

    /// Moves a finished load beside the first series (or its error into the warnings).
    pub(super) fn poll_beside(&mut self, render_state: Option<&RenderState>) {
        let Some(BesideState::Loading(loading, _)) = &self.beside else {
            return;
        };
        let Poll::Done(result) = loading.poll() else {
            return;
        };
        let Some(BesideState::Loading(_, renderer)) = self.beside.take() else {
            return;
        };
        let (State::Local(first), Some(render_state)) = (&mut self.state, render_state) else {
            self.warnings.push(
                "the series beside was dropped: the first is no longer rendered here".to_string(),
            );
            return;
        };
        let cell = self.beside_cell.take();
        let Loaded {
            opened,
            findings,
            unread,
            ..
        } = match result {
            Ok(loaded) => *loaded,
            Err(error) => {
                self.warnings
                    .push(format!("the series beside did not open: {error}"));
                return;
            }
        };
        let Some(first_volume) = first.renderer().volume().cloned() else {
            return;
        };
        let volume = Arc::new(opened.volume);
        let second_frame = opened
            .subject
            .as_ref()
            .map(|subject| subject.frame_of_reference_uid.as_str());
        let link = SeriesLink::between(
            first.findings.frame_of_reference(),
            second_frame,
            &first_volume,
            &volume,
        );
        let (mut workspace, warnings) = LocalWorkspace::new(
            *renderer,
            render_state.clone(),
            volume,
            first.layout,
            findings,
        );
        workspace.set_suv_factor(opened.suv_factor);
        self.warnings.extend(opened.warnings);
        self.warnings.extend(warnings);
        self.warnings.extend(unread);
        let label = match &cell {
            Some(cell) => {
                apply_cell(&mut workspace, cell);
                let heading = reading_heading(cell.role.name(), &cell.date, &cell.description);
                tracing::info!("beside: series {} ({heading})", cell.series);
                heading
            }
            None => opened.label,
        };
        let beside = Beside::new(first, workspace, label, link);
        let at = beside.workspace.link.crosshair;
        crate::beside::note_position(at);
        self.beside = Some(BesideState::Shown(Box::new(beside)));
    }

    /// Draws the first series' views, and the second's beside them when there is one;
    /// then keeps the two in step.
    pub(super) fn local_views(&mut self, ui: &mut egui::Ui) {
        let State::Local(first) = &mut self.state else {
            return;
        };
        let Some(beside) = &mut self.beside else {
            first.ui(ui);
            return;
        };
        let (mut left_ui, mut right_ui) = crate::beside::halves(ui);
        first.ui(&mut left_ui);
        let mut closed = false;
        match beside {
            BesideState::Loading(loading, _) => {
                right_ui.vertical_centered(|ui| {
                    ui.add_space(ui.available_height() * 0.4);
                    ui.spinner();
                    ui.label(format!("Loading {} beside…", loading.what));
                });
            }
            BesideState::Shown(shown) => {
                closed = shown.controls(&mut right_ui, first);
                shown.workspace.ui(&mut right_ui);
            }
        }
        if closed {
            self.beside = None;
        } else if let Some(BesideState::Shown(shown)) = &mut self.beside {
            let before = shown.workspace.link.crosshair;
            if shown.follow(first) {
                let at = shown.workspace.link.crosshair;
                if at != before {
                    crate::beside::note_position(at);
                }
                ui.ctx().request_repaint();
            }
        }
    }
}
