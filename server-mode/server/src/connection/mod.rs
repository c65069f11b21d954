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

use std::net::SocketAddr;
use std::ops::ControlFlow;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::ws::{CloseFrame, Message, WebSocket};
use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use glam::DVec3;
use tokio::sync::mpsc;

use crate::access::{Authentication, Ending, Identity};
use crate::audit::{AuditEvent, Refusal};
use crate::follow::{Host, changes_the_view};
use crate::http::{App, SessionPlace, auth_failed, refuse, refuse_user};
use crate::library::LibraryError;
use crate::metrics::Metrics;
use crate::scheduler::{FrameTicket, SchedulerEvent, SessionSlot};
use crate::session::{Admission, MessageKind, MessageRates, Session};
use crate::study_query::{StudyPage, StudySearch};
use hounsfield_protocol::{
    ClientMessage, Codec, CrosshairInCells, ErrorCode, LoadProgress, PROTOCOL_VERSION,
    ServerMessage, SliceScales, Stats, TransportKind, parse_client_message,
};
use hounsfield_video::encode::VideoStream;
use hounsfield_webrtc::transport::Switch;
use hounsfield_webrtc::{Carried, PeerEvent, PeerNews, WebRtcLink};

/// Messages waiting for the writer; when full, reading pauses (back-pressure).
const OUTGOING_CAPACITY: usize = 16;
/// A write that takes longer than this ends the connection (the client stopped reading).
const WRITE_TIMEOUT: Duration = Duration::from_secs(30);
/// How often `stats` is sent while frames flow.
const STATS_EVERY: Duration = Duration::from_secs(1);
/// How often a client waiting for a series to load hears how far it has come.
const PROGRESS_EVERY: Duration = Duration::from_millis(200);

/// WebSocket close codes used.
mod close_code {
    /// The server is shutting down.
    pub const GOING_AWAY: u16 = 1001;
    /// The token was missing or wrong, or came too late; or the user may no longer stay.
    pub const POLICY: u16 = 1008;
    /// All session places are taken.
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
    },
    Close(u16, &'static str),
}

/// Runs the connection until the client leaves, the server shuts down or the session
/// times out. `admitted` is the session's place and user when the upgrade request
/// authenticated; without them the client must authenticate in `hello` first.
pub(crate) async fn run(
    socket: WebSocket,
    app: Arc<App>,
    client: SocketAddr,
    admitted: Option<(SessionPlace, Identity)>,
) {
    let (sink, mut stream) = socket.split();
    let (out, out_rx) = mpsc::channel(OUTGOING_CAPACITY);
    let writer = tokio::spawn(write_loop(sink, out_rx, app.metrics.clone()));
    let admitted = match admitted {
        Some((place, identity)) => Some((place, None, identity)),
        None => authenticate(&mut stream, &app, client, &out)
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

/// Waits, within the server's time for it, for `hello` with the right token, and takes a
/// session place; anything else first is refused and the socket closed. Returns the place,
/// the `hello` to answer and the user.
async fn authenticate(
    stream: &mut SplitStream<WebSocket>,
    app: &Arc<App>,
    client: SocketAddr,
    out: &mpsc::Sender<Outgoing>,
) -> Option<(SessionPlace, ClientMessage, Identity)> {
    let deadline = tokio::time::Instant::now() + app.config.auth_timeout;
    let text = loop {
        let message = match tokio::time::timeout_at(deadline, stream.next()).await {
            Err(_) => {
                refuse(
                    app,
                    client,
                    Refusal::AuthTimeout,
                    "no hello with the token in time",
                );
                let _ = out
                    .send(Outgoing::Close(close_code::POLICY, "authenticate first"))
                    .await;
                return None;
            }
            Ok(None | Some(Err(_))) => return None,
            Ok(Some(Ok(message))) => message,
        };
        match message {
            Message::Text(text) if text.len() <= app.config.max_message_bytes => break text,
            Message::Ping(_) | Message::Pong(_) => {}
            Message::Close(_) => return None,
            Message::Text(_) | Message::Binary(_) => {
                auth_failed(app, client, "a message other than hello first", false);
                return refuse_unauthenticated(out).await;
            }
        }
    };
    let hello = parse_client_message(text.as_str()).ok();
    let token = match &hello {
        Some(ClientMessage::Hello {
            token: Some(token), ..
        }) => token,
        _ => {
            auth_failed(app, client, "no token in hello", false);
            return refuse_unauthenticated(out).await;
        }
    };
    let identity = match app.access.authenticate(token, chrono::Utc::now()) {
        Authentication::Granted(identity) => identity,
        Authentication::Expired(user) => {
            auth_failed(
                app,
                client,
                &format!("user {user:?}: access expired (in hello)"),
                false,
            );
            return refuse_expired(out).await;
        }
        Authentication::Wrong => {
            auth_failed(app, client, "wrong token in hello", true);
            return refuse_unauthenticated(out).await;
        }
    };
    app.auth_throttle.succeeded(client.ip());
    let Some(place) = SessionPlace::take(app.clone()) else {
        refuse(app, client, Refusal::SessionCap, "all session places taken");
        let busy = ServerMessage::Error {
            code: ErrorCode::Busy,
            message: "too many sessions; try again later".to_string(),
        };
        if let Ok(text) = serde_json::to_string(&busy) {
            let _ = out.send(Outgoing::Text(text)).await;
        }
        let _ = out
            .send(Outgoing::Close(
                close_code::TRY_AGAIN_LATER,
                "too many sessions",
            ))
            .await;
        return None;
    };
    hello.map(|hello| (place, hello, identity))
}

/// Replies `unauthorized` to a user whose access has expired and closes the socket.
async fn refuse_expired<T>(out: &mpsc::Sender<Outgoing>) -> Option<T> {
    refuse_unauthorized(
        out,
        "this user's access has expired: ask an administrator",
        "user's access expired",
    )
    .await
}

/// Replies `unauthorized` to a socket that has not authenticated and closes it.
async fn refuse_unauthenticated<T>(out: &mpsc::Sender<Outgoing>) -> Option<T> {
    refuse_unauthorized(
        out,
        "a token is required: send hello with the token first",
        "token required",
    )
    .await
}

/// Replies `unauthorized` with `message`, then closes the socket (policy, `reason`).
async fn refuse_unauthorized<T>(
    out: &mpsc::Sender<Outgoing>,
    message: &str,
    reason: &'static str,
) -> Option<T> {
    let reply = ServerMessage::Error {
        code: ErrorCode::Unauthorized,
        message: message.to_string(),
    };
    if let Ok(text) = serde_json::to_string(&reply) {
        let _ = out.send(Outgoing::Text(text)).await;
    }
    let _ = out.send(Outgoing::Close(close_code::POLICY, reason)).await;
    None
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
        app.scheduler.presets().clone(),
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
        identity,
        ending,
        sharing: None,
        webrtc: WebRtcLink::default(),
        webrtc_offered: false,
        video_over_rtp_only: false,
    };
    let answered = match hello {
        Some(hello) => connection.handle(hello).await,
        None => ControlFlow::Continue(()),
    };
    if answered.is_continue() {
        connection.serve(stream).await;
    }
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

/// Writes queued messages to the socket, each within [`WRITE_TIMEOUT`].
async fn write_loop(
    mut sink: SplitSink<WebSocket, Message>,
    mut queue: mpsc::Receiver<Outgoing>,
    metrics: Arc<Metrics>,
) {
    while let Some(outgoing) = queue.recv().await {
        let (message, frame) = match outgoing {
            Outgoing::Text(text) => (Message::Text(text.into()), None),
            Outgoing::Frame {
                bytes,
                render_us,
                encode_us,
                h264,
                ticket,
            } => {
                let len = bytes.len() as u64;
                (
                    Message::Binary(bytes.into()),
                    Some((len, render_us, encode_us, h264, ticket)),
                )
            }
            Outgoing::Close(code, reason) => (
                Message::Close(Some(CloseFrame {
                    code,
                    reason: reason.into(),
                })),
                None,
            ),
        };
        let closing = matches!(message, Message::Close(_));
        match tokio::time::timeout(WRITE_TIMEOUT, sink.send(message)).await {
            Ok(Ok(())) => {}
            Ok(Err(error)) => {
                tracing::debug!(%error, "socket write failed");
                return;
            }
            Err(_) => {
                tracing::info!("client stopped reading: connection dropped");
                return;
            }
        }
        if let Some((len, render_us, encode_us, h264, ticket)) = frame {
            count_frame_sent(&metrics, len, (render_us, encode_us), h264);
            drop(ticket);
        }
        if closing {
            return;
        }
    }
    // Best effort: the peer may already be gone.
    let _ = sink.close().await;
}

/// Counts a frame of `bytes` (rendered and encoded in these µs) in the server's metrics,
/// once it is on its way to the client (written to the socket, or handed to RTP).
fn count_frame_sent(metrics: &Metrics, bytes: u64, (render_us, encode_us): (u32, u32), h264: bool) {
    Metrics::add(&metrics.frames_total, 1);
    Metrics::add(&metrics.h264_frames_total, u64::from(h264));
    Metrics::add(&metrics.frame_bytes_total, bytes);
    Metrics::add(&metrics.render_us_total, u64::from(render_us));
    Metrics::add(&metrics.encode_us_total, u64::from(encode_us));
}

/// Figures since the last `stats`.
struct StatsWindow {
    since: Instant,
    frames: u64,
    bytes: u64,
    render_us: u64,
    encode_us: u64,
}

impl StatsWindow {
    fn new() -> Self {
        Self {
            since: Instant::now(),
            frames: 0,
            bytes: 0,
            render_us: 0,
            encode_us: 0,
        }
    }
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
    /// The host's view, once this session opened a shared series.
    host_view: Option<tokio::sync::watch::Receiver<hounsfield_protocol::SharedView>>,
    /// The crosshair as the client was last told it, and where it showed in the cells.
    told_crosshair: Option<(DVec3, CrosshairInCells, Option<SliceScales>)>,
    /// The view at rest the client was last told of.
    told_view: Option<hounsfield_protocol::SharedView>,
    /// Who the session's user is.
    identity: Identity,
    /// Set when the server wants the session to end (its user went, or an admin).
    ending: tokio::sync::watch::Receiver<Option<Ending>>,
    /// This session's view shared with others: its join id and where it publishes.
    sharing: Option<(String, Host)>,
    /// Its WebRTC peer and which transport carries its frames.
    webrtc: WebRtcLink,
    /// Whether `welcome` offered this session WebRTC.
    webrtc_offered: bool,
    /// H.264 only over RTP: the client decodes it there but not from the WebSocket (a page
    /// without WebCodecs), so its frames are JPEG whenever WebRTC does not carry them.
    video_over_rtp_only: bool,
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
                () = host_moved(&mut self.host_view) => self.follow_host(),
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
                self.forbidden(
                    "open",
                    "a viewer may only join sessions others share: ask a reader for a join id",
                )
                .await
            }
            ClientMessage::Open { series } => self.open(series).await,
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
            ClientMessage::Stats(stats) => {
                match self.session.client_stats(&stats, Instant::now()) {
                    Ok(()) => ControlFlow::Continue(()),
                    Err(refusal) => self.error(refusal.code, refusal.message).await,
                }
            }
        }
    }

    /// `hello`: the viewport, the codec of interactive frames, then `welcome`.
    async fn hello(
        &mut self,
        codecs: &[Codec],
        viewport: Option<hounsfield_protocol::Viewport>,
        transports: &[TransportKind],
    ) -> ControlFlow<()> {
        if !codecs.is_empty() && !codecs.contains(&Codec::Jpeg) {
            return self
                .error(
                    ErrorCode::BadValue,
                    "stills are JPEG or PNG, and JPEG is the fallback for everything: list \"jpeg\" in codecs",
                )
                .await;
        }
        if let Some(viewport) = viewport {
            self.session.set_viewport(viewport);
        }
        let position = |codec: Codec| codecs.iter().position(|c| *c == codec);
        let h264_first = position(Codec::H264)
            .is_some_and(|h264| position(Codec::Jpeg).is_none_or(|jpeg| h264 < jpeg));
        let (encoder, fallback) = if h264_first {
            match self.start_video().await {
                Ok(encoder) => {
                    Metrics::add(&self.app.metrics.h264_sessions_total, 1);
                    (Some(encoder), None)
                }
                Err(why) => {
                    Metrics::add(&self.app.metrics.h264_fallbacks_total, 1);
                    tracing::info!(session = self.slot.id(), %why, "JPEG instead of H.264");
                    (None, Some(why))
                }
            }
        } else {
            self.stop_video();
            (None, None)
        };
        self.greeted = true;
        // RTP carries H.264 only, and a client that takes WebRTC decodes it there. A client
        // that put JPEG first (it cannot decode H.264 from the WebSocket) gets H.264 only
        // while WebRTC carries the frames, JPEG otherwise.
        let webrtc_taken = self.app.webrtc.is_some() && transports.contains(&TransportKind::Webrtc);
        self.video_over_rtp_only =
            webrtc_taken && !h264_first && !self.app.h264_candidates().is_empty();
        self.webrtc_offered = webrtc_taken && (encoder.is_some() || self.video_over_rtp_only);
        let welcome = ServerMessage::Welcome {
            session: self.slot.id(),
            server: format!("hounsfield {}", env!("CARGO_PKG_VERSION")),
            protocol: PROTOCOL_VERSION,
            viewport: self.session.viewport(),
            codec: self.session.codec(),
            encoder,
            fallback,
            transports: if self.webrtc_offered {
                vec![TransportKind::Webrtc, TransportKind::Websocket]
            } else {
                Vec::new()
            },
            user: self.identity.name.clone(),
            role: Some(self.identity.role.name().to_string()),
            node: self.app.config.node_name.clone(),
        };
        self.send(&welcome).await
    }

    /// Opens an H.264 stream for the session (off the async threads: opening an encoder
    /// takes milliseconds); the encoder's name, or why there is none.
    async fn start_video(&mut self) -> Result<String, String> {
        let candidates = self.app.h264_candidates().to_vec();
        if candidates.is_empty() {
            return Err(self
                .app
                .h264
                .why_none()
                .unwrap_or_else(|| "no H.264 encoder".to_string()));
        }
        self.session.stream_video(true);
        let viewport = self.session.viewport();
        let bitrate_kbps = self.session.bitrate_kbps().unwrap_or_default();
        let interval = self.app.config.keyframe_interval;
        let opened = tokio::task::spawn_blocking(move || {
            VideoStream::open(
                &candidates,
                [viewport.width, viewport.height],
                bitrate_kbps,
                interval,
            )
        })
        .await;
        let failure = match opened {
            Ok(Ok(stream)) => {
                let name = stream.encoder_name().to_string();
                self.slot.set_video(Some(stream));
                return Ok(name);
            }
            Ok(Err(error)) => format!("the H.264 encoder did not open: {error}"),
            Err(error) => format!("opening the H.264 encoder failed: {error}"),
        };
        self.stop_video();
        Err(failure)
    }

    /// Interactive frames as JPEG from now on: the session's H.264 stream, if any, closed.
    fn stop_video(&mut self) {
        self.slot.set_video(None);
        self.session.stream_video(false);
    }

    /// Loads the series off the async threads, telling the client how far it has come
    /// while it takes long; the error reply's outcome when it fails.
    async fn load(&mut self, series: &str) -> Result<Arc<render_core::Volume>, ControlFlow<()>> {
        let library = self.app.library.clone();
        let id = series.to_string();
        let mut loading = tokio::task::spawn_blocking(move || library.open(&id));
        let mut ticks = tokio::time::interval(PROGRESS_EVERY);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        // The first tick is at once: a load that ends sooner says nothing.
        ticks.tick().await;
        let mut told: Option<render_core::progress::Progress> = None;
        let loaded = loop {
            tokio::select! {
                biased;
                loaded = &mut loading => break loaded,
                _ = ticks.tick() => {
                    let Some(step) = self.app.library.load_progress(series) else {
                        continue;
                    };
                    told = Some(step);
                    if self.tell_progress(series, step).await.is_break() {
                        return Err(ControlFlow::Break(()));
                    }
                }
            }
        };
        if let (Some(step), Ok(Ok(_))) = (told, &loaded) {
            let done = render_core::progress::Progress {
                done: step.total,
                ..step
            };
            if self.tell_progress(series, done).await.is_break() {
                return Err(ControlFlow::Break(()));
            }
        }
        match loaded {
            Ok(Ok(volume)) => Ok(volume),
            Ok(Err(error)) => {
                let code = match error {
                    LibraryError::UnknownSeries(_) => ErrorCode::UnknownSeries,
                    LibraryError::Unavailable { .. } => ErrorCode::Unavailable,
                    LibraryError::LoadFailed(_) | LibraryError::NoThumbnail(_) => {
                        ErrorCode::Internal
                    }
                };
                Err(self.error(code, error.to_string()).await)
            }
            Err(error) => {
                tracing::error!(%error, "loading task failed");
                Err(self
                    .error(
                        ErrorCode::Internal,
                        "loading failed (the server log says why)",
                    )
                    .await)
            }
        }
    }

    /// A `progress` message about the load of `series`.
    async fn tell_progress(
        &mut self,
        series: &str,
        step: render_core::progress::Progress,
    ) -> ControlFlow<()> {
        self.send(&ServerMessage::Progress(LoadProgress {
            series: series.to_string(),
            stage: step.stage.name().to_string(),
            done: step.done,
            total: step.total,
        }))
        .await
    }

    /// Loads the series and opens it in the session (following the desktop's shared view
    /// when it is the series shared).
    async fn open(&mut self, series: String) -> ControlFlow<()> {
        let volume = match self.load(&series).await {
            Ok(volume) => volume,
            Err(replied) => return replied,
        };
        let following = self
            .app
            .config
            .follow
            .as_ref()
            .filter(|follow| follow.series == series)
            .map(|follow| follow.view.clone());
        self.show(&series, volume, following).await
    }

    /// Opens a loaded series in the session, recorded, following `host` when given, and
    /// replies `opened`. A view this session shared ends, as does any it followed.
    async fn show(
        &mut self,
        series: &str,
        volume: Arc<render_core::Volume>,
        host: Option<tokio::sync::watch::Receiver<hounsfield_protocol::SharedView>>,
    ) -> ControlFlow<()> {
        self.stop_sharing();
        self.host_view = None;
        let mut opened = self.session.open(series, volume);
        opened.warnings = self.app.library.warnings(series);
        tracing::info!(session = self.slot.id(), series = %series, "series opened");
        self.app.roster.opened(self.slot.id(), series);
        self.app.config.audit.record(&AuditEvent::SeriesOpened {
            session: self.slot.id(),
            client: self.client,
            user: self.identity.name.clone(),
            series: series.to_string(),
            patient_id: self.app.library.patient_id(series).unwrap_or_default(),
        });
        if let Some(view) = host {
            let shared = view.borrow().clone();
            if self.session.follow(&shared, Instant::now()).is_ok() {
                opened.view = Some(shared);
            }
            self.host_view = Some(view);
        }
        self.send(&ServerMessage::Opened(Box::new(opened))).await
    }

    /// The page of `search` among the studies this session's user may see: all of them
    /// for readers; for viewers only the desktop's shared series, if any (they join
    /// others' sessions by id).
    fn studies(&self, search: &StudySearch) -> StudyPage {
        let studies = self.app.library.studies();
        if self.identity.role.opens_series() {
            return search.page(studies.iter());
        }
        let Some(follow) = &self.app.config.follow else {
            return search.page(&[]);
        };
        let visible: Vec<hounsfield_protocol::StudyInfo> = studies
            .iter()
            .filter_map(|study| {
                let series: Vec<_> = study
                    .series
                    .iter()
                    .filter(|series| series.id == follow.series)
                    .cloned()
                    .collect();
                (!series.is_empty()).then(|| hounsfield_protocol::StudyInfo {
                    modalities: crate::library::modalities_of(&series),
                    series,
                    ..study.clone()
                })
            })
            .collect();
        search.page(&visible)
    }

    /// Whether this session's user may open `series`: readers any; viewers only the
    /// desktop's shared series (that is joining its session).
    fn may_open(&self, series: &str) -> bool {
        self.app.may_open(&self.identity, series)
    }

    /// Refuses `what` for this user's role: `error` `forbidden`, recorded.
    async fn forbidden(&mut self, what: &str, why: &str) -> ControlFlow<()> {
        refuse_user(
            &self.app,
            self.client,
            Some(&self.identity),
            Refusal::Forbidden,
            &format!("session {}: {what}", self.slot.id()),
        );
        self.error(ErrorCode::Forbidden, why).await
    }

    /// `share`: shares this session's view under a new join id (`shared` reply); the
    /// series must be open. Sharing again gives the same id.
    async fn share(&mut self) -> ControlFlow<()> {
        let (Some(series), Some(view)) = (
            self.session.series().map(str::to_string),
            self.session.shared_view(),
        ) else {
            return self
                .error(ErrorCode::NotOpen, "open a series before sharing it")
                .await;
        };
        let id = match &self.sharing {
            Some((id, _)) => id.clone(),
            None => {
                let Ok(id) = crate::http::generate_token() else {
                    return self
                        .error(ErrorCode::Internal, "no random numbers for a join id")
                        .await;
                };
                let host = self.app.shares.start(&id, self.slot.id(), &series, view);
                self.sharing = Some((id.clone(), host));
                tracing::info!(session = self.slot.id(), "session shared");
                self.app.config.audit.record(&AuditEvent::SessionShared {
                    session: self.slot.id(),
                    user: self.identity.name.clone(),
                    series,
                });
                id
            }
        };
        // Relative to the page's own address, so a reverse proxy's path prefix stays; the
        // node, when there are several, so the proxy sends followers to this one.
        let link = match &self.app.config.node_name {
            Some(node) => format!("?join={id}&node={node}"),
            None => format!("?join={id}"),
        };
        self.send(&ServerMessage::Shared { id, link }).await
    }

    /// `join`: opens the series a shared session shows and follows its view.
    async fn join(&mut self, id: &str) -> ControlFlow<()> {
        let shared = self.app.shares.find(id).filter(|shared| {
            shared.host_session != self.slot.id() && shared.view.has_changed().is_ok()
        });
        let Some(shared) = shared else {
            return self
                .error(
                    ErrorCode::UnknownShare,
                    "no shared session has that id (it ended, or the id is wrong)",
                )
                .await;
        };
        let volume = match self.load(&shared.series).await {
            Ok(volume) => volume,
            Err(replied) => return replied,
        };
        self.app.config.audit.record(&AuditEvent::SessionJoined {
            session: self.slot.id(),
            user: self.identity.name.clone(),
            host_session: shared.host_session,
            series: shared.series.clone(),
        });
        self.show(&shared.series, volume, Some(shared.view)).await
    }

    /// Publishes this session's view to those who joined it, when it is shared.
    fn publish_view(&self) {
        if let Some((_, host)) = &self.sharing
            && let Some(view) = self.session.shared_view()
        {
            host.publish(view);
        }
    }

    /// Ends this session's share: its followers keep the last view.
    fn stop_sharing(&mut self) {
        if let Some((id, _)) = self.sharing.take() {
            self.app.shares.stop(&id);
        }
    }

    /// The server ended the session (its user went, or an admin): close code 1008 with
    /// the reason.
    async fn ended(&mut self) -> ControlFlow<()> {
        let Some(ending) = *self.ending.borrow_and_update() else {
            return ControlFlow::Continue(());
        };
        tracing::info!(
            session = self.slot.id(),
            reason = ending.audit_reason(),
            "session ended by the server"
        );
        self.end = ending.audit_reason();
        let _ = self
            .out
            .send(Outgoing::Close(close_code::POLICY, ending.close_reason()))
            .await;
        ControlFlow::Break(())
    }

    /// Whether this session may only watch: a viewer's, or a view-only desktop share's.
    fn view_only(&self) -> bool {
        self.identity.role == crate::users::Role::Viewer
            || self
                .app
                .config
                .follow
                .as_ref()
                .is_some_and(|follow| follow.view_only)
    }

    /// Tells the client where the crosshair is when it, or where it shows in the slice
    /// cells, changed since the client was last told: the client cannot work the point
    /// out itself.
    async fn tell_crosshair(&mut self) -> ControlFlow<()> {
        let (Some(crosshair_lps), Some(cells)) = (
            self.session.crosshair_lps(),
            self.session.crosshair_in_cells(),
        ) else {
            return ControlFlow::Continue(());
        };
        let mm_per_pixel = self.session.slice_scales();
        if self.told_crosshair == Some((crosshair_lps, cells, mm_per_pixel)) {
            return ControlFlow::Continue(());
        }
        self.told_crosshair = Some((crosshair_lps, cells, mm_per_pixel));
        let moved = ServerMessage::Crosshair {
            seq: self.session.last_input().0,
            crosshair_lps,
            cells,
            mm_per_pixel,
        };
        self.send(&moved).await
    }

    /// Tells the client the view at rest when it changed since the client was last told,
    /// for it to hand back after a reconnection.
    async fn tell_view(&mut self) -> ControlFlow<()> {
        let Some(view) = self.session.shared_view() else {
            return ControlFlow::Continue(());
        };
        if self.told_view.as_ref() == Some(&view) {
            return ControlFlow::Continue(());
        }
        self.told_view = Some(view.clone());
        let seq = self.session.last_input().0;
        self.send(&ServerMessage::View {
            seq,
            view: Box::new(view),
        })
        .await
    }

    /// The host changed her view: this session shows it too.
    fn follow_host(&mut self) -> ControlFlow<()> {
        let Some(view) = &mut self.host_view else {
            return ControlFlow::Continue(());
        };
        let shared = view.borrow_and_update().clone();
        if let Err(refusal) = self.session.follow(&shared, Instant::now()) {
            tracing::warn!(message = %refusal.message, "the host's view was not adopted");
        }
        ControlFlow::Continue(())
    }

    async fn on_event(&mut self, event: SchedulerEvent) -> ControlFlow<()> {
        match event {
            SchedulerEvent::Frame(mut frame) => {
                if let Some(reason) = frame.video_failure.take() {
                    Metrics::add(&self.app.metrics.h264_fallbacks_total, 1);
                    self.session.stream_video(false);
                    let switch = self.webrtc.video_stopped(Instant::now(), &reason);
                    if self.tell_switch(switch).await.is_break() {
                        return ControlFlow::Break(());
                    }
                    let notice = ServerMessage::Codec {
                        codec: Codec::Jpeg,
                        reason: format!("H.264 stopped: {reason}"),
                    };
                    if self.send(&notice).await.is_break() {
                        return ControlFlow::Break(());
                    }
                }
                let h264 = frame.header.codec == Codec::H264;
                self.frame_seq = self.frame_seq.wrapping_add(1);
                let (render_us, encode_us) = (frame.header.render_us, frame.header.encode_us);
                self.last_quality = match frame.quality {
                    render_core::view::Quality::Interactive => "interactive",
                    render_core::view::Quality::Full => "full",
                }
                .to_string();
                if let Some(kbps) = self.session.nominal_bitrate_kbps() {
                    self.webrtc.desire_bitrate(kbps);
                }
                let carried = self.webrtc.carry(
                    &frame.header,
                    self.frame_seq,
                    &frame.payload,
                    Instant::now(),
                );
                if let Carried::WebRtc(switch) = carried {
                    return self.sent_over_rtp(frame, switch).await;
                }
                if h264 && self.video_over_rtp_only {
                    // Rendered for RTP just before the frames left it: of no use here.
                    return ControlFlow::Continue(());
                }
                let (bytes, ticket) = frame.into_message(self.frame_seq);
                self.count_frame(bytes.len() as u64, (render_us, encode_us));
                self.queue(Outgoing::Frame {
                    bytes,
                    render_us,
                    encode_us,
                    h264,
                    ticket,
                })
                .await
            }
            SchedulerEvent::Failed { input_seq, message } => {
                self.error(
                    ErrorCode::Internal,
                    format!("the frame for input {input_seq} failed: {message}"),
                )
                .await
            }
        }
    }

    /// Counts a frame that went over RTP as the WebSocket's are counted (the frame's
    /// in-flight place is freed as it is dropped), after telling the client of the switch
    /// when it is the first.
    async fn sent_over_rtp(
        &mut self,
        frame: crate::scheduler::RenderedFrame,
        switch: Option<Switch>,
    ) -> ControlFlow<()> {
        let times = (frame.header.render_us, frame.header.encode_us);
        let len = frame.payload.len() as u64;
        drop(frame);
        self.count_frame(len, times);
        count_frame_sent(&self.app.metrics, len, times, true);
        self.tell_switch(switch).await
    }

    /// Counts a frame of `bytes` sent to the client in this session's `stats` figures.
    fn count_frame(&mut self, bytes: u64, (render_us, encode_us): (u32, u32)) {
        self.window.frames += 1;
        self.window.bytes += bytes;
        self.window.render_us += u64::from(render_us);
        self.window.encode_us += u64::from(encode_us);
        self.frames_sent += 1;
    }

    /// `webrtc_offer`: answered when `welcome` offered WebRTC, else refused.
    async fn webrtc_offer(&mut self, sdp: &str) -> ControlFlow<()> {
        let app = self.app.clone();
        let Some(endpoint) = app.webrtc.as_ref().filter(|_| self.webrtc_offered) else {
            return self
                .error(
                    ErrorCode::BadValue,
                    "this session's frames go over the WebSocket only (welcome.transports)",
                )
                .await;
        };
        let bitrate_kbps = self
            .session
            .bitrate_kbps()
            .unwrap_or(crate::rate::NOMINAL_KBPS.0 as u32);
        match self
            .webrtc
            .offer(endpoint, sdp, Instant::now(), bitrate_kbps)
            .await
        {
            Ok((answer, switch)) => {
                if self.tell_switch(switch).await.is_break() {
                    return ControlFlow::Break(());
                }
                tracing::info!(session = self.slot.id(), "WebRTC offer answered");
                self.send(&ServerMessage::WebrtcAnswer { sdp: answer })
                    .await
            }
            Err(refused) => {
                if self.tell_switch(refused.switch).await.is_break() {
                    return ControlFlow::Break(());
                }
                self.error(
                    ErrorCode::BadValue,
                    format!("webrtc_offer: {}", refused.reason),
                )
                .await
            }
        }
    }

    /// Acts on what the session's WebRTC peer said.
    async fn on_peer_event(&mut self, event: PeerEvent) -> ControlFlow<()> {
        match self.webrtc.on_event(event, Instant::now()) {
            PeerNews::Nothing => ControlFlow::Continue(()),
            PeerNews::Keyframe => {
                if self.video_over_rtp_only && self.session.codec() == Codec::Jpeg {
                    // The peer is up: H.264 starts, for RTP only.
                    if let Err(why) = self.start_video().await {
                        tracing::info!(session = self.slot.id(), %why, "no H.264 for WebRTC");
                        let switch = self.webrtc.close(Instant::now(), &why);
                        return self.tell_switch(switch).await;
                    }
                }
                // Refused only without a video stream, when there is nothing to mend.
                let _ = self.session.keyframe();
                ControlFlow::Continue(())
            }
            PeerNews::KeyframeRequested => {
                // Held to the rate of `keyframe` messages; past it dropped without a word
                // (the stack asks again while the picture stays broken).
                if matches!(
                    self.rates.admit(MessageKind::Keyframe, Instant::now()),
                    Admission::Admitted
                ) {
                    let _ = self.session.keyframe();
                }
                ControlFlow::Continue(())
            }
            PeerNews::Switched(switch) => self.tell_switch(Some(switch)).await,
            PeerNews::Message(text) => self.on_text(&text, Path::DataChannel).await,
            PeerNews::Bandwidth(kbps) => {
                self.session.network_estimate(Some(f64::from(kbps)));
                ControlFlow::Continue(())
            }
        }
    }

    /// Tells the client where frames go from now on; back on the WebSocket, the next frame
    /// is a keyframe (its decoder there missed what went over RTP).
    async fn tell_switch(&mut self, switch: Option<Switch>) -> ControlFlow<()> {
        let message = match switch {
            None => return ControlFlow::Continue(()),
            Some(Switch::ToWebRtc) => {
                tracing::info!(session = self.slot.id(), "frames over WebRTC");
                ServerMessage::Transport {
                    transport: TransportKind::Webrtc,
                    reason: None,
                }
            }
            Some(Switch::ToWebSocket(reason)) => {
                tracing::info!(session = self.slot.id(), %reason, "frames over the WebSocket");
                if self.video_over_rtp_only {
                    // The client cannot decode H.264 from the WebSocket: JPEG again.
                    self.stop_video();
                }
                let _ = self.session.keyframe();
                // The network's estimate was of the path the frames left.
                self.session.network_estimate(None);
                ServerMessage::Transport {
                    transport: TransportKind::Websocket,
                    reason: Some(reason),
                }
            }
        };
        self.send(&message).await
    }

    async fn send_stats(&mut self) -> ControlFlow<()> {
        if self.window.frames == 0 {
            return ControlFlow::Continue(());
        }
        let seconds = self.window.since.elapsed().as_secs_f64().max(1e-3);
        let frames = self.window.frames as f64;
        let (input_seq, input_t) = self.session.last_input();
        let stats = Stats {
            frames: self.frames_sent,
            fps: frames / seconds,
            kbit_s: self.window.bytes as f64 * 8.0 / 1000.0 / seconds,
            input_seq,
            input_t,
            render_ms: self.window.render_us as f64 / 1000.0 / frames,
            encode_ms: self.window.encode_us as f64 / 1000.0 / frames,
            quality: self.last_quality.clone(),
            bitrate_kbps: self.session.bitrate_kbps(),
            network_kbps: self.session.network_kbps(),
        };
        self.window = StatsWindow::new();
        self.send(&ServerMessage::Stats(stats)).await
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

/// Waits for the host's next view change; never, when the session follows no host (or the
/// host has gone).
async fn host_moved(
    view: &mut Option<tokio::sync::watch::Receiver<hounsfield_protocol::SharedView>>,
) {
    match view {
        Some(receiver) => {
            if receiver.changed().await.is_err() {
                *view = None;
                std::future::pending::<()>().await;
            }
        }
        None => std::future::pending::<()>().await,
    }
}
