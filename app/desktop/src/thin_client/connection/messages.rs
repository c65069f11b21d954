//! What the worker does with the server's messages and frames: the link's state updated
//! for the UI, frames handed on, transport changes told.

use hounsfield_client::{Client, ClientError, Frame};
use hounsfield_protocol::{ErrorCode, ServerMessage, SlicePlane, StudyInfo, TransportKind};

use super::findings::FindingNews;
use super::segments::SEGMENTATION;
use super::{LinkState, MEASURED_QUEUE, RemoteFrame, TimePointTold, Worker};
use crate::pointer_spots::take_pointer;
use crate::thin_client::reception::Reception;
use crate::thin_client::rulers::{ProbeReading, Ruler, SlicePlacement};

impl Worker {
    /// Takes a frame, whichever transport brought it, into the link's state (see
    /// [`Reception::take`]); asks for a keyframe when the decoder wants one.
    pub(super) async fn on_frame(
        &self,
        reception: &mut Reception,
        client: &mut Client,
        frame: &Frame,
    ) -> Result<(), ClientError> {
        let received = reception.take(frame);
        let header = &frame.header;
        self.update(|state| {
            (state.fps, state.kbit_s) = received.rates;
            state.cinematic_paths = state
                .cinematic_announced
                .filter(|(seq, _)| header.flags.cinematic() && *seq == header.frame_seq)
                .map(|(_, paths)| paths);
            if let Some(latency) = received.latency_ms {
                state.latency_ms = Some(latency);
            }
            match received.picture {
                Ok(Some(image)) => {
                    state.frame = Some(RemoteFrame {
                        size: [image.width as usize, image.height as usize],
                        display_size: [
                            u32::from(header.display_width),
                            u32::from(header.display_height),
                        ],
                        rgba: image.rgba,
                        final_still: header.flags.final_still(),
                        input_seq: header.input_seq,
                    });
                }
                Ok(None) => {}
                Err(error) => {
                    state.server_error = Some(format!("frame {}: {error}", header.frame_seq));
                }
            }
        });
        if received.ask_for_keyframe {
            client.keyframe().await?;
        }
        Ok(())
    }

    /// The server's calcium score, for the UI to take.
    fn on_calcium(&self, report: Box<hounsfield_protocol::CalciumReport>) {
        tracing::info!(
            "calcium: Agatston {:.1} ({}), {} lesions",
            report.total.agatston,
            report.total.category,
            report.total.lesions
        );
        self.update(|state| state.calcium = Some(report));
    }

    /// Whether an error refuses a `calcium`; if so the UI is told why.
    fn calcium_error(&self, message: &str) -> bool {
        if !message.starts_with("calcium") {
            return false;
        }
        let why = message.to_string();
        self.update(|state| state.calcium_refused = Some(why));
        true
    }

    /// The series the server draws over the slices now, or none.
    fn on_over(&self, shown: Option<hounsfield_protocol::OverShown>) {
        match &shown {
            Some(over) => tracing::info!(
                "series {} drawn over the slices ({}, opacity {}, window {} / {})",
                over.series,
                over.colour_map,
                over.opacity,
                over.window.width,
                over.window.center
            ),
            None => tracing::info!("no series drawn over the slices"),
        }
        self.update(|state| state.over = shown);
    }

    /// The frames moved to `transport` (the server said so, or the peer failed: `reason`).
    pub(super) fn on_transport(&self, transport: TransportKind, reason: Option<String>) {
        match transport {
            TransportKind::Webrtc => tracing::info!(url = %self.target.url, "frames over WebRTC"),
            TransportKind::Websocket => tracing::info!(
                url = %self.target.url,
                reason = reason.as_deref().unwrap_or("none given"),
                "frames over the WebSocket"
            ),
        }
        self.update(|state| {
            state.transport = Some(transport);
            state.webrtc_fallback = reason;
        });
    }

    /// Takes a message of the server's into the link's state: an error, where the
    /// crosshair went, the value under the cursor, a ruler measured, the findings.
    pub(super) fn on_message(&self, message: ServerMessage) {
        match message {
            ServerMessage::Error { code, message } => {
                // `save_preset`'s refusals name it, or (forbidden) what only an
                // administrator may do.
                if message.starts_with("save_preset")
                    || code == ErrorCode::Forbidden && message.contains("presets on the server")
                {
                    let why = message.clone();
                    self.update(|state| state.preset_saved = Some(Err(why)));
                }
                if !self.calcium_error(&message) && !self.segments_error(code, &message) {
                    self.findings_error(code, &message);
                }
                self.update(|state| state.server_error = Some(format!("{code:?}: {message}")));
            }
            ServerMessage::Finding(info) => self.findings_told(FindingNews::Told(Box::new(info))),
            ServerMessage::FindingDeleted { id } => self.findings_told(FindingNews::Deleted(id)),
            ServerMessage::View { view, .. } => self.update(|state| state.told_view = Some(*view)),
            ServerMessage::TransferFunction {
                preset, histogram, ..
            } => self.update(|state| state.transfer_function = Some((preset, histogram))),
            ServerMessage::Cinematic {
                frame_seq, paths, ..
            } => self.update(|state| state.cinematic_announced = Some((frame_seq, paths))),
            ServerMessage::TimePoint {
                index,
                count,
                label,
                time_s,
                cine_fps,
                ..
            } => {
                tracing::info!(
                    "time point {} of {count}: {label}{}",
                    index + 1,
                    cine_fps.map_or_else(String::new, |fps| format!(" (cine at {fps} a second)"))
                );
                self.update(|state| {
                    state.time_point = Some(TimePointTold {
                        index,
                        label,
                        time_s,
                        cine_fps,
                    });
                });
            }
            ServerMessage::Over { shown } => self.on_over(shown),
            ServerMessage::Calcium(report) => self.on_calcium(report),
            ServerMessage::Priors { studies, .. } => self.on_priors(studies),
            // Told only in answer to `open_study`, which the link takes itself.
            ServerMessage::Hanging { .. } => {}
            ServerMessage::PresetSaved { name, presets } => {
                self.update(|state| state.preset_saved = Some(Ok((name, presets))));
            }
            // Another participant's, as they made it: shown as the client's own are.
            ServerMessage::SharedFinding { finding, .. } => {
                self.findings_told(FindingNews::Told(Box::new(finding)));
            }
            ServerMessage::SharedFindingDeleted { id, .. } => {
                self.findings_told(FindingNews::Deleted(id));
            }
            message @ ServerMessage::Pointer { .. } => {
                self.update(|state| take_pointer(&mut state.pointers, &message));
            }
            ServerMessage::Findings { series, findings } => {
                self.findings_told(FindingNews::All { series, findings });
            }
            ServerMessage::Saved(saved) if saved.document != SEGMENTATION => {
                self.findings_told(FindingNews::of_saved(saved));
            }
            ServerMessage::Crosshair {
                seq,
                crosshair_lps,
                cells,
                mm_per_pixel,
                planes,
            } => {
                // Kept for a reconnection even before the UI takes it.
                if let Some(view) = self
                    .view
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .as_mut()
                {
                    view.crosshair_lps = Some(crosshair_lps);
                }
                self.update(|state| {
                    state.crosshair_lps = Some(crosshair_lps);
                    state.crosshair_cells = Some((seq, cells));
                    state.slice_planes = Some((seq, planes));
                    state.slice_placement = mm_per_pixel.map(|mm_per_pixel| {
                        (
                            seq,
                            SlicePlacement {
                                crosshair_lps,
                                cells,
                                mm_per_pixel,
                                planes,
                            },
                        )
                    });
                });
            }
            ServerMessage::Probe {
                cell,
                lps_mm,
                value,
                unit,
                values,
                curve,
                over_value,
                suv,
                over_suv,
                ..
            } => {
                if let Some(plane) = SlicePlane::from_name(&cell) {
                    let reading = ProbeReading {
                        plane,
                        lps_mm: glam::DVec3::from_array(lps_mm),
                        value,
                        unit,
                        values,
                        curve,
                        over_value,
                        suv,
                        over_suv,
                    };
                    tracing::info!(
                        "probe {cell}: {} {} at LPS {:?} mm{}",
                        value.map_or_else(|| "outside".to_string(), |v| v.to_string()),
                        reading.unit,
                        lps_mm,
                        over_value.map_or_else(String::new, |v| format!(" (over: {v})"))
                    );
                    self.update(|state| state.probe = Some(reading));
                }
            }
            ServerMessage::Measure {
                cell,
                mm,
                from_lps,
                to_lps,
            } => {
                if let Some(plane) = SlicePlane::from_name(&cell) {
                    tracing::info!("ruler {cell}: {mm} mm from LPS {from_lps:?} to LPS {to_lps:?}");
                    let ruler = Ruler {
                        plane,
                        from_lps: glam::DVec3::from_array(from_lps),
                        to_lps: glam::DVec3::from_array(to_lps),
                        mm,
                    };
                    self.update(|state| {
                        if state.measured.len() == MEASURED_QUEUE {
                            state.measured.pop_front();
                        }
                        state.measured.push_back(ruler);
                    });
                }
            }
            message => {
                if let Some(message) = self.segments_told(message) {
                    self.together_told(message);
                }
            }
        }
    }

    /// Keeps the patient's other studies for the UI to offer beside.
    fn on_priors(&self, studies: Vec<StudyInfo>) {
        tracing::info!("the patient has {} other studies", studies.len());
        self.update(|state| state.priors = Some(studies));
    }

    pub(super) fn update(&self, change: impl FnOnce(&mut LinkState)) {
        {
            let mut state = self
                .state
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            change(&mut state);
        }
        (self.wake)();
    }
}
