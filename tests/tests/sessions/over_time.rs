//! A series over time on the server, over a real socket (the GE EPI of the shared data: 10
//! volumes of 64 × 64 × 15, one TR of 5 s apart): `opened` lists every volume with the
//! label and time the command line's `info` gives; a probe tells the voxel's value in
//! every volume and the curve's measures, as `hounsfield probe` reads them from the
//! files; a `time_point` input
//! shows that volume (announced before its first frame, and another picture than the
//! first volume's); a `cine` plays the volumes in turn, announcing each, until `cine` 0
//! stops it with a still; a rate past the bound is refused and the session goes on. A
//! region drawn, and a segment, tell their mean in every volume (their curves).

use hounsfield_test_support as support;

use std::time::Duration;

use hounsfield_client::{Client, Event};
use hounsfield_protocol::{Action, ErrorCode, FindingInfo, SegmentTool, ServerMessage};

use super::study_browser::{client, server};

/// How long the test may take.
const LIMIT: Duration = Duration::from_secs(180);
/// The EPI's folder in the shared data.
const EPI: &str = "ge-epi/mr_0004";

#[test]
fn a_series_over_time_steps_plays_and_probes_every_volume() {
    let folder = support::data(EPI).to_string_lossy().into_owned();
    let info = support::hounsfield_json(&["info", &folder, "--json"]);
    let listed = &info["studies"][0]["series"][0];
    let series = listed["id"].as_str().expect("an id").to_string();
    let volumes = listed["volumes"].as_array().expect("volumes").clone();
    assert_eq!(volumes.len(), 10);
    let _ = server();
    support::server::run_within(LIMIT, async move {
        let mut client = client().await;
        let opened = client.open(&series).await.expect("the EPI opens");
        assert_eq!(opened.volumes.len(), 10, "every volume is listed");
        for (told, listed) in opened.volumes.iter().zip(&volumes) {
            assert_eq!(told.label, listed["label"].as_str().expect("a label"));
            assert_eq!(told.time_s, listed["time_s"].as_f64());
        }
        assert!(
            opened.warnings.iter().all(|w| !w.contains("time points")),
            "no volume is left out: {:?}",
            opened.warnings
        );
        let first = support::server::lossless_still(&mut client).await;

        // The probe's curve is the files' values at its point, volume by volume.
        let support::server::Probed {
            lps_mm: lps,
            values,
            curve,
            ..
        } = support::server::probe(&mut client, "axial", [0.55, 0.45]).await;
        let (read, expected) = support::probe_read(&folder, lps);
        assert_eq!(values, expected, "the curve at {lps:?}");
        assert!(
            values.iter().any(|v| *v != values[0]),
            "a voxel inside the head changes over time: {values:?}"
        );
        // Its measures are the command line's, over the volumes' times.
        let curve = serde_json::to_value(curve.expect("the curve's measures")).expect("JSON");
        assert_eq!(curve["time_unit"], "s");
        for measure in [
            "baseline",
            "peak",
            "time_to_peak",
            "wash_in_slope",
            "area_under_curve",
        ] {
            assert_eq!(curve[measure], read["curve"][measure], "{measure}");
        }

        // A region's curve is its mean in every volume: the first is its statistics'
        // on the volume shown, and its measures are those of its values.
        let square = [[0.4, 0.35], [0.6, 0.55]];
        let region = drawn_region(&mut client, square).await;
        let first_mean = region.stats.as_ref().expect("a region's statistics").mean;
        assert_eq!(region.values.len(), 10, "a mean a volume: {region:?}");
        assert!((region.values[0] - first_mean).abs() < 0.01, "{region:?}");
        let peak = region.values.iter().copied().fold(f64::MIN, f64::max);
        assert_eq!(region.curve.expect("the curve's measures").peak, peak);
        // A segment's the same, over its voxels.
        let segment = crate::pacs::segments::answer(&mut client, crate::pacs::segments::create())
            .await
            .expect("a segment");
        let threshold = SegmentTool::Threshold {
            low: 1500.0,
            high: 4000.0,
        };
        let segment = crate::pacs::segments::edit(&mut client, segment.id, threshold.clone()).await;
        let numbers = &segment.numbers;
        assert!(
            numbers.voxels > 100,
            "the head's brighter voxels: {numbers:?}"
        );
        assert_eq!(numbers.values.len(), 10, "a mean a volume: {numbers:?}");
        let mean = numbers.mean.expect("a mean");
        assert!((numbers.values[0] - mean).abs() < 0.01, "{numbers:?}");
        assert!(numbers.curve.is_some(), "{numbers:?}");
        assert!(numbers.suv.is_none(), "an MR has no SUV");

        // One volume shown: announced before its first frame, and another picture.
        let seq = client
            .input(Action::TimePoint { index: 3 })
            .await
            .expect("sent");
        let announced = announcement(&mut client).await;
        assert_eq!(
            (announced.index, announced.count, announced.label.as_str()),
            (3, 10, "volume 4")
        );
        assert_eq!(announced.time_s, Some(15.0));
        assert_eq!(announced.cine_fps, None);
        let frame = client.next_frame().await.expect("a frame");
        assert_eq!(frame.header.frame_seq, announced.frame_seq);
        assert!(frame.header.input_seq >= seq);
        let fourth = support::server::lossless_still(&mut client).await;
        // Drawn again on the fourth volume, the region's mean is its curve's fourth value;
        // the segment's mean too, measured again there.
        let again = drawn_region(&mut client, square).await;
        let fourth_mean = again.stats.as_ref().expect("statistics").mean;
        assert!(
            (region.values[3] - fourth_mean).abs() < 0.01,
            "the curve's fourth value {} against the region on volume 4 {fourth_mean}",
            region.values[3]
        );
        assert_eq!(
            again.values, region.values,
            "the same region, the same curve"
        );
        let remade = crate::pacs::segments::edit(&mut client, segment.id, threshold).await;
        let fourth_mean = remade.numbers.mean.expect("a mean");
        assert!(
            (remade.numbers.values[3] - fourth_mean).abs() < 0.01,
            "{:?}",
            remade.numbers
        );
        let apart = support::server::frames_apart(&first, &fourth);
        assert!(apart > 1e-4, "volume 4 draws another picture: {apart}");

        // A cine steps through the volumes in order, each announced, wrapping round.
        client.input(Action::Cine { fps: 8.0 }).await.expect("sent");
        let mut shown = Vec::new();
        while shown.len() < 12 {
            let step = announcement(&mut client).await;
            assert_eq!(step.cine_fps, Some(8.0));
            shown.push(step.index);
        }
        let forward = shown
            .windows(2)
            .all(|pair| (1..=3).contains(&((pair[1] + 10 - pair[0]) % 10)));
        assert!(
            forward,
            "each step moves on by a volume or a few: {shown:?}"
        );
        assert!(
            shown.contains(&0) && shown.iter().any(|i| *i > 3),
            "the cine wraps from the last volume to the first: {shown:?}"
        );
        client.input(Action::Cine { fps: 0.0 }).await.expect("sent");
        loop {
            let frame = client.next_frame().await.expect("frames");
            if frame.header.flags.final_still() {
                break;
            }
        }

        // Past the bound: refused by name, and the session goes on.
        for (action, says) in [
            (Action::Cine { fps: 120.0 }, "cine fps"),
            (Action::TimePoint { index: 10 }, "10 volumes"),
        ] {
            client.input(action).await.expect("sent");
            let (code, message) = client.next_error().await.expect("an error");
            assert_eq!(code, ErrorCode::BadValue);
            assert!(message.contains(says), "{message}");
        }
        support::server::lossless_still(&mut client).await;
    });
}

/// The rectangle from corner `corners[0]` to `corners[1]` of the axial cell, as the
/// server measured it.
async fn drawn_region(client: &mut Client, corners: [[f64; 2]; 2]) -> FindingInfo {
    support::server::drawn_finding(client, "rectangle", "axial", &corners).await
}

/// A `time_point` message.
struct Announced {
    frame_seq: u32,
    index: usize,
    count: usize,
    label: String,
    time_s: Option<f64>,
    cine_fps: Option<f64>,
}

/// The next `time_point` message `client` is told (an error fails the test).
async fn announcement(client: &mut Client) -> Announced {
    loop {
        match client.next_event().await.expect("the session lives") {
            Event::Message(ServerMessage::TimePoint {
                frame_seq,
                index,
                count,
                label,
                time_s,
                cine_fps,
            }) => {
                return Announced {
                    frame_seq,
                    index,
                    count,
                    label,
                    time_s,
                    cine_fps,
                };
            }
            Event::Message(ServerMessage::Error { message, .. }) => panic!("{message}"),
            _ => {}
        }
    }
}
