//! The thin client's connection to a Hounsfield server: a thread of its own runs protocol
//! v1 (hello, open, inputs), takes the frames over WebRTC when the server offers it (else
//! over the WebSocket), decodes them off the UI thread and keeps only the latest one for
//! the UI, measures input → frame latency, and reconnects after a drop, handing the server
//! the view it was showing.

mod address;
mod findings;
mod messages;
mod segments;
mod together;

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Duration;

use hounsfield_client::{Client, ClientError, Event, HangingTold, VIDEO_CODECS, Welcome};
use hounsfield_protocol::{
    Action, CalciumReport, CalciumRequest, ClientMessage, CrosshairInCells, ErrorCode,
    LoadProgress, MAX_STUDY_PAGE, Opened, OverRequest, OverShown, Preset, SeriesKind,
    ServerMessage, SharedView, SlicePlane, SlicePlanesInCells, StudyInfo, StudyRequest,
    TransportKind, ValueHistogram, Viewport,
};
use hounsfield_tls::{Fingerprint, ServerTrust};
use tokio::sync::mpsc;

use super::reception::Reception;
use super::rulers::{ProbeReading, Ruler, SlicePlacement};
use super::webrtc_path::WebRtcPath;

pub use crate::pointer_spots::RemotePointer;
#[cfg(test)]
pub use address::link_fingerprint;
pub use address::{
    accepts_connections, link_parameter, server_authority, trust_for, websocket_url,
};
pub use findings::FindingNews;
pub use segments::SegmentNews;
pub use together::Together;

/// Commands the UI may have queued before the link takes them; beyond this the UI drops
/// inputs (the next drag step carries the change).
const COMMAND_QUEUE: usize = 64;
/// Rulers measured and not yet taken by the UI; beyond this the oldest are dropped.
const MEASURED_QUEUE: usize = 16;
/// The longest wait between reconnection attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// Where a link stands.
#[derive(Debug, Clone, PartialEq)]
pub enum LinkStatus {
    /// Connecting (or reconnecting: attempt > 0).
    Connecting {
        /// How many attempts failed before this one.
        attempt: u32,
        /// Why the last attempt or connection failed.
        reason: Option<String>,
    },
    /// Connected, with the series open.
    Connected,
    /// Given up, for the reason shown (a wrong token, an unknown series, a changed
    /// certificate, or closed by us).
    Closed(String),
    /// Waiting for the user: the server's certificate is signed by no authority this
    /// machine trusts (self-signed, say); trusting its fingerprint connects.
    Untrusted {
        /// The certificate's SHA-256 fingerprint, for the user to compare.
        fingerprint: Fingerprint,
        /// Why it is not trusted.
        reason: String,
    },
}

/// A decoded frame ready for the screen.
pub struct RemoteFrame {
    /// Width and height in pixels.
    pub size: [usize; 2],
    /// The size to show it at (the view's): larger than `size` for an interactive frame
    /// sent at the resolution it was rendered at, which the texture's filter scales up.
    pub display_size: [u32; 2],
    /// RGBA bytes, rows from the top.
    pub rgba: Vec<u8>,
    /// A full-quality final still (not an interactive frame).
    pub final_still: bool,
    /// The highest input seq it reflects (0: the view as opened).
    pub input_seq: u32,
}

/// The volume of a series over time the frames show (`time_point`).
#[derive(Debug, Clone, PartialEq)]
pub struct TimePointTold {
    /// Its index in `opened.volumes`.
    pub index: usize,
    /// Its label.
    pub label: String,
    /// Its time (s), when the series gives times.
    pub time_s: Option<f64>,
    /// Volumes a second while a cine plays.
    pub cine_fps: Option<f64>,
}

/// What the UI reads of the link: status, figures and the latest frame.
#[derive(Default)]
pub struct LinkState {
    /// Where the link stands; `None` before the first attempt.
    pub status: Option<LinkStatus>,
    /// The newest frame not yet shown.
    pub frame: Option<RemoteFrame>,
    /// The last cinematic picture the server announced: its `frame_seq` and paths a
    /// pixel.
    pub cinematic_announced: Option<(u32, u32)>,
    /// Paths a pixel of the last frame received, when it was a cinematic picture.
    pub cinematic_paths: Option<u32>,
    /// The series as the server opened it (new after each (re)connection).
    pub opened: Option<Opened>,
    /// Input → frame latency of the last frame that answered an input (ms).
    pub latency_ms: Option<f64>,
    /// Frames a second and kilobits a second over the last second.
    pub fps: f64,
    /// Kilobits a second received over the last second.
    pub kbit_s: f64,
    /// The last error the server answered with (a refused input, say).
    pub server_error: Option<String>,
    /// The codec of interactive frames the server chose (`h264` or `jpeg`).
    pub codec: String,
    /// What carries the interactive frames; `None` before the first connection.
    pub transport: Option<TransportKind>,
    /// Why the frames are not over WebRTC though the server offered it: the offer failed,
    /// or the server moved them back to the WebSocket (its reason).
    pub webrtc_fallback: Option<String>,
    /// Who the server let in, with the role (`ada (reader)`); none on an open server.
    pub user: Option<String>,
    /// Where the server says the crosshair went, not yet taken by the UI (LPS, mm).
    pub crosshair_lps: Option<glam::DVec3>,
    /// Where the server last said the crosshair shows in the 2×2 layout's slice cells,
    /// and the input it answered: frames answering that input show it there.
    pub crosshair_cells: Option<(u32, CrosshairInCells)>,
    /// How the server last said the slice cells show their planes (`None`: the standard
    /// planes), and the input it answered: frames answering that input show them so.
    pub slice_planes: Option<(u32, Option<SlicePlanesInCells>)>,
    /// How far the server has come loading the series, while it loads (after a long
    /// load's first `progress`, until `opened`).
    pub loading: Option<LoadProgress>,
    /// Where the slices lie in their cells (for rulers), and the input it answered.
    pub slice_placement: Option<(u32, SlicePlacement)>,
    /// The value under the cursor the server read last.
    pub probe: Option<ProbeReading>,
    /// The volume of a series over time the frames show, as the server last told it.
    pub time_point: Option<TimePointTold>,
    /// The series the server draws over the slice cells and how (`over`); none when it
    /// draws none.
    pub over: Option<OverShown>,
    /// Rulers the server measured, not yet taken by the UI (oldest first).
    pub measured: VecDeque<Ruler>,
    /// What the server told of the findings, not yet taken by the UI (oldest first).
    pub finding_news: VecDeque<FindingNews>,
    /// What the server told of the segments, not yet taken by the UI (oldest first).
    pub segment_news: VecDeque<SegmentNews>,
    /// A `save_findings` went out and is not answered yet.
    save_pending: bool,
    /// `key_image` and `snapshot` requests sent and not answered yet.
    documents_pending: usize,
    /// The view the server last told at rest, not yet taken by the UI (in a shared
    /// session joined, the host's).
    pub told_view: Option<SharedView>,
    /// The transfer function the 3D view shows and the volume's histogram, as the server
    /// answered `transfer_function`, not yet taken by the editor.
    pub transfer_function: Option<(Box<Preset>, ValueHistogram)>,
    /// What the server said of a `save_preset`: the name saved and every preset it
    /// offers now, or why not; not yet taken by the editor.
    pub preset_saved: Option<Result<(String, Vec<String>), String>>,
    /// The other participants' pointers in the shared session joined, by session.
    pub pointers: std::collections::BTreeMap<u64, RemotePointer>,
    /// What the server told of sharing, the controls and the recordings.
    pub together: Together,
    /// The hanging protocol the server laid the linked study out by (its name and cells;
    /// the first is this link's), not yet taken by the UI.
    pub hanging: Option<HangingTold>,
    /// The patient's other studies, as the server last told them on an `opened`, not yet
    /// taken by the UI.
    pub priors: Option<Vec<StudyInfo>>,
    /// The calcium score the server answered last (`calcium`), not yet taken by the UI.
    pub calcium: Option<Box<CalciumReport>>,
    /// Why the server refused the last `calcium`, not yet taken by the UI.
    pub calcium_refused: Option<String>,
    /// The series a study's link opened first: a reconnection opens it again rather than
    /// laying the study out anew.
    study_opened: Option<String>,
}

/// What the UI asks the link to do.
#[derive(Debug)]
enum Command {
    Input(Action),
    /// Asks for the value under fractions (x, y) of a slice's cell.
    Probe(SlicePlane, [f64; 2]),
    /// Asks for the distance between two spots of a slice's cell.
    Measure(SlicePlane, [f64; 2], [f64; 2]),
    /// A request about the findings: `finding`, `save_findings`, `key_image`, `snapshot`
    /// (see [`findings`]).
    Findings(ClientMessage),
    Still {
        lossless: bool,
    },
    /// A message as it is: a pointer, or one about sharing, the controls or recordings.
    Relay(ClientMessage),
    Close,
}

/// Where to connect and what to open.
#[derive(Debug, Clone)]
pub struct LinkTarget {
    /// `ws://host:port/ws` (see [`websocket_url`]).
    pub url: String,
    /// The access token, when the server wants one.
    pub token: Option<String>,
    /// A login the server gave this app when the user signed in through its identity
    /// provider (sent as the login cookie), instead of a token.
    pub login: Option<String>,
    /// The series to open; none: the first the server lists.
    pub series: Option<String>,
    /// The study to open (a worklist's link) as the server's hanging protocols lay it
    /// out, when no series is named.
    pub study: Option<String>,
    /// The shared session to join instead (its join id): its series opens and the view
    /// follows its host's.
    pub join: Option<String>,
    /// The frame size to ask for.
    pub viewport: Viewport,
    /// What a `wss` server's certificate must satisfy.
    pub trust: ServerTrust,
    /// Whether to take the frames over WebRTC when the server offers it (`false`: the
    /// WebSocket only, with no attempt, where UDP is blocked).
    pub offer_webrtc: bool,
}

/// The first series to open of what the server lists: a volume before a localiser or a
/// single image.
async fn first_series(client: &mut Client) -> Result<String, ClientError> {
    let request = StudyRequest {
        limit: Some(MAX_STUDY_PAGE),
        ..StudyRequest::default()
    };
    let studies = client.find_studies(request).await?.studies;
    let available: Vec<_> = studies
        .iter()
        .flat_map(|study| &study.series)
        .filter(|series| series.unavailable.is_none())
        .collect();
    available
        .iter()
        .find(|series| series.kind == SeriesKind::Volume)
        .or_else(|| available.first())
        .map(|series| series.id.clone())
        .ok_or_else(|| ClientError::Protocol("the server lists no series".to_string()))
}

/// A running connection to a server.
pub struct RemoteLink {
    commands: mpsc::Sender<Command>,
    state: Arc<Mutex<LinkState>>,
    /// The view to hand the server after a (re)connection.
    view: Arc<Mutex<Option<SharedView>>>,
    thread: Option<JoinHandle<()>>,
    /// Where it connects.
    pub target: LinkTarget,
}

impl RemoteLink {
    /// Starts connecting to `target`; `initial` is the view to show (from local rendering)
    /// and `wake` asks the UI to repaint when something arrives.
    pub fn start(
        target: LinkTarget,
        initial: Option<SharedView>,
        wake: impl Fn() + Send + 'static,
    ) -> std::io::Result<Self> {
        let (commands, receiver) = mpsc::channel(COMMAND_QUEUE);
        let state = Arc::new(Mutex::new(LinkState::default()));
        let view = Arc::new(Mutex::new(initial));
        let worker = Worker {
            target: target.clone(),
            state: state.clone(),
            view: view.clone(),
            wake: Box::new(wake),
        };
        let thread = std::thread::Builder::new()
            .name("remote-link".to_string())
            .spawn(move || worker.run(receiver))?;
        Ok(Self {
            commands,
            state,
            view,
            thread: Some(thread),
            target,
        })
    }

    /// The link's state, for reading and taking the latest frame.
    pub fn state(&self) -> MutexGuard<'_, LinkState> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Sends one input; `false` when the queue is full or the link has stopped (the input
    /// is dropped).
    pub fn send(&self, action: Action) -> bool {
        self.commands.try_send(Command::Input(action)).is_ok()
    }

    /// Asks the server for the value under fractions `at` of `plane`'s cell (answered in
    /// [`LinkState::probe`]); `false` when the queue is full (the UI asks again).
    pub fn probe(&self, plane: SlicePlane, at: [f64; 2]) -> bool {
        self.commands.try_send(Command::Probe(plane, at)).is_ok()
    }

    /// Asks the server to measure from `from` to `to` (fractions of `plane`'s cell),
    /// answered in [`LinkState::measured`].
    pub fn measure(&self, plane: SlicePlane, from: [f64; 2], to: [f64; 2]) -> bool {
        self.commands
            .try_send(Command::Measure(plane, from, to))
            .is_ok()
    }

    /// Tells the shared session's other participants where this one points: in `cell`
    /// at fractions `at`, or (`None`) that the pointer left the picture.
    pub fn point(&self, at: Option<(&str, [f64; 2])>) -> bool {
        let message = ClientMessage::Pointer {
            cell: at.map(|(cell, _)| cell.to_string()),
            x: at.map(|(_, [x, _])| x),
            y: at.map(|(_, [_, y])| y),
        };
        self.commands.try_send(Command::Relay(message)).is_ok()
    }

    /// Asks for the transfer function the 3D view shows and the volume's histogram
    /// (answered in [`LinkState::transfer_function`]); `false` when the queue is full or
    /// the link stopped.
    pub fn ask_transfer_function(&self) -> bool {
        let message = ClientMessage::TransferFunction { bins: None };
        self.commands.try_send(Command::Relay(message)).is_ok()
    }

    /// Asks the server to draw `request`'s series over the slice cells, restyle it or
    /// take it away (answered in [`LinkState::over`]); `false` when the queue is full or
    /// the link stopped.
    pub fn over(&self, request: OverRequest) -> bool {
        self.commands
            .try_send(Command::Relay(ClientMessage::Over(request)))
            .is_ok()
    }

    /// Asks the server to score the open CT's calcium as `request` says (answered in
    /// [`LinkState::calcium`], or refused in [`LinkState::calcium_refused`]); `false`
    /// when the queue is full or the link stopped.
    pub fn calcium(&self, request: CalciumRequest) -> bool {
        self.commands
            .try_send(Command::Relay(ClientMessage::Calcium(request)))
            .is_ok()
    }

    /// Asks the server to keep `preset` as a preset of its own (an administrator's),
    /// answered in [`LinkState::preset_saved`]; `false` when the queue is full or the
    /// link stopped.
    pub fn save_preset(&self, preset: Preset) -> bool {
        let message = ClientMessage::SavePreset {
            preset: Box::new(preset),
        };
        self.commands.try_send(Command::Relay(message)).is_ok()
    }

    /// Whether the link joined a shared session (its pointer goes to the others).
    pub fn joined(&self) -> bool {
        self.target.join.is_some()
    }

    /// Asks for a final still (PNG when `lossless`).
    pub fn still(&self, lossless: bool) -> bool {
        self.commands.try_send(Command::Still { lossless }).is_ok()
    }

    /// Remembers the view the UI mirrors, so a reconnection restores it.
    pub fn remember(&self, view: SharedView) {
        *self
            .view
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(view);
    }
}

impl Drop for RemoteLink {
    fn drop(&mut self) {
        // A full queue still ends the worker: it stops when the sender is gone.
        let _ = self.commands.try_send(Command::Close);
        let (closed, _) = mpsc::channel(1);
        let _ = std::mem::replace(&mut self.commands, closed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The connection thread's side.
struct Worker {
    target: LinkTarget,
    state: Arc<Mutex<LinkState>>,
    view: Arc<Mutex<Option<SharedView>>>,
    wake: Box<dyn Fn() + Send>,
}

/// How a connection ended.
enum Ended {
    /// The UI closed the link.
    ByUs,
    /// Not worth retrying (wrong token, unknown series, a changed certificate, a server
    /// that broke the protocol or its bounds).
    Fatal(String),
    /// The certificate needs the user's trust first.
    Untrusted(Fingerprint, String),
    /// Dropped or failed: try again.
    Retry(String),
}

impl Worker {
    fn run(self, mut commands: mpsc::Receiver<Command>) {
        let runtime = match tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        {
            Ok(runtime) => runtime,
            Err(error) => {
                self.update(|state| {
                    state.status = Some(LinkStatus::Closed(format!(
                        "cannot start the connection: {error}"
                    )));
                });
                return;
            }
        };
        runtime.block_on(async {
            let mut attempt = 0u32;
            let mut reason = None;
            loop {
                self.update(|state| {
                    state.status = Some(LinkStatus::Connecting {
                        attempt,
                        reason: reason.clone(),
                    });
                });
                let ended = self.connection(&mut commands).await;
                match ended {
                    Ended::ByUs => {
                        self.update(|state| {
                            state.status = Some(LinkStatus::Closed("disconnected".to_string()));
                        });
                        return;
                    }
                    Ended::Fatal(why) => {
                        self.update(|state| state.status = Some(LinkStatus::Closed(why)));
                        return;
                    }
                    Ended::Untrusted(fingerprint, reason) => {
                        self.update(|state| {
                            state.status = Some(LinkStatus::Untrusted {
                                fingerprint,
                                reason,
                            });
                        });
                        return;
                    }
                    Ended::Retry(why) => {
                        tracing::info!(url = %self.target.url, %why, "connection lost; retrying");
                        attempt += 1;
                        reason = Some(why);
                        let backoff = Duration::from_millis(250 * u64::from(attempt.min(20)))
                            .min(MAX_BACKOFF);
                        self.update(|state| {
                            state.status = Some(LinkStatus::Connecting {
                                attempt,
                                reason: reason.clone(),
                            });
                        });
                        // Wait, but stop at once when the UI closes the link.
                        let deadline = tokio::time::sleep(backoff);
                        tokio::pin!(deadline);
                        loop {
                            tokio::select! {
                                () = &mut deadline => break,
                                command = commands.recv() => match command {
                                    None | Some(Command::Close) => {
                                        self.update(|state| {
                                            state.status = Some(LinkStatus::Closed("disconnected".to_string()));
                                        });
                                        return;
                                    }
                                    // Inputs while disconnected are moot: the view
                                    // handed over on reconnection carries them.
                                    Some(_) => {}
                                },
                            }
                        }
                    }
                }
            }
        });
    }

    /// One connection: the session opened ([`Self::open_session`]), then frames and inputs
    /// until it ends.
    async fn connection(&self, commands: &mut mpsc::Receiver<Command>) -> Ended {
        let cookie = self
            .target
            .login
            .as_ref()
            .map(|login| format!("{}={login}", hounsfield_protocol::LOGIN_COOKIE));
        let headers: Vec<(&str, &str)> = cookie
            .as_deref()
            .map(|cookie| ("cookie", cookie))
            .into_iter()
            .collect();
        let connecting =
            Client::connect_with_headers(&self.target.url, &self.target.trust, &headers);
        let mut client = match connecting.await {
            Ok(client) => client,
            Err(
                error @ (ClientError::Untrusted { .. }
                | ClientError::CertificateChanged { .. }
                | ClientError::Tls(_)),
            ) => return classify(error),
            Err(error) => {
                return Ended::Retry(format!("cannot connect to {}: {error}", self.target.url));
            }
        };
        let (welcome, webrtc, opened) = match self.open_session(&mut client).await {
            Ok(session) => session,
            Err(error) => return classify(error),
        };
        tracing::info!(url = %self.target.url, series = %opened.series, "series open");
        let (mut webrtc, fallback) = match webrtc {
            Ok(webrtc) => (webrtc, None),
            Err(why) => (WebRtcPath::websocket_only(), Some(why)),
        };
        self.update(|state| {
            state.unanswered_after_a_drop();
            state.codec = format!("{:?}", welcome.codec).to_lowercase();
            state.user = welcome.user.as_ref().map(|user| match &welcome.role {
                Some(role) => format!("{user} ({role})"),
                None => user.clone(),
            });
            state.opened = Some(opened);
            state.together.session = Some(welcome.session);
            state.pointers.clear();
            state.loading = None;
            state.status = Some(LinkStatus::Connected);
            state.server_error = None;
            state.transport = Some(TransportKind::Websocket);
            state.webrtc_fallback = fallback;
        });
        match self.stream(&mut client, &mut webrtc, commands).await {
            Ok(()) => {
                let _ = client.close().await;
                Ended::ByUs
            }
            Err(error) => classify(error),
        }
    }

    /// Hello (offering WebRTC unless told not to), the WebRTC offer when the server offers
    /// it (why not, when it fails: the WebSocket carries on alone), the series opened and
    /// the view handed over.
    async fn open_session(
        &self,
        client: &mut Client,
    ) -> Result<(Welcome, Result<WebRtcPath, String>, Opened), ClientError> {
        let offered: &[TransportKind] = if self.target.offer_webrtc {
            &[TransportKind::Webrtc, TransportKind::Websocket]
        } else {
            &[]
        };
        let welcome = client
            .hello_with_transports(
                self.target.token.as_deref(),
                self.target.viewport,
                &VIDEO_CODECS,
                offered,
            )
            .await?;
        // Offered before the series opens: no frame is on the way while the answer is
        // awaited (the wait skips frames).
        let webrtc = if self.target.offer_webrtc
            && welcome.transports.contains(&TransportKind::Webrtc)
        {
            WebRtcPath::negotiate(client).await.map_err(|why| {
                tracing::warn!(url = %self.target.url, %why, "WebRTC not negotiated; frames over the WebSocket");
                why
            })
        } else {
            Ok(WebRtcPath::websocket_only())
        };
        if let Some(join) = &self.target.join {
            // The host's view, not one of this client's: nothing is handed over.
            let opened = client
                .join_reporting(join, |progress| {
                    self.update(|state| state.loading = Some(progress));
                })
                .await?;
            return Ok((welcome, webrtc, opened));
        }
        let opened = self.open_target(client).await?;
        let view = self
            .view
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone();
        if let Some(view) = view {
            client
                .input(Action::SetView {
                    view: Box::new(view),
                })
                .await?;
        }
        // The series drawn over the slices before the link dropped, drawn again.
        let over = self
            .state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .over
            .take();
        if let Some(shown) = over {
            let again = OverRequest::drawing(&shown);
            client.send(&ClientMessage::Over(again)).await?;
        }
        Ok((welcome, webrtc, opened))
    }

    /// Opens what the target names: its series; else its study as the server's hanging
    /// protocols lay it out (the series it opened first, again after a reconnection); else
    /// the first series the server lists.
    async fn open_target(&self, client: &mut Client) -> Result<Opened, ClientError> {
        let reopen = self
            .state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .study_opened
            .clone();
        let series = match (self.target.series.clone(), &self.target.study, reopen) {
            (Some(series), _, _) | (None, Some(_), Some(series)) => series,
            (None, Some(study), None) => {
                let (hanging, opened) = client
                    .open_study_reporting(study, |progress| {
                        self.update(|state| state.loading = Some(progress));
                    })
                    .await?;
                self.update(|state| {
                    state.study_opened = Some(opened.series.clone());
                    state.hanging = hanging;
                });
                return Ok(opened);
            }
            (None, None, _) => first_series(client).await?,
        };
        client
            .open_reporting(&series, |progress| {
                self.update(|state| state.loading = Some(progress));
            })
            .await
    }

    /// Frames (over the WebSocket, or WebRTC while the server sends them there) and the
    /// UI's commands, until the UI closes the link (`Ok`) or the connection fails.
    async fn stream(
        &self,
        client: &mut Client,
        webrtc: &mut WebRtcPath,
        commands: &mut mpsc::Receiver<Command>,
    ) -> Result<(), ClientError> {
        let mut reception = Reception::new();
        loop {
            tokio::select! {
                event = client.next_event() => match event? {
                    Event::Frame(frame) => {
                        self.on_frame(&mut reception, client, &frame).await?;
                    }
                    Event::Message(ServerMessage::Transport { transport, reason }) => {
                        if transport == TransportKind::Websocket {
                            webrtc.given_up();
                        }
                        self.on_transport(transport, reason);
                    }
                    Event::Message(message) => self.on_message(message),
                },
                frames = webrtc.next_frames() => match frames {
                    Ok(frames) => {
                        for frame in &frames {
                            self.on_frame(&mut reception, client, frame).await?;
                        }
                    }
                    Err(why) => {
                        // The server may not know yet: frames come back over the WebSocket
                        // at once.
                        client.send(&ClientMessage::WebrtcClose { reason: why.clone() }).await?;
                        self.on_transport(TransportKind::Websocket, Some(why));
                    }
                },
                command = commands.recv() => match command {
                    None | Some(Command::Close) => return Ok(()),
                    Some(Command::Input(action)) => {
                        let seq = match webrtc.input_channel().filter(|_| action.is_drag_step()) {
                            Some(peer) => {
                                let (seq, json) = client.input_json(action)?;
                                // A full queue drops the step: the next one carries the drag.
                                peer.send_input(json);
                                seq
                            }
                            None => client.input(action).await?,
                        };
                        reception.sent(seq);
                    }
                    Some(Command::Probe(plane, [x, y])) => {
                        client.send(&ClientMessage::Probe { cell: plane.name().to_string(), x, y }).await?;
                    }
                    Some(Command::Measure(plane, from, to)) => {
                        client.send(&ClientMessage::Measure { cell: plane.name().to_string(), from, to }).await?;
                    }
                    Some(Command::Findings(message)) => {
                        self.send_findings(client, &message).await?;
                    }
                    Some(Command::Still { lossless }) => client.still(lossless).await?,
                    Some(Command::Relay(message)) => client.send(&message).await?,
                },
            }
        }
    }
}

/// Whether an error ends the link or is worth a reconnection.
fn classify(error: ClientError) -> Ended {
    match error {
        ClientError::Server {
            code: code @ (ErrorCode::Unauthorized | ErrorCode::UnknownSeries),
            message,
        } => Ended::Fatal(format!("the server refused: {code:?}: {message}")),
        ClientError::Untrusted {
            fingerprint,
            reason,
        } => Ended::Untrusted(fingerprint, reason),
        error @ (ClientError::CertificateChanged { .. } | ClientError::Tls(_)) => {
            Ended::Fatal(error.to_string())
        }
        // What it sent is refused where it arrived (the client's intake) and the
        // connection closed: connecting again would fetch the same.
        error @ (ClientError::Protocol(_) | ClientError::Header(_)) => {
            Ended::Fatal(format!("the server broke the protocol: {error}"))
        }
        other => Ended::Retry(other.to_string()),
    }
}

#[cfg(test)]
mod findings_tests;
#[cfg(test)]
mod hostile_tests;
#[cfg(test)]
pub(crate) mod participants_tests;
#[cfg(test)]
mod together_tests;
#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{IpAddr, Ipv4Addr, SocketAddr};
    use std::sync::mpsc::{Receiver, sync_channel};
    use std::time::Instant;

    use hounsfield_server::BackgroundServer;
    use hounsfield_server::{Library, ServerConfig};
    use hounsfield_webrtc::WebRtcConfig;

    /// A server of the built-in phantom on a loopback port, in this process, with its
    /// WebSocket address; dropping it stops it.
    pub(super) fn serve_phantom(token: Option<&str>) -> (String, BackgroundServer) {
        let mut config = ServerConfig::new(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)));
        config.token = token.map(str::to_string);
        serve(config)
    }

    /// A server of the phantom as `config` says, with its WebSocket address.
    pub(super) fn serve(config: ServerConfig) -> (String, BackgroundServer) {
        let scheduler = hounsfield_workstation::renderer::start_renderer().expect("renderer");
        let library = Arc::new(Library::phantom(256 << 20));
        let server = BackgroundServer::start("test-server", config, library, scheduler)
            .expect("the server listens");
        (server.websocket_url(), server)
    }

    /// A phantom server offering WebRTC on loopback UDP, its answers announcing `announce`
    /// (where the server does not listen, when given) instead of the address it binds.
    fn serve_webrtc(announce: Option<IpAddr>) -> (String, BackgroundServer) {
        let mut config = ServerConfig::new(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)));
        config.webrtc = Some(WebRtcConfig {
            announce,
            ..WebRtcConfig::loopback()
        });
        serve(config)
    }

    /// RGBA values that differ by more than 16 between two frames of one size.
    fn differing_values(a: &[u8], b: &[u8]) -> usize {
        a.iter()
            .zip(b)
            .filter(|(a, b)| a.abs_diff(**b) > 16)
            .count()
    }

    /// Waits (up to a minute) for the link's next frame that `accept` takes.
    pub(super) fn next_frame(
        link: &RemoteLink,
        woken: &Receiver<()>,
        accept: impl Fn(&RemoteFrame) -> bool,
    ) -> RemoteFrame {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(frame) = link.state().frame.take()
                && accept(&frame)
            {
                return frame;
            }
            let status = link.state().status.clone();
            assert!(
                !matches!(status, Some(LinkStatus::Closed(_))),
                "the link closed: {status:?}"
            );
            let left = deadline.saturating_duration_since(Instant::now());
            assert!(!left.is_zero(), "no frame within a minute: {status:?}");
            let _ = woken.recv_timeout(left.min(Duration::from_millis(200)));
        }
    }

    pub(super) fn link_to(
        url: &str,
        token: Option<&str>,
        series: Option<&str>,
    ) -> (RemoteLink, Receiver<()>) {
        start_link(target(url, token, series))
    }

    /// A small viewport on `url`, WebRTC offered.
    pub(super) fn target(url: &str, token: Option<&str>, series: Option<&str>) -> LinkTarget {
        LinkTarget {
            url: url.to_string(),
            token: token.map(str::to_string),
            login: None,
            series: series.map(str::to_string),
            study: None,
            join: None,
            viewport: Viewport {
                width: 160,
                height: 120,
            },
            trust: ServerTrust::default(),
            offer_webrtc: true,
        }
    }

    pub(super) fn start_link(target: LinkTarget) -> (RemoteLink, Receiver<()>) {
        let (wake, woken) = sync_channel(16);
        let link = RemoteLink::start(target, None, move || {
            let _ = wake.try_send(());
        })
        .expect("link started");
        (link, woken)
    }

    /// A drag on a link: its inputs numbered as the server numbers them (the link hands
    /// over no view, so the drag's first input is 1).
    struct Drag<'a> {
        link: &'a RemoteLink,
        woken: &'a Receiver<()>,
        seq: u32,
    }

    impl<'a> Drag<'a> {
        /// Starts a drag (`interact`), after the first still.
        fn start(link: &'a RemoteLink, woken: &'a Receiver<()>) -> Self {
            let mut drag = Self {
                link,
                woken,
                seq: 0,
            };
            drag.send(Action::Interact { active: true });
            drag
        }

        fn send(&mut self, action: Action) -> u32 {
            assert!(self.link.send(action), "the input is taken");
            self.seq += 1;
            self.seq
        }

        /// An orbit step of `dx` degrees and the first frame that answers it.
        fn orbit(&mut self, dx: f64) -> RemoteFrame {
            let seq = self.send(Action::Orbit { dx, dy: 0.0 });
            next_frame(self.link, self.woken, |frame| frame.input_seq >= seq)
        }

        /// Ends the drag: the final still that answers it.
        fn release(mut self) -> RemoteFrame {
            self.release_and_wait()
        }

        /// Ends the drag and starts the next one on the same link: the final still
        /// between them.
        fn release_and_grab_again(&mut self) -> RemoteFrame {
            let still = self.release_and_wait();
            self.send(Action::Interact { active: true });
            still
        }

        fn release_and_wait(&mut self) -> RemoteFrame {
            let seq = self.send(Action::Interact { active: false });
            next_frame(self.link, self.woken, |frame| {
                frame.final_still && frame.input_seq >= seq
            })
        }
    }

    /// What carries the link's frames and why not WebRTC.
    fn transport_of(link: &RemoteLink) -> (Option<TransportKind>, Option<String>) {
        let state = link.state();
        (state.transport, state.webrtc_fallback.clone())
    }

    /// Orbits in small steps, each answered by a frame, until the link's transport
    /// satisfies `wanted` (the server moves frames at an interactive frame).
    fn drag_until(
        drag: &mut Drag<'_>,
        wanted: impl Fn(Option<TransportKind>, Option<&str>) -> bool,
    ) {
        let deadline = Instant::now() + Duration::from_secs(60);
        let mut steps = 0;
        loop {
            let (transport, fallback) = transport_of(drag.link);
            if wanted(transport, fallback.as_deref()) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "still {transport:?} ({fallback:?}) after {steps} steps"
            );
            drag.orbit(1.0);
            steps += 1;
        }
    }

    #[test]
    fn thin_client_takes_frames_over_webrtc_and_its_drag_changes_the_picture() {
        let (url, server) = serve_webrtc(None);
        let (link, woken) = link_to(&url, None, None);
        let first = next_frame(&link, &woken, |frame| frame.final_still);
        let mut drag = Drag::start(&link, &woken);
        drag_until(&mut drag, |transport, _| {
            transport == Some(TransportKind::Webrtc)
        });
        assert_eq!(transport_of(&link), (Some(TransportKind::Webrtc), None));
        // Interactive frames now come only as RTP: a drag step (over the data channel) is
        // answered by one, with its latency measured.
        link.state().latency_ms = None;
        let turned = drag.orbit(90.0);
        assert!(!turned.final_still, "an interactive frame");
        assert!(link.state().latency_ms.is_some(), "latency measured");
        assert_eq!(transport_of(&link), (Some(TransportKind::Webrtc), None));
        // The release's still (over the WebSocket) shows the view turned.
        let still = drag.release();
        assert_eq!(still.size, first.size);
        let differing = differing_values(&first.rgba, &still.rgba);
        assert!(
            differing > first.rgba.len() / 50,
            "turning 90° changes the picture ({differing} values differ)"
        );
        let error = link.state().server_error.clone();
        assert_eq!(error, None, "every frame decodes");
        drop(link);
        server.stop().expect("served");
    }

    #[test]
    fn thin_client_told_to_keep_to_the_websocket_never_offers_webrtc() {
        let (url, server) = serve_webrtc(None);
        let (link, woken) = start_link(LinkTarget {
            offer_webrtc: false,
            ..target(&url, None, None)
        });
        next_frame(&link, &woken, |frame| frame.final_still);
        let mut drag = Drag::start(&link, &woken);
        // Offered, the frames would have moved within these steps (a loopback peer
        // connects in milliseconds).
        let deadline = Instant::now() + Duration::from_secs(2);
        let mut steps = 0;
        while Instant::now() < deadline || steps < 10 {
            drag.orbit(1.0);
            assert_eq!(transport_of(&link), (Some(TransportKind::Websocket), None));
            steps += 1;
        }
        drag.release();
        drop(link);
        server.stop().expect("served");
    }

    #[test]
    fn thin_client_falls_back_to_the_websocket_with_the_reason_when_webrtc_does_not_connect() {
        // Answers announce an address where nothing listens: the peer never connects.
        let (url, server) = serve_webrtc(Some(IpAddr::from([127, 0, 0, 2])));
        let (link, woken) = link_to(&url, None, None);
        next_frame(&link, &woken, |frame| frame.final_still);
        let mut drag = Drag::start(&link, &woken);
        // Every step is answered meanwhile, over the WebSocket.
        drag_until(&mut drag, |_, fallback| fallback.is_some());
        let (transport, fallback) = transport_of(&link);
        assert_eq!(transport, Some(TransportKind::Websocket));
        let reason = fallback.expect("a reason");
        assert!(reason.contains("connect"), "{reason}");
        // The steps until the fallback turned the view by however many degrees the
        // peer took to give up: the picture they left is the one a further turn
        // must change.
        let before = drag.release_and_grab_again();
        // And the link goes on over the WebSocket: a new drag still turns the view.
        assert!(!drag.orbit(90.0).final_still, "an interactive frame");
        let still = drag.release();
        let differing = differing_values(&before.rgba, &still.rgba);
        assert!(
            differing > before.rgba.len() / 50,
            "turning 90° changes the picture ({differing} values differ)"
        );
        drop(link);
        server.stop().expect("served");
    }

    #[test]
    fn thin_client_gets_frames_and_its_input_changes_the_picture() {
        let (url, server) = serve_phantom(Some("open-sesame"));
        let (link, woken) = link_to(&url, Some("open-sesame"), None);
        let first = next_frame(&link, &woken, |frame| frame.final_still);
        assert_eq!(first.size, [160, 120]);
        assert!(
            first
                .rgba
                .chunks(4)
                .any(|p| p[0] > 40 || p[1] > 40 || p[2] > 40),
            "the first still shows the phantom"
        );
        let opened = link.state().opened.clone().expect("opened");
        assert_eq!(opened.series, "phantom");
        assert!(opened.view.is_some(), "opened carries the starting view");
        assert!(link.send(Action::Orbit { dx: 90.0, dy: 0.0 }));
        let turned = next_frame(&link, &woken, |frame| {
            frame.final_still && frame.input_seq >= 1
        });
        let differing = differing_values(&first.rgba, &turned.rgba);
        assert!(
            differing > first.rgba.len() / 50,
            "turning 90° changes the picture ({differing} values differ)"
        );
        assert!(link.state().latency_ms.is_some(), "latency measured");
        // Interactive frames come as H.264 where an encoder opens (libx264 here), and they
        // decode: a failed decode would show as an error.
        let (codec, error) = {
            let state = link.state();
            (state.codec.clone(), state.server_error.clone())
        };
        assert!(["h264", "jpeg"].contains(&codec.as_str()), "{codec}");
        assert_eq!(error, None, "every frame decodes");
        drop(link);
        server.stop().expect("served");
    }

    /// Whether more than 1 % of `cell`'s pixels in a `width`-wide frame are not dark.
    fn cell_shows_something(frame: &RemoteFrame, cell: render_core::view::Cell) -> bool {
        let width = frame.size[0];
        let mut bright = 0usize;
        for y in cell.y as usize..(cell.y + cell.height) as usize {
            for x in cell.x as usize..(cell.x + cell.width) as usize {
                let at = (y * width + x) * 4;
                if frame.rgba[at..at + 3].iter().any(|c| *c > 40) {
                    bright += 1;
                }
            }
        }
        bright * 100 > (cell.width * cell.height) as usize
    }

    #[test]
    fn thin_client_shows_the_servers_2x2_layout_and_hands_it_over_with_the_crosshair() {
        use hounsfield_protocol::Layout;
        use render_core::view::layout::quad_cells;

        let (url, server) = serve_phantom(None);
        let (link, woken) = link_to(&url, None, None);
        let single = next_frame(&link, &woken, |frame| frame.final_still);
        assert!(link.send(Action::Layout {
            name: "2x2".to_string()
        }));
        let quad = next_frame(&link, &woken, |frame| {
            frame.final_still && frame.input_seq >= 1
        });
        assert_eq!(quad.size, single.size, "one frame of the same size");
        let cells = quad_cells([quad.size[0] as u32, quad.size[1] as u32]);
        for (cell, name) in cells.iter().zip(["3D", "axial", "coronal", "sagittal"]) {
            assert!(
                cell_shows_something(&quad, *cell),
                "the {name} cell is blank"
            );
        }
        assert!(differing_values(&single.rgba, &quad.rgba) > quad.rgba.len() / 50);
        // A slice input: the server says where the crosshair went.
        assert!(link.send(Action::Slice {
            plane: "axial".to_string(),
            delta_mm: 30.0,
        }));
        let moved = next_frame(&link, &woken, |frame| {
            frame.final_still && frame.input_seq >= 2
        });
        let deadline = Instant::now() + Duration::from_secs(30);
        let crosshair = loop {
            if let Some(point) = link.state().crosshair_lps {
                break point;
            }
            assert!(Instant::now() < deadline, "no crosshair reported");
            let _ = woken.recv_timeout(Duration::from_millis(200));
        };
        let centre = render_core::phantom::ct_phantom().centre_lps();
        assert!((crosshair.z - centre.z - 30.0).abs() < 1e-6, "{crosshair}");
        // And where it shows: 30 mm towards S is above the middle of the coronal and
        // sagittal cells; the axial cell keeps it in its middle.
        let (seq, cells) = link.state().crosshair_cells.expect("where it shows");
        assert_eq!(seq, 2, "the slice input's");
        let near_middle = |v: f64| (v - 0.5).abs() < 0.01;
        assert!(
            near_middle(cells.axial[0]) && near_middle(cells.axial[1]),
            "{cells:?}"
        );
        assert!(
            cells.coronal[1] < 0.45 && cells.sagittal[1] < 0.45,
            "{cells:?}"
        );
        // A new link handed this view (as after a switch or a reconnection) shows the same.
        let opened = link.state().opened.clone().expect("opened");
        let mut handed = opened.view.clone().expect("a view");
        handed.layout = Layout::Quad;
        handed.crosshair_lps = Some(crosshair);
        let (wake, woken_again) = sync_channel(16);
        let target = link.target.clone();
        let again = RemoteLink::start(target, Some(handed), move || {
            let _ = wake.try_send(());
        })
        .expect("link started");
        let shown = next_frame(&again, &woken_again, |frame| {
            frame.final_still && frame.input_seq >= 1
        });
        let differing = differing_values(&moved.rgba, &shown.rgba);
        assert!(
            differing < moved.rgba.len() / 200,
            "the handed-over view shows the same 2×2 frame ({differing} values differ)"
        );
        drop(again);
        drop(link);
        server.stop().expect("served");
    }

    #[test]
    fn thin_client_hands_over_a_view_and_gives_up_on_a_wrong_token() {
        let (url, server) = serve_phantom(Some("right"));
        let (refused, woken) = link_to(&url, Some("wrong"), None);
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let status = refused.state().status.clone();
            if let Some(LinkStatus::Closed(reason)) = status {
                assert!(reason.contains("Unauthorized"), "{reason}");
                break;
            }
            assert!(Instant::now() < deadline, "still {status:?}");
            let _ = woken.recv_timeout(Duration::from_millis(200));
        }
        drop(refused);

        // A view from elsewhere (turned to the left side) is what the server shows.
        let (plain, woken) = link_to(&url, Some("right"), Some("phantom"));
        let anterior = next_frame(&plain, &woken, |frame| frame.final_still);
        assert_eq!(
            plain.state().user.as_deref(),
            Some("token (reader)"),
            "the link knows who the server let in"
        );
        let mut view = plain
            .state()
            .opened
            .clone()
            .and_then(|o| o.view)
            .expect("view");
        drop(plain);
        let mut camera = view.camera;
        camera.set_view(render_core::camera::NamedView::Left);
        view.camera = camera;
        let (wake, woken) = sync_channel(16);
        let target = LinkTarget {
            url: url.clone(),
            token: Some("right".to_string()),
            login: None,
            series: Some("phantom".to_string()),
            study: None,
            join: None,
            viewport: Viewport {
                width: 160,
                height: 120,
            },
            trust: ServerTrust::default(),
            offer_webrtc: true,
        };
        let handed = RemoteLink::start(target, Some(view), move || {
            let _ = wake.try_send(());
        })
        .expect("link");
        // Input 1 is the handed-over view.
        let left = next_frame(&handed, &woken, |frame| {
            frame.final_still && frame.input_seq >= 1
        });
        let differing = differing_values(&anterior.rgba, &left.rgba);
        assert!(
            differing > anterior.rgba.len() / 50,
            "the handed-over view is shown ({differing} values differ)"
        );
        drop(handed);
        server.stop().expect("served");
    }

    /// A TCP relay between a link and its server that a test can cut, as a dropped
    /// network would, and then let through again.
    struct Relay {
        address: SocketAddr,
        open: Arc<std::sync::atomic::AtomicBool>,
        streams: Arc<Mutex<Vec<std::net::TcpStream>>>,
    }

    impl Relay {
        fn start(upstream: SocketAddr) -> Self {
            use std::sync::atomic::{AtomicBool, Ordering};
            let listener =
                std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("relay bound");
            let address = listener.local_addr().expect("relay address");
            let open = Arc::new(AtomicBool::new(true));
            let streams = Arc::new(Mutex::new(Vec::new()));
            let (accepting, held) = (open.clone(), streams.clone());
            std::thread::spawn(move || {
                for client in listener.incoming().flatten() {
                    // While cut, a connection is closed as soon as it comes.
                    if !accepting.load(Ordering::SeqCst) {
                        continue;
                    }
                    let Ok(server) = std::net::TcpStream::connect(upstream) else {
                        continue;
                    };
                    let clones = (
                        client.try_clone(),
                        server.try_clone(),
                        client.try_clone(),
                        server.try_clone(),
                    );
                    let (Ok(c1), Ok(s1), Ok(c2), Ok(s2)) = clones else {
                        continue;
                    };
                    held.lock().expect("streams").extend([c1, s1]);
                    for (mut from, mut to) in [(client, s2), (server, c2)] {
                        std::thread::spawn(move || {
                            let _ = std::io::copy(&mut from, &mut to);
                            let _ = to.shutdown(std::net::Shutdown::Write);
                        });
                    }
                }
            });
            Self {
                address,
                open,
                streams,
            }
        }

        fn url(&self) -> String {
            format!("ws://{}/ws", self.address)
        }

        /// Drops every connection and refuses new ones.
        fn cut(&self) {
            self.open.store(false, std::sync::atomic::Ordering::SeqCst);
            for stream in self.streams.lock().expect("streams").drain(..) {
                let _ = stream.shutdown(std::net::Shutdown::Both);
            }
        }

        /// Lets connections through again.
        fn restore(&self) {
            self.open.store(true, std::sync::atomic::Ordering::SeqCst);
        }
    }

    /// Waits (up to a minute) until the link's status satisfies `wanted`.
    fn wait_for_status(
        link: &RemoteLink,
        woken: &Receiver<()>,
        wanted: impl Fn(&LinkStatus) -> bool,
    ) -> LinkStatus {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let status = link.state().status.clone();
            if let Some(status) = status.as_ref().filter(|status| wanted(status)) {
                return status.clone();
            }
            assert!(Instant::now() < deadline, "still {status:?}");
            let _ = woken.recv_timeout(Duration::from_millis(100));
        }
    }

    #[test]
    fn thin_client_reconnects_after_a_drop_and_restores_its_view() {
        let (_, server) = serve_phantom(Some("open-sesame"));
        let relay = Relay::start(server.address());
        let (link, woken) = link_to(&relay.url(), Some("open-sesame"), Some("phantom"));
        let anterior = next_frame(&link, &woken, |frame| frame.final_still);
        let first_session = link.state().opened.clone().expect("opened");

        // The UI turns to the left side and remembers the view it mirrors.
        let mut view = first_session.view.clone().expect("view");
        let mut camera = view.camera;
        camera.set_view(render_core::camera::NamedView::Left);
        view.camera = camera;
        link.remember(view.clone());
        assert!(link.send(Action::SetView {
            view: Box::new(view)
        }));
        let left = next_frame(&link, &woken, |frame| {
            frame.final_still && frame.input_seq >= 1
        });
        assert!(
            differing_values(&anterior.rgba, &left.rgba) > anterior.rgba.len() / 50,
            "the left side differs from the front"
        );

        // The network drops: the link says it is reconnecting, and why.
        relay.cut();
        let status = wait_for_status(
            &link,
            &woken,
            |status| matches!(status, LinkStatus::Connecting { attempt, reason: Some(_) } if *attempt >= 2),
        );
        let LinkStatus::Connecting {
            reason: Some(reason),
            ..
        } = status
        else {
            unreachable!("matched above");
        };
        assert!(!reason.is_empty(), "a reason is given");
        assert!(
            link.send(Action::Zoom { factor: 1.0 }),
            "inputs while disconnected are taken (and dropped), not blocked"
        );
        link.state().frame = None;

        // The network comes back: the link reconnects by itself and the server shows the
        // view it had, not the series' starting view.
        relay.restore();
        wait_for_status(&link, &woken, |status| *status == LinkStatus::Connected);
        let restored = next_frame(&link, &woken, |frame| {
            frame.final_still && frame.input_seq >= 1
        });
        assert_eq!(restored.size, left.size);
        let off = differing_values(&left.rgba, &restored.rgba);
        assert!(
            off <= left.rgba.len() / 200,
            "the reconnected picture is the left view ({off} values differ)"
        );

        // And input works on the new connection.
        assert!(link.send(Action::Orbit { dx: 90.0, dy: 0.0 }));
        let turned = next_frame(&link, &woken, |frame| {
            frame.final_still && frame.input_seq >= 2
        });
        assert!(
            differing_values(&restored.rgba, &turned.rgba) > restored.rgba.len() / 50,
            "input after the reconnection changes the picture"
        );
        drop(link);
        server.stop().expect("served");
    }

    #[test]
    fn thin_client_negotiates_webrtc_again_after_a_reconnection() {
        let (_, server) = serve_webrtc(None);
        let relay = Relay::start(server.address());
        let (link, woken) = link_to(&relay.url(), None, None);
        next_frame(&link, &woken, |frame| frame.final_still);
        let mut drag = Drag::start(&link, &woken);
        drag_until(&mut drag, |transport, _| {
            transport == Some(TransportKind::Webrtc)
        });

        // The WebSocket drops (the peer goes with its session); the link reconnects.
        relay.cut();
        wait_for_status(&link, &woken, |status| {
            matches!(status, LinkStatus::Connecting { .. })
        });
        relay.restore();
        wait_for_status(&link, &woken, |status| *status == LinkStatus::Connected);
        next_frame(&link, &woken, |frame| frame.final_still);
        assert_eq!(
            transport_of(&link),
            (Some(TransportKind::Websocket), None),
            "a new connection starts on the WebSocket"
        );
        // The new session's first input is 1 again.
        let mut drag = Drag::start(&link, &woken);
        drag_until(&mut drag, |transport, _| {
            transport == Some(TransportKind::Webrtc)
        });
        assert!(!drag.orbit(30.0).final_still, "frames keep coming");
        drop(link);
        server.stop().expect("served");
    }

    #[test]
    fn server_addresses_become_websocket_urls() {
        let cases = [
            ("http://pacs.example:8080/", "ws://pacs.example:8080/ws"),
            ("http://host:8080", "ws://host:8080/ws"),
            ("https://pacs.example", "wss://pacs.example/ws"),
            ("10.0.0.5:8080", "ws://10.0.0.5:8080/ws"),
            ("ws://localhost:9000/ws", "ws://localhost:9000/ws"),
            (
                "ws://localhost:9000/ws?token=abc",
                "ws://localhost:9000/ws?token=abc",
            ),
            // Behind a reverse proxy: the path prefix stays.
            ("https://host/hounsfield/", "wss://host/hounsfield/ws"),
            ("https://host/prefix", "wss://host/prefix/ws"),
            (
                "wss://host/prefix/ws?token=abc",
                "wss://host/prefix/ws?token=abc",
            ),
        ];
        for (given, expected) in cases {
            assert_eq!(websocket_url(given).as_deref(), Ok(expected), "{given}");
        }
        assert!(websocket_url("ftp://host").is_err_and(|e| e.contains("ftp")));
        assert!(
            websocket_url("http://exa mple").is_err_and(|e| e.contains("is not a URL")),
            "a bad URL says so"
        );
        assert!(websocket_url("http://").is_err());
    }
}
