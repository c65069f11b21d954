//! One WebSocket connection: reads the client's messages into its [`Session`], hands the
//! session's render requests to the scheduler, and writes replies and frames through a
//! writer task behind a bounded queue. `hello` negotiates the codec of interactive frames
//! (H.264 when the client offers it first and an encoder opens, else JPEG, and `welcome`
//! says which and why). Bad messages get an `error` reply and the session goes on; a
//! missing or wrong token closes it. A socket that did not authenticate in its upgrade
//! request must send `hello` with the token within the server's time, and takes a session
//! place (and a renderer slot) only then. Every kind of message is held to a rate of its
//! own ([`MessageRates`]); one over it is answered `rate_limited` and dropped. A session
//! knows its user ([`Identity`]): a viewer only joins sessions others share and watches; a
//! reader opens series, steers and may share its view. The server ends a session whose
//! user was removed, changed or expired, or that an admin ended (close code 1008).

mod calcium;
mod codec;
mod control;
mod findings;
mod frames;
mod handshake;
mod hanging;
mod key_images;
mod listing;
mod loading;
mod model_run;
mod movie;
mod over;
mod pointing;
mod recording;
mod saved_segmentations;
mod segment_split;
mod segments;
mod sharing;
mod signalling;
mod threshold_preview;
mod transfer_function;
mod writer;

use std::net::SocketAddr;
use std::ops::ControlFlow;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::ws::{Message, WebSocket};
use futures_util::StreamExt;
use futures_util::stream::SplitStream;
use tokio::sync::mpsc;

use crate::answers::refuse;
use crate::findings::measuring::MeasuringShare;
use crate::listener::ConnectionPlace;
use crate::metrics::Metrics;
use crate::scheduler::{FrameTicket, SchedulerEvent, SessionSlot};
use crate::session::{Admission, MessageKind, MessageRates, Session};
use crate::sharing::changes_the_view;
use crate::sharing::{Participant, next_in_room};
use crate::state::{App, SessionPlace};
use crate::study_query::StudySearch;
use hounsfield_access::audit::{AuditEvent, Refusal};
use hounsfield_access::identity::{Ending, Identity};
use hounsfield_protocol::{ClientMessage, ErrorCode, ServerMessage, parse_client_message};
use hounsfield_webrtc::WebRtcLink;

use frames::StatsWindow;
use handshake::authenticate;
use sharing::{ToldCrosshair, host_moved};
use writer::write_loop;

/// Messages waiting for the writer; when full, reading pauses (back-pressure).
const OUTGOING_CAPACITY: usize = 16;
/// A write that takes longer than this ends the connection (the client stopped reading).
const WRITE_TIMEOUT: Duration = Duration::from_secs(30);
/// How often `stats` is sent while frames flow.
const STATS_EVERY: Duration = Duration::from_secs(1);
/// How often a client waiting for a series to load hears how far it has come.
const PROGRESS_EVERY: Duration = Duration::from_millis(200);

/// WebSocket close codes used.
/// Why a viewer's `open` or `open_study` is refused.
const VIEWERS_JOIN_ONLY: &str =
    "a viewer may only join sessions others share: ask a reader for a join id";

mod close_code {
    /// The server is shutting down.
    pub const GOING_AWAY: u16 = 1001;
    /// The token was missing or wrong, or came too late; or the user may no longer stay.
    pub const POLICY: u16 = 1008;
    /// All session places are taken, or all connection places and this one had not
    /// authenticated.
    pub const TRY_AGAIN_LATER: u16 = 1013;
    /// Normal closure (idle timeout).
    pub const NORMAL: u16 = 1000;
}

/// What the writer task sends.
enum Outgoing {
    Text(String),
    Frame {
        bytes: Vec<u8>,
        render_us: u32,
        encode_us: u32,
        h264: bool,
        /// Dropped once written: frees the session's in-flight place.
        ticket: FrameTicket,
        /// When the frame's encoding ended.
        encoded: Instant,
    },
    Close(u16, &'static str),
}

/// Runs the connection until the client leaves, the server shuts down or the session
/// times out. `admitted` is the session's place and user when the upgrade request
/// authenticated; without them the client must authenticate in `hello` first, and its
/// `connection` place may be taken by a newcomer until it has.
pub(crate) async fn run(
    socket: WebSocket,
    app: Arc<App>,
    client: SocketAddr,
    admitted: Option<(SessionPlace, Identity)>,
    connection: &ConnectionPlace,
) {
    let (sink, mut stream) = socket.split();
    let (out, out_rx) = mpsc::channel(OUTGOING_CAPACITY);
    let writer = tokio::spawn(write_loop(sink, out_rx, app.metrics.clone()));
    let admitted = match admitted {
        // Its place is kept from now on, unless a newcomer took it since the upgrade.
        Some((place, identity)) => connection
            .authenticated()
            .then_some((place, None, identity)),
        None => authenticate(&mut stream, &app, client, &out, connection)
            .await
            .map(|(place, hello, identity)| (place, Some(hello), identity)),
    };
    if let Some((place, hello, identity)) = admitted {
        serve_session(stream, app, client, out, hello, identity).await;
        drop(place);
    } else {
        drop(out);
    }
    // The writer drains what was queued (a close frame among it) and ends.
    if let Err(error) = writer.await {
        tracing::warn!(%error, "writer task failed");
    }
}

/// Serves an authenticated session: answers `hello` when it came before (during
/// authentication), then messages and frames until the end.
async fn serve_session(
    stream: SplitStream<WebSocket>,
    app: Arc<App>,
    client: SocketAddr,
    out: mpsc::Sender<Outgoing>,
    hello: Option<ClientMessage>,
    identity: Identity,
) {
    let (slot, events) = app.scheduler.register();
    let session = Session::new(
        app.config.limits,
        app.scheduler.presets(),
        app.config.default_viewport,
    );
    let session_id = slot.id();
    let user = identity.name.clone();
    tracing::info!(session = session_id, %client, ?user, role = %identity.role, "session opened");
    let audit = app.config.audit.clone();
    audit.record(&AuditEvent::SessionStart {
        session: session_id,
        client,
        user: user.clone(),
        role: identity.role,
    });
    let ending = app.roster.enter(session_id, identity.clone(), client);
    let now = Instant::now();
    let measuring = MeasuringShare::new(now, app.config.limits.measuring_share_per_s);
    let mut connection = Connection {
        rates: MessageRates::new(&app.config.limits, now),
        app,
        client,
        end: "closed",
        out,
        session,
        slot,
        events,
        greeted: false,
        frame_seq: 0,
        last_message: now,
        window: StatsWindow::new(),
        frames_sent: 0,
        last_quality: String::new(),
        host_view: None,
        told_crosshair: None,
        told_view: None,
        told_time_point: None,
        identity,
        ending,
        sharing: None,
        webrtc: WebRtcLink::default(),
        webrtc_offered: false,
        video_over_rtp_only: false,
        snapshot: None,
        room: None,
        recorder: None,
        playback: None,
        playback_told: now,
        measuring,
        movie: None,
        listed_segmentations: Vec::new(),
        model_run: None,
        calcium_kept: Default::default(),
    };
    let answered = match hello {
        Some(hello) => connection.handle(hello).await,
        None => ControlFlow::Continue(()),
    };
    if answered.is_continue() {
        connection.serve(stream).await;
    }
    // A recording is kept however the session ended (the client may be gone: not told).
    let _ = connection.stop_recording("the session ended").await;
    let reason = connection.end;
    drop(connection);
    audit.record(&AuditEvent::SessionEnd {
        session: session_id,
        client,
        user,
        reason: reason.to_string(),
    });
    tracing::info!(session = session_id, "session closed");
}

struct Connection {
    app: Arc<App>,
    /// The client's address, for the audit log.
    client: SocketAddr,
    /// Why the session ended, for the audit log.
    end: &'static str,
    out: mpsc::Sender<Outgoing>,
    session: Session,
    /// Each kind of message held to its rate.
    rates: MessageRates,
    slot: SessionSlot,
    events: mpsc::Receiver<SchedulerEvent>,
    greeted: bool,
    frame_seq: u32,
    last_message: Instant,
    window: StatsWindow,
    frames_sent: u64,
    last_quality: String,
    /// The view this session follows: the desktop host's, or its shared session's.
    host_view: Option<tokio::sync::watch::Receiver<hounsfield_protocol::SharedView>>,
    /// The crosshair as the client was last told it, and where it showed in the cells.
    told_crosshair: Option<ToldCrosshair>,
    /// The view at rest the client was last told of.
    told_view: Option<hounsfield_protocol::SharedView>,
    /// The volume of a series over time the client's last frame showed (`time_point`).
    told_time_point: Option<usize>,
    /// Who the session's user is.
    identity: Identity,
    /// Set when the server wants the session to end (its user went, or an admin).
    ending: tokio::sync::watch::Receiver<Option<Ending>>,
    /// The join id of this session's view, while it shares it.
    sharing: Option<String>,
    /// Its WebRTC peer and which transport carries its frames.
    webrtc: WebRtcLink,
    /// Whether `welcome` offered this session WebRTC.
    webrtc_offered: bool,
    /// H.264 only over RTP: the client decodes it there but not from the WebSocket (a page
    /// without WebCodecs), so its frames are JPEG whenever WebRTC does not carry them.
    video_over_rtp_only: bool,
    /// A snapshot asked for: taken from the next lossless final still.
    snapshot: Option<key_images::SnapshotWanted>,
    /// The shared session this session shared or joined: its view, pointers, findings and
    /// controls.
    room: Option<Participant>,
    /// The recording this session makes, while it records.
    recorder: Option<crate::recording::recorder::Recorder>,
    /// The recording this session plays, while it plays one.
    playback: Option<crate::recording::playback::Playback>,
    /// When the client was last told where the recording playing stands.
    playback_told: Instant,
    /// The movie being made for this session, while one is.
    movie: Option<movie::MovieMaking>,
    /// This session's share of the server's measuring lane.
    measuring: MeasuringShare,
    /// The Segmentations `segmentations` listed last (what `load_segmentation` may name).
    listed_segmentations: Vec<hounsfield_dicomweb::KeptSegmentation>,
    /// The model's run this session started, while it runs.
    model_run: Option<model_run::ModelRun>,
    /// The calcium score this session keeps for its series while its reader names
    /// lesions.
    calcium_kept: calcium::KeptScore,
}

impl Drop for Connection {
    /// The session leaves the roster and ends its share, however it ended (a panic too).
    fn drop(&mut self) {
        self.stop_sharing();
        self.app.roster.leave(self.slot.id());
    }
}

impl Connection {
    async fn serve(&mut self, mut stream: SplitStream<WebSocket>) {
        let mut shutdown = self.app.shutdown.clone();
        let mut stats = tokio::time::interval(STATS_EVERY);
        stats.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            let idle_at = self.last_message + self.app.config.idle_timeout;
            let deadline = self.session.next_deadline();
            let webrtc_deadline = self.webrtc.deadline();
            let playback_deadline = self.playback_deadline();
            let flow = tokio::select! {
                incoming = stream.next() => match incoming {
                    Some(Ok(message)) => self.on_message(message).await,
                    Some(Err(error)) => {
                        tracing::debug!(%error, "socket read failed");
                        ControlFlow::Break(())
                    }
                    None => ControlFlow::Break(()),
                },
                Some(event) = self.events.recv() => self.on_event(event).await,
                event = self.webrtc.next_event() => self.on_peer_event(event).await,
                () = tokio::time::sleep_until(webrtc_deadline.unwrap_or(idle_at).into()), if webrtc_deadline.is_some() => {
                    let switch = self.webrtc.tick(Instant::now());
                    self.tell_switch(switch).await
                }
                () = tokio::time::sleep_until(deadline.unwrap_or(idle_at).into()), if deadline.is_some() => {
                    ControlFlow::Continue(())
                }
                _ = stats.tick() => self.send_stats().await,
                () = tokio::time::sleep_until(playback_deadline.unwrap_or(idle_at).into()), if playback_deadline.is_some() => {
                    self.play_due().await
                }
                () = host_moved(&mut self.host_view) => self.follow_host(),
                heard = next_in_room(&mut self.room) => self.heard_in_room(heard).await,
                news = movie::next_movie_news(&mut self.movie) => self.movie_news(news).await,
                news = model_run::next_model_news(&mut self.model_run) => self.model_news(news).await,
                Ok(()) = self.ending.changed() => self.ended().await,
                () = tokio::time::sleep_until(idle_at.into()) => {
                    self.end = "idle";
                    let _ = self.out.send(Outgoing::Close(close_code::NORMAL, "idle timeout")).await;
                    ControlFlow::Break(())
                }
                _ = shutdown.changed() => {
                    // A change is the shutdown; an error means the server is gone.
                    self.end = "shutdown";
                    let _ = self.out.send(Outgoing::Close(close_code::GOING_AWAY, "server shutting down")).await;
                    ControlFlow::Break(())
                }
            };
            if flow.is_break() || self.tell_crosshair().await.is_break() {
                return;
            }
            self.publish_view();
            if self.record_view().await.is_break() {
                return;
            }
            if let Some(request) = self.session.next_request(Instant::now()) {
                let at_rest = request.final_still;
                self.slot.submit(request);
                if at_rest && self.tell_view().await.is_break() {
                    return;
                }
            }
        }
    }

    async fn on_message(&mut self, message: Message) -> ControlFlow<()> {
        let text = match message {
            Message::Text(text) => text,
            Message::Binary(_) => {
                return self
                    .invalid(
                        ErrorCode::UnexpectedBinary,
                        "clients send text (JSON) messages only".to_string(),
                    )
                    .await;
            }
            Message::Close(_) => return ControlFlow::Break(()),
            // The transport answers pings itself.
            Message::Ping(_) | Message::Pong(_) => return ControlFlow::Continue(()),
        };
        self.on_text(text.as_str(), Path::WebSocket).await
    }

    /// A text message from the client, from its WebSocket or a WebRTC data channel (where
    /// signalling and the session's first `hello` are refused).
    async fn on_text(&mut self, text: &str, path: Path) -> ControlFlow<()> {
        let limit = self.app.config.max_message_bytes;
        if text.len() > limit {
            let why = format!(
                "{} bytes is over the {limit}-byte message limit",
                text.len()
            );
            return self.invalid(ErrorCode::TooLarge, why).await;
        }
        #[cfg(feature = "fault-injection")]
        if self.app.config.test_faults
            && let Some(fault) = crate::faults::parse(text)
        {
            // Tests only: the switch is off unless the server was started with it.
            tracing::warn!(
                session = self.slot.id(),
                ?fault,
                "test fault armed for the next frame"
            );
            self.slot.arm_fault(fault);
            return ControlFlow::Continue(());
        }
        match parse_client_message(text) {
            Ok(message) if path == Path::DataChannel && !message_for_data_channels(&message) => {
                let why = format!(
                    "{} goes over the WebSocket, not a data channel",
                    MessageKind::of(&message).name()
                );
                self.invalid(ErrorCode::BadValue, why).await
            }
            Ok(message) => {
                // Only a message the server could take counts as the client being there.
                self.last_message = Instant::now();
                if let Some(refused) = self.admit(MessageKind::of(&message)).await {
                    return refused;
                }
                self.handle(message).await
            }
            Err(error) => self.invalid(error.code, error.message).await,
        }
    }

    /// A message the server could not take: answered with its error while within the
    /// rate of such messages.
    async fn invalid(&mut self, code: ErrorCode, message: String) -> ControlFlow<()> {
        if let Some(refused) = self.admit(MessageKind::Invalid).await {
            return refused;
        }
        self.error(code, message).await
    }

    /// Takes a message of `kind` if it is within its rate (`None`: handle it); else
    /// answers `rate_limited`, records the flood in the audit log (once a minute), and
    /// returns how sending the answer went: the message is dropped.
    async fn admit(&mut self, kind: MessageKind) -> Option<ControlFlow<()>> {
        match self.rates.admit(kind, Instant::now()) {
            Admission::Admitted => None,
            Admission::Refused { report } => {
                if report {
                    refuse(
                        &self.app,
                        self.client,
                        Refusal::RateLimited,
                        &format!("session {}: {}", self.slot.id(), kind.name()),
                    );
                }
                let per_s = self.rates.per_s(kind);
                let why = format!(
                    "more than {per_s} {} messages a second: dropped",
                    kind.name()
                );
                // Replies wait for the writer like any other: a flooding client that does
                // not read stalls only its own reading, and is dropped by the write timeout.
                Some(self.error(ErrorCode::RateLimited, why).await)
            }
        }
    }

    /// Acts on one message the session took.
    async fn handle(&mut self, message: ClientMessage) -> ControlFlow<()> {
        match message {
            ClientMessage::Hello {
                codecs,
                viewport,
                transports,
                ..
            } => self.hello(&codecs, viewport, &transports).await,
            _ if !self.greeted => self.error(ErrorCode::HelloFirst, "send hello first").await,
            ClientMessage::ListStudies(request) => {
                let search = match StudySearch::new(&request) {
                    Ok(search) => search,
                    Err(why) => {
                        return self
                            .error(ErrorCode::BadValue, format!("list_studies: {why}"))
                            .await;
                    }
                };
                let page = self.studies(&search);
                let studies = ServerMessage::Studies {
                    studies: page.studies,
                    total: page.total,
                    offset: page.offset,
                };
                self.send(&studies).await
            }
            ClientMessage::Open { series } if !self.may_open(&series) => {
                self.forbidden("open", VIEWERS_JOIN_ONLY).await
            }
            ClientMessage::Open { series } => self.open(series).await,
            ClientMessage::OpenStudy { .. } if !self.identity.role.opens_series() => {
                self.forbidden("open_study", VIEWERS_JOIN_ONLY).await
            }
            ClientMessage::OpenStudy { study } => self.open_study(&study).await,
            ClientMessage::Share if !self.identity.role.opens_series() => {
                self.forbidden("share", "a viewer may not share a session")
                    .await
            }
            ClientMessage::Share => self.share().await,
            ClientMessage::Join { id } => self.join(&id).await,
            ClientMessage::Input(input) if self.view_only() && changes_the_view(&input.action) => {
                self.error(
                    ErrorCode::ViewOnly,
                    format!("input {}: this shared session is view-only", input.seq),
                )
                .await
            }
            ClientMessage::Input(input) if !self.may_steer() && changes_the_view(&input.action) => {
                let why = format!(
                    "input {}: another participant steers this shared session \
                     (request_control asks the host for the controls)",
                    input.seq
                );
                self.error(ErrorCode::ViewOnly, why).await
            }
            ClientMessage::Input(input) => match self.session.apply(&input, Instant::now()) {
                Ok(()) => {
                    Metrics::add(&self.app.metrics.inputs_total, 1);
                    ControlFlow::Continue(())
                }
                Err(refusal) => self.error(refusal.code, refusal.message).await,
            },
            ClientMessage::Still { lossless } => match self.session.still(lossless) {
                Ok(()) => ControlFlow::Continue(()),
                Err(refusal) => self.error(refusal.code, refusal.message).await,
            },
            ClientMessage::Keyframe => match self.session.keyframe() {
                Ok(()) => ControlFlow::Continue(()),
                Err(refusal) => self.error(refusal.code, refusal.message).await,
            },
            ClientMessage::WebrtcOffer { sdp } => self.webrtc_offer(&sdp).await,
            ClientMessage::WebrtcClose { reason } => {
                let reason = format!("the client closed WebRTC: {reason}");
                let switch = self.webrtc.close(Instant::now(), &reason);
                self.tell_switch(switch).await
            }
            ClientMessage::Probe { cell, x, y } => match self.session.probe(&cell, x, y) {
                Ok(answer) => self.send(&answer).await,
                Err(refusal) => self.error(refusal.code, refusal.message).await,
            },
            ClientMessage::Measure { cell, from, to } => {
                match self.session.measure(&cell, from, to) {
                    Ok(answer) => self.send(&answer).await,
                    Err(refusal) => self.error(refusal.code, refusal.message).await,
                }
            }
            ClientMessage::Finding(request) => self.finding(request).await,
            ClientMessage::SaveFindings => self.save_findings().await,
            ClientMessage::Calcium(request) => self.calcium(request).await,
            ClientMessage::Segment(request) => self.segment(request).await,
            ClientMessage::SegmentEdit(edit) => self.segment_edit(edit).await,
            ClientMessage::SegmentUndo { id, redo } => self.segment_undo(id, redo).await,
            ClientMessage::SegmentPreview(preview) => self.segment_preview(preview).await,
            ClientMessage::Segments => self.list_segments().await,
            ClientMessage::SaveSegments => self.save_segments().await,
            ClientMessage::Segmentations => self.list_segmentations().await,
            ClientMessage::LoadSegmentation { sop_instance_uid } => {
                self.load_segmentation(&sop_instance_uid).await
            }
            ClientMessage::RunModel => self.run_model().await,
            ClientMessage::StopModel => self.stop_model().await,
            ClientMessage::KeyImage { cell, note } => self.key_image(&cell, note).await,
            ClientMessage::Snapshot { note } => self.ask_snapshot(note).await,
            ClientMessage::Pointer { cell, x, y } => self.point(cell.as_deref(), x, y).await,
            ClientMessage::RequestControl
            | ClientMessage::GrantControl { .. }
            | ClientMessage::RefuseControl { .. }
            | ClientMessage::RevokeControl => self.control(&message).await,
            ClientMessage::StartRecording => self.start_recording().await,
            ClientMessage::StopRecording => self.ask_stop_recording().await,
            ClientMessage::ListRecordings { series } => self.list_recordings(series).await,
            ClientMessage::PlayRecording { id } => self.play_recording(&id).await,
            ClientMessage::Playback {
                action,
                at_ms,
                speed,
            } => self.steer_playback(action, at_ms, speed).await,
            ClientMessage::ExportMovie(order) => self.export_movie(order).await,
            ClientMessage::TransferFunction { bins } => self.transfer_function(bins).await,
            ClientMessage::SavePreset { preset } => self.save_preset(*preset).await,
            ClientMessage::Over(request)
                if request
                    .series
                    .as_deref()
                    .is_some_and(|series| !self.may_open(series)) =>
            {
                self.forbidden("over", "a viewer may not open a series to draw over")
                    .await
            }
            ClientMessage::Over(request) => self.over(request).await,
            ClientMessage::Stats(stats) => {
                match self.session.client_stats(&stats, Instant::now()) {
                    Ok(()) => ControlFlow::Continue(()),
                    Err(refusal) => self.error(refusal.code, refusal.message).await,
                }
            }
        }
    }

    async fn send(&mut self, message: &ServerMessage) -> ControlFlow<()> {
        match serde_json::to_string(message) {
            Ok(text) => self.queue(Outgoing::Text(text)).await,
            Err(error) => {
                tracing::error!(%error, "a server message did not serialise");
                ControlFlow::Continue(())
            }
        }
    }

    async fn error(&mut self, code: ErrorCode, message: impl Into<String>) -> ControlFlow<()> {
        let message = message.into();
        tracing::debug!(session = self.slot.id(), ?code, %message, "error reply");
        Metrics::add(&self.app.metrics.errors_total, 1);
        self.send(&ServerMessage::Error { code, message }).await
    }

    async fn queue(&mut self, outgoing: Outgoing) -> ControlFlow<()> {
        match self.out.send(outgoing).await {
            Ok(()) => ControlFlow::Continue(()),
            // The writer is gone: the socket failed or timed out.
            Err(_) => ControlFlow::Break(()),
        }
    }
}

/// Where a client's message came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Path {
    /// The session's WebSocket.
    WebSocket,
    /// A data channel of its WebRTC peer.
    DataChannel,
}

/// Whether `message` may come over a data channel: anything but the session's hello and
/// the WebRTC signalling, which belong to the authenticated WebSocket.
fn message_for_data_channels(message: &ClientMessage) -> bool {
    !matches!(
        message,
        ClientMessage::Hello { .. }
            | ClientMessage::WebrtcOffer { .. }
            | ClientMessage::WebrtcClose { .. }
    )
}
