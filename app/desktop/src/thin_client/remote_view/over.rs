//! A second series over the slices from the thin client: once the server draws one
//! (`over`, asked by `connect --over SERIES` or by [`RemoteView::ask_over`]), a bar above
//! the frame names it and changes its colour map, opacity and window, or takes it away.
//! The server draws it into the frames; the probe reads its value beside the first's.

use std::time::{Duration, Instant};

use eframe::egui;
use hounsfield_protocol::{OverLink, OverRequest};
use render_core::colour_map::ColourMap;

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
        let before = style.clone();
        let mut off = false;
        ui.horizontal(|ui| {
            ui.label(format!(
                "Over: series {} ({})",
                shown.series, shown.modality
            ));
            if shown.link == OverLink::Centres {
                ui.label("centres lined up")
                    .on_hover_text("another frame of reference: the volumes' centres meet");
            }
            let mut map = style
                .colour_map
                .as_deref()
                .and_then(ColourMap::from_name)
                .unwrap_or(ColourMap::Hot);
            egui::ComboBox::from_id_salt("over-colour-map")
                .selected_text(map.name())
                .show_ui(ui, |ui| {
                    for each in ColourMap::ALL {
                        ui.selectable_value(&mut map, each, each.name());
                    }
                });
            style.colour_map = Some(map.name().to_string());
            let mut opacity = style.opacity.unwrap_or(shown.opacity);
            ui.add(egui::Slider::new(&mut opacity, 0.0..=1.0).text("opacity"));
            style.opacity = Some(opacity);
            let mut window = style.window.unwrap_or(shown.window);
            let step = (window.width / 100.0).max(0.01);
            ui.add(
                egui::DragValue::new(&mut window.width)
                    .speed(step)
                    .range(f64::MIN_POSITIVE..=f64::MAX)
                    .prefix("W "),
            );
            ui.add(
                egui::DragValue::new(&mut window.center)
                    .speed(step)
                    .prefix("C "),
            );
            style.window = Some(window);
            off = ui.button("Off").clicked();
        });
        if off {
            self.over_sending.waiting = None;
            self.link.over(OverRequest::default());
        } else if style != before {
            self.ask_over(style);
        }
    }
}
