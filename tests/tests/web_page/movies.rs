//! Movies made on the server (`export_movie`) over real sockets, and downloaded over HTTP.
//! A reader asks for an orbit of the oblique MR from her view: she hears how far it has
//! come, then where it is; `GET /movies/ID.mp4` with her token gives an MP4 that FFmpeg's
//! `ffprobe` reads as H.264 of the frames and size asked, whose first frame FFmpeg decodes
//! as her own lossless still. Nobody else may download it (another reader: 403, no token:
//! 401, a name that is no id: 404); a viewer may not ask; bad orders are refused naming the
//! field. A sweep and a kept recording make movies too. In Chromium, "Export movie…" makes
//! one and the page downloads it.

use hounsfield_test_support as support;
use hounsfield_test_support::chromium;

use std::net::SocketAddr;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use chromium::{NO_WEBCODECS, with_page_url};
use hounsfield_client::Client;
use hounsfield_protocol::{
    Action, ClientMessage, ErrorCode, MovieMade, MovieOrder, RecordingState, ServerMessage,
    Viewport,
};
use hounsfield_server::users::{Role, UsersFile};
use hounsfield_test_support::probed;

const VIEWPORT: Viewport = Viewport {
    width: 320,
    height: 240,
};
const RITA: &str = "movies-reader-5e20";
const SAM: &str = "movies-reader-77b1";
const VERA: &str = "movies-viewer-0c4d";

/// A server of the oblique MR (JPEG frames, recordings kept in `state`) with two readers
/// and a viewer.
fn served(state: &tempfile::TempDir) -> SocketAddr {
    let users = state.path().join("users.toml");
    support::users_table(&[
        ("rita", Role::Reader, RITA),
        ("sam", Role::Reader, SAM),
        ("vera", Role::Viewer, VERA),
    ])
    .save(&users)
    .expect("written");
    let mut config = support::server::loopback_config();
    config.h264_encoders = Vec::new();
    config.users = Some(UsersFile::load(&users).expect("a good users file"));
    config.recordings_folder = Some(state.path().join("recordings"));
    support::server::start_serving(config, &[support::data("mr-sag-oblique")])
}

/// Asks `client` for `order` and waits for the movie: how many progress messages came,
/// and what `movie_ready` told.
async fn movie_made(client: &mut Client, order: MovieOrder) -> (u32, MovieMade) {
    client
        .send(&ClientMessage::ExportMovie(order))
        .await
        .expect("sent");
    let mut progress = 0;
    let made = support::server::told(client, Duration::from_secs(180), |message| match message {
        ServerMessage::MovieProgress { .. } => {
            progress += 1;
            None
        }
        ServerMessage::MovieReady(made) => Some(made),
        ServerMessage::MovieFailed { message, .. } => panic!("the movie failed: {message}"),
        ServerMessage::Error { code, message } => panic!("refused: {code:?}: {message}"),
        _ => None,
    })
    .await
    .expect("made in time");
    (progress, made)
}

/// The next error `client` is told: its code and message.
async fn refusal(client: &mut Client) -> (ErrorCode, String) {
    support::server::told(client, Duration::from_secs(5), |message| match message {
        ServerMessage::Error { code, message } => Some((code, message)),
        _ => None,
    })
    .await
    .expect("refused")
}

/// `GET path` from the server, with `token` as a bearer when given: status, content type
/// and body.
async fn download(address: SocketAddr, path: &str, token: Option<&str>) -> (u16, String, Vec<u8>) {
    // The process's rustls provider, which reqwest asks for.
    hounsfield_tls::provider();
    let mut request = reqwest::Client::new().get(format!("http://{address}{path}"));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let answer = request.send().await.expect("answered");
    let status = answer.status().as_u16();
    let kind = answer
        .headers()
        .get("content-type")
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
        .to_string();
    (status, kind, answer.bytes().await.expect("a body").to_vec())
}

/// The movie's first frame as `ffmpeg` decodes it.
fn first_frame(movie: &Path) -> image::RgbImage {
    let png = movie.with_extension("png");
    let output = Command::new("ffmpeg")
        .args(["-v", "error", "-y", "-i"])
        .arg(movie)
        .args(["-frames:v", "1"])
        .arg(&png)
        .output()
        .expect("ffmpeg runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    image::open(&png).expect("a PNG").to_rgb8()
}

#[test]
fn a_movie_made_on_the_server_is_downloaded_by_whoever_asked_for_it_alone() {
    let state = tempfile::tempdir().expect("a state folder");
    let address = served(&state);
    support::server::run_within(Duration::from_secs(400), async {
        let mut rita = support::server::signed_in(address, RITA, VIEWPORT).await;
        let studies = rita.list_studies().await.expect("studies");
        let series = studies[0].series[0].id.clone();
        rita.open(&series).await.expect("opened");
        rita.input(Action::Orbit { dx: 30.0, dy: 10.0 })
            .await
            .expect("sent");
        tokio::time::sleep(Duration::from_millis(400)).await;
        let (width, height, hers) = support::server::lossless_still(&mut rita)
            .await
            .decode_rgba()
            .expect("decodes");

        let (progress, made) = movie_made(
            &mut rita,
            MovieOrder {
                orbit: Some(360.0),
                frames: Some(6),
                width: Some(width),
                height: Some(height),
                ..MovieOrder::default()
            },
        )
        .await;
        assert!(progress >= 1, "told how far it came");
        assert_eq!(
            (made.series.as_str(), made.frames, made.width, made.height),
            (series.as_str(), 6, width, height)
        );
        assert_eq!(made.url, format!("/movies/{}.mp4", made.id));

        // Hers to download: an H.264 MP4 of the frames and size asked, whose first frame is
        // her view (H.264 at CRF 20 and its 4:2:0 colour against her lossless still: within
        // 3/255 on average).
        let (status, kind, mp4) = download(address, &made.url, Some(RITA)).await;
        assert_eq!((status, kind.as_str()), (200, "video/mp4"));
        assert_eq!(mp4.len() as u64, made.bytes);
        let movie = state.path().join("orbit.mp4");
        std::fs::write(&movie, &mp4).expect("written");
        assert_eq!(
            probed(&movie).as_tuple(),
            ("h264", u64::from(width), u64::from(height), 6)
        );
        let first = first_frame(&movie);
        let apart = support::render::mean_rgb_difference(first.as_raw(), 3, &hers, 4);
        assert!(
            apart < 3.0 / 255.0,
            "the first frame differs from her view by {apart}"
        );

        // Nobody else's, and no name that is not a movie's id.
        assert_eq!(download(address, &made.url, Some(SAM)).await.0, 403);
        assert_eq!(download(address, &made.url, None).await.0, 401);
        for path in [
            "/movies/..%2F..%2Fetc%2Fpasswd".to_string(),
            format!("/movies/{}.mp4", "f".repeat(32)),
            format!("/movies/{}", made.id),
        ] {
            assert_eq!(download(address, &path, Some(RITA)).await.0, 404, "{path}");
        }

        // Orders a player could not take, or that name no motion, are refused by name.
        for (order, said) in [
            (
                MovieOrder {
                    orbit: Some(360.0),
                    sweep: Some("axial".to_string()),
                    ..MovieOrder::default()
                },
                "one of orbit",
            ),
            (
                MovieOrder {
                    orbit: Some(360.0),
                    width: Some(321),
                    height: Some(240),
                    ..MovieOrder::default()
                },
                "even",
            ),
            (
                MovieOrder {
                    orbit: Some(360.0),
                    frames: Some(100_000),
                    ..MovieOrder::default()
                },
                "frames",
            ),
            (
                MovieOrder {
                    sweep: Some("oblique".to_string()),
                    ..MovieOrder::default()
                },
                "sweep",
            ),
        ] {
            rita.send(&ClientMessage::ExportMovie(order))
                .await
                .expect("sent");
            let (code, message) = refusal(&mut rita).await;
            assert_eq!(code, ErrorCode::BadValue, "{message}");
            assert!(message.contains(said), "{said}: {message}");
        }

        // A sweep of coronal slices.
        let (_, swept) = movie_made(
            &mut rita,
            MovieOrder {
                sweep: Some("coronal".to_string()),
                frames: Some(4),
                width: Some(160),
                height: Some(120),
                ..MovieOrder::default()
            },
        )
        .await;
        let (status, _, mp4) = download(address, &swept.url, Some(RITA)).await;
        assert_eq!(status, 200);
        let movie = state.path().join("sweep.mp4");
        std::fs::write(&movie, &mp4).expect("written");
        assert_eq!(probed(&movie).as_tuple(), ("h264", 160, 120, 4));

        // A viewer may not ask for one.
        let mut vera = support::server::signed_in(address, VERA, VIEWPORT).await;
        vera.send(&ClientMessage::ExportMovie(MovieOrder {
            orbit: Some(360.0),
            ..MovieOrder::default()
        }))
        .await
        .expect("sent");
        assert_eq!(refusal(&mut vera).await.0, ErrorCode::Forbidden);
    });
}

#[test]
fn a_kept_recording_becomes_a_movie_made_on_the_server() {
    let state = tempfile::tempdir().expect("a state folder");
    let address = served(&state);
    support::server::run_within(Duration::from_secs(300), async {
        let mut rita = support::server::signed_in(address, RITA, VIEWPORT).await;
        let studies = rita.list_studies().await.expect("studies");
        rita.open(&studies[0].series[0].id).await.expect("opened");
        rita.send(&ClientMessage::StartRecording)
            .await
            .expect("sent");
        for _ in 0..4 {
            rita.input(Action::Orbit { dx: 10.0, dy: 0.0 })
                .await
                .expect("sent");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
        rita.send(&ClientMessage::StopRecording)
            .await
            .expect("sent");
        let id =
            support::server::told(&mut rita, Duration::from_secs(5), |message| match message {
                ServerMessage::Recording {
                    id,
                    state: RecordingState::Stopped,
                    ..
                } => Some(id),
                _ => None,
            })
            .await
            .expect("kept");
        let (_, made) = movie_made(
            &mut rita,
            MovieOrder {
                recording: Some(id),
                frames: Some(3),
                width: Some(160),
                height: Some(120),
                ..MovieOrder::default()
            },
        )
        .await;
        let (status, _, mp4) = download(address, &made.url, Some(RITA)).await;
        assert_eq!(status, 200);
        let movie = state.path().join("recorded.mp4");
        std::fs::write(&movie, &mp4).expect("written");
        assert_eq!(probed(&movie).as_tuple(), ("h264", 160, 120, 3));
        // An id that names no recording is refused before any movie is begun.
        rita.send(&ClientMessage::ExportMovie(MovieOrder {
            recording: Some("../../etc/passwd".to_string()),
            ..MovieOrder::default()
        }))
        .await
        .expect("sent");
        let (code, message) = refusal(&mut rita).await;
        assert_eq!(code, ErrorCode::BadValue, "{message}");
    });
}

#[test]
fn a_page_exports_a_movie_and_downloads_it() {
    let mut config = support::server::loopback_config();
    config.h264_encoders = Vec::new();
    let address = support::server::start_serving(config, &[support::data("mr-sag-oblique")]);
    let url = format!("http://{address}/?codec=jpeg");
    with_page_url(&[], &url, Some(NO_WEBCODECS), async |page| {
        page.wait_for("window.hounsfield?.frames > 0").await;
        page.eval("document.getElementById('export-movie').click(); true")
            .await;
        assert_eq!(
            page.eval("document.getElementById('movie-form').hidden")
                .await,
            false,
            "the form shows"
        );
        page.eval(
            "document.getElementById('movie-frames').value = '4'; \
             document.getElementById('movie-form').requestSubmit(); true",
        )
        .await;
        page.wait_for("window.hounsfield.movie?.state === 'ready'")
            .await;
        let movie = page.eval("window.hounsfield.movie").await;
        assert_eq!(movie["frames"], 4, "{movie}");
        assert_eq!(movie["type"], "video/mp4", "{movie}");
        assert!(movie["bytes"].as_u64().unwrap_or(0) > 1000, "{movie}");
        let status = page
            .eval("document.getElementById('movie-status').textContent")
            .await;
        assert!(
            status.as_str().is_some_and(|s| s.contains("MB")),
            "{status}"
        );
    });
}
