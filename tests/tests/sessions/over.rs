//! One series over another on the server, over a real socket: the Philips ASL (1903)
//! drawn over the MPRAGE (1301) of one frame of reference. `over` draws it into the slice
//! cells and its projection over the 3D cell (the hot map's colours appear in each), a
//! probe tells both values as `hounsfield probe --over` reads them from the files (that
//! command's values are checked against pydicom in the command tests), an opacity of 0 or
//! `over` without a series gives back every cell as drawn without it, and a colour map
//! not known or a series of another patient is refused with the session going on.

use hounsfield_test_support as support;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use hounsfield_client::{Client, Frame};
use hounsfield_protocol::{
    Action, ClientMessage, ErrorCode, OverLink, OverRequest, OverShown, SegmentTool, ServerMessage,
    SlicePlane, Viewport,
};
use hounsfield_server::library::Library;
use render_core::view::layout::{cell_index, quad_cells};
use support::server::{Probed, probe};

/// How long the test may take.
const LIMIT: Duration = Duration::from_secs(240);
/// The token of the test's server.
const TOKEN: &str = "over-token";
/// The frame's size: four cells of 192 × 144.
const SIZE: [u32; 2] = [384, 288];
/// The Philips classic files: the MPRAGE and the ASL, one patient, one frame of reference.
const PHILIPS: &str = "philips-enhanced/In/cl";
/// Another patient's study.
const LUMBAR: &str = "mr-lumbar";

/// A server of the Philips study and the lumbar MR (another patient).
fn server() -> SocketAddr {
    static SERVER: OnceLock<SocketAddr> = OnceLock::new();
    *SERVER.get_or_init(|| serving(&[PHILIPS, LUMBAR].map(support::data)))
}

/// A server of `folders`, which asks for [`TOKEN`].
fn serving(folders: &[PathBuf]) -> SocketAddr {
    let library = Arc::new(Library::scan(folders, 1 << 30));
    let mut config = support::server::loopback_config();
    config.token = Some(TOKEN.to_string());
    config.h264_encoders = Vec::new();
    support::server::start_with_library(library, vec![config])[0]
}

/// A client of the server at `address`, greeted for frames of [`SIZE`].
async fn client_of(address: SocketAddr) -> Client {
    let mut client = Client::connect(&format!("ws://{address}/ws"))
        .await
        .expect("connects");
    let viewport = Viewport {
        width: SIZE[0],
        height: SIZE[1],
    };
    client.hello(Some(TOKEN), viewport).await.expect("welcome");
    client
}

/// `over` asking for `series` in the start's style.
fn asking(series: &str) -> OverRequest {
    OverRequest {
        series: Some(series.to_string()),
        ..OverRequest::default()
    }
}

/// The id `info --json` gives the series numbered `number` in the folder at `path` (its
/// first series when `number` is none).
fn series_id(path: &str, number: Option<u64>) -> String {
    let info = support::hounsfield_json(&["info", path, "--json"]);
    info["studies"]
        .as_array()
        .expect("studies")
        .iter()
        .flat_map(|study| study["series"].as_array().expect("series").clone())
        .find(|series| number.is_none_or(|number| series["number"].as_u64() == Some(number)))
        .and_then(|series| series["id"].as_str().map(str::to_string))
        .unwrap_or_else(|| panic!("series {number:?} in {path}"))
}

/// The RGBA pixels of `cell` (0: 3D, then axial, coronal, sagittal) of a 2×2 still.
fn cell_pixels(still: &Frame, cell: usize) -> Vec<[u8; 4]> {
    let (width, height, rgba) = still.decode_rgba().expect("a PNG");
    assert_eq!([width, height], SIZE);
    let rect = quad_cells(SIZE)[cell];
    (rect.y..rect.y + rect.height)
        .flat_map(|y| (rect.x..rect.x + rect.width).map(move |x| (x, y)))
        .map(|(x, y)| {
            let at = (y as usize * width as usize + x as usize) * 4;
            [rgba[at], rgba[at + 1], rgba[at + 2], rgba[at + 3]]
        })
        .collect()
}

/// The slice cells' pixels of a still.
fn slice_cells(still: &Frame) -> Vec<Vec<[u8; 4]>> {
    SlicePlane::ALL
        .into_iter()
        .map(|plane| cell_pixels(still, cell_index(plane)))
        .collect()
}

/// Sends `request` and waits for its `over` reply (or the error it got instead).
async fn over(client: &mut Client, request: OverRequest) -> Result<Option<OverShown>, String> {
    client
        .send(&ClientMessage::Over(request))
        .await
        .expect("sent");
    support::server::told(client, LIMIT, |told| match told {
        ServerMessage::Over { shown } => Some(Ok(shown)),
        ServerMessage::Error { code, message } => {
            assert_eq!(code, ErrorCode::BadValue, "{message}");
            Some(Err(message))
        }
        _ => None,
    })
    .await
    .expect("an answer")
}

#[test]
fn a_series_over_another_is_drawn_in_the_slice_cells_and_probed_as_its_files_read() {
    let philips = support::data(PHILIPS).to_string_lossy().into_owned();
    let (mprage, asl) = (
        series_id(&philips, Some(1301)),
        series_id(&philips, Some(1903)),
    );
    let lumbar = series_id(&support::data(LUMBAR).to_string_lossy(), None);
    let address = server();
    support::server::run_within(LIMIT, async move {
        let mut client = client_of(address).await;
        client.open(&mprage).await.expect("the MPRAGE opens");
        client
            .input(Action::Layout {
                name: "2x2".to_string(),
            })
            .await
            .expect("sent");
        let alone = support::server::lossless_still(&mut client).await;

        let shown = over(&mut client, asking(&asl))
            .await
            .expect("the ASL is drawn over")
            .expect("shown");
        assert_eq!(
            (shown.series.as_str(), shown.link, shown.colour_map.as_str()),
            (asl.as_str(), OverLink::SameFrame, "hot")
        );
        assert_eq!((shown.modality.as_str(), shown.opacity), ("MR", 0.5));
        let fused = support::server::lossless_still(&mut client).await;
        let cells = |still: &Frame| {
            let mut cells = vec![cell_pixels(still, 0)];
            cells.extend(slice_cells(still));
            cells
        };
        for (cell, (with, without)) in ["3D", "axial", "coronal", "sagittal"]
            .into_iter()
            .zip(cells(&fused).iter().zip(cells(&alone)))
        {
            // The hot map's reds and yellows: red well above blue where the ASL lies.
            let coloured = with
                .iter()
                .zip(&without)
                .filter(|(w, a)| w != a && i16::from(w[0]) - i16::from(w[2]) > 40)
                .count();
            assert!(
                coloured > with.len() / 50,
                "{cell}: {coloured} of {} pixels coloured",
                with.len()
            );
        }

        // Both values at a point, as the command line reads the files there.
        let Probed {
            lps_mm: lps,
            value,
            over_value,
            ..
        } = probe(&mut client, "axial", [0.5, 0.45]).await;
        let at = format!("{},{},{}", lps[0], lps[1], lps[2]);
        let read = support::hounsfield_json(&[
            "probe", &philips, "--series", "1301", "--over", "1903", "--at", &at, "--json",
        ]);
        assert_eq!(value, read[0]["value"].as_f64(), "the MPRAGE at {at}");
        assert_eq!(
            over_value,
            read[0]["over_value"].as_f64(),
            "the ASL at {at}"
        );
        assert!(over_value.is_some(), "the point lies in the ASL");

        // Restyled: the map and window stay while the opacity goes to 0, which gives the
        // slices back as drawn alone.
        let clear = over(
            &mut client,
            OverRequest {
                series: Some(asl.clone()),
                opacity: Some(0.0),
                ..OverRequest::default()
            },
        )
        .await
        .expect("restyled")
        .expect("still shown");
        assert_eq!(
            (clear.opacity, clear.colour_map.as_str(), clear.window),
            (0.0, "hot", shown.window)
        );
        let invisible = support::server::lossless_still(&mut client).await;
        assert_eq!(cells(&invisible), cells(&alone));

        // Refused, naming why, and the session goes on drawing what it drew.
        let unknown_map = over(
            &mut client,
            OverRequest {
                series: Some(asl.clone()),
                colour_map: Some("jet".to_string()),
                ..OverRequest::default()
            },
        )
        .await
        .expect_err("an unknown map");
        assert!(unknown_map.contains("colour_map"), "{unknown_map}");
        let another_patient = over(&mut client, asking(&lumbar))
            .await
            .expect_err("another patient's series");
        assert!(
            another_patient.contains("same patient"),
            "{another_patient}"
        );
        let itself = over(&mut client, asking(&mprage))
            .await
            .expect_err("the series over itself");
        assert!(itself.contains("series open"), "{itself}");

        // Taken away: the slices as drawn alone.
        let none = over(&mut client, OverRequest::default())
            .await
            .expect("taken away");
        assert_eq!(none, None);
        let after = support::server::lossless_still(&mut client).await;
        assert_eq!(cells(&after), cells(&alone));
    });
}

/// Whether `ours` is `theirs` within 1e-6 of it (our voxels are 32-bit floats).
fn close(ours: Option<f64>, theirs: f64) -> bool {
    ours.is_some_and(|ours| (ours - theirs).abs() <= 1e-6 * theirs.abs())
}

/// A PET over its CT (both written by `tests/scripts/pet_phantom.py`, one patient and
/// frame of reference): the probe tells the PET's value in SUV by the factor the script
/// computes with QIBA's formula, and the value itself as `hounsfield probe --over` reads
/// it; the PET opened alone gives its own values in SUV; the CT has none.
#[test]
fn a_pet_over_its_ct_is_probed_in_suv_by_the_qiba_formula() {
    let folder = tempfile::tempdir().expect("a folder");
    let path = folder.path().to_string_lossy().into_owned();
    let theirs = support::imaging_python_script(
        "pet_phantom.py",
        &[
            &path,
            "-20,-20,-15,20,20,30",
            "--with-ct",
            "--threshold",
            "10000",
        ],
    );
    let factor = theirs["factor"].as_f64().expect("the SUV factor");
    let (pet, ct) = (series_id(&path, Some(1)), series_id(&path, Some(2)));
    let address = serving(&[folder.path().to_path_buf()]);
    support::server::run_within(LIMIT, async move {
        let mut client = client_of(address).await;
        client.open(&ct).await.expect("the CT opens");
        let shown = over(&mut client, asking(&pet))
            .await
            .expect("the PET is drawn over")
            .expect("shown");
        assert_eq!(
            (shown.modality.as_str(), shown.link),
            ("PT", OverLink::SameFrame)
        );
        // The middle of the axial slice through the CT's centre, which is the PET's.
        let probed = probe(&mut client, "axial", [0.5, 0.5]).await;
        assert_eq!(probed.suv, None, "a CT has no SUV");
        let over_value = probed.over_value.expect("the PET covers the CT's middle");
        assert!(
            close(probed.over_suv, over_value * factor),
            "SUV {:?} of {over_value} Bq/ml by the factor {factor}",
            probed.over_suv
        );
        let at = format!(
            "{},{},{}",
            probed.lps_mm[0], probed.lps_mm[1], probed.lps_mm[2]
        );
        let read = support::hounsfield_json(&[
            "probe", &path, "--series", "2", "--over", "1", "--at", &at, "--json",
        ]);
        assert_eq!(probed.value, read[0]["value"].as_f64(), "the CT at {at}");
        assert_eq!(
            Some(over_value),
            read[0]["over_value"].as_f64(),
            "the PET at {at}"
        );

        // The PET alone: its own values in SUV.
        client.open(&pet).await.expect("the PET opens");
        let alone = probe(&mut client, "axial", [0.5, 0.5]).await;
        let value = alone.value.expect("inside the PET");
        assert!(close(alone.suv, value * factor), "{:?}", alone.suv);
        assert_eq!((alone.over_value, alone.over_suv), (None, None));
        // A region drawn on the PET tells its uptake in SUV: SUVmax and SUVmean are its
        // statistics by the QIBA factor, SUVpeak a 1 cm³ sphere's mean at most SUVmax.
        let region = drawn_region(&mut client).await;
        let suv = region.suv.expect("a PET region's uptake");
        let near = |ours: f64, theirs: f64| (ours - theirs).abs() <= 1e-4 * theirs.abs() + 1e-4;
        assert!(
            near(suv.suv_max, region.max * factor),
            "{suv:?} of {region:?}"
        );
        assert!(
            near(suv.suv_mean, region.mean * factor),
            "{suv:?} of {region:?}"
        );
        assert!(
            suv.suv_peak > 0.0 && suv.suv_peak <= suv.suv_max + 1e-4,
            "{suv:?}"
        );
        // A segment of the PET's hot ball (a threshold) tells its uptake as NumPy
        // works it out from the same voxels.
        let segment = crate::pacs::segments::answer(&mut client, crate::pacs::segments::create())
            .await
            .expect("a segment");
        let threshold = SegmentTool::Threshold {
            low: 10_000.0,
            high: 1_000_000.0,
        };
        let hot = crate::pacs::segments::edit(&mut client, segment.id, threshold).await;
        let numpys = &theirs["segment"];
        assert_eq!(Some(hot.numbers.voxels as u64), numpys["voxels"].as_u64());
        let suv = hot.numbers.suv.expect("a PET segment's uptake");
        for (ours, figure) in [
            (suv.suv_max, "suv_max"),
            (suv.suv_mean, "suv_mean"),
            (suv.suv_peak, "suv_peak"),
        ] {
            let expected = numpys[figure].as_f64().expect("NumPy's figure");
            assert!(near(ours, expected), "{figure}: {ours} against {expected}");
        }
        // The CT's regions have none.
        client.open(&ct).await.expect("the CT opens again");
        assert_eq!(drawn_region(&mut client).await.suv, None, "a CT has no SUV");
    });
}

/// The statistics of a box drawn about the middle of the axial cell.
async fn drawn_region(client: &mut Client) -> hounsfield_protocol::RegionStatistics {
    support::server::drawn_finding(client, "rectangle", "axial", &[[0.4, 0.4], [0.6, 0.6]])
        .await
        .stats
        .expect("a box's statistics")
}
