//! `bench findings`: from one client over loopback, the time from the mouse's release to a
//! 100 cm² region's statistics on the axial cell (the `finding` round trip: the points to
//! patient millimetres, the voxels inside, the answer), beside the plain `measure` round
//! trip in the same session, alternated run by run; then the time to save the findings
//! (into a findings folder, or to the PACS with STOW-RS when the series is a PACS's).

use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use anyhow::Context;
use hounsfield_client::{Client, Event};
use hounsfield_dicomweb::SeriesCache;
use hounsfield_protocol::{
    Action, ClientMessage, FindingAction, FindingRequest, ServerMessage, SliceScales,
};
use hounsfield_server::Library;
use hounsfield_server::library::PacsLibrary;
use hounsfield_tls::ServerTrust;
use render_core::dicom::VoxelBudget;
use serde::Serialize;

use super::client::{REPLY_TIMEOUT, greet_and_open, in_time, ms, percentile};
use super::loopback::{self, LoopbackServer};
use crate::cli::StreamCodec;
use hounsfield_workstation::source;

/// The frame the client asks for: the 2×2 layout's axial cell is half of it each way.
const SIZE: [u32; 2] = [1024, 768];
/// The region timed: 100 cm² (a circle of this many mm² on the axial slice).
const REGION_MM2: f64 = 10_000.0;
/// Time between saves: the server takes one a second.
const SAVE_EVERY: std::time::Duration = std::time::Duration::from_millis(1050);

/// What `bench findings --json` prints (milliseconds).
#[derive(Debug, Serialize)]
struct FindingsReport {
    series: String,
    runs: u32,
    /// The region's own area and the voxels its statistics were over.
    region_mm2: f64,
    region_voxels: u64,
    measure_p50_ms: f64,
    measure_p90_ms: f64,
    region_p50_ms: f64,
    region_p90_ms: f64,
    /// Region over measure, medians of the same session side by side.
    region_over_measure: f64,
    /// Where the saves went (`findings folder` or `pacs`) and their times.
    stored_in: String,
    save_p50_ms: f64,
    save_max_ms: f64,
}

/// Runs `bench findings` on the series at `path` (a folder or a DICOMweb URL).
pub fn findings(path: &Path, series: Option<&str>, runs: u32, json: bool) -> anyhow::Result<()> {
    let state = tempfile::tempdir().context("a findings folder for the benchmark")?;
    let cache = tempfile::tempdir().context("a cache for the PACS's series")?;
    let folder = state.path().join("findings");
    let configure = |config: &mut hounsfield_server::ServerConfig| {
        config.h264_encoders = Vec::new();
        config.findings_folder = Some(folder.clone());
    };
    let loopback = match source::dicomweb_url(path) {
        Some(url) => {
            let pacs = PacsLibrary::new(
                source::dicomweb(url)?,
                SeriesCache::new(cache.path(), 8 << 30),
            );
            let library =
                Library::scan_with_pacs(&[], vec![pacs], 4096 << 20, VoxelBudget::for_machine())?;
            loopback::start_serving(Arc::new(library), configure)?
        }
        None => loopback::start(Some(path), configure)?,
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("a runtime for the benchmark's client")?;
    let report = runtime.block_on(time_round_trips(&loopback, series, runs))?;
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(());
    }
    println!(
        "series {}: {} runs of each, one client over loopback, {}×{} frames (2×2)",
        report.series, report.runs, SIZE[0], SIZE[1]
    );
    println!(
        "measure round trip        p50 {:>7.2} ms  p90 {:>7.2} ms",
        report.measure_p50_ms, report.measure_p90_ms
    );
    println!(
        "region statistics         p50 {:>7.2} ms  p90 {:>7.2} ms  ({:.0} mm², {} voxels; {:.2}× measure)",
        report.region_p50_ms,
        report.region_p90_ms,
        report.region_mm2,
        report.region_voxels,
        report.region_over_measure
    );
    let save = format!("save ({})", report.stored_in);
    println!(
        "{save:<25} p50 {:>7.2} ms  max {:>7.2} ms",
        report.save_p50_ms, report.save_max_ms
    );
    Ok(())
}

/// Opens the series in the 2×2 layout, then times `runs` of each round trip, alternated.
async fn time_round_trips(
    loopback: &LoopbackServer,
    series: Option<&str>,
    runs: u32,
) -> anyhow::Result<FindingsReport> {
    let url = loopback.server.websocket_url();
    let (mut client, chosen) = greet_and_open(
        &url,
        &ServerTrust::system(),
        series,
        SIZE,
        StreamCodec::Jpeg,
    )
    .await?;
    // Told after `open`: the cells' scales are the 2×2 layout's whatever the layout.
    let scales = in_time("the crosshair", slice_scales(&mut client)).await?;
    in_time(
        "layout",
        client.input(Action::Layout {
            name: "2x2".to_string(),
        }),
    )
    .await?;
    let (half_width, half_height) = region_in_cell(scales.axial);
    let corners = vec![
        [0.5 - half_width, 0.5 - half_height],
        [0.5 + half_width, 0.5 + half_height],
    ];
    let (mut measures, mut regions, mut saves) = (Vec::new(), Vec::new(), Vec::new());
    let (mut area, mut voxels, mut stored_in) = (0.0, 0, String::new());
    let mut last_save = None;
    for _ in 0..runs {
        let started = Instant::now();
        client
            .send(&ClientMessage::Measure {
                cell: "axial".to_string(),
                from: corners[0],
                to: corners[1],
            })
            .await?;
        answer(&mut client, |m| matches!(m, ServerMessage::Measure { .. })).await?;
        measures.push(ms(started.elapsed()));

        let started = Instant::now();
        client
            .send(&ClientMessage::Finding(FindingRequest {
                action: FindingAction::Create,
                id: None,
                kind: Some("ellipse".to_string()),
                cell: Some("axial".to_string()),
                points: corners.clone(),
                note: None,
            }))
            .await?;
        let told = answer(&mut client, |m| matches!(m, ServerMessage::Finding(_))).await?;
        regions.push(ms(started.elapsed()));
        let ServerMessage::Finding(info) = told else {
            anyhow::bail!("a finding was answered {told:?}");
        };
        let stats = info.stats.context("a region answered without statistics")?;
        (area, voxels) = (stats.area_mm2, stats.voxels);
        // Saves are held to one a second by the server: paced, outside the timing.
        if let Some(last) = last_save {
            tokio::time::sleep_until(last + SAVE_EVERY).await;
        }
        last_save = Some(tokio::time::Instant::now());
        let started = Instant::now();
        client.send(&ClientMessage::SaveFindings).await?;
        let saved = answer(&mut client, |m| matches!(m, ServerMessage::Saved(_))).await?;
        saves.push(ms(started.elapsed()));
        if let ServerMessage::Saved(saved) = saved {
            stored_in = saved.stored_in;
        }
        // Each run saves a reading of one region: the next starts without it.
        client
            .send(&ClientMessage::Finding(FindingRequest {
                action: FindingAction::Delete,
                id: Some(info.id),
                kind: None,
                cell: None,
                points: Vec::new(),
                note: None,
            }))
            .await?;
        answer(&mut client, |m| {
            matches!(m, ServerMessage::FindingDeleted { .. })
        })
        .await?;
    }
    for figures in [&mut measures, &mut regions, &mut saves] {
        figures.sort_by(f64::total_cmp);
    }
    let (measure_p50, region_p50) = (percentile(&measures, 0.5), percentile(&regions, 0.5));
    Ok(FindingsReport {
        series: chosen.id,
        runs,
        region_mm2: area,
        region_voxels: voxels,
        measure_p50_ms: measure_p50,
        measure_p90_ms: percentile(&measures, 0.9),
        region_p50_ms: region_p50,
        region_p90_ms: percentile(&regions, 0.9),
        region_over_measure: region_p50 / measure_p50.max(1e-9),
        stored_in,
        save_p50_ms: percentile(&saves, 0.5),
        save_max_ms: saves.last().copied().unwrap_or(0.0),
    })
}

/// Half the width and height (fractions of the axial cell) of the box around a circle of
/// [`REGION_MM2`], at `mm_per_pixel` in a cell of half the frame.
fn region_in_cell(mm_per_pixel: f64) -> (f64, f64) {
    let radius_mm = (REGION_MM2 / std::f64::consts::PI).sqrt();
    let radius_px = radius_mm / mm_per_pixel;
    (
        radius_px / f64::from(SIZE[0] / 2),
        radius_px / f64::from(SIZE[1] / 2),
    )
}

/// The slices' scales the server tells with the crosshair.
async fn slice_scales(client: &mut Client) -> Result<SliceScales, hounsfield_client::ClientError> {
    loop {
        if let Event::Message(ServerMessage::Crosshair {
            mm_per_pixel: Some(scales),
            ..
        }) = client.next_event().await?
        {
            return Ok(scales);
        }
    }
}

/// The next message `wanted` takes (frames and others pass by); an `error` fails the run.
async fn answer(
    client: &mut Client,
    wanted: impl Fn(&ServerMessage) -> bool,
) -> anyhow::Result<ServerMessage> {
    let waiting = async {
        loop {
            match client.next_event().await? {
                Event::Message(ServerMessage::Error { code, message }) => {
                    anyhow::bail!("the server refused: {code:?}: {message}")
                }
                Event::Message(message) if wanted(&message) => return Ok(message),
                _ => {}
            }
        }
    };
    tokio::time::timeout(REPLY_TIMEOUT, waiting)
        .await
        .context("no answer in time")?
}
