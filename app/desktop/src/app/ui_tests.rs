//! The desktop UI driven through egui_kittest on the software adapter: widgets found by
//! their labels, clicked as a user would, and the window compared with snapshot images.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use egui_kittest::kittest::Queryable;
use egui_kittest::{Harness, SnapshotOptions};

use super::*;
use crate::launch::{OpenArgs, RenderingArgs};
use hounsfield_test_support::data;
use render_core::view::Layout;

/// The longest a step of a test may wait (loading, rendering on lavapipe).
pub(super) const PATIENCE: Duration = Duration::from_secs(120);

/// The window on `path` (the phantom without one), rendering here, with settings in
/// `settings`.
pub(super) fn window(path: Option<PathBuf>, settings: PathBuf) -> Harness<'static, DesktopApp> {
    window_on(path, None, settings)
}

/// The window on `path` (a folder or a DICOMweb URL; the built-in sample without one),
/// series `series`, rendering here.
pub(super) fn window_on(
    path: Option<PathBuf>,
    series: Option<String>,
    settings: PathBuf,
) -> Harness<'static, DesktopApp> {
    window_with(path, series, settings, None)
}

/// The window on `path`, series `series`, rendering here, offering `model` (as `open
/// --model` does).
pub(super) fn window_with(
    path: Option<PathBuf>,
    series: Option<String>,
    settings: PathBuf,
    model: Option<Arc<hounsfield_model::SegmentationModel>>,
) -> Harness<'static, DesktopApp> {
    Harness::builder()
        .with_size(egui::vec2(1024.0, 720.0))
        .wgpu()
        .build_eframe(move |creation| {
            DesktopApp::new(
                creation,
                OpenRequest {
                    launch: Launch::Open(OpenArgs {
                        path,
                        series,
                        rendering: RenderingArgs {
                            render: RenderPreference::Local,
                            server: None,
                            transport: crate::launch::FrameTransport::Auto,
                        },
                        ..OpenArgs::default()
                    }),
                    screenshot: None,
                    settings_path: Some(settings),
                    model,
                },
            )
            .expect("the window starts")
        })
}

/// Steps the window until `done` holds for the app.
pub(super) fn settle(
    harness: &mut Harness<'_, DesktopApp>,
    what: &str,
    done: impl Fn(&DesktopApp) -> bool,
) {
    let started = Instant::now();
    loop {
        harness.step();
        if done(harness.state()) {
            // A few more passes so layout and textures catch up.
            for _ in 0..3 {
                harness.step();
            }
            return;
        }
        if let State::Failed(error) = &harness.state().state {
            panic!("{what}: the window failed: {error}");
        }
        assert!(
            started.elapsed() < PATIENCE,
            "{what}: not within {PATIENCE:?}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Asserts that the volume shown has the dimensions `series` plans.
fn assert_shows(harness: &Harness<'_, DesktopApp>, series: &render_core::dicom::Series) {
    let shown = workspace(harness.state())
        .and_then(|w| w.renderer().volume().map(|v| v.dims))
        .expect("a volume");
    let planned = series.plan.as_ref().expect("a volume plan").dims;
    assert_eq!(shown, planned, "the volume shown is the series picked");
}

/// The RGBA values of two pictures that differ by more than 16.
pub(super) fn differing(a: &[u8], b: &[u8]) -> usize {
    assert_eq!(a.len(), b.len(), "pictures of one size");
    a.iter()
        .zip(b)
        .filter(|(a, b)| a.abs_diff(**b) > 16)
        .count()
}

pub(super) fn workspace(app: &DesktopApp) -> Option<&LocalWorkspace> {
    match &app.state {
        State::Local(workspace) => Some(workspace),
        _ => None,
    }
}

/// The status bar's frame time changes from run to run (a few hundred pixels of digits)
/// and rendered edges may differ slightly between Mesa builds; a missing view, a wrong
/// preset or a broken layout changes tens of thousands of pixels.
pub(super) fn snapshot_options() -> SnapshotOptions {
    SnapshotOptions::new()
        .threshold(2.0)
        .max_failed_pixels(3000)
}

#[test]
fn switching_preset_and_layout_by_their_labels_changes_the_views_and_is_remembered() {
    let folder = tempfile::tempdir().expect("temp folder");
    let settings = folder.path().join("settings.toml");
    let mut harness = window(None, settings.clone());
    settle(&mut harness, "the phantom shown", |app| {
        app.full_frame_shown()
    });
    harness.snapshot_options("phantom-3d", &snapshot_options());

    harness.get_by_label("preset").click();
    harness.run_steps(3);
    harness.get_by_label("ct-lung").click();
    settle(&mut harness, "the lung preset", |app| {
        workspace(app).is_some_and(|w| w.view3d.view.preset == "ct-lung") && app.full_frame_shown()
    });

    harness.get_by_label("2×2").click();
    settle(&mut harness, "the two-by-two layout", |app| {
        workspace(app).is_some_and(|w| w.layout == Layout::Quad)
    });
    harness.snapshot_options("phantom-quad-lung", &snapshot_options());
    let saved = std::fs::read_to_string(&settings).expect("settings written");
    assert!(saved.contains("layout = \"2x2\""), "{saved}");

    // A window preset reaches the slices.
    harness.get_by_label("window").click();
    harness.run_steps(3);
    harness.get_by_label("lung (W 1500 L -600)").click();
    settle(&mut harness, "the lung window", |app| {
        workspace(app).is_some_and(|w| {
            w.link
                .window
                .is_some_and(|window| window.width == 1500.0 && window.center == -600.0)
        })
    });
}

#[test]
fn a_series_picked_in_the_studies_panel_opens() {
    let folder = tempfile::tempdir().expect("temp folder");
    let lumbar = data("mr-lumbar");
    let catalog = render_core::dicom::Catalog::scan(
        std::slice::from_ref(&lumbar),
        &render_core::progress::no_progress,
    );
    let sagittal = catalog
        .series()
        .find(|series| series.description.contains("Sag T1"))
        .expect("the lumbar study has a sagittal T1 series");
    let mut harness = window(Some(lumbar.clone()), folder.path().join("settings.toml"));
    settle(&mut harness, "the lumbar study listed and shown", |app| {
        app.full_frame_shown() && app.browser.current.is_some()
    });
    let first = harness.state().label.clone();
    assert_ne!(first, sagittal.id, "the largest series opens first");
    let text = format!(
        "{} · MR {} ({} images)",
        sagittal.number.expect("numbered"),
        sagittal.description,
        sagittal.images.len()
    );
    // The list scrolls: bring the series into sight, as a user would, then click it.
    harness.get_by_label(&text).scroll_to_me();
    for _ in 0..3 {
        harness.step();
    }
    harness.get_by_label(&text).click();
    settle(&mut harness, "the sagittal series", |app| {
        app.label == sagittal.id && app.full_frame_shown()
    });
    assert_shows(&harness, sagittal);
}

/// A folder or file dropped on the window, as the windowing layer hands it to egui.
#[derive(Debug)]
struct Dropped(PathBuf);

impl egui::DroppedFile for Dropped {
    fn path(&self) -> &std::path::Path {
        &self.0
    }

    fn bytes(&self) -> Result<Vec<u8>, String> {
        std::fs::read(&self.0).map_err(|error| error.to_string())
    }
}

#[test]
fn a_folder_or_a_slice_dropped_on_the_window_opens_its_series() {
    let folder = tempfile::tempdir().expect("temp folder");
    let settings = folder.path().join("settings.toml");
    let lumbar = data("mr-lumbar");
    let mut harness = window(None, settings.clone());
    settle(&mut harness, "the phantom shown", |app| {
        app.full_frame_shown()
    });
    let phantom = harness.state().label.clone();

    // The file manager drops the folder on the window, as winit reports it.
    harness
        .input_mut()
        .dropped_files
        .push(std::sync::Arc::new(Dropped(lumbar.clone())));
    settle(&mut harness, "the dropped study shown", |app| {
        app.label != phantom && app.full_frame_shown()
    });
    let catalog = render_core::dicom::Catalog::scan(
        std::slice::from_ref(&lumbar),
        &render_core::progress::no_progress,
    );
    let opened = catalog
        .series()
        .find(|series| series.id == harness.state().label)
        .expect("the series shown is one of the dropped study's");
    let shown = workspace(harness.state())
        .and_then(|w| w.renderer().volume().map(|v| v.dims))
        .expect("a volume");
    assert_eq!(shown, opened.plan.as_ref().expect("a plan").dims);
    let (remembered, warning) = Settings::load(&settings);
    assert_eq!(warning, None, "the settings file reads back");
    assert_eq!(
        remembered.recent.first().map(|study| study.path.clone()),
        Some(lumbar.clone()),
        "the dropped study heads the recent list"
    );

    // One slice dropped: its whole series opens, even though it is not the largest.
    let slice = lumbar.join("SagT1Flair").join("IM-0001-0003.dcm");
    let sagittal = catalog
        .series()
        .find(|series| series.images.iter().any(|image| image.file == slice))
        .expect("the slice belongs to a series");
    assert_ne!(sagittal.id, harness.state().label);
    harness
        .input_mut()
        .dropped_files
        .push(std::sync::Arc::new(Dropped(slice)));
    settle(&mut harness, "the dropped slice's series", |app| {
        app.label == sagittal.id && app.full_frame_shown()
    });
    let shown = workspace(harness.state())
        .and_then(|w| w.renderer().volume().map(|v| v.dims))
        .expect("a volume");
    assert_eq!(shown, sagittal.plan.as_ref().expect("a plan").dims);
}

#[test]
fn a_shared_session_shows_a_colleague_the_view_steered_here() {
    use hounsfield_client::Client;
    use hounsfield_protocol::{Action, ErrorCode, Viewport};

    let folder = tempfile::tempdir().expect("temp folder");
    let mut harness = window(None, folder.path().join("settings.toml"));
    settle(&mut harness, "the phantom shown", |app| {
        app.full_frame_shown()
    });
    harness.get_by_label("Share…").click();
    harness.run_steps(3);
    harness.get_by_label("Start sharing").click();
    settle(&mut harness, "sharing started", |app| app.sharing.is_some());
    let (port, token, link) = {
        let sharing = harness.state().sharing.as_ref().expect("sharing");
        assert!(sharing.view_only, "view-only by default");
        (sharing.address.port(), sharing.token.clone(), sharing.url())
    };
    // Over TLS, the link carrying the certificate's fingerprint, which is all a
    // colleague's client needs to trust it.
    assert!(link.starts_with("https://"), "{link}");
    let pinned = crate::thin_client::connection::link_fingerprint(&link)
        .expect("the link carries the fingerprint");
    assert_eq!(
        Some(pinned),
        harness.state().sharing.as_ref().map(|s| s.fingerprint)
    );
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let within = |what: &str| {
        let what = what.to_string();
        move |elapsed: tokio::time::error::Elapsed| panic!("{what}: {elapsed}")
    };
    let (mut colleague, first) = runtime.block_on(async {
        let trust = hounsfield_tls::ServerTrust::pinned(pinned);
        let mut client = Client::connect_trusting(&format!("wss://127.0.0.1:{port}/ws"), &trust)
            .await
            .expect("the share accepts connections over TLS");
        let viewport = Viewport {
            width: 200,
            height: 150,
        };
        client.hello(Some(&token), viewport).await.expect("welcome");
        client
            .open("phantom")
            .await
            .expect("the shared series opens");
        let first = tokio::time::timeout(PATIENCE, client.next_frame())
            .await
            .unwrap_or_else(within("the first frame"))
            .expect("a frame");
        (client, first)
    });
    let (_, _, anterior) = first.decode_rgba().expect("decodes");

    // The radiologist switches to the lung preset; her colleague's view follows.
    harness.get_by_label("preset").click();
    harness.run_steps(3);
    harness.get_by_label("ct-lung").click();
    settle(&mut harness, "the lung preset", |app| {
        workspace(app).is_some_and(|w| w.view3d.view.preset == "ct-lung")
    });
    let followed = runtime.block_on(async {
        loop {
            let frame = tokio::time::timeout(PATIENCE, colleague.next_frame())
                .await
                .unwrap_or_else(within("a frame of the lung preset"))
                .expect("frames follow");
            let (_, _, rgba) = frame.decode_rgba().expect("decodes");
            let differing = rgba
                .iter()
                .zip(&anterior)
                .filter(|(a, b)| a.abs_diff(**b) > 16)
                .count();
            if frame.header.flags.final_still() && differing > rgba.len() / 50 {
                return differing;
            }
        }
    });
    assert!(followed > 0);
    // View-only: the colleague cannot steer.
    runtime.block_on(async {
        colleague
            .input(Action::Orbit { dx: 30.0, dy: 0.0 })
            .await
            .expect("sent");
        let (code, _) = colleague.next_error().await.expect("an error reply");
        assert_eq!(code, ErrorCode::ViewOnly);
    });
    harness.state_mut().stop_sharing("test over");
    // The share and the colleague's session are in the audit log beside the settings.
    let audit = std::fs::read_to_string(folder.path().join("audit.jsonl")).expect("an audit log");
    let events: Vec<serde_json::Value> = audit
        .lines()
        .map(|line| serde_json::from_str(line).expect("JSON lines"))
        .collect();
    for event in ["share_started", "session_start", "series_opened"] {
        assert!(
            events.iter().any(|e| e["event"] == event),
            "no {event} in {audit}"
        );
    }
}

/// A server of the built-in phantom on loopback, serving TLS with a self-signed
/// certificate made for it; its fingerprint, and a folder that keeps the files.
fn self_signed_server() -> (
    hounsfield_server::BackgroundServer,
    hounsfield_tls::Fingerprint,
    tempfile::TempDir,
) {
    use hounsfield_tls::{ServerTls, self_signed};
    let folder = tempfile::tempdir().expect("temp folder");
    let (files, _) = self_signed::ensure(
        folder.path(),
        &["localhost".to_string()],
        &[std::net::IpAddr::from([127, 0, 0, 1])],
    )
    .expect("a self-signed certificate");
    let tls = ServerTls::from_files(files).expect("it loads");
    let fingerprint = tls.fingerprint();
    let mut config =
        hounsfield_server::ServerConfig::new(std::net::SocketAddr::from(([127, 0, 0, 1], 0)));
    config.tls = Some(tls);
    config.h264_encoders = Vec::new();
    let library = Arc::new(hounsfield_server::Library::scan(&[], 1 << 30));
    let scheduler = Arc::new(
        hounsfield_server::Scheduler::start(PresetLibrary::builtin(), 1).expect("a render thread"),
    );
    let server =
        hounsfield_server::BackgroundServer::start("tls-test-server", config, library, scheduler)
            .expect("listens");
    (server, fingerprint, folder)
}

/// The thin-client window connecting to `url`, with settings in `settings`.
pub(super) fn thin_client(url: String, settings: PathBuf) -> Harness<'static, DesktopApp> {
    Harness::builder()
        .with_size(egui::vec2(800.0, 600.0))
        .wgpu()
        .build_eframe(move |creation| {
            DesktopApp::new(
                creation,
                OpenRequest {
                    launch: Launch::Connect(crate::launch::ConnectArgs {
                        url,
                        token: None,
                        sign_on: false,
                        login: None,
                        series: None,
                        study: None,
                        join: None,
                        over: None,
                        ca: Vec::new(),
                        fingerprint: None,
                        transport: crate::launch::FrameTransport::Auto,
                        screenshot: None,
                    }),
                    screenshot: None,
                    settings_path: Some(settings),
                    model: None,
                },
            )
            .expect("the window starts")
        })
}

/// The window on the server at `url` in its 2×2 layout, once the server's 2×2 frame and
/// the axial cell are shown.
pub(super) fn thin_client_in_quad(url: String, settings: PathBuf) -> Harness<'static, DesktopApp> {
    let mut harness = thin_client(url, settings);
    settle(
        &mut harness,
        "the server's frames",
        DesktopApp::full_frame_shown,
    );
    harness.get_by_label("2×2").click();
    settle(&mut harness, "the server's 2×2 layout", |app| {
        app.full_frame_shown()
            && remote(app).is_some_and(|view| {
                view.slice_cell(hounsfield_protocol::SlicePlane::Axial)
                    .is_some()
            })
    });
    harness
}

pub(super) fn remote(app: &DesktopApp) -> Option<&RemoteView> {
    match &app.state {
        State::Remote { view, .. } => Some(view),
        _ => None,
    }
}

#[test]
fn a_self_signed_server_is_trusted_once_by_its_fingerprint_and_a_changed_one_refused() {
    let (server, fingerprint, _certificate) = self_signed_server();
    let url = format!("https://127.0.0.1:{}", server.address().port());
    let folder = tempfile::tempdir().expect("temp folder");
    let settings = folder.path().join("settings.toml");

    // First contact: the prompt shows the certificate's fingerprint; trusting it connects.
    let mut harness = thin_client(url.clone(), settings.clone());
    settle(&mut harness, "the certificate prompt", |app| {
        remote(app).is_some_and(|view| view.untrusted().is_some())
    });
    let (shown, _) = remote(harness.state())
        .and_then(RemoteView::untrusted)
        .expect("untrusted");
    assert_eq!(shown, fingerprint);
    harness.get_by_label(&fingerprint.to_string());
    assert!(
        !harness.state().full_frame_shown(),
        "no frame before the trust"
    );
    harness.get_by_label("Trust this certificate").click();
    settle(
        &mut harness,
        "frames once trusted",
        DesktopApp::full_frame_shown,
    );
    drop(harness);
    let (saved, _) = Settings::load(&settings);
    let server_key = format!("127.0.0.1:{}", server.address().port());
    assert_eq!(saved.trusted_certificate(&server_key), Some(fingerprint));

    // Next time: no prompt, frames at once.
    let mut harness = thin_client(url.clone(), settings.clone());
    settle(&mut harness, "frames with the remembered trust", |app| {
        assert!(
            remote(app).is_none_or(|view| view.untrusted().is_none()),
            "asked again for a certificate already trusted"
        );
        app.full_frame_shown()
    });
    drop(harness);

    // A different certificate for the same server is refused, with both fingerprints.
    let mut changed = saved;
    let before = hounsfield_tls::Fingerprint::of(b"the certificate trusted before");
    changed.trust_certificate(&server_key, before);
    changed.save(&settings).expect("saved");
    let mut harness = thin_client(url, settings);
    settle(&mut harness, "the changed certificate refused", |app| {
        remote(app).is_some_and(|view| view.closed().is_some())
    });
    let reason = remote(harness.state())
        .and_then(RemoteView::closed)
        .expect("closed");
    assert!(
        reason.contains("certificate changed")
            && reason.contains(&before.to_string())
            && reason.contains(&fingerprint.to_string()),
        "{reason}"
    );
    assert!(!harness.state().full_frame_shown());
}

#[test]
fn the_crop_panel_shows_a_slider_per_side_and_resets_the_box() {
    let folder = tempfile::tempdir().expect("temp folder");
    let mut harness = window(None, folder.path().join("settings.toml"));
    settle(&mut harness, "the phantom shown", |app| {
        app.full_frame_shown()
    });
    harness.get_by_label("Crop").click();
    harness.run_steps(3);
    for name in [
        "R–L min",
        "R–L max",
        "A–P min",
        "A–P max",
        "I–S min",
        "I–S max",
    ] {
        assert!(
            harness.query_all_by_label(name).next().is_some(),
            "the {name} slider"
        );
    }
    let half = crate::crop_control::with_min(CropBox::default(), 0, 0.5);
    if let State::Local(workspace) = &mut harness.state_mut().state {
        workspace.view3d.view.crop = half;
        workspace.view3d.changed(false);
    }
    harness.run_steps(3);
    harness.get_by_label("Reset crop").click();
    settle(&mut harness, "the whole volume again", |app| {
        workspace(app).is_some_and(|w| w.view3d.view.crop.is_whole()) && app.full_frame_shown()
    });
}

/// Debian's Orthanc, as the end-to-end tests start it (one harness for both).
pub(super) use hounsfield_test_support::orthanc;

/// Steps the window until the UI holds a widget labelled `label`.
fn settle_until_shown(harness: &mut Harness<'_, DesktopApp>, label: &str) {
    let started = Instant::now();
    while harness.query_by_label(label).is_none() {
        assert!(
            started.elapsed() < PATIENCE,
            "{label:?} not shown within {PATIENCE:?}"
        );
        harness.step();
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn the_pacs_tab_searches_by_patient_name_and_opens_a_series_retrieved_over_dicomweb() {
    let pacs = orthanc::Orthanc::start(None);
    for name in ["mr-sag-oblique", "mr-lumbar"] {
        pacs.upload_folder(&data(name));
    }
    let catalog = render_core::dicom::Catalog::scan(
        &[data("mr-sag-oblique")],
        &render_core::progress::no_progress,
    );
    let series = catalog.series().next().expect("the oblique MR's series");
    let typed = catalog.studies[0]
        .patient_name
        .split('^')
        .next()
        .unwrap_or_default()
        .to_string();
    let button = crate::pacs_search::series_text(&hounsfield_dicomweb::SeriesMatch {
        study_uid: catalog.studies[0].uid.clone(),
        uid: series.uid.clone(),
        number: series.number.map(i64::from),
        modality: series.modality.clone(),
        description: series.description.clone(),
        body_part: String::new(),
        instances: Some(series.images.len() as u64),
    });
    // The PACS remembered from an earlier run.
    let folder = tempfile::tempdir().expect("temp folder");
    let settings = folder.path().join("settings.toml");
    std::fs::write(&settings, format!("pacs_url = {:?}\n", pacs.dicomweb_url()))
        .expect("settings written");
    let mut harness = window(None, settings);
    settle(
        &mut harness,
        "the phantom shown",
        DesktopApp::full_frame_shown,
    );
    harness.get_by_label("Studies").click();
    settle_until_shown(&mut harness, "PACS");
    harness.get_by_label("PACS").click();
    settle_until_shown(&mut harness, "Patient name");
    let name = harness.get_by_label("Patient name");
    name.focus();
    harness.step();
    harness.get_by_label("Patient name").type_text(&typed);
    harness.step();
    harness.get_by_label("Search").click();
    settle_until_shown(&mut harness, &button);
    harness.get_by_label(&button).click();
    settle(&mut harness, "the series retrieved and shown", |app| {
        app.label == series.id && app.full_frame_shown()
    });
    assert_shows(&harness, series);
    // Searched on the PACS (its images may come from an earlier run's cache, which holds
    // them only while the PACS lists the same instances).
    assert!(
        pacs.requests()
            .iter()
            .any(|line| line.starts_with("GET /dicom-web/studies")),
        "the PACS was searched: {:?}",
        pacs.requests()
    );
}
