//! Reading together in the thin client's window: a bar over the picture to share the
//! session (its join link shown to copy), to ask for the controls of a shared session
//! joined or give them back, to answer who asks when this window shares (Grant, Refuse,
//! Take back), to record the session, to list the series' recordings and play one, and,
//! while one plays, its timeline (play or pause, a knob to seek, the time, the speed).

use eframe::egui;
use hounsfield_protocol::{ClientMessage, PlaybackAction};

use super::RemoteView;
use crate::thin_client::connection::Together;

/// The speeds a recording plays at, as the web page offers them.
const SPEEDS: [f64; 6] = [0.25, 0.5, 1.0, 2.0, 4.0, 8.0];

/// `ms` as m:ss.
fn clock(ms: f64) -> String {
    let seconds = (ms.max(0.0) / 1000.0).round() as u64;
    format!("{}:{:02}", seconds / 60, seconds % 60)
}

impl RemoteView {
    /// What the link was told of reading together (for the window's tests).
    #[cfg(test)]
    pub fn together(&self) -> Together {
        self.link.state().together.clone()
    }

    /// The bar over the picture: sharing, the controls, recording and playing.
    pub(super) fn together_bar(&mut self, ui: &mut egui::Ui) {
        let together = self.link.state().together.clone();
        let mut told = Vec::new();
        ui.horizontal_wrapped(|ui| {
            self.sharing_and_controls(ui, &together, &mut told);
            ui.separator();
            let recording = together.recording.is_some();
            if ui
                .selectable_label(
                    recording,
                    if recording {
                        "Stop recording"
                    } else {
                        "Record"
                    },
                )
                .on_hover_text(
                    "record this session: its views, pointers and findings, not its pixels",
                )
                .clicked()
            {
                told.push(if recording {
                    ClientMessage::StopRecording
                } else {
                    ClientMessage::StartRecording
                });
            }
            let menu = ui.menu_button("Recordings", |ui| {
                if together.recordings.is_empty() {
                    ui.label("No recordings of this series");
                }
                for recording in &together.recordings {
                    let who = if recording.user.is_empty() {
                        String::new()
                    } else {
                        format!(" · {}", recording.user)
                    };
                    let line = format!("{}{who}", clock(recording.duration_ms as f64));
                    if ui.button(format!("Play {line}")).clicked() {
                        told.push(ClientMessage::PlayRecording {
                            id: recording.id.clone(),
                        });
                        ui.close();
                    }
                }
            });
            if menu.response.clicked() {
                told.push(ClientMessage::ListRecordings { series: None });
            }
            if let Some(why) = &together.recording_stopped {
                ui.label(format!("Recording stopped: {why}"));
            }
        });
        if let Some(playing) = &together.playback {
            ui.horizontal(|ui| {
                let (action, label) = if playing.playing {
                    (PlaybackAction::Pause, "Pause")
                } else {
                    (PlaybackAction::Play, "Play")
                };
                if ui.button(label).clicked() {
                    told.push(ClientMessage::Playback {
                        action,
                        at_ms: None,
                        speed: None,
                    });
                }
                let mut at = playing.at_ms;
                let knob = ui.add(
                    egui::Slider::new(&mut at, 0.0..=playing.duration_ms as f64)
                        .show_value(false)
                        .text(format!(
                            "{} / {}",
                            clock(playing.at_ms),
                            clock(playing.duration_ms as f64)
                        )),
                );
                if knob.drag_stopped() || (knob.changed() && !knob.dragged()) {
                    told.push(ClientMessage::Playback {
                        action: PlaybackAction::Seek,
                        at_ms: Some(at),
                        speed: None,
                    });
                }
                let mut speed = playing.speed;
                egui::ComboBox::from_id_salt("playback speed")
                    .selected_text(format!("{speed}×"))
                    .show_ui(ui, |ui| {
                        for choice in SPEEDS {
                            ui.selectable_value(&mut speed, choice, format!("{choice}×"));
                        }
                    });
                if speed != playing.speed {
                    told.push(ClientMessage::Playback {
                        action: PlaybackAction::Play,
                        at_ms: None,
                        speed: Some(speed),
                    });
                }
            });
        }
        for message in told {
            self.link.tell(message);
        }
    }

    /// Share (or the link shared), and the controls of the shared session.
    fn sharing_and_controls(
        &self,
        ui: &mut egui::Ui,
        together: &Together,
        told: &mut Vec<ClientMessage>,
    ) {
        let steerer = together.steerer.as_ref().and_then(Option::as_ref);
        if self.link.joined() {
            let steers = steerer.is_some_and(|(session, _)| Some(*session) == together.session);
            if steers {
                if ui.button("Give back control").clicked() {
                    told.push(ClientMessage::RevokeControl);
                }
            } else if ui
                .button("Ask for control")
                .on_hover_text("ask the host for the controls of this shared session")
                .clicked()
            {
                told.push(ClientMessage::RequestControl);
            }
            if together.refused {
                ui.label("The host refused");
            }
        } else {
            match &together.shared {
                Some(id) => {
                    let link = format!("{}?join={id}", self.page_url());
                    ui.label("Shared:");
                    ui.monospace(&link);
                    if ui.button("Copy").clicked() {
                        ui.ctx().copy_text(link);
                    }
                }
                None => {
                    if ui
                        .button("Share")
                        .on_hover_text("let colleagues follow this view with a join link")
                        .clicked()
                    {
                        told.push(ClientMessage::Share);
                    }
                }
            }
            for (session, name) in &together.asking {
                ui.label(format!("{name} asks for control"));
                if ui.button("Grant").clicked() {
                    told.push(ClientMessage::GrantControl { session: *session });
                }
                if ui.button("Refuse").clicked() {
                    told.push(ClientMessage::RefuseControl { session: *session });
                }
            }
            if steerer.is_some() && ui.button("Take back control").clicked() {
                told.push(ClientMessage::RevokeControl);
            }
        }
        if let Some((_, name)) = steerer {
            ui.label(format!("{name} steers"));
        }
    }

    /// The server's web page, where a join link points.
    fn page_url(&self) -> String {
        let url = &self.link.target.url;
        let page = url
            .strip_suffix("/ws")
            .unwrap_or(url)
            .replacen("wss://", "https://", 1)
            .replacen("ws://", "http://", 1);
        format!("{page}/")
    }
}
