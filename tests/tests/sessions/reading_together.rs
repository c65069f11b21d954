//! Reading together over real sockets: a reader shares her view, others join it.
//!
//! - The controls: a follower's inputs that change the view are refused until the host
//!   grants the controls he asked for; granted, his orbit turns the host's frames (the
//!   host's final still then matches his, pixel for pixel within 1/255), and her own
//!   inputs are refused; taken back, his are refused again. A viewer may not ask on a
//!   server that lets no viewer steer.
//! - Findings: what one participant draws or deletes reaches the others as it is made,
//!   named; a reader with the same series open who did not join is told nothing. A
//!   follower who stops reading and falls behind the room is told every finding late
//!   rather than never: the list, whole, once he reads again.

use hounsfield_test_support as support;

use std::time::Duration;

use hounsfield_client::{Client, Event, Frame};
use hounsfield_protocol::{
    Action, ClientMessage, Codec, ErrorCode, FindingAction, FindingRequest, ServerMessage,
    SharedView, Viewport,
};
use hounsfield_server::users::{Role, UsersFile};
use support::server::{frames_apart, signed_in, told};

const VIEWPORT: Viewport = Viewport {
    width: 320,
    height: 240,
};
const RITA: &str = "together-reader-3a91";
const SAM: &str = "together-reader-c07e";
const VERA: &str = "together-viewer-51d2";
const OLA: &str = "together-reader-9be4";

/// A server of the oblique MR (JPEG frames) with a host, a follower, a viewer and an
/// outsider as users; its users file lives in `state`.
fn served(state: &tempfile::TempDir) -> std::net::SocketAddr {
    let users = state.path().join("users.toml");
    support::users_table(&[
        ("rita", Role::Reader, RITA),
        ("sam", Role::Reader, SAM),
        ("vera", Role::Viewer, VERA),
        ("ola", Role::Reader, OLA),
    ])
    .save(&users)
    .expect("written");
    let mut config = support::server::loopback_config();
    config.h264_encoders = Vec::new();
    config.users = Some(UsersFile::load(&users).expect("a good users file"));
    support::server::start_serving(config, &[support::data("mr-sag-oblique")])
}

/// The next `control` `client` is told: who steers (`None`: the host).
async fn steering(client: &mut Client) -> Option<(Option<u64>, Option<String>)> {
    told(client, Duration::from_secs(2), |message| match message {
        ServerMessage::Control { session, name } => Some((session, name)),
        _ => None,
    })
    .await
}

/// The next error `client` is told: its code and message.
async fn refusal(client: &mut Client) -> (ErrorCode, String) {
    told(client, Duration::from_secs(5), |message| match message {
        ServerMessage::Error { code, message } => Some((code, message)),
        _ => None,
    })
    .await
    .expect("refused")
}

/// Rita opens the MR and shares it; the series, the join id and the view it opened with.
async fn rita_shares(rita: &mut Client) -> (String, String, SharedView) {
    let studies = rita.list_studies().await.expect("studies");
    let series = studies[0].series[0].id.clone();
    let opened = rita.open(&series).await.expect("opened");
    rita.send(&ClientMessage::Share).await.expect("sent");
    let join = told(rita, Duration::from_secs(5), |message| match message {
        ServerMessage::Shared { id, .. } => Some(id),
        _ => None,
    })
    .await
    .expect("shared");
    (series, join, opened.view.expect("the view opened with"))
}

/// `client` joins the shared session `join` and waits for its first frame; who steers.
async fn joins(client: &mut Client, join: &str) -> Option<(Option<u64>, Option<String>)> {
    client
        .send(&ClientMessage::Join {
            id: join.to_string(),
        })
        .await
        .expect("sent");
    let steers = steering(client).await;
    client.next_frame().await.expect("the shared view");
    steers
}

/// An orbit of `degrees` dragged and let go.
async fn orbit(client: &mut Client, degrees: f64) {
    for action in [
        Action::Interact { active: true },
        Action::Orbit {
            dx: degrees,
            dy: 0.0,
        },
        Action::Interact { active: false },
    ] {
        client.input(action).await.expect("sent");
    }
}

/// The view `client` is told at rest next, with the final still that comes with it.
async fn view_at_rest(client: &mut Client) -> (SharedView, Frame) {
    tokio::time::timeout(Duration::from_secs(30), async {
        let mut view = None;
        loop {
            match client.next_event().await.expect("the session lives") {
                Event::Message(ServerMessage::View { view: told, .. }) => view = Some(*told),
                Event::Frame(frame) if frame.header.flags.final_still() => {
                    if let Some(view) = view.take() {
                        return (view, frame);
                    }
                }
                _ => {}
            }
        }
    })
    .await
    .expect("a view at rest within 30 s")
}

#[test]
fn the_host_hands_the_controls_to_a_follower_whose_orbit_turns_her_frames_until_she_takes_them_back()
 {
    let state = tempfile::tempdir().expect("a state folder");
    let address = served(&state);
    support::server::run_within(Duration::from_secs(180), async {
        let mut rita = signed_in(address, RITA, VIEWPORT).await;
        let (_, join, before) = rita_shares(&mut rita).await;
        let mut sam = signed_in(address, SAM, VIEWPORT).await;
        assert_eq!(
            joins(&mut sam, &join).await,
            Some((None, None)),
            "the host steers"
        );

        // Before he has the controls, the follower's orbit is refused.
        orbit(&mut sam, 30.0).await;
        let (code, message) = refusal(&mut sam).await;
        assert_eq!(code, ErrorCode::ViewOnly);
        assert!(message.contains("request_control"), "{message}");

        // He asks; the host is told who asks, and grants; everyone is told he steers.
        sam.send(&ClientMessage::RequestControl)
            .await
            .expect("sent");
        let (asking, name) = told(&mut rita, Duration::from_secs(2), |message| match message {
            ServerMessage::ControlRequested { session, name } => Some((session, name)),
            _ => None,
        })
        .await
        .expect("the host is asked");
        assert_eq!(name, "sam");
        // Only the host grants.
        sam.send(&ClientMessage::GrantControl { session: asking })
            .await
            .expect("sent");
        assert_eq!(refusal(&mut sam).await.0, ErrorCode::Forbidden);
        rita.send(&ClientMessage::GrantControl { session: asking })
            .await
            .expect("sent");
        let granted = Some((Some(asking), Some("sam".to_string())));
        assert_eq!(steering(&mut rita).await, granted);
        assert_eq!(steering(&mut sam).await, granted);

        // His orbit turns her view and her frames: her final still is his.
        orbit(&mut sam, 40.0).await;
        let (his_view, his_still) = view_at_rest(&mut sam).await;
        let same_direction = |view: &SharedView| {
            view.camera
                .direction
                .angle_between(his_view.camera.direction)
                < 1e-6
        };
        let (her_view, her_still) = loop {
            let (view, still) = view_at_rest(&mut rita).await;
            if same_direction(&view) {
                break (view, still);
            }
        };
        let turned = her_view
            .camera
            .direction
            .angle_between(before.camera.direction);
        assert!(
            turned.to_degrees() > 10.0,
            "her view turned {} degrees",
            turned.to_degrees()
        );
        let apart = frames_apart(&her_still, &his_still);
        assert!(apart < 1.0 / 255.0, "her still differs from his by {apart}");

        // While he steers, her own orbit is refused.
        orbit(&mut rita, 10.0).await;
        assert_eq!(refusal(&mut rita).await.0, ErrorCode::ViewOnly);

        // She takes the controls back: both are told, and his orbit is refused again.
        rita.send(&ClientMessage::RevokeControl)
            .await
            .expect("sent");
        assert_eq!(steering(&mut sam).await, Some((None, None)));
        assert_eq!(steering(&mut rita).await, Some((None, None)));
        orbit(&mut sam, 30.0).await;
        assert_eq!(refusal(&mut sam).await.0, ErrorCode::ViewOnly);

        // A viewer may not ask for the controls on this server.
        let mut vera = signed_in(address, VERA, VIEWPORT).await;
        joins(&mut vera, &join).await;
        vera.send(&ClientMessage::RequestControl)
            .await
            .expect("sent");
        let (code, message) = refusal(&mut vera).await;
        assert_eq!(code, ErrorCode::Forbidden);
        assert!(message.contains("viewer"), "{message}");
    });
}

#[test]
fn findings_made_in_a_shared_session_reach_every_participant_as_they_are_made() {
    let state = tempfile::tempdir().expect("a state folder");
    let address = served(&state);
    support::server::run_within(Duration::from_secs(120), async {
        let mut rita = signed_in(address, RITA, VIEWPORT).await;
        let (series, join, _) = rita_shares(&mut rita).await;
        let mut sam = signed_in(address, SAM, VIEWPORT).await;
        joins(&mut sam, &join).await;
        let mut ola = signed_in(address, OLA, VIEWPORT).await;
        ola.open(&series).await.expect("opened, not joined");

        // Sam draws a ruler: his reply, and rita is told it, named.
        let ruler = FindingRequest {
            action: FindingAction::Create,
            id: None,
            kind: Some("ruler".to_string()),
            cell: Some("axial".to_string()),
            points: vec![[0.3, 0.4], [0.7, 0.6]],
            note: Some("told to all".to_string()),
        };
        sam.send(&ClientMessage::Finding(ruler))
            .await
            .expect("sent");
        let his = told(&mut sam, Duration::from_secs(5), |message| match message {
            ServerMessage::Finding(finding) => Some(finding),
            _ => None,
        })
        .await
        .expect("his reply");
        let pick_shared = |message| match message {
            ServerMessage::SharedFinding { name, finding, .. } => Some((name, finding)),
            _ => None,
        };
        let (name, hers) = told(&mut rita, Duration::from_secs(1), pick_shared)
            .await
            .expect("rita is told within a second");
        assert_eq!(name, "sam");
        assert_eq!(hers, his, "the finding as his client was told it");
        assert_eq!(hers.note, "told to all");
        assert_eq!(
            told(&mut ola, Duration::from_millis(600), pick_shared).await,
            None,
            "a reader who did not join is told nothing"
        );

        // Rita deletes it: sam is told which.
        rita.send(&ClientMessage::Finding(FindingRequest {
            action: FindingAction::Delete,
            id: Some(his.id),
            kind: None,
            cell: None,
            points: Vec::new(),
            note: None,
        }))
        .await
        .expect("sent");
        let deleted = told(&mut sam, Duration::from_secs(1), |message| match message {
            ServerMessage::SharedFindingDeleted { name, id, .. } => Some((name, id)),
            _ => None,
        })
        .await;
        assert_eq!(deleted, Some(("rita".to_string(), his.id)));
    });
}

#[test]
fn a_follower_who_stops_reading_is_told_every_finding_late_rather_than_never() {
    let state = tempfile::tempdir().expect("a state folder");
    let address = served(&state);
    support::server::run_within(Duration::from_secs(150), async {
        let mut rita = signed_in(address, RITA, VIEWPORT).await;
        let (_, join, _) = rita_shares(&mut rita).await;
        // Sam reads through a relay that can stop reading for him: stopped, the server's
        // socket to him fills after a few kilobytes, as a reader who stops reading.
        let (relay, reading) = pausable_relay(address).await;
        let mut sam = Client::connect(&format!("ws://{relay}/ws"))
            .await
            .expect("connects");
        let large = Viewport {
            width: 1920,
            height: 1080,
        };
        sam.hello_offering(Some(SAM), large, &[Codec::Png, Codec::Jpeg])
            .await
            .expect("welcome");
        joins(&mut sam, &join).await;

        // Sam stops reading, and a lossless still of his large view fills his socket.
        // Rita draws three findings among more pointer moves than the room keeps for a
        // participant who does not listen.
        reading.send_replace(false);
        sam.still(true).await.expect("asked");
        tokio::time::sleep(Duration::from_secs(2)).await;
        let pointer = |x: f64| ClientMessage::Pointer {
            cell: Some("3d".to_string()),
            x: Some(x),
            y: Some(0.5),
        };
        let mut drawn = Vec::new();
        for round in 0..3 {
            for step in 0..40 {
                rita.send(&pointer(f64::from(step) / 40.0))
                    .await
                    .expect("sent");
                tokio::time::sleep(Duration::from_millis(40)).await;
            }
            let ruler = FindingRequest {
                action: FindingAction::Create,
                id: None,
                kind: Some("ruler".to_string()),
                cell: Some("axial".to_string()),
                points: vec![[0.2, 0.3 + 0.1 * f64::from(round)], [0.7, 0.6]],
                note: None,
            };
            rita.send(&ClientMessage::Finding(ruler))
                .await
                .expect("sent");
            let finding = told(&mut rita, Duration::from_secs(5), |message| match message {
                ServerMessage::Finding(finding) => Some(finding),
                _ => None,
            })
            .await
            .expect("her reply");
            drawn.push(finding.id);
        }
        for step in 0..80 {
            rita.send(&pointer(f64::from(step) / 80.0))
                .await
                .expect("sent");
            tokio::time::sleep(Duration::from_millis(40)).await;
        }

        // Sam reads again: each finding reaches him, as it was made or in the list told
        // again once he was found to have missed some of the room.
        reading.send_replace(true);
        let mut known = std::collections::BTreeSet::new();
        let mut told_again = false;
        let all_told = tokio::time::timeout(Duration::from_secs(60), async {
            while !drawn.iter().all(|id| known.contains(id)) {
                match sam.next_event().await.expect("his session lives") {
                    Event::Message(ServerMessage::SharedFinding { finding, .. }) => {
                        known.insert(finding.id);
                    }
                    Event::Message(ServerMessage::Findings { findings, .. }) => {
                        told_again = true;
                        known.extend(findings.iter().map(|finding| finding.id));
                    }
                    _ => {}
                }
            }
        })
        .await;
        assert!(
            all_told.is_ok(),
            "sam was told {known:?} of the findings {drawn:?}"
        );
        assert!(
            told_again,
            "sam fell behind the room and was told the findings again whole"
        );
    });
}

/// A relay on loopback to the server at `server`, for one client: its sender reads what
/// the server sends while it holds `true`. Its socket to the server takes a few kilobytes
/// (a small receive buffer), so the server's socket fills soon after it stops reading.
async fn pausable_relay(
    server: std::net::SocketAddr,
) -> (std::net::SocketAddr, tokio::sync::watch::Sender<bool>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a loopback port");
    let address = listener.local_addr().expect("its address");
    let (reading, mut told) = tokio::sync::watch::channel(true);
    tokio::spawn(async move {
        let (client, _) = listener.accept().await.expect("the client");
        let socket = tokio::net::TcpSocket::new_v4().expect("a socket");
        socket.set_recv_buffer_size(4096).expect("a small buffer");
        let upstream = socket.connect(server).await.expect("the server");
        let (mut from_client, mut to_client) = client.into_split();
        let (mut from_server, mut to_server) = upstream.into_split();
        tokio::spawn(async move {
            let _ = tokio::io::copy(&mut from_client, &mut to_server).await;
        });
        let mut buffer = vec![0u8; 4096];
        loop {
            while !*told.borrow_and_update() {
                if told.changed().await.is_err() {
                    return;
                }
            }
            match from_server.read(&mut buffer).await {
                Ok(0) | Err(_) => return,
                Ok(read) => {
                    if to_client.write_all(&buffer[..read]).await.is_err() {
                        return;
                    }
                }
            }
        }
    });
    (address, reading)
}
