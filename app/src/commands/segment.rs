//! `hounsfield segment`: a segment made from the command line (a threshold, or the region
//! grown from a seed within it, its largest island, a margin, a closing, a median), or the
//! segments of a Segmentation of the series edited by the same tools (and filled between
//! slices, or grown from their seeds), measured, and written as a DICOM Segmentation that
//! references the series; and `hounsfield segments list`.

use std::path::{Path, PathBuf};

use anyhow::Context;
use glam::DVec3;
use serde::Serialize;

use hounsfield_files::{Permissions, write_whole};
use hounsfield_findings::segmentation::{
    self, SegmentationHeader, read_segmentation_file, read_segmentation_header,
};
use hounsfield_findings::uptake;
use hounsfield_model::{SegmentationModel, segments_of};
use hounsfield_segment::{
    Algorithm, FillPlane, Grid, Mask, Segment, SegmentMeasures, ValueInterval, grow, islands,
    margin, seeds, smooth,
};
use hounsfield_workstation::{authorship, source};
use render_core::Volume;
use render_core::dicom::library_walk::files_under;

/// What `segment` starts from.
#[derive(Debug, Clone)]
pub enum Start {
    /// A value range (low, high), both inside; with a seed in LPS mm, the region grown
    /// from it within the range, not the whole range.
    Threshold {
        /// The range.
        range: [f64; 2],
        /// The seed.
        seed: Option<[f64; 3]>,
    },
    /// The segments of this Segmentation of the series.
    From(PathBuf),
    /// The classes of this segmentation model (ONNX) run on the series.
    Model(PathBuf),
}

/// What `segment` is asked to make.
#[derive(Debug, Clone)]
pub struct SegmentRequest {
    /// A threshold, or a Segmentation's segments.
    pub start: Start,
    /// Fill the slices of this plane between the drawn ones (first of the tools).
    pub fill_between: Option<FillPlane>,
    /// Share the region around the segments' seeds between them (after filling).
    pub grow_from_seeds: bool,
    /// Keep only the largest island.
    pub largest: bool,
    /// Remove the islands smaller than this (mm³).
    pub min_island_mm3: Option<f64>,
    /// Grow (positive) or shrink (negative) by this many mm.
    pub margin_mm: Option<f64>,
    /// Smooth by a closing of this radius (mm).
    pub closing_mm: Option<f64>,
    /// Smooth by the median of the ball of this radius (mm), last.
    pub median_mm: Option<f64>,
    /// The segment's name.
    pub label: String,
    /// Where the Segmentation is written.
    pub out: Option<PathBuf>,
    /// Where its numbers are written as CSV.
    pub csv: Option<PathBuf>,
    /// Print JSON.
    pub json: bool,
}

/// What `segment --json` prints.
#[derive(Debug, Serialize)]
struct SegmentReport {
    series: String,
    label: String,
    algorithm: String,
    voxels: usize,
    volume_ml: f64,
    mean: Option<f64>,
    sd: Option<f64>,
    min: Option<f64>,
    max: Option<f64>,
    median: Option<f64>,
    surface_mm2: f64,
    first_voxel: Option<[usize; 3]>,
    last_voxel: Option<[usize; 3]>,
    extent_mm: [f64; 3],
    out: Option<String>,
    sop_instance_uid: Option<String>,
    /// A PET's uptake in SUV (body weight), when its header gives the factor.
    #[serde(skip_serializing_if = "Option::is_none")]
    suv: Option<SegmentSuv>,
}

/// A segment's uptake on a PET, in SUV.
#[derive(Debug, Serialize)]
struct SegmentSuv {
    suv_max: f64,
    suv_mean: f64,
    /// The highest mean of a 1 cm³ sphere centred in the segment (PERCIST's SUVpeak).
    suv_peak: f64,
}

/// What `segment --from --json` prints: every segment written.
#[derive(Debug, Serialize)]
struct SegmentsReport {
    series: String,
    from: String,
    out: Option<String>,
    sop_instance_uid: Option<String>,
    segments: Vec<SegmentReport>,
}

/// Runs `segment` on the series at `path` (or the built-in sample).
pub fn run(
    path: Option<&Path>,
    series: Option<&str>,
    request: &SegmentRequest,
) -> anyhow::Result<()> {
    let opened = source::open_volume(path, series)?;
    for warning in &opened.warnings {
        eprintln!("warning: series {}: {warning}", opened.label);
    }
    let volume = &opened.volume;
    let grid = Grid::of(volume);
    // Each segment with the tools that made it, then the tools every one goes through.
    let mut segments: Vec<(Segment, Vec<String>)> = match &request.start {
        Start::Threshold { range, seed } => {
            let (mask, made) = thresholded(&opened, *range, *seed)?;
            let segment = Segment::new(&request.label, [230, 80, 60], Algorithm::Manual, mask);
            vec![(segment, vec![made])]
        }
        Start::From(seg) => read_onto(seg, &opened)?
            .segments
            .into_iter()
            .map(|segment| (segment, Vec::new()))
            .collect(),
        Start::Model(file) => modelled(file, volume)?
            .into_iter()
            .map(|segment| (segment, Vec::new()))
            .collect(),
    };
    if let Some(plane) = request.fill_between {
        for (segment, tools) in &mut segments {
            segment.mask = plane
                .fill(volume, &segment.mask)
                .context("--fill-between")?
                .into();
            tools.push(plane.tool_name());
        }
    }
    if request.grow_from_seeds {
        let masks: Vec<Mask> = segments.iter().map(|(s, _)| Mask::clone(&s.mask)).collect();
        let grown = seeds::grow_from_seeds(volume, &masks).map_err(|error| match error {
            hounsfield_segment::SegmentError::SeedsOverlap {
                first,
                second,
                voxels,
            } => anyhow::anyhow!(
                "--grow-from-seeds: segments \"{}\" and \"{}\" share {voxels} voxels: a voxel may seed one segment only",
                segments[first].0.label,
                segments[second].0.label
            ),
            error => anyhow::anyhow!("--grow-from-seeds: {error}"),
        })?;
        for ((segment, tools), mask) in segments.iter_mut().zip(grown) {
            segment.mask = mask.into();
            tools.push("grow from seeds".to_string());
        }
    }
    for (segment, tools) in &mut segments {
        segment.mask = edited(&segment.mask, grid, request, tools)?.into();
        if !tools.is_empty() {
            segment.algorithm =
                Algorithm::Semiautomatic(format!("Hounsfield {}", tools.join(", ")));
        }
    }
    let segments: Vec<Segment> = segments.into_iter().map(|(segment, _)| segment).collect();
    let written = match &request.out {
        Some(out) => Some(write(&opened, &segments, out)?),
        None => None,
    };
    let mut reports = Vec::with_capacity(segments.len());
    for segment in &segments {
        let measures = hounsfield_segment::measure(volume, &segment.mask)?;
        reports.push(report(
            &opened,
            segment,
            &measures,
            request.out.as_deref(),
            written.clone(),
        ));
    }
    if let Some(csv) = &request.csv {
        write_csv(csv, &reports)?;
    }
    match (&request.start, reports.pop()) {
        (Start::Threshold { .. }, Some(report)) => {
            if request.json {
                println!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                print_table(&report);
            }
        }
        (Start::From(seg) | Start::Model(seg), last) => {
            reports.extend(last);
            if request.json {
                let all = SegmentsReport {
                    series: opened.label.clone(),
                    from: seg.display().to_string(),
                    out: request.out.as_ref().map(|p| p.display().to_string()),
                    sop_instance_uid: written,
                    segments: reports,
                };
                println!("{}", serde_json::to_string_pretty(&all)?);
            } else {
                for report in &reports {
                    print_table(report);
                    println!();
                }
            }
        }
        (Start::Threshold { .. }, None) => anyhow::bail!("segment: no segment was made"),
    }
    Ok(())
}

/// The voxels of `range` (or the region grown from `seed` within it), and the tool's name.
fn thresholded(
    opened: &source::OpenedVolume,
    [low, high]: [f64; 2],
    seed: Option<[f64; 3]>,
) -> anyhow::Result<(Mask, String)> {
    let volume = &opened.volume;
    let interval = ValueInterval::new(low, high).context("--threshold")?;
    Ok(match seed {
        Some(seed) => {
            let (voxel, _) = volume.nearest_voxel(DVec3::from(seed)).with_context(|| {
                format!(
                    "--seed {seed:?} (LPS mm) lies outside series {}",
                    opened.label
                )
            })?;
            (
                grow::grow_from_seed(volume, voxel, interval).context("--seed")?,
                format!("grow from seed {low}..{high}"),
            )
        }
        None => (
            hounsfield_segment::threshold(volume, interval),
            format!("threshold {low}..{high}"),
        ),
    })
}

/// `mask` through the one-segment tools asked, in their order (largest island, islands'
/// volume, margin, closing, median), each tool's name added to `tools`.
fn edited(
    mask: &Mask,
    grid: Grid,
    request: &SegmentRequest,
    tools: &mut Vec<String>,
) -> anyhow::Result<Mask> {
    let mut mask = mask.clone();
    if request.largest {
        mask = islands::keep_largest(&mask, grid);
        tools.push("largest island".to_string());
    }
    if let Some(min_mm3) = request.min_island_mm3 {
        anyhow::ensure!(
            min_mm3.is_finite() && min_mm3 >= 0.0,
            "--min-island {min_mm3}: give a volume in mm³ of 0 or more"
        );
        mask = islands::remove_smaller_than(&mask, grid, min_mm3);
        tools.push(format!("islands under {min_mm3} mm3 removed"));
    }
    if let Some(margin_mm) = request.margin_mm {
        mask = margin::margin(&mask, grid, margin_mm).context("--margin")?;
        tools.push(format!("margin {margin_mm} mm"));
    }
    if let Some(closing_mm) = request.closing_mm {
        mask = margin::closing(&mask, grid, closing_mm).context("--closing")?;
        tools.push(format!("closing {closing_mm} mm"));
    }
    if let Some(median_mm) = request.median_mm {
        mask = smooth::median(&mask, grid, median_mm).context("--median")?;
        tools.push(format!("median {median_mm} mm"));
    }
    Ok(mask)
}

/// The Segmentation `seg` read onto the opened series, refused when it belongs to
/// another frame of reference.
fn read_onto(
    seg: &Path,
    opened: &source::OpenedVolume,
) -> anyhow::Result<hounsfield_findings::segmentation::ReadSegmentation> {
    let read = read_segmentation_file(seg, &opened.volume)?;
    if let Some(subject) = &opened.subject
        && !read.header.frame_of_reference_uid.is_empty()
        && read.header.frame_of_reference_uid != subject.frame_of_reference_uid
    {
        anyhow::bail!(
            "{}: FrameOfReferenceUID {} is not series {}'s ({}): its positions cannot be placed on it",
            seg.display(),
            read.header.frame_of_reference_uid,
            opened.label,
            subject.frame_of_reference_uid
        );
    }
    Ok(read)
}

/// Writes `segments` as a Segmentation of the opened series to `out`; its SOP Instance UID.
fn write(
    opened: &source::OpenedVolume,
    segments: &[Segment],
    out: &Path,
) -> anyhow::Result<String> {
    let subject = opened.subject.as_ref().with_context(|| {
        format!(
            "--out: series {} has no DICOM study to reference (the built-in sample); open a DICOM series",
            opened.label
        )
    })?;
    let document = segmentation::segmentation(
        subject,
        &opened.volume,
        segments,
        &authorship::authorship_now(None),
    )
    .with_context(|| format!("--out {}", out.display()))?;
    let uid = hounsfield_findings::report::sop_instance_uid_of(&document);
    let mut bytes = Vec::new();
    document
        .write_all(&mut bytes)
        .map_err(|error| anyhow::anyhow!("--out {}: {error}", out.display()))?;
    write_whole(out, &bytes, Permissions::KeepExisting)
        .with_context(|| format!("--out {}", out.display()))?;
    Ok(uid)
}

/// What the command prints of `segment` on the series `opened`.
fn report(
    opened: &source::OpenedVolume,
    segment: &Segment,
    measures: &SegmentMeasures,
    out: Option<&Path>,
    sop_instance_uid: Option<String>,
) -> SegmentReport {
    let suv = opened
        .suv_factor
        .and_then(|factor| uptake::segment_uptake(&opened.volume, &segment.mask, factor))
        .map(|uptake| SegmentSuv {
            suv_max: uptake.max,
            suv_mean: uptake.mean,
            suv_peak: uptake.peak,
        });
    SegmentReport {
        series: opened.label.clone(),
        label: segment.label.clone(),
        algorithm: segment.algorithm.name().unwrap_or_default().to_string(),
        voxels: measures.voxels,
        volume_ml: measures.volume_ml,
        mean: measures.mean,
        sd: measures.sd,
        min: measures.min,
        max: measures.max,
        median: measures.median,
        surface_mm2: measures.surface_mm2,
        first_voxel: measures.bounds.map(|(first, _)| first),
        last_voxel: measures.bounds.map(|(_, last)| last),
        extent_mm: measures.extent_mm,
        out: out.map(|p| p.display().to_string()),
        sop_instance_uid,
        suv,
    }
}

fn print_table(report: &SegmentReport) {
    let number = |value: Option<f64>| value.map_or("-".to_string(), |v| format!("{v:.1}"));
    println!("series    {}", report.series);
    println!("segment   {} ({})", report.label, report.algorithm);
    println!(
        "volume    {:.3} mL ({} voxels)",
        report.volume_ml, report.voxels
    );
    println!(
        "values    mean {}  sd {}  median {}  min {}  max {}",
        number(report.mean),
        number(report.sd),
        number(report.median),
        number(report.min),
        number(report.max)
    );
    if let Some(suv) = &report.suv {
        println!(
            "SUV       max {:.2}  mean {:.2}  peak {:.2}",
            suv.suv_max, suv.suv_mean, suv.suv_peak
        );
    }
    println!("surface   {:.1} mm²", report.surface_mm2);
    println!(
        "extent    {:.1} × {:.1} × {:.1} mm",
        report.extent_mm[0], report.extent_mm[1], report.extent_mm[2]
    );
    if let (Some(out), Some(uid)) = (&report.out, &report.sop_instance_uid) {
        println!("written   {out} (SOP Instance UID {uid})");
    }
}

/// One Segmentation found by `segments list`.
#[derive(Debug, Serialize)]
struct ListedSegmentation {
    file: String,
    sop_instance_uid: String,
    study_uid: String,
    referenced_series: Vec<String>,
    segments: Vec<String>,
    written: String,
}

impl ListedSegmentation {
    /// The Segmentation whose header is `header`, found at `file` (a path or a URL).
    fn of(file: String, header: SegmentationHeader) -> Self {
        Self {
            file,
            sop_instance_uid: header.sop_instance_uid,
            study_uid: header.study_uid,
            referenced_series: header.referenced_series_uids,
            segments: header.segment_labels,
            written: header.written,
        }
    }
}

/// The segments the model in `file` makes of `volume`, its progress on stderr (a line
/// each tenth of the patches).
fn modelled(file: &Path, volume: &Volume) -> anyhow::Result<Vec<Segment>> {
    let model = SegmentationModel::load(file).context("--model")?;
    let total = model.patches_over(volume);
    eprintln!(
        "model {}: {} classes, patches of {:?} voxels (k, j, i), {total} patches",
        model.name(),
        model.classes(),
        model.patch()
    );
    let step = total.div_ceil(10).max(1);
    let labels = model
        .run(volume, &mut |done, total| {
            if done % step == 0 || done == total {
                eprintln!("model {}: {done}/{total} patches", model.name());
            }
            true
        })
        .context("--model")?;
    Ok(segments_of(&labels, volume, model.name()))
}

/// Lists the Segmentations under `paths` (files or folders) and on the PACSs among them
/// (DICOMweb URLs: their SEG series searched with QIDO-RS, each instance's header read).
pub fn list(paths: &[PathBuf], json: bool) -> anyhow::Result<()> {
    let (urls, paths): (Vec<&PathBuf>, Vec<&PathBuf>) = paths
        .iter()
        .partition(|path| source::dicomweb_url(path).is_some());
    let paths: Vec<PathBuf> = paths.into_iter().cloned().collect();
    let (files, _skipped) = files_under(&paths);
    let mut listed = Vec::new();
    for file in files {
        // Files that are not Segmentations (the images beside them) are passed over.
        let Ok(header) = read_segmentation_header(&file) else {
            continue;
        };
        listed.push(ListedSegmentation::of(file.display().to_string(), header));
    }
    for url in urls.iter().filter_map(|path| source::dicomweb_url(path)) {
        let work = tempfile::tempdir().context("a folder to read the PACS's Segmentations in")?;
        let found = source::dicomweb(url)?
            .segmentations(work.path())
            .with_context(|| format!("segments list {url}"))?;
        listed.extend(
            found
                .into_iter()
                .map(|found| ListedSegmentation::of(found.url, found.header)),
        );
    }
    if json {
        println!("{}", serde_json::to_string_pretty(&listed)?);
        return Ok(());
    }
    if listed.is_empty() {
        println!("no segmentation found");
    }
    for seg in &listed {
        println!(
            "{}  {}  segments: {}  of series {}",
            seg.file,
            seg.written,
            seg.segments.join(", "),
            seg.referenced_series.join(", ")
        );
    }
    Ok(())
}

/// What `segments measure --json` prints.
#[derive(Debug, Serialize)]
struct MeasuredSegmentation {
    sop_instance_uid: String,
    series: String,
    pixels_outside: usize,
    segments: Vec<SegmentReport>,
}

/// Reads the Segmentation `seg` onto the series at `on` and prints each segment's
/// measures there.
pub fn measure(
    seg: &Path,
    on: &Path,
    series: Option<&str>,
    csv: Option<&Path>,
    json: bool,
) -> anyhow::Result<()> {
    let opened = source::open_volume(Some(on), series)?;
    let read = read_onto(seg, &opened)?;
    let mut segments = Vec::with_capacity(read.segments.len());
    for segment in &read.segments {
        let measures = hounsfield_segment::measure(&opened.volume, &segment.mask)?;
        segments.push(report(&opened, segment, &measures, None, None));
    }
    let measured = MeasuredSegmentation {
        sop_instance_uid: read.header.sop_instance_uid,
        series: opened.label.clone(),
        pixels_outside: read.pixels_outside,
        segments,
    };
    if let Some(csv) = csv {
        write_csv(csv, &measured.segments)?;
    }
    if json {
        println!("{}", serde_json::to_string_pretty(&measured)?);
        return Ok(());
    }
    for segment in &measured.segments {
        print_table(segment);
        println!();
    }
    if measured.pixels_outside > 0 {
        println!(
            "{} pixels of the segmentation lie outside the series",
            measured.pixels_outside
        );
    }
    Ok(())
}

/// One segment's numbers as a row of `--csv`.
#[derive(Debug, Serialize)]
struct CsvRow<'a> {
    series: &'a str,
    label: &'a str,
    voxels: usize,
    volume_ml: f64,
    mean: Option<f64>,
    sd: Option<f64>,
    min: Option<f64>,
    max: Option<f64>,
    median: Option<f64>,
    surface_mm2: f64,
    extent_i_mm: f64,
    extent_j_mm: f64,
    extent_k_mm: f64,
}

/// Writes the segments' numbers to `path` as CSV, a header line and a row a segment.
fn write_csv(path: &Path, segments: &[SegmentReport]) -> anyhow::Result<()> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    for segment in segments {
        writer.serialize(CsvRow {
            series: &segment.series,
            label: &segment.label,
            voxels: segment.voxels,
            volume_ml: segment.volume_ml,
            mean: segment.mean,
            sd: segment.sd,
            min: segment.min,
            max: segment.max,
            median: segment.median,
            surface_mm2: segment.surface_mm2,
            extent_i_mm: segment.extent_mm[0],
            extent_j_mm: segment.extent_mm[1],
            extent_k_mm: segment.extent_mm[2],
        })?;
    }
    let bytes = writer
        .into_inner()
        .map_err(|error| anyhow::anyhow!("--csv {}: {error}", path.display()))?;
    write_whole(path, &bytes, Permissions::KeepExisting)
        .with_context(|| format!("--csv {}", path.display()))
}
