//! Findings through the thin client's link against a real server in this process: drawn
//! with the link's `finding` command, answered with the server's numbers in the link's
//! state, deleted, and saved (or refused, with the server's reason).

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::mpsc::Receiver;
use std::time::Instant;

use glam::DVec3;
use hounsfield_findings::{Finding, Measurement};
use hounsfield_protocol::{FindingAction, FindingInfo, FindingKind, FindingRequest};
use hounsfield_server::{BackgroundServer, Library, ServerConfig};

use super::tests::{link_to, next_frame, serve_phantom};
use super::*;

/// The first news of the findings that `wanted` takes (others are passed over), within a
/// minute.
fn news(
    link: &RemoteLink,
    woken: &Receiver<()>,
    wanted: impl Fn(&FindingNews) -> bool,
) -> FindingNews {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let found = {
            let mut state = link.state();
            let mut found = None;
            while let Some(news) = state.finding_news.pop_front() {
                if wanted(&news) {
                    found = Some(news);
                    break;
                }
            }
            found
        };
        if let Some(news) = found {
            return news;
        }
        let status = link.state().status.clone();
        assert!(
            Instant::now() < deadline,
            "no such news within a minute: {status:?}, {:?}",
            link.state().server_error
        );
        let _ = woken.recv_timeout(Duration::from_millis(200));
    }
}

/// A `create` of `kind` on the axial cell through `points` (fractions of the cell).
fn create(kind: FindingKind, points: &[[f64; 2]]) -> FindingRequest {
    FindingRequest {
        action: FindingAction::Create,
        id: None,
        kind: Some(kind.name().to_string()),
        cell: Some("axial".to_string()),
        points: points.to_vec(),
        note: None,
    }
}

/// What the findings crate measures for the finding the server told, on `volume`.
fn measured_on(volume: &render_core::Volume, info: &FindingInfo) -> Measurement {
    let points = info
        .points_lps
        .iter()
        .map(|p| DVec3::from_array(*p))
        .collect();
    Finding::new(info.id, info.kind, info.cell, points, info.note.clone())
        .and_then(|finding| finding.measure(volume))
        .expect("measured")
}

#[test]
fn thin_client_draws_a_finding_the_server_measures_deletes_it_and_hears_why_the_phantom_is_not_saved()
 {
    let (url, server) = serve_phantom(None);
    let (link, woken) = link_to(&url, None, None);
    next_frame(&link, &woken, |frame| frame.final_still);
    let opened = news(&link, &woken, |n| matches!(n, FindingNews::All { .. }));
    assert!(
        matches!(&opened, FindingNews::All { series, findings } if series == "phantom" && findings.is_empty()),
        "{opened:?}"
    );

    assert!(link.finding(create(FindingKind::Ellipse, &[[0.35, 0.35], [0.65, 0.6]])));
    let FindingNews::Told(info) = news(&link, &woken, |n| matches!(n, FindingNews::Told(_))) else {
        unreachable!("matched");
    };
    assert_eq!(
        (info.kind, info.cell),
        (FindingKind::Ellipse, SlicePlane::Axial)
    );
    let stats = info.stats.clone().expect("a region's statistics");
    assert!(stats.voxels > 100, "{stats:?}");
    // The server's numbers are the findings crate's on the same volume.
    let phantom = render_core::phantom::ct_phantom();
    assert_eq!(measured_on(&phantom, &info), Measurement::Region(stats));

    assert!(link.finding(FindingRequest {
        action: FindingAction::Delete,
        id: Some(info.id),
        kind: None,
        cell: None,
        points: Vec::new(),
        note: None,
    }));
    let deleted = news(&link, &woken, |n| matches!(n, FindingNews::Deleted(_)));
    assert_eq!(deleted, FindingNews::Deleted(info.id));

    // A refused finding is told as such, naming the field.
    assert!(link.finding(create(FindingKind::Ellipse, &[[0.5, 0.5]])));
    let refused = news(&link, &woken, |n| matches!(n, FindingNews::Refused(_)));
    assert!(
        matches!(&refused, FindingNews::Refused(why) if why.contains("points")),
        "{refused:?}"
    );

    // The phantom belongs to no study: the save is refused, with the server's reason.
    assert!(link.save_findings());
    let saved = news(&link, &woken, |n| matches!(n, FindingNews::Saved(_)));
    assert!(
        matches!(&saved, FindingNews::Saved(Err(why)) if why.contains("no DICOM study")),
        "{saved:?}"
    );
    drop(link);
    server.stop().expect("served");
}

#[test]
fn thin_client_saves_a_real_series_findings_into_the_servers_findings_folder() {
    let state = tempfile::tempdir().expect("temp folder");
    let folder = state.path().join("findings");
    let mut config = ServerConfig::new(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)));
    config.findings_folder = Some(folder.clone());
    let scheduler = hounsfield_workstation::renderer::start_renderer().expect("renderer");
    let library = Arc::new(Library::scan(
        &[hounsfield_test_support::data("ge-epi")],
        256 << 20,
    ));
    let server = BackgroundServer::start("findings-server", config, library, scheduler)
        .expect("the server listens");
    let (link, woken) = link_to(&server.websocket_url(), None, None);
    next_frame(&link, &woken, |frame| frame.final_still);
    news(&link, &woken, |n| matches!(n, FindingNews::All { .. }));

    assert!(link.finding(create(FindingKind::Rectangle, &[[0.3, 0.3], [0.7, 0.6]])));
    let FindingNews::Told(info) = news(&link, &woken, |n| matches!(n, FindingNews::Told(_))) else {
        unreachable!("matched");
    };
    assert!(info.stats.as_ref().is_some_and(|stats| stats.voxels > 50));
    assert!(link.save_findings());
    let FindingNews::Saved(saved) = news(&link, &woken, |n| matches!(n, FindingNews::Saved(_)))
    else {
        unreachable!("matched");
    };
    let saved = saved.expect("saved");
    assert_eq!(saved.findings, 1);
    assert_eq!(saved.document, "measurement report");
    let file = std::path::PathBuf::from(&saved.location);
    assert!(
        file.starts_with(&folder) && file.is_file(),
        "the report is in the findings folder: {}",
        saved.location
    );
    drop(link);
    server.stop().expect("served");
}
