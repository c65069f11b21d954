//! AFL++ target: a client's conversation through a session, as the connection handles it.
//! Each line of the input is a text message, or `wait N` (N milliseconds pass). Every
//! parsed message is applied to a session with a small volume open; after each one the
//! session must be sane and its render request drawable, and at the end, with no new
//! input, the requests must stop. Any panic is a crash.

use std::sync::Arc;
use std::time::{Duration, Instant};

use glam::{DMat4, DVec3};
use hounsfield_protocol::{
    Action, ClientMessage, Codec, Input, MAX_ERROR_MESSAGE_CHARS, parse_client_message,
};
use hounsfield_server::scheduler::RenderRequest;
use hounsfield_server::session::{MIN_VIEWPORT, Session, SessionLimits};
use render_core::transfer::PresetLibrary;
use render_core::{Modality, Volume, Voxels, Window};

/// A small CT on an oblique, anisotropic grid.
fn volume() -> Volume {
    let voxel_to_lps = DMat4::from_translation(DVec3::new(-40.0, 12.5, 300.0))
        * DMat4::from_rotation_z(0.3)
        * DMat4::from_scale(DVec3::new(0.7, 1.3, 2.5));
    let voxels = (0..7 * 5 * 4)
        .map(|n| (n * 37 % 2000) as i16 - 1000)
        .collect();
    let window = Some(Window {
        width: 400.0,
        center: 40.0,
    });
    Volume::new(
        Voxels::I16(voxels),
        [7, 5, 4],
        voxel_to_lps,
        Modality::CT,
        window,
    )
    .expect("a volume")
}

fn check(session: &Session, request: Option<&RenderRequest>, limits: &SessionLimits) {
    let viewport = session.viewport();
    let max = limits.max_viewport.max(MIN_VIEWPORT);
    for side in [viewport.width, viewport.height] {
        assert!((MIN_VIEWPORT..=max).contains(&side), "{viewport:?}");
    }
    if let Some(view) = session.view() {
        let camera = &view.camera;
        assert!(camera.focal_point.is_finite() && camera.direction.is_finite());
        assert!(camera.up.is_finite() && camera.distance_mm.is_finite());
        assert!(camera.zoom.is_finite() && camera.zoom > 0.0);
        assert!(session.crosshair_lps().is_some_and(|c| c.is_finite()));
    }
    if let Some(request) = request {
        assert_eq!(request.size, [viewport.width, viewport.height]);
        assert!(request.view.camera.focal_point.is_finite());
        assert!(request.crosshair_lps.is_finite());
    }
}

fn main() {
    let volume = Arc::new(volume());
    let presets = PresetLibrary::builtin();
    afl::fuzz!(|data: &[u8]| {
        let text = String::from_utf8_lossy(data);
        let limits = SessionLimits::default();
        let mut now = Instant::now();
        let viewport = hounsfield_protocol::Viewport {
            width: 64,
            height: 48,
        };
        let mut session = Session::new(limits, presets.clone(), viewport);
        session.open("small", volume.clone());
        for line in text.lines() {
            if let Some(ms) = line.strip_prefix("wait ") {
                now += Duration::from_millis(ms.trim().parse::<u64>().unwrap_or(0) % 100_000);
                let request = session.next_request(now);
                check(&session, request.as_ref(), &limits);
                continue;
            }
            let Ok(message) = parse_client_message(line) else {
                continue;
            };
            let result = match message {
                ClientMessage::Hello {
                    codecs, viewport, ..
                } => {
                    if let Some(viewport) = viewport {
                        session.set_viewport(viewport);
                    }
                    let h264 = codecs.iter().position(|c| *c == Codec::H264);
                    let jpeg = codecs.iter().position(|c| *c == Codec::Jpeg);
                    session.stream_video(h264.is_some_and(|h| jpeg.is_none_or(|j| h < j)));
                    Ok(())
                }
                ClientMessage::ListStudies(_) => Ok(()),
                ClientMessage::Open { series } => {
                    session.open(&series, volume.clone());
                    Ok(())
                }
                ClientMessage::Input(input) => session.apply(&input, now),
                ClientMessage::Still { lossless } => session.still(lossless),
                ClientMessage::Keyframe => session.keyframe(),
                ClientMessage::Stats(stats) => session.client_stats(&stats, now),
                ClientMessage::Probe { cell, x, y } => session.probe(&cell, x, y).map(|_| ()),
                ClientMessage::Measure { cell, from, to } => {
                    session.measure(&cell, from, to).map(|_| ())
                }
                // A finding is drawn and measured by the session (the connection keeps it).
                ClientMessage::Finding(request) => session.draw_finding(&request, 1).map(|_| ()),
                // Sharing, joining, WebRTC signalling and stored documents are the
                // connection's, not the session's.
                ClientMessage::Share
                | ClientMessage::Join { .. }
                | ClientMessage::WebrtcOffer { .. }
                | ClientMessage::WebrtcClose { .. }
                | ClientMessage::SaveFindings
                | ClientMessage::KeyImage { .. }
                | ClientMessage::Snapshot { .. } => Ok(()),
            };
            if let Err(refusal) = result {
                assert!(refusal.message.chars().count() <= MAX_ERROR_MESSAGE_CHARS);
            }
            let request = session.next_request(now);
            check(&session, request.as_ref(), &limits);
        }
        // The view the session shows is one set_view takes (a client hands it back on
        // reconnection).
        if let Some(shared) = session.shared_view() {
            let mut other = Session::new(limits, presets.clone(), viewport);
            other.open("small", volume.clone());
            let input = Input {
                seq: 1,
                t: 0.0,
                action: Action::SetView {
                    view: Box::new(shared),
                },
            };
            if let Err(refusal) = other.apply(&input, now) {
                panic!("the session's own view was refused: {}", refusal.message);
            }
        }
        // With no new input the requests stop: at most an interactive frame and a still,
        // and a deadline named is one at which a request is due.
        let mut taken = 0;
        loop {
            if let Some(request) = session.next_request(now) {
                check(&session, Some(&request), &limits);
                taken += 1;
                assert!(taken <= 2, "request {taken} without new input");
                continue;
            }
            match session.next_deadline() {
                Some(due) => {
                    assert!(due > now, "a deadline passed with nothing due: a busy loop");
                    now = due;
                }
                None => break,
            }
        }
    });
}
