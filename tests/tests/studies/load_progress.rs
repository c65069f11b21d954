//! Load progress over a real socket: while a large series (the JPEG 2000 CT of the shared
//! data, 295 images) loads, every session waiting for it hears `progress` with the images
//! decoded so far, rising to all of them before `opened`; a series already in the cache
//! opens with none.

use hounsfield_test_support as support;

use std::sync::Arc;
use std::time::Duration;

use hounsfield_client::Client;
use hounsfield_client::Event;
use hounsfield_protocol::{ClientMessage, LoadProgress, ServerMessage, Viewport};
use hounsfield_server::Library;

/// The session's frame size (small: only the messages matter here).
const VIEWPORT: Viewport = Viewport {
    width: 320,
    height: 240,
};

/// A server of the shared data's large CT; its address and the series' id and images.
fn ct_server() -> (std::net::SocketAddr, String, usize) {
    let library = Arc::new(Library::scan(&[support::data("ct-head-neck")], 1 << 30));
    let series = library
        .studies()
        .iter()
        .flat_map(|study| &study.series)
        .find(|series| series.unavailable.is_none())
        .expect("the CT forms a volume")
        .clone();
    let mut config = support::server::loopback_config();
    config.h264_encoders = Vec::new();
    let address = support::server::start_with_library(library, vec![config])[0];
    (address, series.id, series.images)
}

async fn session(address: std::net::SocketAddr) -> Client {
    let mut client = Client::connect(&format!("ws://{address}/ws"))
        .await
        .expect("connects");
    client.hello(None, VIEWPORT).await.expect("welcome");
    client
}

/// Opens `series` and returns the `progress` messages heard before `opened`.
async fn open_hearing_progress(client: &mut Client, series: &str) -> Vec<LoadProgress> {
    client
        .send(&ClientMessage::Open {
            series: series.to_string(),
        })
        .await
        .expect("sent");
    let mut heard = Vec::new();
    loop {
        match client.next_event().await.expect("the session lives") {
            Event::Message(ServerMessage::Progress(progress)) => heard.push(progress),
            Event::Message(ServerMessage::Opened(opened)) => {
                assert_eq!(opened.series, series);
                return heard;
            }
            Event::Message(ServerMessage::Error { code, message }) => {
                panic!("the open was refused: {code:?}: {message}")
            }
            _ => {}
        }
    }
}

/// What every session hears of one load: the series and stage, at least a step short of
/// the end and then the end, never going back.
fn assert_rises_to_the_end(heard: &[LoadProgress], series: &str, images: usize) {
    assert!(
        heard.len() >= 2,
        "a load this long reports as it goes: {heard:?}"
    );
    for step in heard {
        assert_eq!(step.series, series);
        assert_eq!(step.stage, "decoding");
        assert_eq!(step.total, images, "every image counts: {step:?}");
        assert!(step.done <= step.total, "{step:?}");
    }
    assert!(
        heard.windows(2).all(|pair| pair[0].done <= pair[1].done),
        "progress never goes back: {heard:?}"
    );
    assert!(
        heard[0].done < images,
        "the first step is before the end: {heard:?}"
    );
    assert_eq!(
        heard.last().map(|step| step.done),
        Some(images),
        "{heard:?}"
    );
}

#[test]
fn sessions_waiting_for_a_large_series_hear_its_progress_and_a_cached_one_opens_at_once() {
    let (address, series, images) = ct_server();
    support::server::run_within(Duration::from_secs(180), async {
        let (mut first, mut second) = (session(address).await, session(address).await);
        // Both ask at once: one load, and both hear how far it has come.
        let (first_heard, second_heard) = tokio::join!(
            open_hearing_progress(&mut first, &series),
            open_hearing_progress(&mut second, &series),
        );
        assert_rises_to_the_end(&first_heard, &series, images);
        assert_rises_to_the_end(&second_heard, &series, images);
        // From the cache: nothing to wait for.
        let mut third = session(address).await;
        let heard = open_hearing_progress(&mut third, &series).await;
        assert!(heard.is_empty(), "a cached series loads at once: {heard:?}");
    });
}
