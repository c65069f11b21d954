//! The encode lanes: a few threads, each fed through a bounded channel, that turn
//! rendered frames into frame messages (JPEG, PNG, or the session's H.264 stream). All
//! frames of one session go through the same lane, so they leave in the order they were
//! rendered and its video stream sees them in that order.
//!
//! A lane is supervised: a panic while encoding a frame fails that frame (its session is
//! told), stops the session's H.264 stream (its encoder may be broken) and the lane goes on
//! with the next job; after too many panics in a short time it gives up, and answers every
//! job with an error.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::mpsc::{Receiver, SyncSender};
use std::time::Instant;

use render_core::gpu::FrameImage;
use render_core::view::Quality;

use super::health::{
    Component, MAX_RESTARTS, RENDERING_FAILED, RESTART_WINDOW, RenderHealth, RestartPolicy,
};
use super::{Delivery, RenderedFrame, SchedulerEvent, SharedStream, micros};
use crate::encode::{Encoding, INTERACTIVE_JPEG_QUALITY, encode};
use crate::faults;
use hounsfield_protocol::{FrameFlags, FrameHeader};

/// Frames waiting for each encode lane.
pub(super) const LANE_CAPACITY: usize = 2;

/// A frame to encode, with where it goes.
pub(super) struct EncodeJob {
    pub(super) image: FrameImage,
    /// The size the frame is shown at (the request's; larger than the image's when the
    /// image is an interactive frame as drawn).
    pub(super) display_size: [u32; 2],
    pub(super) encoding: Encoding,
    pub(super) final_still: bool,
    pub(super) input_seq: u32,
    pub(super) render_us: u32,
    pub(super) quality: Quality,
    /// Paths a pixel, when the frame is a cinematic picture.
    pub(super) cinematic_paths: Option<u32>,
    /// The volume of a series over time the picture shows.
    pub(super) time_point: usize,
    pub(super) delivery: Delivery,
}

/// The encode lanes: a session's frames always go to the same one.
pub(super) struct Lanes(pub(super) Vec<SyncSender<EncodeJob>>);

impl Lanes {
    /// Hands a job to its session's lane, waiting while that lane is full; false when the
    /// lane has stopped.
    pub(super) fn send(&self, job: EncodeJob) -> bool {
        let n = self.0.len().max(1);
        let lane = (job.delivery.ticket.session % n as u64) as usize;
        self.0.get(lane).is_some_and(|lane| lane.send(job).is_ok())
    }
}

/// Lane `lane`'s loop: encode its jobs in order until the render thread hangs up; a job
/// that panics is answered with an error and the lane goes on (restarted), until it gave
/// up after too many restarts.
pub(super) fn encode_loop(lane: usize, jobs: &Receiver<EncodeJob>, health: &RenderHealth) {
    let mut policy = RestartPolicy::default();
    let mut gave_up = false;
    while let Ok(job) = jobs.recv() {
        let events = job.delivery.events.clone();
        let input_seq = job.input_seq;
        if gave_up {
            let _ = events.try_send(SchedulerEvent::Failed {
                input_seq,
                message: RENDERING_FAILED.to_string(),
            });
            continue;
        }
        let video = job
            .delivery
            .video
            .is_some()
            .then(|| job.delivery.ticket.video_switch());
        let Err(panic) = catch_unwind(AssertUnwindSafe(|| encode_job(job))) else {
            continue;
        };
        // The job (and its in-flight place) was dropped while unwinding.
        let reason = format!(
            "encode lane {lane} panicked: {}",
            super::health::panic_message(&*panic)
        );
        if let Some(video) = video {
            video.stop_video();
        }
        let _ = events.try_send(SchedulerEvent::Failed {
            input_seq,
            message: RENDERING_FAILED.to_string(),
        });
        if policy.allow(Instant::now()) {
            let restarts = health.count_restart(Component::Encoder, &reason);
            tracing::error!(%reason, restarts, "encode lane restarted");
        } else {
            let why = format!(
                "encode lane {lane} gave up after {MAX_RESTARTS} restarts within {} s; the last fault: {reason}",
                RESTART_WINDOW.as_secs()
            );
            tracing::error!(%why, "frames of this lane's sessions fail until the server is restarted");
            health.encoder_down(why);
            gave_up = true;
        }
    }
}

/// Encodes one job and sends the frame (or why it failed) to its session.
fn encode_job(job: EncodeJob) {
    let EncodeJob {
        image,
        display_size,
        encoding,
        final_still,
        input_seq,
        render_us,
        quality,
        cinematic_paths,
        time_point,
        delivery,
    } = job;
    faults::before_encode(delivery.fault);
    let started = Instant::now();
    let encoded = encode_frame(&image, display_size, encoding, delivery.video.as_ref());
    let event = match encoded {
        Ok(Encoded {
            payload,
            encoding,
            keyframe,
            video_failure,
        }) => {
            if video_failure.is_some() {
                delivery.ticket.stop_video();
            }
            let mut flags = 0;
            if keyframe {
                flags |= FrameFlags::KEYFRAME;
            }
            if final_still {
                flags |= FrameFlags::FINAL;
            }
            if encoding == Encoding::Png {
                flags |= FrameFlags::LOSSLESS;
            }
            if quality == Quality::Refining {
                flags |= FrameFlags::REFINING;
            }
            if cinematic_paths.is_some() {
                flags |= FrameFlags::CINEMATIC;
            }
            SchedulerEvent::Frame(RenderedFrame {
                header: FrameHeader {
                    codec: encoding.codec(),
                    flags: FrameFlags(flags),
                    frame_seq: 0,
                    input_seq,
                    // The encoders refuse sides over u16.
                    width: u16::try_from(encoded_side(image.width, encoding)).unwrap_or(u16::MAX),
                    height: u16::try_from(encoded_side(image.height, encoding)).unwrap_or(u16::MAX),
                    render_us,
                    encode_us: micros(started),
                    display_width: u16::try_from(encoded_side(display_size[0], encoding))
                        .unwrap_or(u16::MAX),
                    display_height: u16::try_from(encoded_side(display_size[1], encoding))
                        .unwrap_or(u16::MAX),
                },
                payload,
                quality,
                cinematic_paths,
                time_point,
                video_failure,
                ticket: delivery.ticket,
                encoded: Instant::now(),
            })
        }
        Err(message) => {
            tracing::warn!(%message, "encoding failed");
            SchedulerEvent::Failed { input_seq, message }
        }
    };
    // A full or closed channel means the session is gone or stuck: the frame (and its
    // in-flight place) is dropped.
    let _ = delivery.events.try_send(event);
}

/// A side of the picture as encoded: H.264 pictures have even sides.
fn encoded_side(side: u32, encoding: Encoding) -> u32 {
    match encoding {
        Encoding::H264 { .. } => side & !1,
        Encoding::Jpeg { .. } | Encoding::Png => side,
    }
}

/// A payload and how it was made.
struct Encoded {
    payload: Vec<u8>,
    /// What it was encoded as (JPEG when H.264 failed).
    encoding: Encoding,
    keyframe: bool,
    /// Why H.264 failed, when it did.
    video_failure: Option<String>,
}

/// Encodes a frame shown at `display_size` as asked (an H.264 picture at the bitrate its
/// size as drawn gets); an H.264 frame whose stream fails is encoded as an interactive
/// JPEG instead, with the reason (one whose stream was stopped already, without).
fn encode_frame(
    image: &FrameImage,
    display_size: [u32; 2],
    encoding: Encoding,
    video: Option<&SharedStream>,
) -> Result<Encoded, String> {
    let still = |encoding: Encoding, video_failure: Option<String>| {
        encode(&image.rgba, image.width, image.height, encoding)
            .map(|payload| Encoded {
                payload,
                encoding,
                keyframe: true,
                video_failure,
            })
            .map_err(|error| error.to_string())
    };
    let Encoding::H264 { keyframe, bitrate } = encoding else {
        return still(encoding, None);
    };
    let fallback = Encoding::Jpeg {
        quality: INTERACTIVE_JPEG_QUALITY,
    };
    let Some(video) = video else {
        // The stream was stopped after this frame was asked for (and the session told).
        return still(fallback, None);
    };
    let mut stream = video
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    match stream.encode(
        &image.rgba,
        image.width,
        image.height,
        keyframe,
        bitrate.for_picture([image.width, image.height], display_size),
        Instant::now(),
    ) {
        Ok(unit) => Ok(Encoded {
            payload: unit.bytes,
            encoding,
            keyframe: unit.keyframe,
            video_failure: None,
        }),
        Err(error) => {
            tracing::warn!(%error, encoder = stream.encoder_name(), "H.264 failed; JPEG from now on");
            still(fallback, Some(error.to_string()))
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};
    use std::time::Duration;

    use hounsfield_video::encode::VideoStream;

    use super::*;
    use crate::rate::Bitrate;

    /// A picture of fine detail that changes every frame: the codec spends whatever it is
    /// given.
    fn busy_picture(width: u32, height: u32, t: u32) -> FrameImage {
        let rgba = (0..width * height)
            .flat_map(|n| {
                let hashed = n
                    .wrapping_add(t.wrapping_mul(7919))
                    .wrapping_mul(2_654_435_761);
                let [a, b, c, _] = hashed.to_le_bytes();
                [a, b, c, 255]
            })
            .collect();
        FrameImage {
            width,
            height,
            rgba,
        }
    }

    /// The bytes of `frames` H.264 pictures of 128×96 shown at `display_size`.
    fn bytes_shown_at(display_size: [u32; 2], frames: u32) -> usize {
        let stream = VideoStream::open(
            &["libx264".to_string()],
            [128, 96],
            300,
            Duration::from_secs(2),
        )
        .expect("libx264 opens");
        let video: SharedStream = Arc::new(Mutex::new(stream));
        let encoding = Encoding::H264 {
            keyframe: false,
            bitrate: Bitrate::at(300),
        };
        (0..frames)
            .map(|t| {
                let picture = busy_picture(128, 96, t);
                // Frames come at the pace a stream has them: rate control counts time.
                std::thread::sleep(Duration::from_millis(20));
                encode_frame(&picture, display_size, encoding, Some(&video))
                    .expect("encodes")
                    .payload
                    .len()
            })
            .sum()
    }

    #[test]
    fn an_h264_picture_drawn_at_its_views_size_gets_more_bits_than_one_drawn_at_a_quarter() {
        const FRAMES: u32 = 40;
        let quarter = bytes_shown_at([512, 384], FRAMES);
        let full = bytes_shown_at([128, 96], FRAMES);
        // Four times the bitrate: well over twice the bytes, whatever the rate control's
        // start.
        assert!(
            full as f64 > quarter as f64 * 2.5,
            "{full} bytes at full resolution, {quarter} at a quarter of the sides"
        );
    }
}
