//! Segments over a real socket on the real CT (`ct-head-neck`): a reader adds a segment and
//! edits it with the tools (threshold, the largest island, grow from a click on the axial
//! cell, a margin, paint and erase, undo and redo); each answer's numbers equal what
//! `hounsfield segment` makes of the same request from the command line, and a second
//! session opening the series is told the same segment. In a shared session the follower
//! is told each edit as it lands, and a viewer who joined may look but not edit.
//! `save_segments` stores a DICOM Segmentation in the findings folder that passes
//! `dciodvfy` and measures, read back, what the server said, with a Measurement Report
//! that highdicom reads: a volumetric group a segment, referencing it in that
//! Segmentation. A disc brush paints one slice of the voxels within its radius; fill
//! between slices joins two discs; a median and grow from seeds equal the command line's
//! (the seeds read from the saved Segmentation), each segment grow from seeds changes
//! told to a follower and taken back on its own. A segment shows over the slice cells,
//! and in the 3D view (alone: where a MIP of its range reaches; hidden: not at all).

use hounsfield_test_support as support;

use std::path::{Path, PathBuf};
use std::time::Duration;

use hounsfield_client::{Client, ClientError};
use hounsfield_protocol::{
    Action, BrushShape, ClientMessage, ErrorCode, GridPlaneName, IslandsKeep, SegmentAction,
    SegmentEdit, SegmentInfo, SegmentPreview, SegmentRequest, SegmentTool, ServerMessage, Viewport,
};
use hounsfield_server::users::{Role, UsersFile};
use serde_json::Value;
use support::server::told;

pub(super) const RITA: &str = "segments-reader-3f1a";
pub(super) const SAM: &str = "segments-reader-77c2";
pub(super) const VERA: &str = "segments-viewer-0d9e";

pub(super) const VIEWPORT: Viewport = Viewport {
    width: 480,
    height: 360,
};

fn ct() -> PathBuf {
    support::data_dir().join("ct-head-neck")
}

/// A server of the CT (JPEG frames) with two readers and a viewer, keeping documents in
/// `state`'s findings folder.
pub(super) fn served(state: &Path) -> std::net::SocketAddr {
    served_with(state, |_| {})
}

/// [`served`], its configuration changed by `change` first.
pub(super) fn served_with(
    state: &Path,
    change: impl FnOnce(&mut hounsfield_server::ServerConfig),
) -> std::net::SocketAddr {
    let users = state.join("users.toml");
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
    config.findings_folder = Some(state.join("findings"));
    // One reader's tools at a time here, over a whole CT: the session may use the whole
    // measuring lane, so that the tests edit instead of waiting for a quarter's share.
    config.limits.measuring_share_per_s = 1.0;
    change(&mut config);
    support::server::start_serving(config, &[ct()])
}

/// Signs `token` in and opens the CT; its series id.
pub(super) async fn open_ct(address: std::net::SocketAddr, token: &str) -> (Client, String) {
    let mut client = support::server::signed_in(address, token, VIEWPORT).await;
    let studies = client.list_studies().await.expect("studies");
    let series = studies[0].series[0].id.clone();
    client.open(&series).await.expect("opened");
    (client, series)
}

/// `host` shares its session, and the user of `token` signs in and joins it: the guest,
/// once the shared view has come.
pub(super) async fn joined(
    address: std::net::SocketAddr,
    host: &mut Client,
    token: &str,
) -> Client {
    host.send(&ClientMessage::Share).await.expect("sent");
    let join = told(host, Duration::from_secs(5), |told| match told {
        ServerMessage::Shared { id, .. } => Some(id),
        _ => None,
    })
    .await
    .expect("shared");
    let mut guest = support::server::signed_in(address, token, VIEWPORT).await;
    guest
        .send(&ClientMessage::Join { id: join })
        .await
        .expect("sent");
    guest.next_frame().await.expect("the shared view");
    guest
}

/// Sends `message` and waits for the segment it makes (or the refusal).
pub(crate) async fn answer(
    client: &mut Client,
    message: ClientMessage,
) -> Result<SegmentInfo, (ErrorCode, String)> {
    client.send(&message).await.expect("sent");
    next_segment(client).await
}

/// The next segment the server tells (or the refusal).
async fn next_segment(client: &mut Client) -> Result<SegmentInfo, (ErrorCode, String)> {
    told(client, Duration::from_secs(60), |told| match told {
        ServerMessage::Segment(info) => Some(Ok(*info)),
        ServerMessage::Error { code, message } => Some(Err((code, message))),
        _ => None,
    })
    .await
    .expect("an answer within a minute")
}

/// Applies `tool` to segment `id`; while the session's share of the server's tools is
/// spent (a margin over a whole CT takes seconds), it waits and asks again, as a client
/// is told to.
pub(crate) async fn edit(client: &mut Client, id: u32, tool: SegmentTool) -> SegmentInfo {
    edit_answered(client, id, tool)
        .await
        .unwrap_or_else(|refusal| panic!("refused: {refusal:?}"))
}

/// The answer to `tool` on segment `id`, asked again while the session's share of the
/// server's tools is spent (as a client is told to): the segment, or the refusal.
async fn edit_answered(
    client: &mut Client,
    id: u32,
    tool: SegmentTool,
) -> Result<SegmentInfo, (ErrorCode, String)> {
    for _ in 0..60 {
        let message = ClientMessage::SegmentEdit(SegmentEdit {
            id,
            tool: tool.clone(),
        });
        match answer(client, message).await {
            Err((ErrorCode::RateLimited, _)) => tokio::time::sleep(Duration::from_secs(1)).await,
            answered => return answered,
        }
    }
    panic!("the share never came back");
}

pub(crate) fn create() -> ClientMessage {
    ClientMessage::Segment(SegmentRequest {
        action: SegmentAction::Create,
        id: None,
        label: Some("Bone".to_string()),
        colour: Some([240, 240, 200]),
        category: Some("SCT:85756007:Tissue".to_string()),
        property_type: Some("SCT:272673000:Bone".to_string()),
        visible: None,
        opacity: None,
        locked: None,
    })
}

/// `hounsfield segment` on the CT with `args`, as JSON.
fn command_line(args: &[&str]) -> Value {
    let ct = ct().to_string_lossy().into_owned();
    support::hounsfield_json(&[&["segment", ct.as_str(), "--json"], args].concat())
}

/// The server's numbers are the command line's.
fn same_numbers(info: &SegmentInfo, cli: &Value) {
    assert_eq!(
        Some(info.numbers.voxels as u64),
        cli["voxels"].as_u64(),
        "{info:?}\n{cli}"
    );
    assert_eq!(Some(info.numbers.volume_ml), cli["volume_ml"].as_f64());
    assert_eq!(info.numbers.mean, cli["mean"].as_f64());
    assert_eq!(info.numbers.median, cli["median"].as_f64());
    assert_eq!(Some(info.numbers.surface_mm2), cli["surface_mm2"].as_f64());
}

#[test]
fn a_readers_edits_equal_the_command_lines_and_reach_every_session() {
    let state = tempfile::tempdir().expect("a folder");
    let address = served(state.path());
    support::server::run_within(Duration::from_secs(240), async move {
        let (mut rita, series) = open_ct(address, RITA).await;
        let created = answer(&mut rita, create()).await.expect("created");
        assert_eq!((created.id, created.numbers.voxels), (1, 0));
        assert_eq!(created.property_type, "SCT:272673000:Bone");
        // Threshold, then the largest island: the command line's figures.
        let bone = edit(
            &mut rita,
            1,
            SegmentTool::Threshold {
                low: 300.0,
                high: 3000.0,
            },
        )
        .await;
        same_numbers(&bone, &command_line(&["--threshold", "300,3000"]));
        assert_eq!(bone.algorithm, "SEMIAUTOMATIC");
        let largest = edit(&mut rita, 1, SegmentTool::Islands(IslandsKeep::Largest)).await;
        same_numbers(
            &largest,
            &command_line(&["--threshold", "300,3000", "--largest"]),
        );
        assert_eq!((largest.undo, largest.redo), (2, 0));
        // Undo and redo come back to the same numbers.
        let undone = answer(&mut rita, ClientMessage::SegmentUndo { id: 1, redo: false })
            .await
            .expect("undone");
        assert_eq!(undone.numbers, bone.numbers);
        assert_eq!((undone.undo, undone.redo), (1, 1));
        let redone = answer(&mut rita, ClientMessage::SegmentUndo { id: 1, redo: true })
            .await
            .expect("redone");
        assert_eq!(redone.numbers, largest.numbers);
        // Sam opens the series and is told the segment as it stands.
        let mut sam = support::server::signed_in(address, SAM, VIEWPORT).await;
        sam.open(&series).await.expect("opened");
        let segments = told(&mut sam, Duration::from_secs(10), |told| match told {
            ServerMessage::Segments { segments, .. } => Some(segments),
            _ => None,
        })
        .await
        .expect("segments after opened");
        assert_eq!(segments.len(), 1);
        assert_eq!(segments[0].numbers, largest.numbers);
        // A second segment grown from a click on bone, as the command line grows from
        // the same point.
        let (at, lps) = support::server::probed_in_cell(&mut rita, "axial", 1..20, 300.0..=3000.0)
            .await
            .expect("bone on the axial cell");
        let second = answer(&mut rita, create()).await.expect("created");
        let grown = edit(
            &mut rita,
            second.id,
            SegmentTool::Grow {
                cell: "axial".to_string(),
                x: at[0],
                y: at[1],
                low: 300.0,
                high: 3000.0,
            },
        )
        .await;
        let seed = format!("--seed={},{},{}", lps[0], lps[1], lps[2]);
        same_numbers(&grown, &command_line(&["--threshold", "300,3000", &seed]));
        let widened = edit(&mut rita, second.id, SegmentTool::Margin { mm: 2.0 }).await;
        same_numbers(
            &widened,
            &command_line(&["--threshold", "300,3000", &seed, "--margin", "2"]),
        );
        // Smoothed by a closing, as the command line closes after the same margin.
        let closed = edit(&mut rita, second.id, SegmentTool::Closing { mm: 1.5 }).await;
        same_numbers(
            &closed,
            &command_line(&[
                "--threshold",
                "300,3000",
                &seed,
                "--margin",
                "2",
                "--closing",
                "1.5",
            ]),
        );
        let undone = answer(
            &mut rita,
            ClientMessage::SegmentUndo {
                id: second.id,
                redo: false,
            },
        )
        .await
        .expect("undone");
        assert_eq!(undone.numbers, widened.numbers);
        // A stroke of the brush adds voxels and the eraser takes them out again.
        let painted = edit(
            &mut rita,
            second.id,
            SegmentTool::Paint {
                cell: "axial".to_string(),
                points: vec![[0.3, 0.3], [0.32, 0.3]],
                radius_mm: 3.0,
                within: None,
                shape: None,
            },
        )
        .await;
        assert!(painted.numbers.voxels > widened.numbers.voxels);
        assert_eq!(
            painted.algorithm, "SEMIAUTOMATIC",
            "a hand on a tool's segment"
        );
        let erased = edit(
            &mut rita,
            second.id,
            SegmentTool::Erase {
                cell: "axial".to_string(),
                points: vec![[0.3, 0.3], [0.32, 0.3]],
                radius_mm: 3.0,
                shape: None,
            },
        )
        .await;
        assert!(erased.numbers.voxels <= widened.numbers.voxels);
        // Sam asks again and sees both as Rita left them.
        sam.send(&ClientMessage::Segments).await.expect("sent");
        let segments = told(&mut sam, Duration::from_secs(10), |told| match told {
            ServerMessage::Segments { segments, .. } => Some(segments),
            _ => None,
        })
        .await
        .expect("segments");
        assert_eq!(segments.len(), 2);
        assert_eq!(segments[1].numbers, erased.numbers);
        assert_eq!(segments[1].author, "rita");
        // Saved: a Segmentation in the findings folder, as the server measured it.
        rita.send(&ClientMessage::SaveSegments).await.expect("sent");
        let saved = told(&mut rita, Duration::from_secs(60), |told| match told {
            ServerMessage::Saved(saved) => Some(saved),
            ServerMessage::Error { code, message } => panic!("{code:?}: {message}"),
            _ => None,
        })
        .await
        .expect("saved");
        assert_eq!(saved.document, "segmentation");
        assert_eq!(saved.stored_in, "findings folder");
        check_saved(Path::new(&saved.location), &[&redone, &erased]);
        check_report(
            Path::new(&saved.location),
            &saved.sop_instance_uid,
            &[&redone, &erased],
        );
    });
}

/// Beside the Segmentation, a Measurement Report that highdicom reads: a volumetric group
/// for each segment, naming it in that Segmentation (by number, in order) and the series
/// it was drawn on, with the numbers the server told; it passes `dciodvfy`.
fn check_report(segmentation: &Path, segmentation_uid: &str, told: &[&SegmentInfo]) {
    let folder = segmentation.parent().expect("the study's folder");
    let read = support::imaging_python_script(
        "highdicom_segment_report.py",
        &[&folder.to_string_lossy(), &segmentation.to_string_lossy()],
    );
    let groups: Vec<&Value> = read["groups"]
        .as_array()
        .expect("a list")
        .iter()
        .filter(|group| group["segmentation_uid"] == segmentation_uid)
        .collect();
    assert_eq!(groups.len(), told.len(), "{groups:?}");
    for (number, (group, info)) in (1..).zip(groups.iter().zip(told)) {
        assert_eq!(group["segment_number"], number, "{group}");
        assert_eq!(group["tracking_identifier"], info.label.as_str());
        assert_eq!(
            group["finding"],
            info.property_type.split(':').nth(1).unwrap_or_default()
        );
        assert_eq!(
            group["volume_ml"].as_f64(),
            Some(info.numbers.volume_ml),
            "{group}"
        );
        for (name, value) in [
            ("mean", info.numbers.mean),
            ("sd", info.numbers.sd),
            ("min", info.numbers.min),
            ("max", info.numbers.max),
        ] {
            let read = group[name].as_f64().expect("a number");
            let said = value.expect("a number told");
            assert!(
                (read - said).abs() <= 1e-6 * said.abs().max(1.0),
                "{name}: {read} against {said}"
            );
        }
        assert_eq!(group["source_series"], read["segmented_series"], "{group}");
    }
    let report = groups[0]["report"].as_str().expect("the report's file");
    support::dciodvfy_passes(Path::new(report));
}

/// The stored Segmentation passes `dciodvfy` and, read back onto the CT, measures what
/// the server told of each segment.
fn check_saved(file: &Path, segments: &[&SegmentInfo]) {
    support::dciodvfy_passes(file);
    let ct = ct().to_string_lossy().into_owned();
    let measured = support::hounsfield_json(&[
        "segments",
        "measure",
        &file.to_string_lossy(),
        "--on",
        &ct,
        "--json",
    ]);
    let read = measured["segments"].as_array().expect("segments");
    assert_eq!(read.len(), segments.len());
    for (read, told) in read.iter().zip(segments) {
        assert_eq!(read["voxels"].as_u64(), Some(told.numbers.voxels as u64));
        assert_eq!(read["label"], told.label.as_str());
    }
}

#[test]
fn a_follower_is_told_each_edit_and_a_viewer_may_look_but_not_edit() {
    let state = tempfile::tempdir().expect("a folder");
    let address = served(state.path());
    support::server::run_within(Duration::from_secs(120), async move {
        let (mut rita, _series) = open_ct(address, RITA).await;
        let mut vera = joined(address, &mut rita, VERA).await;
        let created = answer(&mut rita, create()).await.expect("created");
        let shared = told(&mut vera, Duration::from_secs(10), |told| match told {
            ServerMessage::SharedSegment { name, segment, .. } => Some((name, *segment)),
            _ => None,
        })
        .await
        .expect("told the new segment");
        assert_eq!(shared, ("rita".to_string(), created.clone()));
        let bone = edit(
            &mut rita,
            created.id,
            SegmentTool::Threshold {
                low: 1500.0,
                high: 3000.0,
            },
        )
        .await;
        let shared = told(&mut vera, Duration::from_secs(30), |told| match told {
            ServerMessage::SharedSegment { segment, .. } => Some(*segment),
            _ => None,
        })
        .await
        .expect("told the edit");
        assert_eq!(shared.numbers, bone.numbers);
        // Vera may look, not edit, undo or save.
        for message in [
            ClientMessage::SegmentEdit(SegmentEdit {
                id: created.id,
                tool: SegmentTool::Clear,
            }),
            ClientMessage::SegmentUndo {
                id: created.id,
                redo: false,
            },
            ClientMessage::SaveSegments,
            create(),
        ] {
            let refused = answer(&mut vera, message).await.expect_err("refused");
            assert_eq!(refused.0, ErrorCode::Forbidden, "{refused:?}");
        }
        vera.send(&ClientMessage::Segments).await.expect("sent");
        let looked = told(&mut vera, Duration::from_secs(10), |told| match told {
            ServerMessage::Segments { segments, .. } => Some(segments),
            _ => None,
        })
        .await
        .expect("segments");
        assert_eq!(looked[0].numbers, bone.numbers);
        // Bad values are refused by field, and the segment is as it was.
        for (tool, field) in [
            (
                SegmentTool::Threshold {
                    low: 10.0,
                    high: -10.0,
                },
                "low value first",
            ),
            (SegmentTool::Margin { mm: 500.0 }, "margin"),
            (
                SegmentTool::Paint {
                    cell: "axial".to_string(),
                    points: vec![[0.5, 0.5]; 300],
                    radius_mm: 2.0,
                    within: None,
                    shape: None,
                },
                "points",
            ),
            (
                SegmentTool::Grow {
                    cell: "oblique".to_string(),
                    x: 0.5,
                    y: 0.5,
                    low: 0.0,
                    high: 1.0,
                },
                "oblique",
            ),
        ] {
            // Some values are checked as the tool runs, after the session's share.
            let (code, said) = edit_answered(&mut rita, created.id, tool)
                .await
                .expect_err("refused");
            assert_eq!(code, ErrorCode::BadValue, "{said}");
            assert!(said.contains(field), "{field}: {said}");
        }
        let unknown = answer(
            &mut rita,
            ClientMessage::SegmentEdit(SegmentEdit {
                id: 99,
                tool: SegmentTool::Clear,
            }),
        )
        .await
        .expect_err("refused");
        assert!(unknown.1.contains("99"), "{unknown:?}");
    });
}

/// A lossless still of `client`'s view once it has settled: stills are taken until two
/// in a row are the same picture (a change to the segments asks for a still of its own,
/// which may still be on its way when the next is asked).
async fn settled_still(client: &mut Client) -> (u32, u32, Vec<u8>) {
    try_settled_still(client).await.expect("frames")
}

/// [`settled_still`], or the error the server told instead of a frame.
async fn try_settled_still(client: &mut Client) -> Result<(u32, u32, Vec<u8>), ClientError> {
    let mut last = None;
    for _ in 0..8 {
        let still = support::server::try_lossless_still(client)
            .await?
            .decode_rgba()
            .expect("a PNG");
        if last.as_ref() == Some(&still) {
            return Ok(still);
        }
        last = Some(still);
    }
    panic!("the view never settled");
}

/// Sends a tool's `message` and takes the settled still it brings, sending it again a
/// second later while the session's share of tool time refuses it: on a loaded machine
/// one preview can spend more than a second's share, and the bound working is not what
/// these tests look at.
async fn within_the_share(client: &mut Client, message: &ClientMessage) -> (u32, u32, Vec<u8>) {
    for _ in 0..30 {
        client.send(message).await.expect("sent");
        match try_settled_still(client).await {
            Ok(still) => return still,
            Err(ClientError::Server {
                code: ErrorCode::RateLimited,
                ..
            }) => tokio::time::sleep(Duration::from_secs(1)).await,
            Err(other) => panic!("{other}"),
        }
    }
    panic!("the share of tool time never came back");
}

/// The RGB of pixel (`x`, `y`) of a decoded frame.
fn pixel((width, _, rgba): &(u32, u32, Vec<u8>), x: u32, y: u32) -> [u8; 3] {
    let at = (y * width + x) as usize * 4;
    [rgba[at], rgba[at + 1], rgba[at + 2]]
}

#[test]
fn a_segment_shows_over_the_slice_cells_where_it_lies_and_hides_when_asked() {
    let state = tempfile::tempdir().expect("a folder");
    let address = served(state.path());
    support::server::run_within(Duration::from_secs(120), async move {
        let (mut rita, _series) = open_ct(address, RITA).await;
        rita.input(hounsfield_protocol::Action::Layout {
            name: hounsfield_protocol::Layout::Quad.name().to_string(),
        })
        .await
        .expect("sent");
        let mm_per_pixel = told(&mut rita, Duration::from_secs(10), |told| match told {
            ServerMessage::Crosshair {
                mm_per_pixel: Some(scales),
                ..
            } => Some(scales.axial),
            _ => None,
        })
        .await
        .expect("the slices' scale");
        let before = settled_still(&mut rita).await;
        // A red segment, opaque: a 10 mm brush at the middle of the axial cell.
        let mut red = create();
        if let ClientMessage::Segment(request) = &mut red {
            request.colour = Some([255, 0, 0]);
            request.opacity = Some(1.0);
        }
        let created = answer(&mut rita, red).await.expect("created");
        edit(
            &mut rita,
            created.id,
            SegmentTool::Paint {
                cell: "axial".to_string(),
                points: vec![[0.5, 0.5]],
                radius_mm: 10.0,
                within: None,
                shape: None,
            },
        )
        .await;
        let after = settled_still(&mut rita).await;
        // The axial cell is the top right one of the 2×2 frame.
        let (width, height) = (after.0, after.1);
        let (left, top) = (width / 2, height / 2);
        let (centre_x, centre_y) = (left + (width - left) / 2, top / 2);
        let radius_px = 10.0 / mm_per_pixel;
        let at = |r: f64| (centre_x + r.round() as u32, centre_y);
        // Inside the disc, red; well outside, the picture as it was.
        for r in [0.0, 0.5 * radius_px, 0.8 * radius_px] {
            let (x, y) = at(r);
            assert_eq!(
                pixel(&after, x, y),
                [255, 0, 0],
                "{r:.1} px from the centre"
            );
        }
        for r in [1.3 * radius_px, 2.0 * radius_px] {
            let (x, y) = at(r);
            assert_eq!(pixel(&after, x, y), pixel(&before, x, y), "{r:.1} px");
        }
        // Hidden, it shows no more.
        let hide = ClientMessage::Segment(SegmentRequest {
            action: SegmentAction::Update,
            id: Some(created.id),
            label: None,
            colour: None,
            category: None,
            property_type: None,
            visible: Some(false),
            opacity: None,
            locked: None,
        });
        answer(&mut rita, hide).await.expect("hidden");
        let hidden = settled_still(&mut rita).await;
        assert_eq!(
            pixel(&hidden, centre_x, centre_y),
            pixel(&before, centre_x, centre_y)
        );
        previewed_over_the_slices(&mut rita, created.id, &hidden, (centre_x, centre_y)).await;
    });
}

/// A threshold's preview (`segment_preview`) over `hidden`'s slice cells: a range holding
/// every value lays segment `id`'s red at 0.4 over the axial cell's middle, the 3D cell
/// as it was; a range no voxel has changes nothing; no range takes it away; a range the
/// wrong way round is refused by name.
async fn previewed_over_the_slices(
    rita: &mut Client,
    id: u32,
    hidden: &(u32, u32, Vec<u8>),
    (x, y): (u32, u32),
) {
    let preview = |range: Option<[f64; 2]>| {
        ClientMessage::SegmentPreview(SegmentPreview {
            id: Some(id),
            low: range.map(|[low, _]| low),
            high: range.map(|[_, high]| high),
        })
    };
    let previewed = within_the_share(rita, &preview(Some([-5000.0, 50_000.0]))).await;
    let blended = pixel(hidden, x, y).map(|c| f32::from(c) * 0.6);
    let expected = [blended[0] + 255.0 * 0.4, blended[1], blended[2]].map(|c| c.round() as u8);
    let shown = pixel(&previewed, x, y);
    assert!(
        shown.iter().zip(expected).all(|(a, b)| a.abs_diff(b) <= 1),
        "red at 0.4 over the slice: {shown:?}, not {expected:?}"
    );
    // The 3D cell (top left) is as it was.
    let (width, height) = (hidden.0, hidden.1);
    for (py, px) in (0..height / 2).flat_map(|py| (0..width / 2).map(move |px| (py, px))) {
        assert_eq!(
            pixel(&previewed, px, py),
            pixel(hidden, px, py),
            "3D at {px},{py}"
        );
    }
    let nothing = within_the_share(rita, &preview(Some([40_000.0, 50_000.0]))).await;
    assert_eq!(pixel(&nothing, x, y), pixel(hidden, x, y));
    assert!(
        within_the_share(rita, &preview(None)).await == *hidden,
        "no preview: as before"
    );
    let mut refused = (ErrorCode::RateLimited, String::new());
    for _ in 0..30 {
        rita.send(&preview(Some([300.0, 100.0])))
            .await
            .expect("sent");
        refused = the_refusal(rita).await;
        if refused.0 != ErrorCode::RateLimited {
            break;
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    assert_eq!(refused.0, ErrorCode::BadValue);
    assert!(refused.1.contains("segment_preview"), "{refused:?}");
}

/// `pixels` (rows of `width`) grown by one pixel each way, diagonals included.
fn within_a_pixel(pixels: &[bool], width: usize) -> Vec<bool> {
    let height = pixels.len() / width;
    let at = |x: usize, y: usize| pixels[y * width + x];
    (0..pixels.len())
        .map(|n| {
            let (x, y) = (n % width, n / width);
            (y.saturating_sub(1)..=(y + 1).min(height - 1))
                .any(|y| (x.saturating_sub(1)..=(x + 1).min(width - 1)).any(|x| at(x, y)))
        })
        .collect()
}

/// The pixels of `still` that `hit` says yes to, in raster order.
fn hits((_, _, rgba): &(u32, u32, Vec<u8>), hit: impl Fn(&[u8]) -> bool) -> Vec<bool> {
    rgba.chunks_exact(4).map(hit).collect()
}

#[test]
fn a_segment_shows_in_the_3d_view_alone_where_a_mip_of_its_range_reaches_and_hides_when_asked() {
    let state = tempfile::tempdir().expect("a folder");
    let address = served(state.path());
    support::server::run_within(Duration::from_secs(180), async move {
        let (mut rita, _series) = open_ct(address, RITA).await;
        let before = settled_still(&mut rita).await;
        let mut red = create();
        if let ClientMessage::Segment(request) = &mut red {
            request.colour = Some([255, 0, 0]);
            request.opacity = Some(1.0);
        }
        let created = answer(&mut rita, red).await.expect("created");
        let (low, high) = (300.0, 4000.0);
        let bone = edit(&mut rita, created.id, SegmentTool::Threshold { low, high }).await;
        assert!(bone.numbers.voxels > 100_000, "{bone:?}");
        let show = |show: &str| hounsfield_protocol::Action::Segments3d {
            show: show.to_string(),
        };
        rita.input(show("alone")).await.expect("sent");
        let alone = settled_still(&mut rita).await;
        // The reference: a MIP whose grey passes one half at the threshold.
        rita.input(hounsfield_protocol::Action::Mode {
            mode: "mip".to_string(),
        })
        .await
        .expect("sent");
        rita.input(hounsfield_protocol::Action::Window {
            width: 2.0,
            center: low - 0.5,
        })
        .await
        .expect("sent");
        let mip = settled_still(&mut rita).await;

        let width = alone.0 as usize;
        let segment = hits(&alone, |p| p[0] > 40);
        let reached = hits(&mip, |p| p[0] >= 128);
        let covered = segment.iter().filter(|&&hit| hit).count();
        assert!(covered > 20_000, "the bone shows in {covered} pixels");
        // The segment is drawn voxel by voxel, the MIP reads between voxels: at the bone's
        // edges they part by a pixel, and where thin bone holds a voxel over the threshold
        // that no point between voxels reaches, the segment shows alone (0.46% of the
        // pixels when written).
        let astray = |shown: &[bool], reference: &[bool]| {
            let near = within_a_pixel(reference, width);
            shown.iter().zip(&near).filter(|(s, n)| **s && !**n).count()
        };
        let (segment_astray, mip_astray) = (astray(&segment, &reached), astray(&reached, &segment));
        assert!(
            segment_astray * 100 <= covered && mip_astray * 500 <= covered,
            "{segment_astray} segment pixels (at most 1%) and {mip_astray} MIP pixels (at \
             most 0.2%) of {covered} lie over a pixel from the other"
        );
        for p in alone.2.chunks_exact(4) {
            if p[0] > 40 {
                assert!(p[1] <= 40 && p[2] <= 40, "a lit red: {p:?}");
            } else {
                assert_eq!(&p[..3], &[0, 0, 0], "nothing but the segment, on black");
            }
        }
        // Hidden in 3D (the slices keep it): the picture from before the segment.
        rita.input(hounsfield_protocol::Action::Mode {
            mode: "composite".to_string(),
        })
        .await
        .expect("sent");
        rita.input(show("hidden")).await.expect("sent");
        let hidden = settled_still(&mut rita).await;
        assert!(hidden == before, "hidden in 3D, the picture is as before");
        // An unknown way is refused by name.
        rita.input(show("ghostly")).await.expect("sent");
        let refusal = told(&mut rita, Duration::from_secs(10), |told| match told {
            ServerMessage::Error { message, .. } => Some(message),
            _ => None,
        })
        .await
        .expect("a refusal");
        assert!(
            refusal.contains("ghostly") && refusal.contains("alone"),
            "{refusal}"
        );
    });
}

/// A segment named `label`.
fn create_labelled(label: &str) -> ClientMessage {
    let mut message = create();
    if let ClientMessage::Segment(request) = &mut message {
        request.label = Some(label.to_string());
    }
    message
}

/// A disc of `radius_mm` painted at fractions `at` of the axial cell.
fn disc(at: [f64; 2], radius_mm: f64) -> SegmentTool {
    SegmentTool::Paint {
        cell: "axial".to_string(),
        points: vec![at],
        radius_mm,
        within: None,
        shape: Some(BrushShape::Disc),
    }
}

/// The patient point (LPS mm) at fractions `at` of `cell`, as the server places it.
async fn probed(client: &mut Client, cell: &str, at: [f64; 2]) -> [f64; 3] {
    support::server::probe(client, cell, at).await.lps_mm
}

/// A point of the axial cell on bone (300 HU and above) at least `mm` from `point` (LPS).
async fn bone_away_from(client: &mut Client, point: [f64; 3], mm: f64) -> [f64; 2] {
    for row in 1..20 {
        for column in 1..20 {
            let at = [f64::from(column) / 20.0, f64::from(row) / 20.0];
            // Probes are limited to so many a second, as a client's pointer sends them.
            tokio::time::sleep(Duration::from_millis(40)).await;
            client
                .send(&ClientMessage::Probe {
                    cell: "axial".to_string(),
                    x: at[0],
                    y: at[1],
                })
                .await
                .expect("sent");
            let probed = told(client, Duration::from_secs(10), |told| match told {
                ServerMessage::Probe { lps_mm, value, .. } => Some(Some((lps_mm, value))),
                ServerMessage::Error { .. } => Some(None),
                _ => None,
            })
            .await
            .flatten();
            let Some((lps, value)) = probed else {
                continue;
            };
            let away = (lps[0] - point[0]).hypot(lps[1] - point[1]);
            if value.is_some_and(|v| v >= 300.0) && away >= mm {
                return at;
            }
        }
    }
    panic!("no bone {mm} mm from {point:?} on the axial cell");
}

/// The voxel centres of one axial slice of the CT within `radius_mm` of `point` in the
/// slice's plane, counted from its first file's position and pixel spacing (the CT's rows
/// and columns run along L and P).
fn disc_centres(point: [f64; 3], radius_mm: f64) -> usize {
    use dicom_dictionary_std::tags;
    let file = std::fs::read_dir(ct())
        .expect("the CT's folder")
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .find(|path| path.is_file())
        .expect("a file");
    let object = dicom_object::open_file(&file).expect("a DICOM file");
    let floats = |tag| {
        object
            .element(tag)
            .expect("present")
            .to_multi_float64()
            .expect("numbers")
    };
    let whole = |tag| {
        object
            .element(tag)
            .expect("present")
            .to_int::<usize>()
            .expect("a number")
    };
    let (position, spacing) = (
        floats(tags::IMAGE_POSITION_PATIENT),
        floats(tags::PIXEL_SPACING),
    );
    assert_eq!(
        floats(tags::IMAGE_ORIENTATION_PATIENT),
        vec![1.0, 0.0, 0.0, 0.0, 1.0, 0.0]
    );
    let (rows, columns) = (whole(tags::ROWS), whole(tags::COLUMNS));
    (0..rows)
        .flat_map(|j| (0..columns).map(move |i| (i, j)))
        .filter(|&(i, j)| {
            let x = position[0] + i as f64 * spacing[1] - point[0];
            let y = position[1] + j as f64 * spacing[0] - point[1];
            x * x + y * y <= radius_mm * radius_mm
        })
        .count()
}

#[test]
fn a_disc_fill_between_median_and_grow_from_seeds_equal_what_they_say() {
    let state = tempfile::tempdir().expect("a folder");
    let address = served(state.path());
    support::server::run_within(Duration::from_secs(300), async move {
        let (mut rita, _series) = open_ct(address, RITA).await;
        // Sam follows Rita's session and is told every segment change.
        let mut sam = joined(address, &mut rita, SAM).await;
        // A 5 mm disc on soft tissue of the axial cell: one slice, the centres within 5 mm.
        let (soft, _) = support::server::probed_in_cell(&mut rita, "axial", 6..14, 20.0..=80.0)
            .await
            .expect("soft tissue on the axial cell");
        let cylinder = answer(&mut rita, create_labelled("Cylinder"))
            .await
            .expect("created");
        let first_point = probed(&mut rita, "axial", soft).await;
        let painted = edit(&mut rita, cylinder.id, disc(soft, 5.0)).await;
        let centres = disc_centres(first_point, 5.0);
        assert_eq!(painted.numbers.voxels, centres, "{painted:?}");
        assert_eq!(painted.numbers.extent_mm[2], 1.0, "one slice: {painted:?}");
        // 4 mm further, another: fill between makes the 3 slices between them alike.
        rita.input(Action::Slice {
            plane: "axial".to_string(),
            delta_mm: 4.0,
        })
        .await
        .expect("sent");
        let second_point = probed(&mut rita, "axial", soft).await;
        assert!((second_point[2] - first_point[2] - 4.0).abs() < 1e-6);
        let two = edit(&mut rita, cylinder.id, disc(soft, 5.0)).await;
        assert_eq!(two.numbers.voxels, 2 * centres);
        let filled = edit(
            &mut rita,
            cylinder.id,
            SegmentTool::FillBetween {
                cell: None,
                plane: Some(GridPlaneName::Axial),
            },
        )
        .await;
        assert_eq!(filled.numbers.voxels, 5 * centres, "{filled:?}");
        assert_eq!(filled.numbers.extent_mm[2], 5.0);
        // A median of the region grown from a click on bone, as the command line makes it.
        let (bone, lps) =
            support::server::probed_in_cell(&mut rita, "axial", 1..20, 300.0..=3000.0)
                .await
                .expect("bone on the axial cell");
        let region = answer(&mut rita, create_labelled("Bone"))
            .await
            .expect("created");
        edit(
            &mut rita,
            region.id,
            SegmentTool::Grow {
                cell: "axial".to_string(),
                x: bone[0],
                y: bone[1],
                low: 300.0,
                high: 3000.0,
            },
        )
        .await;
        let smoothed = edit(&mut rita, region.id, SegmentTool::Median { mm: 1.0 }).await;
        let seed = format!("--seed={},{},{}", lps[0], lps[1], lps[2]);
        same_numbers(
            &smoothed,
            &command_line(&["--threshold", "300,3000", &seed, "--median", "1"]),
        );
        // The bone region goes; a disc on bone becomes the second seed.
        let deleted =
            ClientMessage::Segment(SegmentRequest::bare(SegmentAction::Delete, Some(region.id)));
        rita.send(&deleted).await.expect("sent");
        let marrow = answer(&mut rita, create_labelled("Bone seed"))
            .await
            .expect("created");
        let far_bone = bone_away_from(&mut rita, second_point, 15.0).await;
        let seeded = edit(&mut rita, marrow.id, disc(far_bone, 2.0)).await;
        // Saved as they are, the seeds are what the command line starts from.
        rita.send(&ClientMessage::SaveSegments).await.expect("sent");
        let saved = told(&mut rita, Duration::from_secs(60), |told| match told {
            ServerMessage::Saved(saved) => Some(saved),
            ServerMessage::Error { code, message } => panic!("{code:?}: {message}"),
            _ => None,
        })
        .await
        .expect("saved");
        grown_from_seeds_as_the_command_line_grows_them(
            &mut rita,
            &mut sam,
            [&filled, &seeded],
            &saved.location,
        )
        .await;
        filled_between_on_a_turned_cell(&mut rita, soft).await;
    });
}

/// The axial cell turned 30° about the sagittal normal: two 5 mm discs drawn on its slices
/// 4 mm apart are joined by the turned slices between, a cylinder 4 mm longer than one
/// disc (π r² d more, within 6 %: the discs' rims on the voxels).
async fn filled_between_on_a_turned_cell(rita: &mut Client, soft: [f64; 2]) {
    rita.input(Action::TurnPlanes {
        plane: "sagittal".to_string(),
        degrees: 30.0,
    })
    .await
    .expect("sent");
    let turned = answer(rita, create_labelled("Turned cylinder"))
        .await
        .expect("created");
    let one = edit(rita, turned.id, disc(soft, 5.0)).await;
    rita.input(Action::Slice {
        plane: "axial".to_string(),
        delta_mm: 4.0,
    })
    .await
    .expect("sent");
    let two = edit(rita, turned.id, disc(soft, 5.0)).await;
    assert!(
        two.numbers.voxels > one.numbers.voxels * 19 / 10,
        "two discs apart: {one:?} {two:?}"
    );
    // A grid plane's fill finds no gap between the turned discs' axial slices; the
    // cell's turned plane does.
    let filled = edit(
        rita,
        turned.id,
        SegmentTool::FillBetween {
            cell: Some("axial".to_string()),
            plane: None,
        },
    )
    .await;
    let added_mm3 = (filled.numbers.volume_ml - one.numbers.volume_ml) * 1000.0;
    let expected = std::f64::consts::PI * 25.0 * 4.0;
    assert!(
        (added_mm3 / expected - 1.0).abs() < 0.06,
        "{added_mm3} mm³ beyond one disc, not about {expected}: {one:?} {filled:?}"
    );
    assert_eq!(filled.algorithm, "SEMIAUTOMATIC", "{filled:?}");
    // Neither a cell and a plane at once, nor neither.
    rita.send(&ClientMessage::SegmentEdit(SegmentEdit {
        id: turned.id,
        tool: SegmentTool::FillBetween {
            cell: None,
            plane: None,
        },
    }))
    .await
    .expect("sent");
    let refused = the_refusal(rita).await;
    assert!(refused.1.contains("fill_between"), "{refused:?}");
}

/// The next error the server tells `client`: its code and message.
async fn the_refusal(client: &mut Client) -> (ErrorCode, String) {
    told(client, Duration::from_secs(10), |told| match told {
        ServerMessage::Error { code, message } => Some((code, message)),
        _ => None,
    })
    .await
    .expect("refused")
}

/// Grow from seeds on the two segments `[filled, seeded]` (as they stand, saved in
/// `saved`): both change, each told to Rita and to Sam who follows her, with the numbers
/// the command line gives from the saved Segmentation; each takes its step back alone.
async fn grown_from_seeds_as_the_command_line_grows_them(
    rita: &mut Client,
    sam: &mut Client,
    [filled, seeded]: [&SegmentInfo; 2],
    saved: &str,
) {
    // Grow from seeds: both segments change, each told to Rita and to Sam.
    rita.send(&ClientMessage::SegmentEdit(SegmentEdit {
        id: filled.id,
        tool: SegmentTool::GrowFromSeeds {
            others: vec![seeded.id],
        },
    }))
    .await
    .expect("sent");
    let mut grown = Vec::new();
    while grown.len() < 2 {
        let info = told(rita, Duration::from_secs(60), |told| match told {
            ServerMessage::Segment(info) => Some(*info),
            ServerMessage::Error { code, message } => panic!("{code:?}: {message}"),
            _ => None,
        })
        .await
        .expect("each segment grown");
        grown.push(info);
    }
    grown.sort_by_key(|info| info.id);
    let mut followed = Vec::new();
    while followed.len() < 2 {
        let info = told(sam, Duration::from_secs(30), |told| match told {
            ServerMessage::SharedSegment { segment, .. }
                if segment.algorithm == "SEMIAUTOMATIC" && segment.undo > 0 =>
            {
                Some(*segment)
            }
            _ => None,
        })
        .await
        .expect("told each segment grown");
        if grown.contains(&info) && !followed.contains(&info) {
            followed.push(info);
        }
    }
    let ct = ct().to_string_lossy().into_owned();
    let cli = support::hounsfield_json(&[
        "segment",
        &ct,
        "--from",
        saved,
        "--grow-from-seeds",
        "--json",
    ]);
    for info in &grown {
        let theirs = cli["segments"]
            .as_array()
            .and_then(|all| all.iter().find(|s| s["label"] == info.label.as_str()))
            .unwrap_or_else(|| panic!("{}: {cli}", info.label));
        same_numbers(info, theirs);
    }
    assert!(grown[0].numbers.voxels > filled.numbers.voxels);
    assert!(grown[1].numbers.voxels > seeded.numbers.voxels);
    // Each segment takes its step back on its own.
    let undone = answer(
        rita,
        ClientMessage::SegmentUndo {
            id: seeded.id,
            redo: false,
        },
    )
    .await
    .expect("undone");
    assert_eq!(undone.numbers, seeded.numbers);
    rita.send(&ClientMessage::Segments).await.expect("sent");
    let segments = told(rita, Duration::from_secs(10), |told| match told {
        ServerMessage::Segments { segments, .. } => Some(segments),
        _ => None,
    })
    .await
    .expect("segments");
    let kept = segments.iter().find(|s| s.id == filled.id).expect("kept");
    assert_eq!(kept.numbers, grown[0].numbers);
    // A segment that is not there, or seeds alone, are refused by name.
    for (others, said) in [(vec![99], "99"), (vec![], "2 to")] {
        let refused = answer(
            rita,
            ClientMessage::SegmentEdit(SegmentEdit {
                id: filled.id,
                tool: SegmentTool::GrowFromSeeds { others },
            }),
        )
        .await
        .expect_err("refused");
        assert!(refused.1.contains(said), "{refused:?}");
    }
}

#[test]
fn a_segment_split_into_its_islands_keeps_every_voxel_and_its_largest_is_the_command_lines() {
    let state = tempfile::tempdir().expect("a folder");
    let address = served(state.path());
    support::server::run_within(Duration::from_secs(180), async move {
        let (mut rita, _series) = open_ct(address, RITA).await;
        let created = answer(&mut rita, create()).await.expect("created");
        edit(
            &mut rita,
            created.id,
            SegmentTool::Threshold {
                low: 300.0,
                high: 3000.0,
            },
        )
        .await;
        // Bone in 300..3000 HU falls apart in more islands than a series has room for
        // segments: refused whole, naming the way out.
        let split = ClientMessage::SegmentEdit(SegmentEdit {
            id: created.id,
            tool: SegmentTool::Islands(IslandsKeep::Split),
        });
        // Asked again while the threshold's time spends the session's share.
        let refused = edit_answered(
            &mut rita,
            created.id,
            SegmentTool::Islands(IslandsKeep::Split),
        )
        .await
        .expect_err("too many islands");
        assert!(
            refused.1.contains("islands") && refused.1.contains("at_least"),
            "{refused:?}"
        );
        // The islands of 5 cm³ or more, then split.
        let kept = edit(
            &mut rita,
            created.id,
            SegmentTool::Islands(IslandsKeep::AtLeast { min_mm3: 5000.0 }),
        )
        .await;
        // While the session's share of the tools is spent (the islands above took it), it
        // waits and asks again, as a client is told to.
        let first = loop {
            rita.send(&split).await.expect("sent");
            match next_segment(&mut rita).await {
                Ok(first) => break first,
                Err((ErrorCode::RateLimited, _)) => {
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
                Err(refusal) => panic!("refused: {refusal:?}"),
            }
        };
        let mut parts: Vec<SegmentInfo> = Vec::new();
        assert_eq!(first.id, created.id, "the segment keeps its largest island");
        parts.push(first);
        // The others follow as new segments, each named after it, until the total is whole.
        while parts.iter().map(|p| p.numbers.voxels).sum::<usize>() < kept.numbers.voxels {
            let part = next_segment(&mut rita).await.expect("a segment");
            assert_eq!(part.label, format!("Bone {}", parts.len() + 1));
            assert_eq!(part.property_type, "SCT:272673000:Bone");
            parts.push(part);
        }
        assert!(parts.len() >= 2, "{parts:?}");
        assert_eq!(
            parts.iter().map(|p| p.numbers.voxels).sum::<usize>(),
            kept.numbers.voxels
        );
        for pair in parts.windows(2) {
            assert!(
                pair[0].numbers.voxels >= pair[1].numbers.voxels,
                "largest first"
            );
        }
        let largest = command_line(&["--threshold", "300,3000", "--largest"]);
        same_numbers(&parts[0], &largest);
    });
}
