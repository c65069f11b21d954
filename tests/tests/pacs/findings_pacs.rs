//! Findings of a PACS's series go back to the PACS: a real Orthanc holds a real MR series;
//! a client of a server listing that PACS draws a region and a ruler and saves; the
//! Measurement Report is found in Orthanc with QIDO-RS in the series' study, listed by
//! `hounsfield findings list URL`, and shown again to a client of a server started afresh
//! on the same PACS (read back from Orthanc, not from the first server's memory). A
//! segment saved there goes to Orthanc as a Segmentation, which `hounsfield segments list
//! URL` finds with QIDO-RS. A series over time on the PACS opens with every volume.

use hounsfield_test_support as support;

use std::net::SocketAddr;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use hounsfield_client::Client;
use hounsfield_dicomweb::{DicomWeb, SeriesCache};
use hounsfield_protocol::{
    ClientMessage, FindingAction, FindingInfo, FindingRequest, SegmentAction, SegmentEdit,
    SegmentRequest, SegmentTool, ServerMessage, Viewport,
};
use hounsfield_server::Library;
use hounsfield_server::library::PacsLibrary;
use render_core::dicom::VoxelBudget;
use support::orthanc::Orthanc;

use super::segments::answer;

const VIEWPORT: Viewport = Viewport {
    width: 640,
    height: 480,
};

/// A server whose library is the PACS at `url` alone, its series cached in `cache`.
fn server_on(url: &str, cache: &Path) -> SocketAddr {
    let source = DicomWeb::new(url, None).expect("the source");
    let library = Library::scan_with_pacs(
        &[],
        vec![PacsLibrary::new(source, SeriesCache::new(cache, 8 << 30))],
        1 << 30,
        VoxelBudget::for_machine(),
    )
    .expect("the PACS's catalog is listed");
    let mut config = support::server::loopback_config();
    config.h264_encoders = Vec::new();
    support::server::start_with_library(Arc::new(library), vec![config])[0]
}

/// Opens the MR series (the PACS's only one) and returns its id and its `findings`.
async fn open_mr(client: &mut Client) -> (String, Vec<FindingInfo>) {
    client.hello(None, VIEWPORT).await.expect("welcome");
    let studies = client.list_studies().await.expect("studies");
    let series = studies[0].series[0].id.clone();
    client.open(&series).await.expect("opened");
    loop {
        if let ServerMessage::Findings { findings, .. } = support::server::next_answer(client).await
        {
            return (series, findings);
        }
    }
}

async fn draw(client: &mut Client, kind: &str, points: &[[f64; 2]]) -> FindingInfo {
    let request = FindingRequest {
        action: FindingAction::Create,
        id: None,
        kind: Some(kind.to_string()),
        cell: Some("sagittal".to_string()),
        points: points.to_vec(),
        note: None,
    };
    client
        .send(&ClientMessage::Finding(request))
        .await
        .expect("sent");
    match support::server::next_answer(client).await {
        ServerMessage::Finding(info) => info,
        other => panic!("a finding, not {other:?}"),
    }
}

#[test]
fn findings_of_a_pacs_series_are_stored_on_the_pacs_and_found_there_again() {
    let orthanc = Orthanc::start(None);
    orthanc.upload_folder(&support::data("mr-sag-oblique"));
    let url = orthanc.dicomweb_url();
    let cache = tempfile::tempdir().expect("a cache");
    let first = server_on(&url, cache.path());
    let mut drawn = Vec::new();
    let mut series = String::new();
    support::server::run_within(Duration::from_secs(180), async {
        let mut client = Client::connect(&format!("ws://{first}/ws"))
            .await
            .expect("connects");
        let (id, told) = open_mr(&mut client).await;
        assert!(told.is_empty(), "{told:?}");
        series = id;
        drawn.push(draw(&mut client, "ellipse", &[[0.35, 0.3], [0.6, 0.55]]).await);
        drawn.push(draw(&mut client, "ruler", &[[0.3, 0.5], [0.7, 0.5]]).await);
        let stats = drawn[0].stats.clone().expect("a region's statistics");
        assert!(stats.voxels > 100 && stats.sd > 0.0, "{stats:?}");
        assert_eq!(stats.unit, "", "MR values have no unit");
        client
            .send(&ClientMessage::SaveFindings)
            .await
            .expect("sent");
        match support::server::next_answer(&mut client).await {
            ServerMessage::Saved(saved) => {
                assert_eq!((saved.stored_in.as_str(), saved.findings), ("pacs", 2));
                assert!(saved.location.starts_with("studies/"), "{}", saved.location);
                assert!(
                    !saved.location.contains("127.0.0.1"),
                    "no PACS host for clients"
                );
            }
            other => panic!("saved, not {other:?}"),
        }
    });

    // In Orthanc, by QIDO-RS: one SR series in the study.
    let study = support::scan("mr-sag-oblique").studies[0].uid.clone();
    let sr_series = qido(&format!("{url}/studies/{study}/series?Modality=SR"));
    assert_eq!(sr_series.as_array().map(Vec::len), Some(1), "{sr_series}");
    assert_eq!(sr_series[0]["00080060"]["Value"][0], "SR");

    // Listed by the command line, from the PACS.
    let listed = Command::new(support::hounsfield_binary())
        .args(["findings", "list", &url, "--series", &series, "--json"])
        .output()
        .expect("runs");
    assert!(
        listed.status.success(),
        "{}",
        String::from_utf8_lossy(&listed.stderr)
    );
    let listed: serde_json::Value = serde_json::from_slice(&listed.stdout).expect("JSON");
    let kinds: Vec<_> = listed["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| f["kind"].as_str().unwrap_or_default().to_string())
        .collect();
    assert_eq!(kinds, ["ellipse", "ruler"]);
    assert_eq!(
        listed["findings"][0]["stats"]["mean"].as_f64(),
        drawn[0].stats.as_ref().map(|s| s.mean)
    );

    // A server started afresh reads them from Orthanc.
    let cache = tempfile::tempdir().expect("a cache");
    let second = server_on(&url, cache.path());
    support::server::run_within(Duration::from_secs(180), async {
        let mut client = Client::connect(&format!("ws://{second}/ws"))
            .await
            .expect("connects");
        let (_, told) = open_mr(&mut client).await;
        assert_eq!(told.len(), 2);
        for (again, first) in told.iter().zip(&drawn) {
            assert_eq!(
                (again.kind, again.stats.clone(), again.length_mm),
                (first.kind, first.stats.clone(), first.length_mm)
            );
        }
        save_a_segment(&mut client).await;
    });

    // The Segmentation saved is listed from the PACS by the command line: QIDO-RS finds
    // it, its header names the MR series.
    let listed = support::hounsfield_json(&["segments", "list", &url, "--json"]);
    let listed = listed.as_array().expect("a list");
    assert_eq!(listed.len(), 1, "{listed:?}");
    let mr_series = support::scan("mr-sag-oblique").studies[0].series[0]
        .uid
        .clone();
    assert_eq!(listed[0]["referenced_series"][0], mr_series.as_str());
    assert_eq!(listed[0]["study_uid"], study.as_str());
    assert_eq!(listed[0]["segments"][0], "Bright");
    assert!(
        listed[0]["file"]
            .as_str()
            .is_some_and(|f| f.starts_with("http://127.0.0.1")),
        "{}",
        listed[0]
    );
}

/// A segment of the open MR's bright voxels, saved where the series lives (the PACS), listed
/// from there among the series' Segmentations and loaded back.
async fn save_a_segment(client: &mut Client) {
    let create = ClientMessage::Segment(SegmentRequest {
        label: Some("Bright".to_string()),
        ..SegmentRequest::bare(SegmentAction::Create, None)
    });
    let segment = answer(client, create).await.expect("created");
    let threshold = ClientMessage::SegmentEdit(SegmentEdit {
        id: segment.id,
        tool: SegmentTool::Threshold {
            low: 50.0,
            high: 100_000.0,
        },
    });
    let thresholded = answer(client, threshold).await.expect("thresholded");
    client
        .send(&ClientMessage::SaveSegments)
        .await
        .expect("sent");
    let saved = support::server::told(client, Duration::from_secs(60), |told| match told {
        ServerMessage::Saved(saved) => Some(saved),
        ServerMessage::Error { code, message } => panic!("{code:?}: {message}"),
        _ => None,
    })
    .await
    .expect("saved");
    assert_eq!(
        (saved.document.as_str(), saved.stored_in.as_str()),
        ("segmentation", "pacs")
    );
    // The series' saved Segmentations come from the PACS (QIDO-RS in the study, each
    // header retrieved), and the one saved loads back with the voxels it was saved with.
    client
        .send(&ClientMessage::Segmentations)
        .await
        .expect("sent");
    let listed = support::server::told(client, Duration::from_secs(60), |told| match told {
        ServerMessage::Segmentations { saved, .. } => Some(saved),
        ServerMessage::Error { code, message } => panic!("{code:?}: {message}"),
        _ => None,
    })
    .await
    .expect("listed");
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert_eq!(listed[0].sop_instance_uid, saved.sop_instance_uid);
    assert_eq!(
        (listed[0].stored_in.as_str(), listed[0].segments.as_slice()),
        ("pacs", ["Bright".to_string()].as_slice())
    );
    let load = ClientMessage::LoadSegmentation {
        sop_instance_uid: saved.sop_instance_uid.clone(),
    };
    let loaded = answer(client, load).await.expect("loaded");
    assert_ne!(loaded.id, segment.id);
    assert_eq!(loaded.label, "Bright");
    assert_eq!(loaded.numbers, thresholded.numbers);
}

/// A QIDO-RS answer of Orthanc, as JSON.
fn qido(url: &str) -> serde_json::Value {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    runtime.block_on(async {
        let answer = reqwest::Client::new()
            .get(url)
            .header("Accept", "application/dicom+json")
            .send()
            .await
            .unwrap_or_else(|e| panic!("GET {url}: {e}"));
        assert!(
            answer.status().is_success(),
            "GET {url}: {}",
            answer.status()
        );
        let body = answer.bytes().await.expect("Orthanc's answer");
        serde_json::from_slice(&body).expect("JSON")
    })
}

/// A series over time on a PACS opens with every volume, as from a folder: the GE EPI
/// uploaded to Orthanc, opened through a server listing it, lists its 10 volumes as
/// `hounsfield info` does on the files, and a probe's curve equals `hounsfield probe`'s on
/// the files at its point.
#[test]
fn a_series_over_time_on_the_pacs_opens_with_every_volume() {
    let folder = support::data("ge-epi/mr_0004");
    let orthanc = Orthanc::start(None);
    orthanc.upload_folder(&folder);
    let cache = tempfile::tempdir().expect("a cache");
    let server = server_on(&orthanc.dicomweb_url(), cache.path());
    let folder = folder.to_string_lossy().into_owned();
    let info = support::hounsfield_json(&["info", &folder, "--json"]);
    let listed = info["studies"][0]["series"][0]["volumes"].clone();
    support::server::run_within(Duration::from_secs(180), async {
        let mut client = Client::connect(&format!("ws://{server}/ws"))
            .await
            .expect("connects");
        client.hello(None, VIEWPORT).await.expect("welcome");
        let studies = client.list_studies().await.expect("studies");
        let series = studies[0].series[0].id.clone();
        let opened = client.open(&series).await.expect("opened");
        let labels: Vec<(String, Option<f64>)> = opened
            .volumes
            .iter()
            .map(|v| (v.label.clone(), v.time_s))
            .collect();
        assert_eq!(labels, support::volumes_listed(&listed));
        assert_eq!(labels.len(), 10);
        let support::server::Probed {
            lps_mm: lps,
            values,
            ..
        } = support::server::probe(&mut client, "axial", [0.55, 0.45]).await;
        let (_, expected) = support::probe_read(&folder, lps);
        assert_eq!(values, expected, "the curve at {lps:?}");
        assert_eq!(values.len(), 10);
    });
}
