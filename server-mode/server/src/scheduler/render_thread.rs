//! The render thread: its loop (take the next session's request, draw it inside wgpu's
//! error scopes, hand it to the session's encode lane) and the supervisor around the loop,
//! which starts it again on a new device after a panic or a lost device (the volumes are
//! uploaded again as requests ask for them), and gives up after too many restarts in a
//! short time. A frame that fails is answered to its session alone.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::time::Instant;

use render_core::gpu::{
    CinematicSettings, DeviceWatch, FrameImage, GpuContext, GpuError, RenderError, Renderer,
    catch_errors,
};
use render_core::view::{Quality, ViewState};
use tokio::sync::mpsc;

use super::bands::BandedStills;
use super::cinematic::{CinematicStills, Refined};
use super::encode_lanes::{EncodeJob, Lanes};
use super::health::{
    Component, MAX_RESTARTS, RENDERING_FAILED, RESTART_WINDOW, RenderHealth, RestartPolicy,
};
use super::presets::ServerPresets;
use super::scenes::Scenes;
use super::{
    Delivery, RenderRequest, SchedulerEvent, Shared, dragging_sessions, micros, pause, put_back,
    registered, take_next, take_previews,
};
use crate::compose::KeptCells;
use crate::encode::{Encoding, FINAL_JPEG_QUALITY, INTERACTIVE_JPEG_QUALITY};
use crate::faults;
use hounsfield_protocol::Layout;

/// What a session is told once the render thread gave up.
const RENDERING_DOWN: &str =
    "rendering is down after repeated faults; the server log says why (restart the server)";

/// Opens a device for the render thread (again, after a fault).
pub(super) type OpenDevice = Box<dyn FnMut() -> Result<GpuContext, GpuError> + Send>;

/// Why the render loop returned.
enum Exit {
    /// The scheduler is shutting down.
    Shutdown,
    /// An encode lane's channel closed: frames have nowhere to go.
    EncodersStopped,
    /// The device was lost: why.
    DeviceLost(String),
}

/// The request being drawn, for the supervisor to answer (or put back) when the loop ends
/// with it.
struct Drawing {
    session: u64,
    request: RenderRequest,
    events: mpsc::Sender<SchedulerEvent>,
}

impl Drawing {
    /// Notes `request` as the one being drawn for `delivery`'s session; the request.
    fn note<'a>(
        drawing: &'a mut Option<Self>,
        request: RenderRequest,
        delivery: &Delivery,
    ) -> &'a RenderRequest {
        &drawing
            .insert(Self {
                session: delivery.ticket.session,
                request,
                events: delivery.events.clone(),
            })
            .request
    }
}

/// Runs the render loop on `context`, and after a fault again on a device from
/// `open_device`, until the scheduler shuts down (or it gave up; then every request is
/// answered with an error until shutdown).
pub(super) fn supervise(
    shared: &Arc<Shared>,
    context: GpuContext,
    mut open_device: OpenDevice,
    presets: &ServerPresets,
    lanes: &Lanes,
    health: &RenderHealth,
) {
    let mut context = context;
    let mut policy = RestartPolicy::default();
    // The session whose frame was being drawn at the last loss of a device.
    let mut lost_drawing = None;
    loop {
        let watch = DeviceWatch::install(&context.device);
        health.renderer_up();
        let mut drawing = None;
        let outcome = catch_unwind(AssertUnwindSafe(|| {
            render_loop(shared, &context, &watch, presets, lanes, &mut drawing)
        }));
        let reason = match outcome {
            Ok(Exit::Shutdown) => return,
            Ok(Exit::EncodersStopped) => {
                tracing::error!("the encoders stopped; the render thread stops too");
                health.renderer_down("the encoders stopped".to_string());
                return refuse_all(shared);
            }
            Ok(Exit::DeviceLost(why)) => {
                redraw_or_fail(shared, drawing, &mut lost_drawing);
                format!("the GPU device was lost ({why})")
            }
            Err(panic) => {
                let message = super::health::panic_message(&*panic);
                // A panic of wgpu's after the device was lost is the loss, not the frame's
                // fault: the frame is drawn again on the new device.
                match watch.poll_lost(&context.device) {
                    Some(why) => {
                        redraw_or_fail(shared, drawing, &mut lost_drawing);
                        format!(
                            "the GPU device was lost ({why}); the render thread panicked: {message}"
                        )
                    }
                    None => {
                        fail(drawing);
                        format!("the render thread panicked: {message}")
                    }
                }
            }
        };
        drop(context);
        context = match restart(shared, &mut open_device, &mut policy, health, reason) {
            Restart::Ready(context) => context,
            Restart::Shutdown => return,
            Restart::GaveUp => return refuse_all(shared),
        };
    }
}

/// What a restart came to.
enum Restart {
    /// The render loop can run again on this device.
    Ready(GpuContext),
    /// The scheduler shut down meanwhile.
    Shutdown,
    /// Too many restarts in a short time.
    GaveUp,
}

/// Counts a restart (or gives up when the policy says so), waits the backoff and opens a
/// new device; a device that does not open is one more restart.
fn restart(
    shared: &Shared,
    open_device: &mut OpenDevice,
    policy: &mut RestartPolicy,
    health: &RenderHealth,
    reason: String,
) -> Restart {
    let mut reason = reason;
    loop {
        if !policy.allow(Instant::now()) {
            let why = format!(
                "gave up after {MAX_RESTARTS} restarts within {} s; the last fault: {reason}",
                RESTART_WINDOW.as_secs()
            );
            tracing::error!(%why, "rendering is down until the server is restarted");
            health.renderer_down(why);
            return Restart::GaveUp;
        }
        health.renderer_down(format!("restarting after a fault: {reason}"));
        let restarts = health.count_restart(Component::Renderer, &reason);
        tracing::error!(%reason, restarts, "render thread failed; starting it again on a new device");
        if !pause(shared, policy.backoff()) {
            return Restart::Shutdown;
        }
        match open_device() {
            Ok(context) => {
                tracing::info!(adapter = %context.capabilities.adapter, restarts, "render thread restarted");
                return Restart::Ready(context);
            }
            Err(error) => reason = format!("no new GPU device: {error}"),
        }
    }
}

/// After a lost device: the request being drawn goes back in its session's slot (unless a
/// newer one waits there), to be drawn on the new device; but when that session's frame
/// was being drawn at the last loss too, the frame may be what loses the device, and it
/// fails instead. `lost_drawing` is that session, kept from loss to loss.
fn redraw_or_fail(shared: &Shared, drawing: Option<Drawing>, lost_drawing: &mut Option<u64>) {
    let Some(drawing) = drawing else {
        *lost_drawing = None;
        return;
    };
    if lost_drawing.replace(drawing.session) == Some(drawing.session) {
        *lost_drawing = None;
        return fail(Some(drawing));
    }
    let mut state = shared.lock();
    if let Some(slot) = state.slots.get_mut(&drawing.session) {
        slot.pending.get_or_insert(drawing.request);
    }
    drop(state);
    shared.wake.notify_all();
}

/// Tells the session whose frame was being drawn that it failed.
fn fail(drawing: Option<Drawing>) {
    if let Some(drawing) = drawing {
        let _ = drawing.events.try_send(SchedulerEvent::Failed {
            input_seq: drawing.request.input_seq,
            message: RENDERING_FAILED.to_string(),
        });
    }
}

/// Answers every request with an error until the scheduler shuts down (rendering gave up).
fn refuse_all(shared: &Arc<Shared>) {
    while let Some((request, delivery)) = take_next(shared) {
        let _ = delivery.events.try_send(SchedulerEvent::Failed {
            input_seq: request.input_seq,
            message: RENDERING_DOWN.to_string(),
        });
    }
}

/// The render loop: render the next request, hand it to the encoders. `drawing` says which
/// request is being drawn, for the supervisor when the loop panics.
fn render_loop(
    shared: &Arc<Shared>,
    context: &GpuContext,
    watch: &DeviceWatch,
    presets: &ServerPresets,
    lanes: &Lanes,
    drawing: &mut Option<Drawing>,
) -> Exit {
    let mut presets_taken = presets.generation();
    let mut scenes = Scenes::new(context.clone(), presets.library());
    let mut three_d = KeptCells::default();
    let mut bands = BandedStills::default();
    let mut cinematic = CinematicStills::default();
    let device = &context.device;
    while let Some((request, delivery)) = take_next(shared) {
        // What sessions gone since left drawn in part is let go (before a turn of
        // refining, which skips the rest of the loop).
        if bands.len() > 0 {
            bands.retain(|session| registered(shared, session));
        }
        if cinematic.len() > 0 {
            cinematic.retain(|session| registered(shared, session));
        }
        // Presets an administrator saved since the last frame.
        if presets.generation() != presets_taken {
            presets_taken = presets.generation();
            scenes.set_presets(presets.library());
        }
        let session = delivery.ticket.session;
        if cinematic.refining(session, &request) {
            let turn = Turn {
                shared,
                watch,
                lanes,
                sharing: bands.len() + cinematic.len(),
            };
            match turn.refine(&mut scenes, &mut cinematic, request, delivery, drawing) {
                Ok(()) => continue,
                Err(exit) => return exit,
            }
        }
        // Anything else the session asks for ends its cinematic picture.
        cinematic.end(session);
        // A still after a drag, where full frames are slow: its refining image now, the
        // still itself in a later turn.
        let (request, still_later) =
            if request.refine_first && scenes.refining_pays(&request.volume) {
                (refining_image(&request), Some(request))
            } else {
                (request, None)
            };
        let request = Drawing::note(drawing, request, &delivery);
        faults::before_render(delivery.fault, device);
        if request.preview
            && crate::preview::wants_preview(&request.volume)
            && !scenes.holds(&request.volume)
        {
            // This session's preview, then those of the others opening the same volume,
            // all before the long upload.
            let own = Delivery {
                ticket: delivery.ticket.another(),
                events: delivery.events.clone(),
                video: None,
                fault: None,
            };
            let mut sent = send_preview(&mut scenes, request, own, lanes);
            for (other, other_delivery) in take_previews(shared, &request.volume) {
                sent = sent && send_preview(&mut scenes, &other, other_delivery, lanes);
            }
            if !sent {
                return Exit::EncodersStopped;
            }
        }
        let (dragging, others_drag) = dragging_sessions(shared, session);
        let started = Instant::now();
        let drawn = catch_errors(device, || {
            faults::while_drawing(delivery.fault, device);
            let renderer = scenes.renderer_for(
                &request.volume,
                &request.view,
                (
                    (!request.segments_in_3d_later).then_some(&request.segments),
                    request.over.as_ref(),
                ),
            );
            // The sessions dragging share the thread with the stills drawn in bands.
            renderer
                .interactive
                .share(dragging + bands.len() + cinematic.len());
            if bands.wants(session, request, others_drag, renderer.last_full_time()) {
                return bands.draw(session, request, others_drag, renderer);
            }
            render_request(renderer, request, &request.view, Some(&mut three_d))
                .map(|image| Some((image, started.elapsed())))
        });
        // A failed frame may be the first sign of a lost device.
        let lost = match drawn {
            Ok(_) => watch.lost(),
            Err(_) => watch.poll_lost(device),
        };
        if let Some(why) = lost {
            return Exit::DeviceLost(why);
        }
        match drawn {
            // A band of a still: the rest in the session's next turns.
            Ok(None) => put_back(shared, session, request.clone()),
            Ok(Some((image, drawing))) => {
                let events = delivery.events.clone();
                let job = EncodeJob {
                    image,
                    display_size: request.size,
                    encoding: request.encoding,
                    final_still: request.final_still,
                    input_seq: request.input_seq,
                    render_us: u32::try_from(drawing.as_micros()).unwrap_or(u32::MAX),
                    quality: request.view.quality,
                    cinematic_paths: None,
                    time_point: request.view.time_point,
                    delivery,
                };
                // Blocks while the lane is busy: the bounded stage holds the line.
                if !lanes.send(job) {
                    return Exit::EncodersStopped;
                }
                // A resting view whose light asks for it is path traced in later turns.
                if CinematicStills::wants(request) {
                    let begun = catch_errors(device, || {
                        let renderer = scenes.renderer_for(
                            &request.volume,
                            &request.view,
                            (None, request.over.as_ref()),
                        );
                        cinematic.begin(session, request, renderer)
                    });
                    match begun {
                        Ok(()) => put_back(shared, session, request.clone()),
                        Err(error) => {
                            tracing::warn!(%error, "no cinematic picture");
                            let _ = events.try_send(SchedulerEvent::Failed {
                                input_seq: request.input_seq,
                                message: error.to_string(),
                            });
                        }
                    }
                }
            }
            Err(error) => {
                let message = match &error {
                    RenderError::Gpu(_) => {
                        tracing::error!(session = delivery.ticket.session, %error, "frame failed on the GPU");
                        RENDERING_FAILED.to_string()
                    }
                    _ => {
                        tracing::warn!(%error, "frame failed");
                        error.to_string()
                    }
                };
                let _ = delivery.events.try_send(SchedulerEvent::Failed {
                    input_seq: request.input_seq,
                    message,
                });
                drop(delivery);
            }
        }
        if let Some(still) = still_later {
            put_back(
                shared,
                session,
                RenderRequest {
                    refine_first: false,
                    ..still
                },
            );
        }
        *drawing = None;
    }
    Exit::Shutdown
}

/// What a turn of the render loop shares with the loop: where requests wait, the device's
/// watch, the encode lanes, and the stills being drawn over several turns.
struct Turn<'a> {
    shared: &'a Arc<Shared>,
    watch: &'a DeviceWatch,
    lanes: &'a Lanes,
    sharing: usize,
}

impl Turn<'_> {
    /// One turn of refining the session's cinematic picture of `request`: a band of rows,
    /// and the picture to the session's encode lane when that band completed a pass that
    /// is sent. The request goes back in the session's slot for the next band (unless a
    /// newer one waits there) until the picture has its most paths.
    fn refine(
        &self,
        scenes: &mut Scenes,
        cinematic: &mut CinematicStills,
        request: RenderRequest,
        delivery: Delivery,
        drawing: &mut Option<Drawing>,
    ) -> Result<(), Exit> {
        let session = delivery.ticket.session;
        let device = scenes.context().device.clone();
        let (dragging, _) = dragging_sessions(self.shared, session);
        let request = Drawing::note(drawing, request, &delivery);
        let started = Instant::now();
        let refined = catch_errors(&device, || {
            let renderer = scenes.renderer_for(
                &request.volume,
                &request.view,
                (None, request.over.as_ref()),
            );
            renderer.interactive.share(dragging + self.sharing);
            cinematic.refine(session, renderer)
        });
        let lost = match refined {
            Ok(_) => self.watch.lost(),
            Err(_) => self.watch.poll_lost(&device),
        };
        if let Some(why) = lost {
            return Err(Exit::DeviceLost(why));
        }
        let more = match refined {
            Ok(Refined::Band) => true,
            Ok(Refined::Picture(image, paths)) => {
                let job = EncodeJob {
                    image,
                    display_size: request.size,
                    encoding: request.encoding,
                    final_still: true,
                    input_seq: request.input_seq,
                    render_us: micros(started),
                    quality: Quality::Full,
                    cinematic_paths: Some(paths),
                    time_point: request.view.time_point,
                    delivery,
                };
                if !self.lanes.send(job) {
                    return Err(Exit::EncodersStopped);
                }
                paths < CinematicSettings::RESTING_PASSES
            }
            Err(error) => {
                tracing::warn!(session, %error, "cinematic refinement failed");
                let _ = delivery.events.try_send(SchedulerEvent::Failed {
                    input_seq: request.input_seq,
                    message: error.to_string(),
                });
                false
            }
        };
        if let Some(Drawing { request, .. }) = drawing.take()
            && more
        {
            put_back(self.shared, session, request);
        }
        Ok(())
    }
}

/// The refining image of a final still's request: a sharper picture than the drag's
/// frames, sent as a JPEG at the view's size before the still is drawn.
fn refining_image(still: &RenderRequest) -> RenderRequest {
    let mut view = still.view.clone();
    view.quality = Quality::Refining;
    RenderRequest {
        view,
        final_still: false,
        encoding: Encoding::Jpeg {
            quality: FINAL_JPEG_QUALITY,
        },
        refine_first: false,
        ..still.clone()
    }
}

/// Draws `request`'s view at interactive quality from a reduced copy of its volume and
/// hands it to the encoders, when the volume is large enough to have one; the whole
/// volume is uploaded for the request itself afterwards. False when the encoders stopped.
fn send_preview(
    scenes: &mut Scenes,
    request: &RenderRequest,
    delivery: Delivery,
    lanes: &Lanes,
) -> bool {
    let started = Instant::now();
    let mut view = request.view.clone();
    view.quality = Quality::Interactive;
    let device = scenes.context().device.clone();
    let drawn = catch_errors(&device, || {
        scenes
            .preview_for(&request.volume)
            // At the view's size: a first look, not a frame of a drag.
            .map(|renderer| render_at_view_size(renderer, request, &view, None))
            .transpose()
    });
    match drawn {
        Ok(Some(image)) => {
            tracing::debug!(elapsed = ?started.elapsed(), "preview frame rendered");
            let job = EncodeJob {
                image,
                display_size: request.size,
                encoding: Encoding::Jpeg {
                    quality: INTERACTIVE_JPEG_QUALITY,
                },
                final_still: false,
                input_seq: request.input_seq,
                render_us: micros(started),
                quality: Quality::Interactive,
                cinematic_paths: None,
                time_point: request.view.time_point,
                delivery,
            };
            lanes.send(job)
        }
        Ok(None) => true,
        Err(error) => {
            // The frame for the request itself follows; a missing preview only delays.
            tracing::warn!(%error, "preview frame failed");
            true
        }
    }
}

/// Renders `view` (the request's, or a variant of it) at the request's size in its layout;
/// `three_d` keeps the last 3D cell of the 2×2 layout. A lone 3D view comes as drawn
/// where [`sent_as_drawn`] says.
fn render_request(
    renderer: &mut Renderer,
    request: &RenderRequest,
    view: &ViewState,
    three_d: Option<&mut KeptCells>,
) -> Result<FrameImage, RenderError> {
    if sent_as_drawn(request, view) {
        return renderer.render_image_as_drawn(view, request.size);
    }
    render_at_view_size(renderer, request, view, three_d)
}

/// Renders `view` at the request's size in its layout (`three_d`: see
/// [`render_request`]).
fn render_at_view_size(
    renderer: &mut Renderer,
    request: &RenderRequest,
    view: &ViewState,
    three_d: Option<&mut KeptCells>,
) -> Result<FrameImage, RenderError> {
    // A calcium score's lesions, then a threshold's preview, are laid over the segments
    // on the slices alone.
    let previewed: Vec<crate::compose::SegmentOverlay>;
    let on_slices = if request.threshold_preview.is_none() && request.calcium_lesions.is_empty() {
        &request.segments[..]
    } else {
        previewed = request
            .segments
            .iter()
            .chain(request.calcium_lesions.iter())
            .chain(&request.threshold_preview)
            .cloned()
            .collect();
        previewed.as_slice()
    };
    crate::compose::render_layout(
        renderer,
        &request.volume,
        view,
        request.layout,
        request.crosshair_lps,
        request.size,
        three_d,
        (request.over.as_ref(), on_slices),
    )
}

/// Whether `request`'s picture of `view` goes as drawn: an interactive frame at the
/// renderer's internal resolution, which the client scales up to the display size in the
/// frame's header (a quarter of the pixels or fewer for the encoder, and no upscaling
/// blur for it to spend bits on). So go a lone 3D view's H.264 frames and its interactive
/// JPEG frames; a refining picture, a PNG and the 2×2 layout show the view at its size
/// (as does a preview, drawn apart in `send_preview`).
fn sent_as_drawn(request: &RenderRequest, view: &ViewState) -> bool {
    request.layout == Layout::Single
        && match request.encoding {
            Encoding::H264 { .. } => true,
            Encoding::Jpeg { .. } => view.quality == Quality::Interactive,
            Encoding::Png => false,
        }
}

/// How the render thread recovers, seen through faults armed on purpose: these tests need
/// the `fault-injection` feature (`cargo test --all-features`).
#[cfg(all(test, feature = "fault-injection"))]
mod tests {
    use std::time::Duration;

    use render_core::Volume;

    use super::*;
    use crate::faults::Fault;
    use crate::scheduler::health::MAX_RESTARTS;
    use crate::scheduler::{Scheduler, SessionSlot};

    /// Longest wait for one event: a restart opens a new (software) device.
    const EVENT_WITHIN: Duration = Duration::from_secs(60);

    fn request(volume: &Arc<Volume>, seq: u32) -> RenderRequest {
        RenderRequest {
            final_still: false,
            ..crate::scheduler::test_still(volume, [48, 32], seq)
        }
    }

    fn started() -> (Scheduler, Arc<Volume>) {
        let scheduler = Scheduler::start(render_core::transfer::PresetLibrary::builtin(), 1)
            .expect("a GPU adapter (lavapipe at least)");
        (scheduler, Arc::new(render_core::phantom::ct_phantom()))
    }

    fn next_event(events: &mut mpsc::Receiver<SchedulerEvent>) -> SchedulerEvent {
        let deadline = Instant::now() + EVENT_WITHIN;
        loop {
            match events.try_recv() {
                Ok(event) => return event,
                Err(mpsc::error::TryRecvError::Empty) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(5));
                }
                Err(error) => panic!("no event: {error}"),
            }
        }
    }

    /// Submits `seq` and returns the frame's input seq, or panics with what came instead.
    fn frame_for(
        slot: &SessionSlot,
        events: &mut mpsc::Receiver<SchedulerEvent>,
        volume: &Arc<Volume>,
        seq: u32,
    ) {
        slot.submit(request(volume, seq));
        match next_event(events) {
            SchedulerEvent::Frame(frame) => assert_eq!(frame.header.input_seq, seq),
            other => panic!("expected the frame for {seq}, got {other:?}"),
        }
    }

    fn failure(events: &mut mpsc::Receiver<SchedulerEvent>) -> (u32, String) {
        match next_event(events) {
            SchedulerEvent::Failed { input_seq, message } => (input_seq, message),
            other => panic!("expected a failure, got {other:?}"),
        }
    }

    #[test]
    fn a_validation_error_fails_that_sessions_frame_only() {
        let (scheduler, volume) = started();
        let (a, mut a_events) = scheduler.register();
        let (b, mut b_events) = scheduler.register();
        a.arm_fault(Fault::Validation);
        a.submit(request(&volume, 1));
        frame_for(&b, &mut b_events, &volume, 1);
        assert_eq!(failure(&mut a_events), (1, RENDERING_FAILED.to_string()));
        frame_for(&a, &mut a_events, &volume, 2);
        frame_for(&b, &mut b_events, &volume, 2);
        assert_eq!(scheduler.health().renderer_restarts(), 0, "no restart");
        assert!(scheduler.health().is_up());
    }

    #[test]
    fn a_render_thread_panic_restarts_it_on_a_new_device() {
        let (scheduler, volume) = started();
        let (a, mut a_events) = scheduler.register();
        let (b, mut b_events) = scheduler.register();
        frame_for(&a, &mut a_events, &volume, 1);
        a.arm_fault(Fault::RenderPanic);
        a.submit(request(&volume, 2));
        assert_eq!(failure(&mut a_events), (2, RENDERING_FAILED.to_string()));
        // Sent while the render thread starts again: drawn once it has.
        b.submit(request(&volume, 1));
        match next_event(&mut b_events) {
            SchedulerEvent::Frame(frame) => assert_eq!(frame.header.input_seq, 1),
            other => panic!("b waited through the restart for its frame: {other:?}"),
        }
        assert_eq!(scheduler.health().renderer_restarts(), 1);
        assert!(
            scheduler.health().is_up(),
            "{:?}",
            scheduler.health().down()
        );
        frame_for(&a, &mut a_events, &volume, 3);
    }

    #[test]
    fn a_lost_device_is_replaced_and_the_frame_drawn_on_the_new_one() {
        let (scheduler, volume) = started();
        let (a, mut a_events) = scheduler.register();
        frame_for(&a, &mut a_events, &volume, 1);
        a.arm_fault(Fault::DeviceLost);
        frame_for(&a, &mut a_events, &volume, 2);
        assert_eq!(scheduler.health().renderer_restarts(), 1);
        frame_for(&a, &mut a_events, &volume, 3);
        // Lost again while drawing the same session's frame: that frame may be the cause,
        // so it fails rather than being drawn a third time.
        a.arm_fault(Fault::DeviceLost);
        a.submit(request(&volume, 4));
        assert_eq!(failure(&mut a_events), (4, RENDERING_FAILED.to_string()));
        frame_for(&a, &mut a_events, &volume, 5);
        assert_eq!(scheduler.health().renderer_restarts(), 2);
    }

    #[test]
    fn an_encoder_panic_fails_that_frame_and_the_lane_goes_on() {
        let (scheduler, volume) = started();
        let (a, mut a_events) = scheduler.register();
        a.arm_fault(Fault::EncodePanic);
        a.submit(request(&volume, 1));
        assert_eq!(failure(&mut a_events), (1, RENDERING_FAILED.to_string()));
        frame_for(&a, &mut a_events, &volume, 2);
        let health = scheduler.health();
        assert_eq!(
            (health.renderer_restarts(), health.encoder_restarts()),
            (0, 1)
        );
        assert!(health.is_up());
    }

    #[test]
    fn after_too_many_restarts_in_a_short_time_it_gives_up() {
        let (scheduler, volume) = started();
        let (a, mut a_events) = scheduler.register();
        for seq in 1..=u32::try_from(MAX_RESTARTS + 1).unwrap_or(u32::MAX) {
            a.arm_fault(Fault::RenderPanic);
            a.submit(request(&volume, seq));
            assert_eq!(failure(&mut a_events).0, seq);
        }
        // The last panic was not followed by a restart.
        let deadline = Instant::now() + EVENT_WITHIN;
        while scheduler
            .health()
            .down()
            .is_none_or(|why| !why.contains("gave up"))
        {
            assert!(Instant::now() < deadline, "{:?}", scheduler.health().down());
            std::thread::sleep(Duration::from_millis(5));
        }
        assert_eq!(scheduler.health().renderer_restarts(), MAX_RESTARTS as u64);
        a.submit(request(&volume, 100));
        assert_eq!(failure(&mut a_events), (100, RENDERING_DOWN.to_string()));
    }
}
