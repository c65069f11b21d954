//! Session recordings over real sockets. A reader records her session of the oblique MR
//! (orbits, a window change, a pointer, a ruler) and stops; the recording is listed for the
//! series; another session plays it back, faster, to its end, and ends on the same view:
//! its lossless final still differs from hers by under 1/255 on average. A seek shows the
//! findings of that time. Ids that name no recording are refused, and a server without a
//! state folder refuses to record. `movie --recording` exports it: FFmpeg decodes its last
//! frame as the view the session ended on. In Chromium, a page records a drag with its Record
//! button, lists the recording and plays it on its timeline to the end.

use hounsfield_test_support as support;
use hounsfield_test_support::chromium;

use std::time::Duration;

use chromium::{NO_WEBCODECS, canvas_box, with_page_url};
use hounsfield_client::{Client, Frame};
use hounsfield_protocol::{
    Action, ClientMessage, ErrorCode, FindingAction, FindingInfo, FindingRequest, PlaybackAction,
    RecordingInfo, RecordingState, ServerMessage, Viewport,
};

const VIEWPORT: Viewport = Viewport {
    width: 320,
    height: 240,
};

/// The first message `client` is told within `patience` that `pick` takes; an `error`
/// fails the test.
async fn told<T>(
    client: &mut Client,
    patience: Duration,
    mut pick: impl FnMut(ServerMessage) -> Option<T>,
) -> T {
    support::server::told(client, patience, |message| match message {
        ServerMessage::Error { code, message } => panic!("refused: {code:?}: {message}"),
        message => pick(message),
    })
    .await
    .expect("told in time")
}

/// The next error `client` is told.
async fn refused(client: &mut Client) -> (ErrorCode, String) {
    tokio::time::timeout(Duration::from_secs(10), client.next_error())
        .await
        .expect("in time")
        .expect("the session lives")
}

/// Rita's recorded session: orbits, a window, a pointer and a ruler, then at rest. The
/// recording kept, the ruler, and her lossless still at the end.
async fn record_a_session(rita: &mut Client) -> (RecordingInfo, FindingInfo, Frame) {
    rita.send(&ClientMessage::StartRecording)
        .await
        .expect("sent");
    let id = told(rita, Duration::from_secs(5), |message| match message {
        ServerMessage::Recording {
            id,
            state: RecordingState::Recording,
            ..
        } => Some(id),
        _ => None,
    })
    .await;
    for _ in 0..3 {
        rita.input(Action::Interact { active: true })
            .await
            .expect("sent");
        for _ in 0..5 {
            rita.input(Action::Orbit { dx: 6.0, dy: 2.0 })
                .await
                .expect("sent");
            tokio::time::sleep(Duration::from_millis(40)).await;
        }
        rita.input(Action::Interact { active: false })
            .await
            .expect("sent");
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    rita.input(Action::Window {
        width: 600.0,
        center: 250.0,
    })
    .await
    .expect("sent");
    rita.send(&ClientMessage::Pointer {
        cell: Some("3d".to_string()),
        x: Some(0.4),
        y: Some(0.6),
    })
    .await
    .expect("sent");
    rita.send(&ClientMessage::Finding(FindingRequest {
        action: FindingAction::Create,
        id: None,
        kind: Some("ruler".to_string()),
        cell: Some("axial".to_string()),
        points: vec![[0.3, 0.4], [0.7, 0.6]],
        note: None,
    }))
    .await
    .expect("sent");
    let ruler = told(rita, Duration::from_secs(5), |message| match message {
        ServerMessage::Finding(finding) => Some(finding),
        _ => None,
    })
    .await;
    tokio::time::sleep(Duration::from_millis(400)).await;
    let hers = support::server::lossless_still(rita).await;
    rita.send(&ClientMessage::StopRecording)
        .await
        .expect("sent");
    let kept = told(rita, Duration::from_secs(5), |message| match message {
        ServerMessage::Recording {
            id: stopped,
            series,
            state: RecordingState::Stopped,
            duration_ms,
            moments,
            ..
        } => Some(RecordingInfo {
            id: stopped,
            series,
            user: String::new(),
            started_ms: 0,
            duration_ms,
            moments,
        }),
        _ => None,
    })
    .await;
    assert_eq!(kept.id, id);
    (kept, ruler, hers)
}

#[test]
fn a_recording_played_back_ends_on_the_view_the_session_ended_on() {
    let state = tempfile::tempdir().expect("a state folder");
    let mut config = support::server::loopback_config();
    config.h264_encoders = Vec::new();
    config.recordings_folder = Some(state.path().join("recordings"));
    let address = support::server::start_serving(config, &[support::data("mr-sag-oblique")]);
    // Kept for the movie: the recording and rita's still at its end.
    let mut recorded = None;
    support::server::run_within(Duration::from_secs(240), async {
        let mut rita = support::server::connected(address, VIEWPORT).await;
        let studies = rita.list_studies().await.expect("studies");
        let series = studies[0].series[0].id.clone();
        rita.open(&series).await.expect("opened");
        let (kept, ruler, hers) = record_a_session(&mut rita).await;
        recorded = Some((kept.id.clone(), hers.decode_rgba().expect("decodes")));
        assert!(kept.duration_ms > 1000, "{kept:?}");
        assert!(
            kept.moments >= 5,
            "views, a pointer, a ruler, the end: {kept:?}"
        );

        // Listed for its series, to anyone who may open it.
        let mut sam = support::server::connected(address, VIEWPORT).await;
        sam.send(&ClientMessage::ListRecordings {
            series: Some(series.clone()),
        })
        .await
        .expect("sent");
        let listed = told(&mut sam, Duration::from_secs(5), |message| match message {
            ServerMessage::Recordings { recordings, .. } => Some(recordings),
            _ => None,
        })
        .await;
        assert_eq!(listed.len(), 1, "{listed:?}");
        assert_eq!(
            (&listed[0].id, listed[0].duration_ms),
            (&kept.id, kept.duration_ms)
        );

        // Played back four times as fast, to its end: the same view as hers.
        sam.send(&ClientMessage::PlayRecording {
            id: kept.id.clone(),
        })
        .await
        .expect("sent");
        let opened = told(&mut sam, Duration::from_secs(30), |message| match message {
            ServerMessage::Opened(opened) => Some(opened.series),
            _ => None,
        })
        .await;
        assert_eq!(opened, series);
        sam.send(&ClientMessage::Playback {
            action: PlaybackAction::Play,
            at_ms: None,
            speed: Some(4.0),
        })
        .await
        .expect("sent");
        let (mut pointed, mut drawn) = (false, false);
        let ended_at = told(&mut sam, Duration::from_secs(60), |message| match message {
            ServerMessage::Pointer { cell, .. } => {
                pointed |= cell.as_deref() == Some("3d");
                None
            }
            ServerMessage::SharedFinding { finding, .. } => {
                drawn |= finding.id == ruler.id;
                None
            }
            ServerMessage::PlaybackState {
                playing: false,
                at_ms,
                ..
            } => Some(at_ms),
            _ => None,
        })
        .await;
        assert!(pointed && drawn, "the pointer and the ruler are played");
        assert!(
            (ended_at - kept.duration_ms as f64).abs() < 1.0,
            "{ended_at}"
        );
        tokio::time::sleep(Duration::from_millis(400)).await;
        let his = support::server::lossless_still(&mut sam).await;
        let apart = support::server::frames_apart(&his, &hers);
        assert!(apart < 1.0 / 255.0, "the played still differs by {apart}");

        // A seek to the start shows the findings as they were then: none.
        sam.send(&ClientMessage::Playback {
            action: PlaybackAction::Seek,
            at_ms: Some(0.0),
            speed: None,
        })
        .await
        .expect("sent");
        let findings = told(&mut sam, Duration::from_secs(5), |message| match message {
            ServerMessage::Findings { findings, .. } => Some(findings),
            _ => None,
        })
        .await;
        assert!(findings.is_empty(), "{findings:?}");

        // Ids that name no recording are refused.
        for id in ["../../etc/passwd", "ffffffffffffffffffffffffffffffff"] {
            sam.send(&ClientMessage::PlayRecording { id: id.to_string() })
                .await
                .expect("sent");
            let (code, message) = refused(&mut sam).await;
            assert_eq!(code, ErrorCode::BadValue, "{message}");
            assert!(message.contains("no recording"), "{message}");
        }
    });

    // The recording exported to video: FFmpeg decodes its sixth and last frame, of the
    // size asked, as the view the session ended on (H.264 at CRF 20 and its 4:2:0 colour
    // against the lossless still: within 3/255 on average).
    let (id, (width, height, hers)) = recorded.expect("recorded");
    let file = state.path().join("recordings").join(format!("{id}.jsonl"));
    let movie = state.path().join("recording.mp4");
    let output = std::process::Command::new(support::hounsfield_binary())
        .arg("movie")
        .arg(support::data("mr-sag-oblique"))
        .arg("--recording")
        .arg(&file)
        .args([
            "--frames",
            "6",
            "--size",
            &format!("{width}x{height}"),
            "--out",
        ])
        .arg(&movie)
        .output()
        .expect("hounsfield runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let last = state.path().join("last.png");
    let decoded = std::process::Command::new("ffmpeg")
        .args(["-v", "error", "-y", "-i"])
        .arg(&movie)
        .args(["-vf", "select=eq(n\\,5)", "-frames:v", "1"])
        .arg(&last)
        .output()
        .expect("ffmpeg runs");
    assert!(
        decoded.status.success(),
        "{}",
        String::from_utf8_lossy(&decoded.stderr)
    );
    let last = image::open(&last).expect("a PNG").to_rgb8();
    assert_eq!(last.dimensions(), (width, height));
    let apart = support::render::mean_rgb_difference(last.as_raw(), 3, &hers, 4);
    assert!(
        apart < 3.0 / 255.0,
        "the movie's last frame differs by {apart}"
    );
}

#[test]
fn a_server_without_a_state_folder_refuses_to_record_saying_why() {
    let mut config = support::server::loopback_config();
    config.h264_encoders = Vec::new();
    let address = support::server::start_serving(config, &[support::data("mr-sag-oblique")]);
    support::server::run_within(Duration::from_secs(60), async {
        let mut client = support::server::connected(address, VIEWPORT).await;
        client
            .send(&ClientMessage::StartRecording)
            .await
            .expect("sent");
        assert_eq!(refused(&mut client).await.0, ErrorCode::NotOpen);
        let studies = client.list_studies().await.expect("studies");
        client.open(&studies[0].series[0].id).await.expect("opened");
        client
            .send(&ClientMessage::StartRecording)
            .await
            .expect("sent");
        let (code, message) = refused(&mut client).await;
        assert_eq!(code, ErrorCode::Unavailable);
        assert!(message.contains("state folder"), "{message}");
    });
}

#[test]
fn a_page_records_a_drag_lists_it_and_plays_it_on_its_timeline() {
    let state = tempfile::tempdir().expect("a state folder");
    let mut config = support::server::loopback_config();
    config.h264_encoders = Vec::new();
    config.recordings_folder = Some(state.path().join("recordings"));
    let address = support::server::start_serving(config, &[support::data("mr-sag-oblique")]);
    let url = format!("http://{address}/?codec=jpeg");
    with_page_url(&[], &url, Some(NO_WEBCODECS), async |page| {
        page.wait_for("window.hounsfield?.frames > 0").await;
        page.eval("document.getElementById('record').click(); true")
            .await;
        page.wait_for("typeof window.hounsfield.recording?.id === 'string'")
            .await;
        // A drag across the picture, then a moment at rest.
        let (x, y, w, h) = canvas_box(page).await;
        let (cx, cy) = (f64::from(x + w / 2), f64::from(y + h / 2));
        page.mouse("mousePressed", cx, cy, 1).await;
        for step in 1..=10 {
            page.mouse("mouseMoved", cx + f64::from(step) * 8.0, cy, 1)
                .await;
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        page.mouse("mouseReleased", cx + 80.0, cy, 0).await;
        tokio::time::sleep(Duration::from_millis(800)).await;
        page.eval("document.getElementById('record').click(); true")
            .await;
        page.wait_for("window.hounsfield.recording === null").await;
        assert_eq!(
            page.eval("document.getElementById('record').textContent")
                .await,
            "Record"
        );

        // The series' recordings, listed; its Play button plays it on the timeline.
        page.eval("document.getElementById('recordings-toggle').click(); true")
            .await;
        page.wait_for(
            "document.querySelectorAll('#recordings-list li[data-id] button.play').length === 1",
        )
        .await;
        page.eval("document.querySelector('#recordings-list button.play').click(); true")
            .await;
        page.wait_for("window.hounsfield.playback?.playing === true")
            .await;
        assert_eq!(
            page.eval("document.getElementById('playback').hidden")
                .await,
            false,
            "the timeline shows"
        );
        page.wait_for("window.hounsfield.playback?.playing === false && window.hounsfield.playback.at_ms === window.hounsfield.playback.duration_ms")
            .await;
        let duration = page
            .eval("window.hounsfield.playback.duration_ms")
            .await
            .as_f64()
            .unwrap_or(0.0);
        assert!(duration > 500.0, "the drag and the rest: {duration} ms");
        let shown = page
            .eval("document.getElementById('playback-time').textContent")
            .await;
        assert!(shown.as_str().is_some_and(|t| t.contains(" / ")), "{shown}");
    });
}
