//! A hostile server against the thin client's link: what breaks the protocol or its
//! bounds ends the link with a short, clear reason in the status bar (never the server's
//! bytes laid out as text), and the link does not connect to it again.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::Message;

use super::LinkStatus;
use super::tests::link_to;

/// The most characters a reason in the status bar may have here: the intake's bounded
/// message and a few words of the link's.
const MOST_SHOWN: usize = 400;

/// A WebSocket server on loopback answering each connection's first message (the
/// `hello`) with `answer` and then holding it open; its address and the connections it
/// took.
fn hostile_server(answer: Message) -> (String, Arc<AtomicUsize>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a loopback port");
    listener.set_nonblocking(true).expect("non-blocking");
    let address = listener.local_addr().expect("its address");
    let connections = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&connections);
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime");
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).expect("listening");
            while let Ok((stream, _)) = listener.accept().await {
                counted.fetch_add(1, Ordering::SeqCst);
                let answer = answer.clone();
                tokio::spawn(async move {
                    let Ok(mut socket) = tokio_tungstenite::accept_async(stream).await else {
                        return;
                    };
                    let _hello = socket.next().await;
                    let _ = socket.send(answer).await;
                    while socket.next().await.is_some() {}
                });
            }
        });
    });
    (format!("ws://{address}/ws"), connections)
}

#[test]
fn a_server_breaking_the_protocol_ends_the_link_with_a_short_reason_and_no_reconnection() {
    let deep = "[".repeat(5 << 20);
    let long = format!(
        r#"{{"type":"error","code":"internal","message":"{}"}}"#,
        "x".repeat(10 << 20)
    );
    for (answer, said) in [(deep, "nests deeper"), (long, "a string of")] {
        let (url, connections) = hostile_server(Message::text(answer));
        let (link, woken) = link_to(&url, None, None);
        let deadline = Instant::now() + Duration::from_secs(30);
        let reason = loop {
            if let Some(LinkStatus::Closed(reason)) = link.state().status.clone() {
                break reason;
            }
            assert!(
                Instant::now() < deadline,
                "the link still goes on: {:?}",
                link.state().status
            );
            let _ = woken.recv_timeout(Duration::from_millis(200));
        };
        assert!(
            reason.contains("broke the protocol") && reason.contains(said),
            "{reason}"
        );
        assert!(
            reason.chars().count() <= MOST_SHOWN,
            "{} characters",
            reason.chars().count()
        );
        std::thread::sleep(Duration::from_millis(1500));
        assert_eq!(
            connections.load(Ordering::SeqCst),
            1,
            "a server that broke the protocol is not connected to again"
        );
    }
}
