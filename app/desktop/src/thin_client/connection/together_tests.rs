//! Reading together from `connect`, two links against a real server in this process: one
//! shares the phantom and is told its join id; the other joins, asks for the controls, is
//! granted them (both told who steers), and gives them back; the sharer records its
//! session, lists the recording and plays it back to its end.

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::mpsc::Receiver;
use std::time::Instant;

use hounsfield_server::ServerConfig;

use super::tests::{next_frame, serve, start_link, target};
use super::*;

/// Waits (up to 60 s) until the link's state satisfies `done`; what it then holds.
fn until<T>(
    link: &RemoteLink,
    woken: &Receiver<()>,
    what: &str,
    done: impl Fn(&LinkState) -> Option<T>,
) -> T {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(found) = done(&link.state()) {
            return found;
        }
        let status = link.state().server_error.clone();
        assert!(
            Instant::now() < deadline,
            "{what}: not within 60 s ({status:?})"
        );
        let _ = woken.recv_timeout(Duration::from_millis(100));
    }
}

#[test]
fn connect_shares_hands_its_controls_over_and_plays_its_recording() {
    let state = tempfile::tempdir().expect("a state folder");
    let mut config = ServerConfig::new(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)));
    config.recordings_folder = Some(state.path().join("recordings"));
    let (url, _server) = serve(config);
    let (host, host_woken) = start_link(target(&url, None, Some("phantom")));
    next_frame(&host, &host_woken, |_| true);
    assert!(!host.in_shared_session());
    assert!(host.tell(ClientMessage::Share));
    let join = until(&host, &host_woken, "the join id", |state| {
        state.together.shared.clone()
    });
    assert!(
        host.in_shared_session(),
        "its pointer goes to the followers"
    );

    // The follower asks; the host hears who; granted, both are told who steers.
    let (follower, follower_woken) = start_link(LinkTarget {
        join: Some(join),
        ..target(&url, None, None)
    });
    next_frame(&follower, &follower_woken, |_| true);
    let follower_session = until(&follower, &follower_woken, "its session", |state| {
        state.together.session
    });
    assert!(follower.tell(ClientMessage::RequestControl));
    let (asking, name) = until(&host, &host_woken, "the request", |state| {
        state.together.asking.first().cloned()
    });
    assert_eq!(asking, follower_session, "{name}");
    assert!(host.tell(ClientMessage::GrantControl { session: asking }));
    for (link, woken) in [(&host, &host_woken), (&follower, &follower_woken)] {
        let steerer = until(link, woken, "who steers", |state| {
            state.together.steerer.clone().flatten()
        });
        assert_eq!(steerer.0, follower_session);
    }
    assert!(host.state().together.asking.is_empty(), "answered");
    assert!(follower.tell(ClientMessage::RevokeControl));
    until(&host, &host_woken, "the controls back", |state| {
        (state.together.steerer == Some(None)).then_some(())
    });

    // The host records, keeps the recording and plays it back to its end.
    assert!(host.tell(ClientMessage::StartRecording));
    let id = until(&host, &host_woken, "recording", |state| {
        state.together.recording.clone()
    });
    for _ in 0..3 {
        host.send(Action::Orbit { dx: 10.0, dy: 0.0 });
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(host.tell(ClientMessage::StopRecording));
    until(&host, &host_woken, "kept", |state| {
        state.together.recording.is_none().then_some(())
    });
    assert!(host.tell(ClientMessage::ListRecordings { series: None }));
    let listed = until(&host, &host_woken, "listed", |state| {
        (!state.together.recordings.is_empty()).then(|| state.together.recordings.clone())
    });
    assert_eq!(listed[0].id, id);
    assert!(host.tell(ClientMessage::PlayRecording { id: id.clone() }));
    let ended = until(&host, &host_woken, "played to its end", |state| {
        state
            .together
            .playback
            .clone()
            .filter(|playing| !playing.playing && playing.at_ms >= playing.duration_ms as f64)
    });
    assert_eq!(ended.id, id);
    assert!(ended.duration_ms > 100, "{ended:?}");
}
