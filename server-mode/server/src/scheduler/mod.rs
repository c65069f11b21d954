//! The render scheduler: one thread owns the GPU device and its renderers; each session
//! hands it the latest view to draw through a one-request slot (a newer request replaces
//! an older one), and sessions with work are served in turn. Frames are encoded by a few
//! encode lanes, each a thread fed through a bounded channel; all frames of one session go
//! through the same lane, so they leave in the order they were rendered and its H.264
//! stream ([`VideoStream`]) sees them in that order. A session has at most
//! [`MAX_IN_FLIGHT`] frames between being taken for rendering and being written to its
//! socket, so a slow client gets fewer frames, never a backlog.
//!
//! The render thread and the encode lanes are supervised ([`render_thread`],
//! [`encode_lanes`]): a GPU error fails the frame of its session alone; a panic or a lost
//! device starts the render thread again on a new device, a panic in a lane fails that
//! frame and the lane goes on, and [`RenderHealth`] says whether frames can be made.

use std::collections::BTreeMap;
use std::sync::mpsc::sync_channel;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, Weak};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use glam::DVec3;
use render_core::Volume;
use render_core::gpu::{GpuContext, GpuError};
use render_core::transfer::PresetLibrary;
use render_core::view::{Quality, ViewState};
use tokio::sync::mpsc;

mod bands;
mod cinematic;
mod encode_lanes;
mod health;
pub mod presets;
mod render_thread;
mod scenes;

pub use health::RenderHealth;

use encode_lanes::{EncodeJob, LANE_CAPACITY, Lanes, encode_loop};
use presets::ServerPresets;
use render_thread::OpenDevice;

use crate::encode::Encoding;
use crate::faults::Fault;
use hounsfield_access::audit::AuditLog;
use hounsfield_protocol::{FrameHeader, Layout};
use hounsfield_video::encode::VideoStream;

/// Frames a session may have rendered or encoded but not yet written to its socket.
pub const MAX_IN_FLIGHT: usize = 2;
/// Volumes kept uploaded on the device at once (one renderer each).
const MAX_SCENES: usize = 2;
/// A session that asked for an interactive frame this recently counts as dragging: the
/// render thread shares interactive frame time among the sessions dragging at once.
const DRAGGING_WITHIN: Duration = Duration::from_millis(500);
/// Encoded frames waiting for a session, per session (in flight plus failure notices).
const EVENT_CAPACITY: usize = MAX_IN_FLIGHT + 2;

/// A session's H.264 stream, shared by its slot and the frames on their way to its lane.
type SharedStream = Arc<Mutex<VideoStream>>;

/// What a session asks the render thread to draw.
#[derive(Debug, Clone)]
pub struct RenderRequest {
    /// The volume (shared with the library's cache).
    pub volume: Arc<Volume>,
    /// The view to draw; its `quality` says interactive or full.
    pub view: ViewState,
    /// Output size in pixels.
    pub size: [u32; 2],
    /// The 3D view alone, or the 2×2 layout ([`crate::compose`]).
    pub layout: Layout,
    /// The point the slices of the 2×2 layout pass through (LPS, mm).
    pub crosshair_lps: DVec3,
    /// The highest input seq the view reflects.
    pub input_seq: u32,
    /// Whether this is a final still (flag bit 1).
    pub final_still: bool,
    /// How to encode the frame.
    pub encoding: Encoding,
    /// The first request after `open`: when its volume is large and not on the device
    /// yet, an interactive frame drawn from a reduced copy ([`crate::preview`]) is sent
    /// first, while the whole volume uploads for this request.
    pub preview: bool,
    /// A final still after interactive frames: a refining image
    /// ([`Quality::Refining`]) is drawn and sent first, and the still itself follows in
    /// the session's next turn unless a newer request replaced it meanwhile.
    pub refine_first: bool,
    /// The series' segments the slice cells show ([`crate::compose::paint_segments`]).
    pub segments: Arc<[crate::compose::SegmentOverlay]>,
    /// The segments changed a moment ago (a stroke of the brush under way): the 3D view
    /// keeps the segments it shows (its cell reused when its view is the same), and a
    /// later request brings them there.
    pub segments_in_3d_later: bool,
    /// A threshold's preview the slice cells show over the segments (not the 3D view).
    pub threshold_preview: Option<crate::compose::SegmentOverlay>,
    /// A calcium score's lesions the slice cells show over the segments (not the 3D
    /// view), beneath a threshold's preview.
    pub calcium_lesions: Arc<[crate::compose::SegmentOverlay]>,
    /// A second series the slice cells show beneath the segments (the session's `over`).
    pub over: Option<render_core::fusion::SeriesOver>,
}

/// What the scheduler sends back to a session.
#[derive(Debug)]
pub enum SchedulerEvent {
    /// A frame, encoded.
    Frame(RenderedFrame),
    /// A request failed; the message says why.
    Failed {
        /// The input seq of the request.
        input_seq: u32,
        /// What went wrong.
        message: String,
    },
}

/// An encoded frame on its way to a socket. It counts as in flight until dropped.
#[derive(Debug)]
pub struct RenderedFrame {
    /// The header; `frame_seq` is 0 until the session numbers it.
    pub header: FrameHeader,
    /// The encoded image.
    pub payload: Vec<u8>,
    /// Interactive or full.
    pub quality: Quality,
    /// Paths a pixel, when it is a cinematic picture of the resting view.
    pub cinematic_paths: Option<u32>,
    /// The volume of a series over time it shows (its view's `time_point`).
    pub time_point: usize,
    /// Set when this frame was meant to be H.264 but the session's encoder failed: the
    /// frame is JPEG, and the session's frames are from now on. Says why.
    pub video_failure: Option<String>,
    /// Releases the in-flight place when dropped.
    pub ticket: FrameTicket,
    /// When its encoding ended: the server's `send` time is counted from here to the
    /// socket written.
    pub encoded: Instant,
}

impl RenderedFrame {
    /// The binary message: header (with `frame_seq`) then payload, and the ticket to drop
    /// once the message is written.
    pub fn into_message(self, frame_seq: u32) -> (Vec<u8>, FrameTicket) {
        let header = FrameHeader {
            frame_seq,
            ..self.header
        };
        let mut bytes = Vec::with_capacity(FrameHeader::LEN + self.payload.len());
        bytes.extend_from_slice(&header.encode());
        bytes.extend_from_slice(&self.payload);
        (bytes, self.ticket)
    }
}

/// A session's place in the in-flight count: dropping it frees the place.
#[derive(Debug)]
pub struct FrameTicket {
    session: u64,
    shared: Weak<Shared>,
}

impl FrameTicket {
    /// Stops the session's H.264 stream (its encoder failed).
    fn stop_video(&self) {
        self.video_switch().stop_video();
    }

    /// What stops the session's H.264 stream, apart from the ticket.
    fn video_switch(&self) -> VideoSwitch {
        VideoSwitch {
            session: self.session,
            shared: self.shared.clone(),
        }
    }

    /// One more in-flight place for the same session (a preview frame sent ahead of the
    /// frame this ticket is for): it may go one over [`MAX_IN_FLIGHT`] for that moment.
    fn another(&self) -> Self {
        if let Some(shared) = self.shared.upgrade()
            && let Some(slot) = shared.lock().slots.get_mut(&self.session)
        {
            slot.in_flight += 1;
        }
        Self {
            session: self.session,
            shared: self.shared.clone(),
        }
    }
}

/// Stops a session's H.264 stream: kept by an encode lane while the frame's ticket travels
/// in the job.
struct VideoSwitch {
    session: u64,
    shared: Weak<Shared>,
}

impl VideoSwitch {
    /// Stops the session's H.264 stream; its frames are JPEG from now on.
    fn stop_video(&self) {
        if let Some(shared) = self.shared.upgrade()
            && let Some(slot) = shared.lock().slots.get_mut(&self.session)
        {
            slot.video = None;
        }
    }
}

impl Drop for FrameTicket {
    fn drop(&mut self) {
        if let Some(shared) = self.shared.upgrade() {
            let mut state = shared.lock();
            if let Some(slot) = state.slots.get_mut(&self.session) {
                slot.in_flight = slot.in_flight.saturating_sub(1);
            }
            drop(state);
            shared.wake.notify_all();
        }
    }
}

/// A session's slot: where it puts its latest request. Dropping it unregisters.
pub struct SessionSlot {
    id: u64,
    shared: Arc<Shared>,
}

impl SessionSlot {
    /// Replaces the pending request (latest wins) and wakes the render thread. A keyframe
    /// the replaced request asked for is not lost: the next H.264 frame asks for it.
    pub fn submit(&self, mut request: RenderRequest) {
        let mut state = self.shared.lock();
        if let Some(slot) = state.slots.get_mut(&self.id) {
            let replaced = slot.pending.take();
            slot.keyframe_owed |= replaced.is_some_and(|old| old.encoding.asks_keyframe());
            if slot.keyframe_owed
                && let Encoding::H264 { keyframe, .. } = &mut request.encoding
            {
                *keyframe = true;
                slot.keyframe_owed = false;
            }
            if request.view.quality == Quality::Interactive {
                slot.last_interactive = Some(Instant::now());
            }
            slot.pending = Some(request);
        }
        drop(state);
        self.shared.wake.notify_all();
    }

    /// The session's number in the scheduler.
    pub fn id(&self) -> u64 {
        self.id
    }

    /// Arms a fault for the session's next frame (tests only: the connection does this
    /// only with [`crate::ServerConfig::test_faults`] on; see [`crate::faults`]).
    #[cfg(feature = "fault-injection")]
    pub(crate) fn arm_fault(&self, fault: Fault) {
        if let Some(slot) = self.shared.lock().slots.get_mut(&self.id) {
            slot.fault = Some(fault);
        }
    }

    /// Gives the session an H.264 stream for its [`Encoding::H264`] frames, or takes it away.
    pub fn set_video(&self, stream: Option<VideoStream>) {
        let stream = stream.map(|stream| Arc::new(Mutex::new(stream)));
        let mut state = self.shared.lock();
        let old = state
            .slots
            .get_mut(&self.id)
            .map(|slot| std::mem::replace(&mut slot.video, stream));
        drop(state);
        // The old encoder is closed outside the lock.
        drop(old);
    }
}

impl Drop for SessionSlot {
    fn drop(&mut self) {
        let removed = self.shared.lock().slots.remove(&self.id);
        // The pending request (and its volume) is released outside the lock.
        drop(removed);
    }
}

struct Slot {
    pending: Option<RenderRequest>,
    in_flight: usize,
    events: mpsc::Sender<SchedulerEvent>,
    video: Option<SharedStream>,
    /// A fault armed for the next frame (tests only).
    fault: Option<Fault>,
    /// A keyframe asked for by a request that a newer one replaced before it was drawn.
    keyframe_owed: bool,
    /// When the session last asked for an interactive frame.
    last_interactive: Option<Instant>,
}

#[derive(Default)]
struct State {
    slots: BTreeMap<u64, Slot>,
    next_id: u64,
    last_served: u64,
    shutdown: bool,
}

impl State {
    /// The next session after the last one served (wrapping) with a request and room.
    fn next_ready(&self) -> Option<u64> {
        let ready = |(id, slot): (&u64, &Slot)| {
            (slot.pending.is_some() && slot.in_flight < MAX_IN_FLIGHT).then_some(*id)
        };
        self.slots
            .range(self.last_served + 1..)
            .find_map(ready)
            .or_else(|| self.slots.range(..=self.last_served).find_map(ready))
    }

    /// The sessions that asked for an interactive frame within [`DRAGGING_WITHIN`] of
    /// `now`.
    fn dragging(&self, now: Instant) -> impl Iterator<Item = u64> + '_ {
        self.slots.iter().filter_map(move |(&id, slot)| {
            slot.last_interactive
                .is_some_and(|at| now.saturating_duration_since(at) <= DRAGGING_WITHIN)
                .then_some(id)
        })
    }
}

struct Shared {
    state: Mutex<State>,
    wake: Condvar,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // Every critical section leaves the state consistent.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Where a session's frame goes once rendered: its in-flight place, its event channel and
/// its H.264 stream; and the fault armed for it, if any (tests only).
struct Delivery {
    ticket: FrameTicket,
    events: mpsc::Sender<SchedulerEvent>,
    video: Option<SharedStream>,
    fault: Option<Fault>,
}

impl Delivery {
    /// The delivery of the request taken from `slot`, with the fault armed for it.
    fn taken(id: u64, slot: &mut Slot, shared: &Arc<Shared>) -> Self {
        let fault = slot.fault.take();
        Self {
            fault,
            ..Self::preview(id, slot, shared)
        }
    }

    /// The delivery of a preview drawn for the request taken from `slot` (no fault).
    fn preview(id: u64, slot: &Slot, shared: &Arc<Shared>) -> Self {
        Self {
            ticket: FrameTicket {
                session: id,
                shared: Arc::downgrade(shared),
            },
            events: slot.events.clone(),
            video: slot.video.clone(),
            fault: None,
        }
    }
}

/// The render thread and the encode pool.
pub struct Scheduler {
    shared: Arc<Shared>,
    presets: Arc<ServerPresets>,
    adapter: String,
    health: Arc<RenderHealth>,
    render_thread: Option<JoinHandle<()>>,
    encode_threads: Vec<JoinHandle<()>>,
}

impl Scheduler {
    /// Opens the GPU device on a new render thread and starts `encode_threads` encoders.
    /// After a fault the render thread starts again on a new device of its own.
    pub fn start(presets: PresetLibrary, encode_threads: usize) -> Result<Self, GpuError> {
        Self::launch(Box::new(GpuContext::headless), presets, encode_threads)
    }

    /// Renders on a device that is already open (a desktop sharing its session renders on
    /// its own window's device, not a second one). After a fault the render thread starts
    /// again on a device of its own.
    pub fn start_on(
        context: GpuContext,
        presets: PresetLibrary,
        encode_threads: usize,
    ) -> Result<Self, GpuError> {
        let mut given = Some(context);
        let open_device = move || given.take().map_or_else(GpuContext::headless, Ok);
        Self::launch(Box::new(open_device), presets, encode_threads)
    }

    fn launch(
        mut open_device: OpenDevice,
        presets: PresetLibrary,
        encode_threads: usize,
    ) -> Result<Self, GpuError> {
        let shared = Arc::new(Shared {
            state: Mutex::new(State::default()),
            wake: Condvar::new(),
        });
        let health = Arc::new(RenderHealth::default());
        let encode_threads = encode_threads.clamp(1, 8);
        let (lane_senders, lane_receivers): (Vec<_>, Vec<_>) = (0..encode_threads)
            .map(|_| sync_channel::<EncodeJob>(LANE_CAPACITY))
            .unzip();
        let lanes = Lanes(lane_senders);
        let (ready_tx, ready_rx) = sync_channel::<Result<String, GpuError>>(1);
        let render_shared = shared.clone();
        let presets = Arc::new(ServerPresets::new(presets));
        let render_presets = presets.clone();
        let render_health = health.clone();
        let render_thread = std::thread::Builder::new()
            .name("render".to_string())
            .spawn(move || {
                let context = match open_device() {
                    Ok(context) => context,
                    Err(error) => {
                        let _ = ready_tx.send(Err(error));
                        return;
                    }
                };
                let adapter = context.capabilities.adapter.clone();
                tracing::info!(%adapter, backend = %context.capabilities.backend, "render thread ready");
                // The caller waits for this; if it has gone there is no one to tell.
                let _ = ready_tx.send(Ok(adapter));
                render_thread::supervise(
                    &render_shared,
                    context,
                    open_device,
                    &render_presets,
                    &lanes,
                    &render_health,
                );
            })
            .map_err(|error| GpuError::Device(format!("cannot start the render thread: {error}")))?;
        let adapter = match ready_rx.recv() {
            Ok(Ok(adapter)) => adapter,
            Ok(Err(error)) => {
                let _ = render_thread.join();
                return Err(error);
            }
            Err(_) => {
                let _ = render_thread.join();
                return Err(GpuError::Device(
                    "the render thread stopped while starting".to_string(),
                ));
            }
        };
        let mut threads = Vec::with_capacity(encode_threads);
        for (n, jobs) in lane_receivers.into_iter().enumerate() {
            let lane_health = health.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("encode-{n}"))
                .spawn(move || encode_loop(n, &jobs, &lane_health));
            match spawned {
                Ok(handle) => threads.push(handle),
                // Every lane must run: a session routed to a dead lane would get nothing.
                Err(error) => {
                    return Err(GpuError::Device(format!(
                        "encode thread {n} did not start: {error}"
                    )));
                }
            }
        }
        Ok(Self {
            shared,
            presets,
            adapter,
            health,
            render_thread: Some(render_thread),
            encode_threads: threads,
        })
    }

    /// Registers a session: its slot, and the channel its frames arrive on.
    pub fn register(&self) -> (SessionSlot, mpsc::Receiver<SchedulerEvent>) {
        let (events, receiver) = mpsc::channel(EVENT_CAPACITY);
        let mut state = self.shared.lock();
        state.next_id += 1;
        let id = state.next_id;
        state.slots.insert(
            id,
            Slot {
                pending: None,
                in_flight: 0,
                events,
                video: None,
                fault: None,
                keyframe_owed: false,
                last_interactive: None,
            },
        );
        drop(state);
        (
            SessionSlot {
                id,
                shared: self.shared.clone(),
            },
            receiver,
        )
    }

    /// The presets the renderers know now (a new session offers these).
    pub fn presets(&self) -> PresetLibrary {
        self.presets.library()
    }

    /// Adds `preset` (checked) to the server's presets: sessions opened from now on
    /// offer it, and the render thread draws it from its next frame.
    pub fn add_preset(&self, preset: render_core::transfer::Preset) -> Result<(), String> {
        self.presets.add(preset)
    }

    /// The GPU adapter's name (the one it started on).
    pub fn adapter(&self) -> &str {
        &self.adapter
    }

    /// Whether frames can be made, and how often the render thread and the encode lanes
    /// were restarted.
    pub fn health(&self) -> &RenderHealth {
        &self.health
    }

    /// Records the restarts of the render thread and the encode lanes in `log`.
    pub fn audit_to(&self, log: Arc<AuditLog>) {
        self.health.audit_to(log);
    }
}

impl Drop for Scheduler {
    fn drop(&mut self) {
        self.shared.lock().shutdown = true;
        self.shared.wake.notify_all();
        if let Some(thread) = self.render_thread.take() {
            let _ = thread.join();
        }
        // The render thread held the job sender: the encoders finish and stop.
        for thread in self.encode_threads.drain(..) {
            let _ = thread.join();
        }
    }
}

/// Puts `request` back in session `id`'s slot for its next turn, unless a newer request
/// has taken its place meanwhile (or the session is gone).
fn put_back(shared: &Shared, id: u64, request: RenderRequest) {
    let mut state = shared.lock();
    if let Some(slot) = state.slots.get_mut(&id)
        && slot.pending.is_none()
    {
        slot.pending = Some(request);
        drop(state);
        shared.wake.notify_all();
    }
}

/// Waits for the next session with work, takes its request and counts it in flight.
fn take_next(shared: &Arc<Shared>) -> Option<(RenderRequest, Delivery)> {
    let mut state = shared.lock();
    loop {
        if state.shutdown {
            return None;
        }
        if let Some(id) = state.next_ready() {
            state.last_served = id;
            let slot = state.slots.get_mut(&id)?;
            let request = slot.pending.take()?;
            slot.in_flight += 1;
            return Some((request, Delivery::taken(id, slot, shared)));
        }
        state = shared
            .wake
            .wait(state)
            .unwrap_or_else(|poisoned| poisoned.into_inner());
    }
}

/// How many sessions drag at once now (see [`DRAGGING_WITHIN`]), and whether another than
/// `session` is among them.
fn dragging_sessions(shared: &Shared, session: u64) -> (usize, bool) {
    let state = shared.lock();
    state
        .dragging(Instant::now())
        .fold((0, false), |(count, others), id| {
            (count + 1, others || id != session)
        })
}

/// Whether session `id` is still registered.
fn registered(shared: &Shared, id: u64) -> bool {
    shared.lock().slots.contains_key(&id)
}

/// Waits `duration`, or less when the scheduler shuts down meanwhile; false then.
fn pause(shared: &Shared, duration: Duration) -> bool {
    let deadline = Instant::now() + duration;
    let mut state = shared.lock();
    while !state.shutdown {
        let now = Instant::now();
        if now >= deadline {
            return true;
        }
        state = match shared.wake.wait_timeout(state, deadline - now) {
            Ok((state, _)) => state,
            Err(poisoned) => poisoned.into_inner().0,
        };
    }
    false
}

/// Other sessions' pending requests that want a preview of `volume`, copied with an
/// in-flight place each; their `preview` mark is cleared, so the requests themselves wait
/// in their slots for the frames of the whole volume.
fn take_previews(shared: &Arc<Shared>, volume: &Arc<Volume>) -> Vec<(RenderRequest, Delivery)> {
    let mut state = shared.lock();
    let mut taken = Vec::new();
    for (&id, slot) in &mut state.slots {
        let Some(request) = slot.pending.as_mut() else {
            continue;
        };
        if request.preview && Arc::ptr_eq(&request.volume, volume) && slot.in_flight < MAX_IN_FLIGHT
        {
            request.preview = false;
            let request = request.clone();
            slot.in_flight += 1;
            taken.push((request, Delivery::preview(id, slot, shared)));
        }
    }
    taken
}

/// A PNG final still of `volume`'s first view with `ct-bone` at `size`, answering input
/// `seq`: what the scheduler's tests vary.
#[cfg(test)]
fn test_still(volume: &Arc<Volume>, size: [u32; 2], seq: u32) -> RenderRequest {
    let view = ViewState::initial(
        volume,
        "ct-bone",
        render_core::transfer::RenderMode::Composite,
    );
    RenderRequest {
        crosshair_lps: volume.centre_lps(),
        volume: volume.clone(),
        view,
        size,
        layout: Layout::Single,
        input_seq: seq,
        final_still: true,
        encoding: Encoding::Png,
        preview: false,
        refine_first: false,
        segments: Default::default(),
        segments_in_3d_later: false,
        threshold_preview: None,
        calcium_lesions: Default::default(),
        over: None,
    }
}

fn micros(since: Instant) -> u32 {
    u32::try_from(since.elapsed().as_micros()).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(seq: u32) -> RenderRequest {
        let volume = Arc::new(render_core::phantom::ct_phantom());
        RenderRequest {
            final_still: false,
            ..test_still(&volume, [8, 8], seq)
        }
    }

    fn slot(pending: Option<u32>, in_flight: usize) -> Slot {
        let (events, _) = mpsc::channel(1);
        Slot {
            pending: pending.map(request),
            in_flight,
            events,
            video: None,
            fault: None,
            keyframe_owed: false,
            last_interactive: None,
        }
    }

    /// A scheduler's shared state with session `id` registered (nothing pending), and the
    /// session's slot.
    fn one_session(id: u64) -> (Arc<Shared>, SessionSlot) {
        let shared = Arc::new(Shared {
            state: Mutex::new(State::default()),
            wake: Condvar::new(),
        });
        shared.lock().slots.insert(id, slot(None, 0));
        let session = SessionSlot {
            id,
            shared: shared.clone(),
        };
        (shared, session)
    }

    #[test]
    fn sessions_are_served_in_turn_and_full_ones_are_skipped() {
        let mut state = State::default();
        state.slots.insert(1, slot(Some(1), 0));
        state.slots.insert(2, slot(Some(1), MAX_IN_FLIGHT));
        state.slots.insert(3, slot(Some(1), 1));
        state.slots.insert(4, slot(None, 0));
        assert_eq!(state.next_ready(), Some(1));
        state.last_served = 1;
        assert_eq!(state.next_ready(), Some(3), "2 has no room, 3 is next");
        state.last_served = 3;
        assert_eq!(
            state.next_ready(),
            Some(1),
            "wraps around past 4 (nothing pending)"
        );
        state.slots.clear();
        assert_eq!(state.next_ready(), None);
    }

    #[test]
    fn the_latest_request_wins_and_tickets_free_their_place() {
        let shared = Arc::new(Shared {
            state: Mutex::new(State::default()),
            wake: Condvar::new(),
        });
        let (events, _receiver) = mpsc::channel(1);
        shared.lock().slots.insert(
            7,
            Slot {
                pending: None,
                in_flight: 0,
                events,
                video: None,
                fault: None,
                keyframe_owed: false,
                last_interactive: None,
            },
        );
        let session = SessionSlot {
            id: 7,
            shared: shared.clone(),
        };
        session.submit(request(1));
        session.submit(request(2));
        let (taken, Delivery { ticket, .. }) = take_next(&shared).expect("work is there");
        assert_eq!(taken.input_seq, 2, "the newer request replaced the older");
        assert_eq!(shared.lock().slots[&7].in_flight, 1);
        assert!(shared.lock().next_ready().is_none(), "nothing pending");
        drop(ticket);
        assert_eq!(shared.lock().slots[&7].in_flight, 0);
        drop(session);
        assert!(shared.lock().slots.is_empty(), "unregistered");
    }

    #[test]
    fn a_still_put_back_after_its_refining_image_yields_to_a_newer_request() {
        let (shared, session) = one_session(5);
        session.submit(request(1));
        let (still, ticket) = take_next(&shared).expect("work is there");
        // Nothing newer came while its refining image was drawn: the still waits its turn.
        put_back(&shared, 5, still.clone());
        drop(ticket);
        let (taken, ticket) = take_next(&shared).expect("the still is back");
        assert_eq!(taken.input_seq, 1);
        // A newer request came meanwhile: the still is dropped, the newer one drawn.
        session.submit(request(2));
        put_back(&shared, 5, still.clone());
        drop(ticket);
        let (taken, _) = take_next(&shared).expect("work is there");
        assert_eq!(
            taken.input_seq, 2,
            "the newer request is not replaced by the old still"
        );
        assert!(shared.lock().next_ready().is_none(), "nothing else pending");
        // A session gone meanwhile: nothing is put back.
        drop(session);
        put_back(&shared, 5, still);
        assert!(shared.lock().slots.is_empty());
    }

    #[test]
    fn sessions_asking_for_interactive_frames_lately_count_as_dragging() {
        let (shared, first) = one_session(1);
        shared.lock().slots.insert(2, slot(None, 0));
        let second = SessionSlot {
            id: 2,
            shared: shared.clone(),
        };
        assert_eq!(dragging_sessions(&shared, 1), (0, false));
        let interactive = |seq: u32| {
            let mut request = request(seq);
            request.view.quality = Quality::Interactive;
            request
        };
        // Made before the first input: a drag lasts only `DRAGGING_WITHIN` after it, and
        // making a request (its phantom) takes a while on a busy machine.
        let (first_drag, still, second_drag) = (interactive(1), request(1), interactive(2));
        first.submit(first_drag);
        assert_eq!(dragging_sessions(&shared, 1), (1, false), "only itself");
        assert_eq!(dragging_sessions(&shared, 2), (1, true), "the other drags");
        second.submit(still);
        assert_eq!(
            dragging_sessions(&shared, 2),
            (1, true),
            "a still is no drag"
        );
        second.submit(second_drag);
        assert_eq!(dragging_sessions(&shared, 1), (2, true));
        let later = Instant::now() + DRAGGING_WITHIN * 2;
        assert_eq!(
            shared.lock().dragging(later).count(),
            0,
            "a drag ends with its inputs"
        );
        assert!(registered(&shared, 2));
        drop(second);
        assert!(!registered(&shared, 2));
    }

    #[test]
    fn a_keyframe_asked_for_survives_a_newer_request_replacing_it() {
        let (shared, session) = one_session(3);
        let video = |seq: u32, keyframe: bool| RenderRequest {
            encoding: Encoding::H264 {
                keyframe,
                bitrate: crate::rate::Bitrate::at(2000),
            },
            ..request(seq)
        };
        // Replaced by another video frame: that one asks for the keyframe.
        session.submit(video(1, true));
        session.submit(video(2, false));
        let (taken, _) = take_next(&shared).expect("work is there");
        assert_eq!(taken.input_seq, 2);
        assert!(taken.encoding.asks_keyframe(), "{:?}", taken.encoding);
        // Replaced by a still: the next video frame after it asks.
        session.submit(video(3, true));
        session.submit(request(4));
        let (still, _) = take_next(&shared).expect("work is there");
        assert_eq!(still.encoding, Encoding::Png);
        session.submit(video(5, false));
        let (taken, _) = take_next(&shared).expect("work is there");
        assert!(taken.encoding.asks_keyframe(), "{:?}", taken.encoding);
        // Asked once, kept once.
        session.submit(video(6, false));
        let (taken, _) = take_next(&shared).expect("work is there");
        assert!(!taken.encoding.asks_keyframe(), "{:?}", taken.encoding);
    }
}
