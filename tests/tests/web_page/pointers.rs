//! Live pointers in a shared session, over real sockets and in two Chromium pages: a
//! reader shares, a viewer joins, and each one's pointer reaches the other within a second
//! with the same cell and position and the sender's name; a pointer left the picture is
//! told as such; a third reader who opened the series himself (not joined) points at
//! nobody; a bad pointer is refused by field. In the browser, two pages of one shared
//! session draw each other's pointers over the frames, named, in the cell pointed at, and
//! hand the controls over with their buttons (asked, granted, taken back). The followers of
//! a desktop's share point to each other too, and are handed no controls.

use hounsfield_test_support as support;
use hounsfield_test_support::chromium;

use std::time::Duration;

use chromium::{Chromium, NO_WEBCODECS, Page, canvas_box};
use hounsfield_client::Client;
use hounsfield_protocol::{ClientMessage, ErrorCode, ServerMessage, Viewport};
use hounsfield_server::users::{Role, UsersFile};
use serde_json::json;
use support::server::signed_in;

const VIEWPORT: Viewport = Viewport {
    width: 320,
    height: 240,
};

/// Sends `client`'s pointer.
async fn point(client: &mut Client, cell: Option<&str>, at: Option<[f64; 2]>) {
    client
        .send(&ClientMessage::Pointer {
            cell: cell.map(str::to_string),
            x: at.map(|[x, _]| x),
            y: at.map(|[_, y]| y),
        })
        .await
        .expect("sent");
}

/// The next `pointer` `client` is told within `patience`: (name, cell, x, y), or `None`.
async fn told_pointer(
    client: &mut Client,
    patience: Duration,
) -> Option<(String, Option<String>, Option<f64>, Option<f64>)> {
    support::server::told(client, patience, |message| match message {
        ServerMessage::Pointer {
            name, cell, x, y, ..
        } => Some((name, cell, x, y)),
        _ => None,
    })
    .await
}

#[test]
fn in_a_shared_session_each_pointer_reaches_the_others_and_no_one_outside_it() {
    const READER: &str = "pointer-reader-71c2";
    const VIEWER: &str = "pointer-viewer-e093";
    const OTHER: &str = "pointer-other-4b5d";
    let state = tempfile::tempdir().expect("a state folder");
    let users = state.path().join("users.toml");
    support::users_table(&[
        ("rita", Role::Reader, READER),
        ("vera", Role::Viewer, VIEWER),
        ("sam", Role::Reader, OTHER),
    ])
    .save(&users)
    .expect("written");
    let mut config = support::server::loopback_config();
    config.h264_encoders = Vec::new();
    config.users = Some(UsersFile::load(&users).expect("a good users file"));
    let address = support::server::start_serving(config, &[support::data("mr-sag-oblique")]);
    support::server::run_within(Duration::from_secs(120), async {
        let mut rita = signed_in(address, READER, VIEWPORT).await;
        let studies = rita.list_studies().await.expect("studies");
        let series = studies[0].series[0].id.clone();
        rita.open(&series).await.expect("opened");
        rita.send(&ClientMessage::Share).await.expect("sent");
        let join = loop {
            if let ServerMessage::Shared { id, .. } = support::server::next_answer(&mut rita).await
            {
                break id;
            }
        };
        let mut vera = signed_in(address, VIEWER, VIEWPORT).await;
        vera.send(&ClientMessage::Join { id: join })
            .await
            .expect("sent");
        vera.next_frame().await.expect("the shared view");

        // The viewer points at the axial cell; the reader is told, named.
        point(&mut vera, Some("axial"), Some([0.42, 0.61])).await;
        let told = told_pointer(&mut rita, Duration::from_secs(1)).await;
        assert_eq!(
            told,
            Some((
                "vera".to_string(),
                Some("axial".to_string()),
                Some(0.42),
                Some(0.61)
            ))
        );
        // The reader points at the 3D view; the viewer is told.
        point(&mut rita, Some("3d"), Some([0.1, 0.9])).await;
        let told = told_pointer(&mut vera, Duration::from_secs(1)).await;
        assert_eq!(
            told,
            Some((
                "rita".to_string(),
                Some("3d".to_string()),
                Some(0.1),
                Some(0.9)
            ))
        );
        // The viewer's pointer leaves the picture.
        point(&mut vera, None, None).await;
        let told = told_pointer(&mut rita, Duration::from_secs(1)).await;
        assert_eq!(told, Some(("vera".to_string(), None, None, None)));

        // Another reader with the same series open, not joined, points at nobody.
        let mut sam = signed_in(address, OTHER, VIEWPORT).await;
        sam.open(&series).await.expect("opened");
        point(&mut sam, Some("axial"), Some([0.5, 0.5])).await;
        let quiet = Duration::from_millis(600);
        assert_eq!(
            told_pointer(&mut rita, quiet).await,
            None,
            "rita told of sam"
        );
        assert_eq!(
            told_pointer(&mut vera, quiet).await,
            None,
            "vera told of sam"
        );

        // A bad pointer is refused by field, and the session goes on.
        sam.send(&ClientMessage::Pointer {
            cell: Some("lung".to_string()),
            x: Some(0.5),
            y: Some(0.5),
        })
        .await
        .expect("sent");
        let (code, message) = loop {
            if let ServerMessage::Error { code, message } =
                support::server::next_answer(&mut sam).await
            {
                break (code, message);
            }
        };
        assert_eq!(code, ErrorCode::BadValue);
        assert!(message.contains("pointer cell"), "{message}");
    });
}

#[test]
fn the_followers_of_a_desktops_share_see_each_others_pointers_and_steer_their_own_views() {
    let view = render_core::view::ViewState::initial(
        &render_core::phantom::ct_phantom(),
        "ct-bone",
        render_core::transfer::RenderMode::Composite,
    );
    let (_host, follow) = hounsfield_server::sharing::Follow::channel(
        hounsfield_server::library::PHANTOM_ID,
        view.shared(),
        false,
    );
    let mut config = support::server::loopback_config();
    config.h264_encoders = Vec::new();
    config.follow = Some(follow);
    let address = support::server::start(vec![config])[0];
    support::server::run_within(Duration::from_secs(120), async {
        let opened = || async move {
            let mut client = support::server::connected(address, VIEWPORT).await;
            client
                .open(hounsfield_server::library::PHANTOM_ID)
                .await
                .expect("opened");
            client.next_frame().await.expect("the desktop's view");
            client
        };
        let mut ola = opened().await;
        let mut sam = opened().await;
        point(&mut ola, Some("3d"), Some([0.3, 0.7])).await;
        let told = told_pointer(&mut sam, Duration::from_secs(1)).await;
        assert_eq!(
            told.map(|(_, cell, x, y)| (cell, x, y)),
            Some((Some("3d".to_string()), Some(0.3), Some(0.7)))
        );
        // A desktop's share hands over no controls: each follower steers its own view.
        sam.send(&ClientMessage::RequestControl)
            .await
            .expect("sent");
        let (code, message) = sam.next_error().await.expect("refused");
        assert_eq!(code, ErrorCode::BadValue);
        assert!(message.contains("desktop"), "{message}");
        sam.input(hounsfield_protocol::Action::Orbit { dx: 5.0, dy: 0.0 })
            .await
            .expect("sent");
        let frame = sam.next_frame().await.expect("his own orbit is drawn");
        assert!(frame.header.input_seq >= 1, "{:?}", frame.header);
    });
}

/// A page's pointers drawn over the frames: (session name, cell) of each.
const DRAWN: &str = "[...document.querySelectorAll('#pointers g.pointer')].map((g) => [g.querySelector('text').textContent, g.dataset.cell])";

#[test]
fn two_pages_of_one_shared_session_see_each_others_pointers_and_hand_over_the_controls() {
    let mut config = support::server::loopback_config();
    config.default_viewport = Viewport {
        width: 400,
        height: 300,
    };
    config.h264_encoders = Vec::new();
    let address = support::server::start_serving(config, &[support::data("mr-sag-oblique")]);
    let chromium = Chromium::start(&[]);
    support::server::run_within(Duration::from_secs(240), async {
        let mut host = Page::open(&chromium.devtools_url).await;
        let mut guest = Page::open(&chromium.devtools_url).await;
        for page in [&mut host, &mut guest] {
            page.call("Page.enable", json!({})).await;
            page.call(
                "Page.addScriptToEvaluateOnNewDocument",
                json!({ "source": NO_WEBCODECS }),
            )
            .await;
        }
        host.call(
            "Page.navigate",
            json!({ "url": format!("http://{address}/?codec=jpeg") }),
        )
        .await;
        host.wait_for("window.hounsfield?.frames > 0").await;
        host.eval("document.getElementById('share').click(); true")
            .await;
        host.wait_for("typeof window.hounsfield.shareLink === 'string'")
            .await;
        let link = host.eval("window.hounsfield.shareLink").await;
        let link = format!("{}&codec=jpeg", link.as_str().expect("a link"));
        guest.call("Page.navigate", json!({ "url": link })).await;
        guest.wait_for("window.hounsfield?.frames > 0").await;

        // The host's mouse over the middle of the picture (the 3D view, 1×1).
        let (x, y, w, h) = canvas_box(&mut host).await;
        let middle = (f64::from(x + w / 2), f64::from(y + h / 2));
        for step in 0..4 {
            let at = (middle.0 + f64::from(step) * 3.0, middle.1);
            host.mouse("mouseMoved", at.0, at.1, 0).await;
            tokio::time::sleep(Duration::from_millis(60)).await;
        }
        guest
            .wait_for("document.querySelectorAll('#pointers g.pointer').length === 1")
            .await;
        let drawn = guest.eval(DRAWN).await;
        let name = drawn[0][0].as_str().expect("a name").to_string();
        assert!(name.starts_with("participant "), "{drawn}");
        assert_eq!(drawn[0][1], "3d", "{drawn}");
        // Drawn where the host's pointer is: the middle of the guest's picture.
        let spot = guest
            .eval("(() => { const c = document.querySelector('#pointers circle'); const v = document.getElementById('view'); return [+c.getAttribute('cx') / v.width, +c.getAttribute('cy') / v.height]; })()")
            .await;
        let [fx, fy]: [f64; 2] = serde_json::from_value(spot).expect("a spot");
        assert!(
            (fx - 0.5).abs() < 0.05 && (fy - 0.5).abs() < 0.05,
            "drawn at {fx:.3}, {fy:.3} of the picture"
        );

        // And the guest's pointer is drawn on the host's page, under another name.
        let (x, y, w, h) = canvas_box(&mut guest).await;
        guest
            .mouse("mouseMoved", f64::from(x + w / 4), f64::from(y + h / 4), 0)
            .await;
        host.wait_for("document.querySelectorAll('#pointers g.pointer').length === 1")
            .await;
        let drawn = host.eval(DRAWN).await;
        assert_ne!(drawn[0][0].as_str(), Some(name.as_str()), "{drawn}");

        // The host's pointer leaves the picture: the guest stops drawing it.
        host.mouse("mouseMoved", 2.0, 2.0, 0).await;
        guest
            .wait_for("document.querySelectorAll('#pointers g.pointer').length === 0")
            .await;

        // The guest asks for the controls; the host's page shows who asks, and grants.
        assert_eq!(
            guest
                .eval("document.getElementById('ask-control').hidden")
                .await,
            false,
            "a follower may ask"
        );
        guest
            .eval("document.getElementById('ask-control').click(); true")
            .await;
        host.wait_for("document.querySelector('#control-requests .grant') !== null")
            .await;
        host.eval("document.querySelector('#control-requests .grant').click(); true")
            .await;
        guest
            .wait_for("window.hounsfield.control === 'you steer'")
            .await;
        host.wait_for("/^participant \\d+ steers$/.test(window.hounsfield.control ?? '')")
            .await;
        // The host takes them back.
        host.eval("document.getElementById('ask-control').click(); true")
            .await;
        guest
            .wait_for("window.hounsfield.control === 'the host steers'")
            .await;
        for page in [&host, &guest] {
            assert!(page.exceptions.is_empty(), "{:?}", page.exceptions);
        }
    });
    drop(chromium);
}
