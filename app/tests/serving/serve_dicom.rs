//! `--dicom-port`: studies pushed over DICOM networking by DCMTK's `storescu`, as a
//! modality or a PACS routes them, stored as they came, listed when the association ends
//! and rendered; `echoscu` answered; a caller not allowed rejected at association; each
//! association audited.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use hounsfield_client::Client;
use hounsfield_protocol::Viewport;
use hounsfield_test_support as support;
use support::{Served, audit_events, run_within, serve};

const AE_TITLE: &str = "HFTEST";
const CALLER: &str = "STORESCU";
const VIEWPORT: Viewport = Viewport {
    width: 96,
    height: 96,
};
/// How long the received studies may take to be listed after their association ends.
const LISTED_WITHIN: Duration = Duration::from_secs(20);

/// The DICOM port the server said it receives on.
fn dicom_port(served: &mut Served) -> u16 {
    for _ in 0..8 {
        let line = served.next_line();
        if let Some(rest) = line.strip_prefix("receiving DICOM") {
            let address = rest
                .split_whitespace()
                .skip_while(|word| *word != "on")
                .nth(1)
                .expect("an address after \"on\"");
            return address
                .rsplit_once(':')
                .and_then(|(_, port)| port.parse().ok())
                .expect("a port");
        }
    }
    panic!("the server never said where it receives DICOM");
}

/// Runs a DCMTK tool; whether it succeeded, and what it said.
fn dcmtk(tool: &str, args: &[&str]) -> (bool, String) {
    let output = Command::new(tool)
        .args(args)
        .output()
        .unwrap_or_else(|error| panic!("{tool} runs (DCMTK is installed): {error}"));
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.success(), said)
}

/// Pushes `files` as `caller`, proposing JPEG 2000 (the data's transfer syntax) so that
/// they go as they are.
fn store(port: u16, caller: &str, files: &[PathBuf]) -> (bool, String) {
    let port = port.to_string();
    let mut args: Vec<String> = [
        "-xw",
        "-R",
        "-aet",
        caller,
        "-aec",
        AE_TITLE,
        "127.0.0.1",
        &port,
    ]
    .map(str::to_string)
    .to_vec();
    args.extend(files.iter().map(|file| file.to_string_lossy().into_owned()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    dcmtk("storescu", &args)
}

/// The data set of a DICOM file: its bytes after the file meta group.
fn data_set(file: &Path) -> Vec<u8> {
    let bytes = std::fs::read(file).expect("readable");
    assert_eq!(&bytes[128..132], b"DICM", "{}", file.display());
    let group_length = u32::from_le_bytes(bytes[140..144].try_into().expect("four bytes"));
    bytes[144 + group_length as usize..].to_vec()
}

/// The SOP Instance UID of a DICOM file, from its meta group.
fn sop_instance(file: &Path) -> String {
    let object = dicom_object::OpenFileOptions::new()
        .read_until(dicom_dictionary_std::tags::SOP_INSTANCE_UID)
        .open_file(file)
        .expect("a DICOM file");
    object
        .meta()
        .media_storage_sop_instance_uid()
        .trim_end_matches('\0')
        .to_string()
}

/// DCMTK's own Storage SCP, writing each data set exactly as it receives it (`+B`): the
/// reference the server's stored files are held to. Killed when dropped.
struct ReferenceScp {
    child: std::process::Child,
    port: u16,
    folder: tempfile::TempDir,
}

impl ReferenceScp {
    fn start() -> Self {
        let folder = tempfile::tempdir().expect("a folder");
        // A free loopback port, let go for storescp to take.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .expect("a free port")
            .port();
        let child = Command::new("storescp")
            .args(["+B", "+xa", "-aet", AE_TITLE, "-od"])
            .arg(folder.path())
            .arg(port.to_string())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("storescp runs (DCMTK is installed)");
        let reference = Self {
            child,
            port,
            folder,
        };
        let until = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < until, "storescp never listened");
            std::thread::sleep(Duration::from_millis(50));
        }
        reference
    }
}

impl Drop for ReferenceScp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn studies_pushed_with_storescu_are_stored_as_sent_listed_and_rendered() {
    let state = tempfile::tempdir().expect("a folder");
    let audit = state.path().join("audit.jsonl");
    let allowed = format!("{CALLER}@127.0.0.1");
    let mut served = serve(&[
        "--dicom-port",
        "0",
        "--ae-title",
        AE_TITLE,
        "--dicom-allow",
        &allowed,
        "--state-dir",
        &state.path().to_string_lossy(),
        "--audit-log",
        &audit.to_string_lossy(),
    ]);
    let port = dicom_port(&mut served);
    let port_text = port.to_string();
    let (echoed, said) = dcmtk(
        "echoscu",
        &["-aet", CALLER, "-aec", AE_TITLE, "127.0.0.1", &port_text],
    );
    assert!(echoed, "{said}");
    // A caller the site did not name is rejected at association, and nothing is stored.
    let mr = support::dicom_files_under(&support::data("mr-lumbar"));
    let ct = support::dicom_files_under(&support::data("ct-head-neck"));
    let (stored, said) = store(port, "INTRUDER", &mr);
    assert!(!stored && said.contains("Association Rejected"), "{said}");
    let started = Instant::now();
    for files in [&mr, &ct] {
        let (stored, said) = store(port, CALLER, files);
        assert!(stored, "{said}");
    }
    // Every file stored under its study and series, its data set byte for byte as DCMTK's
    // own SCP writes what the same push sends it (storescu pads odd fragments of the CT's
    // Pixel Data and writes encapsulated Pixel Data as OB, so the files on disk are not
    // what goes over the wire).
    let reference = ReferenceScp::start();
    for files in [&mr, &ct] {
        let (sent, said) = store(reference.port, CALLER, files);
        assert!(sent, "{said}");
    }
    let as_sent: HashMap<String, PathBuf> = support::dicom_files_under(reference.folder.path())
        .into_iter()
        .map(|file| (sop_instance(&file), file))
        .collect();
    let store_folder = state.path().join("received");
    let received: HashMap<String, PathBuf> = support::dicom_files_under(&store_folder)
        .into_iter()
        .map(|file| (sop_instance(&file), file))
        .collect();
    assert_eq!(received.len(), mr.len() + ct.len());
    assert_eq!(as_sent.len(), received.len());
    for original in mr.iter().chain(&ct) {
        let uid = sop_instance(original);
        assert!(
            data_set(&as_sent[&uid]) == data_set(&received[&uid]),
            "{} differs from what DCMTK's SCP received",
            received[&uid].display()
        );
    }
    // Listed once the associations ended, and rendered.
    run_within(Duration::from_secs(120), async {
        let mut client = Client::connect(&served.ws_url("")).await.expect("connects");
        client.hello(None, VIEWPORT).await.expect("welcome");
        let studies = loop {
            let studies = client.list_studies().await.expect("the catalog");
            let series: usize = studies.iter().map(|s| s.series.len()).sum();
            if studies.len() == 2 && series >= 4 {
                break studies;
            }
            assert!(started.elapsed() < LISTED_WITHIN, "not listed: {studies:?}");
            tokio::time::sleep(Duration::from_millis(250)).await;
        };
        let ct_series = studies
            .iter()
            .flat_map(|study| &study.series)
            .find(|series| series.modality == "CT" && series.images == ct.len())
            .expect("the CT listed whole");
        client.open(&ct_series.id).await.expect("opened");
        let frame = client.next_frame().await.expect("a frame");
        assert!(!frame.payload.is_empty());
    });
    // Each association audited: the echo's, the refusal, the two pushes.
    let log = audit_events(&audit);
    let events = |name: &str| -> Vec<&serde_json::Value> {
        log.iter().filter(|e| e["event"] == name).collect()
    };
    let refused = events("dicom_refused");
    assert_eq!(refused.len(), 1, "{log:?}");
    assert_eq!(refused[0]["calling_ae"], "INTRUDER");
    let pushes: Vec<u64> = events("dicom_received")
        .iter()
        .filter_map(|e| e["stored"].as_u64())
        .filter(|&n| n > 0)
        .collect();
    assert_eq!(pushes, vec![mr.len() as u64, ct.len() as u64], "{log:?}");
    // Pushed again, nothing is written twice.
    let (stored, said) = store(port, CALLER, &mr);
    assert!(stored, "{said}");
    let pushed_again = Instant::now();
    let last = loop {
        let log = audit_events(&audit);
        let received: Vec<serde_json::Value> = log
            .into_iter()
            .filter(|e| e["event"] == "dicom_received")
            .filter(|e| e["studies"].as_array().is_some_and(|s| !s.is_empty()))
            .collect();
        if received.len() == 3 {
            break received[2].clone();
        }
        assert!(
            pushed_again.elapsed() < LISTED_WITHIN,
            "not audited: {received:?}"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(
        (last["stored"].as_u64(), last["duplicates"].as_u64()),
        (Some(0), Some(mr.len() as u64))
    );
}

#[test]
fn the_dimse_bench_times_ours_beside_storescp_the_listing_and_c_move_and_c_get_beside_wado_rs() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port")
        .port();
    let orthanc = support::orthanc::Orthanc::start_with_modalities(&[(AE_TITLE, port)]);
    let mr_folder = support::data("mr-lumbar");
    orthanc.upload_folder(&mr_folder);
    // The largest series of the MR, by its files.
    let mut series: HashMap<String, usize> = HashMap::new();
    for file in support::dicom_files_under(&mr_folder) {
        let object = dicom_object::OpenFileOptions::new()
            .read_until(dicom_dictionary_std::tags::PIXEL_DATA)
            .open_file(&file)
            .expect("a DICOM file");
        let uid = object
            .element(dicom_dictionary_std::tags::SERIES_INSTANCE_UID)
            .ok()
            .and_then(|e| e.to_str().ok())
            .map(|s| s.trim_end_matches('\0').to_string())
            .expect("a series UID");
        *series.entry(uid).or_default() += 1;
    }
    let (largest, images) = series.iter().max_by_key(|(_, n)| **n).expect("a series");
    let mr = support::data_arg("mr-lumbar");
    let pacs = format!("dimse://HOUNSFIELDTEST@127.0.0.1:{}", orthanc.dicom_port());
    let dicomweb = orthanc.dicomweb_url();
    let port_text = port.to_string();
    let figures = support::hounsfield_json(&[
        "bench",
        "dimse",
        &mr,
        "--runs",
        "1",
        "--pacs",
        &pacs,
        "--dicomweb",
        &dicomweb,
        "--series",
        largest,
        "--dicom-port",
        &port_text,
        "--ae-title",
        AE_TITLE,
        "--json",
    ]);
    let dicom_files = support::dicom_files_under(&mr_folder).len();
    assert_eq!(
        figures["files"].as_u64(),
        Some(dicom_files as u64),
        "{figures}"
    );
    for receiver in ["ours", "storescp"] {
        let received = &figures[receiver];
        assert!(
            received["mb_per_s"].as_f64() > Some(0.0)
                && received["images_per_s"].as_f64() > Some(0.0),
            "{figures}"
        );
    }
    assert!(figures["ratio"].as_f64() > Some(0.0), "{figures}");
    assert!(figures["listed_p50_ms"].as_f64() > Some(0.0), "{figures}");
    let retrieval = &figures["retrieval"];
    assert_eq!(
        retrieval["images"].as_u64(),
        Some(*images as u64),
        "{figures}"
    );
    assert!(
        retrieval["c_move_p50_ms"].as_f64() > Some(0.0)
            && retrieval["c_get_p50_ms"].as_f64() > Some(0.0)
            && retrieval["wado_rs_p50_ms"].as_f64() > Some(0.0),
        "{figures}"
    );
    assert_eq!(
        retrieval["c_get_images"].as_u64(),
        Some(*images as u64),
        "C-GET stores every image: {figures}"
    );
}

#[test]
fn a_pacs_speaking_dicom_alone_is_listed_with_c_find_and_a_series_opened_by_c_move_or_c_get() {
    // Our Storage SCP's port first: the PACS is told where to send.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port")
        .port();
    let orthanc = support::orthanc::Orthanc::start_dicom_only(&[(AE_TITLE, port)]);
    let mr = support::data("mr-lumbar");
    let uploaded = orthanc.upload_folder(&mr);
    let state = tempfile::tempdir().expect("a folder");
    let library = format!("dimse://HOUNSFIELDTEST@127.0.0.1:{}", orthanc.dicom_port());
    let served = serve(&[
        "--library",
        &library,
        "--dicom-port",
        &port.to_string(),
        "--ae-title",
        AE_TITLE,
        "--state-dir",
        &state.path().to_string_lossy(),
    ]);
    let (listed, largest) = open_the_largest_series(&served);
    assert_eq!(listed, uploaded, "each series with its images, from C-FIND");
    // The series came by C-MOVE into the store, one file an image.
    let stored = support::dicom_files_under(&state.path().join("received"));
    assert_eq!(stored.len(), largest);
    // A server without a Storage SCP of its own retrieves the series with C-GET instead,
    // calling as a title the PACS knows.
    let retrieving = tempfile::tempdir().expect("a folder");
    let served = support::serve_with_env(
        &[
            "--library",
            &library,
            "--state-dir",
            &retrieving.path().to_string_lossy(),
        ],
        &[("HOUNSFIELD_AE_TITLE", AE_TITLE)],
    );
    let (_, largest) = open_the_largest_series(&served);
    let stored = support::dicom_files_under(&retrieving.path().join("retrieved"));
    assert_eq!(stored.len(), largest);
}

/// Lists `served`'s one study, opens its largest series and takes a frame of it: the images
/// its series list, and the largest's.
fn open_the_largest_series(served: &Served) -> (usize, usize) {
    let mut found = (0, 0);
    run_within(Duration::from_secs(120), async {
        let mut client = Client::connect(&served.ws_url("")).await.expect("connects");
        client.hello(None, VIEWPORT).await.expect("welcome");
        let studies = client.list_studies().await.expect("the catalog");
        assert_eq!(studies.len(), 1, "{studies:?}");
        let listed: usize = studies[0].series.iter().map(|s| s.images).sum();
        let largest = studies[0]
            .series
            .iter()
            .max_by_key(|series| series.images)
            .expect("a series");
        client
            .open(&largest.id)
            .await
            .expect("opened: retrieved and loaded");
        let frame = client.next_frame().await.expect("a frame");
        assert!(!frame.payload.is_empty());
        found = (listed, largest.images);
    });
    found
}
