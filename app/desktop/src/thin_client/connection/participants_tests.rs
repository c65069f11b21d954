//! The link in a shared session against a real server in this process: a reader shares
//! the phantom from a socket of her own; the link joins with the id, opens her series,
//! hears her pointer and her findings as she makes them, and its own pointer reaches her.

use std::sync::mpsc::Receiver;
use std::time::Instant;

use hounsfield_protocol::{FindingAction, FindingRequest};

use super::tests::{next_frame, serve_phantom, start_link, target};
use super::*;

/// Waits (up to 30 s) until the link's state satisfies `done`.
fn until(link: &RemoteLink, woken: &Receiver<()>, what: &str, done: impl Fn(&LinkState) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !done(&link.state()) {
        assert!(Instant::now() < deadline, "{what}: not within 30 s");
        let _ = woken.recv_timeout(Duration::from_millis(100));
    }
}

/// The next message `host` is told that `pick` takes, within 10 s.
pub(crate) async fn told<T>(host: &mut Client, pick: impl Fn(ServerMessage) -> Option<T>) -> T {
    tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            if let Event::Message(message) = host.next_event().await.expect("the host lives")
                && let Some(picked) = pick(message)
            {
                return picked;
            }
        }
    })
    .await
    .expect("told in time")
}

#[test]
fn a_joined_link_follows_the_host_and_each_sees_the_others_pointer_and_findings() {
    let (url, _server) = serve_phantom(None);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let (mut host, join) = runtime.block_on(async {
        let mut host = Client::connect(&url).await.expect("connects");
        let viewport = Viewport {
            width: 160,
            height: 120,
        };
        host.hello(None, viewport).await.expect("welcome");
        host.open("phantom").await.expect("opened");
        host.send(&ClientMessage::Share).await.expect("sent");
        let join = told(&mut host, |message| match message {
            ServerMessage::Shared { id, .. } => Some(id),
            _ => None,
        })
        .await;
        (host, join)
    });
    let (link, woken) = start_link(LinkTarget {
        join: Some(join),
        ..target(&url, None, None)
    });
    assert!(link.joined());
    next_frame(&link, &woken, |_| true);
    until(&link, &woken, "the host's series", |state| {
        state
            .opened
            .as_ref()
            .is_some_and(|opened| opened.series == "phantom")
    });

    // Her pointer is drawn here; the link's reaches her.
    runtime.block_on(async {
        host.send(&ClientMessage::Pointer {
            cell: Some("3d".to_string()),
            x: Some(0.25),
            y: Some(0.5),
        })
        .await
        .expect("sent");
    });
    until(&link, &woken, "the host's pointer", |state| {
        state
            .pointers
            .values()
            .any(|pointer| pointer.cell == "3d" && pointer.at == [0.25, 0.5])
    });
    assert!(link.point(Some(("axial", [0.3, 0.6]))));
    let (cell, x, y) = runtime.block_on(told(&mut host, |message| match message {
        ServerMessage::Pointer { cell, x, y, .. } => Some((cell, x, y)),
        _ => None,
    }));
    assert_eq!(
        (cell.as_deref(), x, y),
        (Some("axial"), Some(0.3), Some(0.6))
    );

    // Her ruler reaches the link's findings as she draws it.
    let drawn = runtime.block_on(async {
        host.send(&ClientMessage::Finding(FindingRequest {
            action: FindingAction::Create,
            id: None,
            kind: Some("ruler".to_string()),
            cell: Some("axial".to_string()),
            points: vec![[0.3, 0.4], [0.7, 0.6]],
            note: None,
        }))
        .await
        .expect("sent");
        told(&mut host, |message| match message {
            ServerMessage::Finding(finding) => Some(finding),
            _ => None,
        })
        .await
    });
    until(&link, &woken, "her ruler", |state| {
        state
            .finding_news
            .iter()
            .any(|news| *news == FindingNews::Told(Box::new(drawn.clone())))
    });
}
