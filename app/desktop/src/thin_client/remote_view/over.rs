//! A second series over the slices from the thin client: once the server draws one
//! (`over`, asked by `connect --over SERIES` or by [`RemoteView::ask_over`]), a bar above
//! the frame names it and changes its colour map, opacity and window, or takes it away.
//! The server draws it into the frames; the probe reads its value beside the first's.

use std::time::{Duration, Instant};

use eframe::egui;
use hounsfield_protocol::{OverLink, OverRequest, WindowInfo};
use render_core::Window;
use render_core::colour_map::ColourMap;

use crate::over::{OverEdit, OverStyle, over_bar};

use super::RemoteView;

/// The shortest time between two restyles sent while a slider is dragged (the server
/// holds `over` to a few a second).
pub const OVER_SEND_INTERVAL: Duration = Duration::from_millis(250);

/// A restyle waiting for its turn, and when the last one went.
#[derive(Debug, Default)]
pub(super) struct OverSending {
    waiting: Option<OverRequest>,
    sent_at: Option<Instant>,
}

impl RemoteView {
    /// Asks the server to draw `request`'s series over the slices, restyle it or take it
    /// away; a restyle soon after another waits its turn (the latest wins).
    pub fn ask_over(&mut self, request: OverRequest) {
        self.over_sending.waiting = Some(request);
        self.send_waiting_over(Instant::now());
    }

    /// Sends the waiting restyle once its turn has come.
    fn send_waiting_over(&mut self, now: Instant) {
        let due = self
            .over_sending
            .sent_at
            .is_none_or(|at| now.saturating_duration_since(at) >= OVER_SEND_INTERVAL);
        if !due {
            return;
        }
        if let Some(request) = self.over_sending.waiting.take() {
            if self.link.over(request.clone()) {
                self.over_sending.sent_at = Some(now);
            } else {
                self.over_sending.waiting = Some(request);
            }
        }
    }

    /// The bar of the series drawn over the slices: its name, map, opacity and window,
    /// and Off. Nothing when the server draws none.
    pub(super) fn over_bar(&mut self, ui: &mut egui::Ui) {
        self.send_waiting_over(Instant::now());
        if self.over_sending.waiting.is_some() {
            ui.ctx().request_repaint_after(OVER_SEND_INTERVAL);
        }
        let Some(shown) = self.link.state().over.clone() else {
            return;
        };
        // The style as last asked for (while it is on its way), else as the server drew it.
        let mut style = self
            .over_sending
            .waiting
            .clone()
            .filter(|waiting| waiting.series.as_deref() == Some(shown.series.as_str()))
            .unwrap_or_else(|| OverRequest::drawing(&shown));
        let mut shown_style = OverStyle {
            colours: style
                .colour_map
                .as_deref()
                .and_then(ColourMap::from_name)
                .unwrap_or(ColourMap::Hot),
            opacity: style.opacity.unwrap_or(shown.opacity),
            window: {
                let window = style.window.unwrap_or(shown.window);
                Window {
                    width: window.width,
                    center: window.center,
                }
            },
        };
        let heading = format!("Over: series {} ({})", shown.series, shown.modality);
        let centres = shown.link == OverLink::Centres;
        let edit = over_bar(ui, &heading, centres, &mut shown_style);
        style.colour_map = Some(shown_style.colours.name().to_string());
        style.opacity = Some(shown_style.opacity);
        style.window = Some(WindowInfo {
            width: shown_style.window.width,
            center: shown_style.window.center,
        });
        match edit {
            OverEdit::Off => {
                self.over_sending.waiting = None;
                self.link.over(OverRequest::default());
            }
            OverEdit::Restyled => self.ask_over(style),
            OverEdit::None => {}
        }
    }
}
