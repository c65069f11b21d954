//! Where a volume comes from: DICOM files and folders through the catalog, or the built-in
//! phantom when no data is given.

use std::path::{Path, PathBuf};

use anyhow::Context;
use render_core::Volume;
use render_core::dicom::{Catalog, DicomError, Series, load_series};
use render_core::phantom::ct_phantom;
use render_core::progress::{ProgressFn, no_progress};

/// Scans paths into a catalog; an error when nothing in them is a DICOM image.
pub fn scan(paths: &[PathBuf]) -> Result<Catalog, DicomError> {
    let catalog = Catalog::scan(paths, &no_progress);
    ensure_images(&catalog, paths)?;
    Ok(catalog)
}

/// An error naming the first path and why, when the catalog holds no series.
pub fn ensure_images(catalog: &Catalog, paths: &[PathBuf]) -> Result<(), DicomError> {
    if catalog.series().next().is_some() {
        return Ok(());
    }
    let path = paths.first().cloned().unwrap_or_default();
    let detail = match catalog.skipped.as_slice() {
        [] => " (no files)".to_string(),
        [only] => format!(": {}", only.reason),
        many => format!(
            ": {} files skipped, e.g. {}",
            many.len(),
            many.first().map_or("", |s| s.reason.as_str())
        ),
    };
    Err(DicomError::NoImages { path, detail })
}

/// Picks the series asked for, or the largest loadable one.
pub fn choose<'a>(catalog: &'a Catalog, series: Option<&str>) -> Result<&'a Series, DicomError> {
    match series {
        Some(id) => catalog.find(id),
        None => catalog.default_series().ok_or_else(|| {
            // Say why the largest series does not form a volume.
            let largest = catalog.series().max_by_key(|s| s.images.len());
            match largest {
                Some(series) => DicomError::InconsistentSeries {
                    series: series.id.clone(),
                    reason: format!(
                        "no series forms a volume; this one, the largest: {}",
                        series.warnings().join("; ")
                    ),
                },
                None => DicomError::NoImages {
                    path: PathBuf::new(),
                    detail: ": no series forms a volume (see `hounsfield info`)".to_string(),
                },
            }
        }),
    }
}

/// A volume ready to use, with a label and what the reader should know.
pub struct OpenedVolume {
    /// The volume.
    pub volume: Volume,
    /// Series id, or `phantom`.
    pub label: String,
    /// Warnings to show.
    pub warnings: Vec<String>,
    /// Patient, study and series lines for the overlay (empty fields left out).
    pub overlay: Vec<String>,
}

/// Opens the volume at `path` (a series of it), or the phantom when there is no path.
pub fn open_volume(path: Option<&Path>, series: Option<&str>) -> anyhow::Result<OpenedVolume> {
    open_volume_with_progress(path, series, &no_progress)
}

/// [`open_volume`], reporting the scan and the decoding to `progress`.
pub fn open_volume_with_progress(
    path: Option<&Path>,
    series: Option<&str>,
    progress: ProgressFn<'_>,
) -> anyhow::Result<OpenedVolume> {
    let Some(path) = path else {
        return Ok(OpenedVolume {
            volume: ct_phantom(),
            label: "phantom".to_string(),
            warnings: Vec::new(),
            overlay: vec![
                "Built-in sample".to_string(),
                "Synthetic CT torso".to_string(),
            ],
        });
    };
    let paths = [path.to_path_buf()];
    let catalog = Catalog::scan(&paths, progress);
    ensure_images(&catalog, &paths)?;
    let chosen = choose(&catalog, series)?;
    let loaded =
        load_series(chosen, progress).with_context(|| format!("loading series {}", chosen.id))?;
    let overlay = catalog
        .studies
        .iter()
        .find(|study| study.series.iter().any(|s| s.id == chosen.id))
        .map(|study| overlay_lines(study, chosen))
        .unwrap_or_default();
    Ok(OpenedVolume {
        volume: loaded.volume,
        label: chosen.id.clone(),
        warnings: loaded.warnings.iter().map(ToString::to_string).collect(),
        overlay,
    })
}

/// Patient name and id, study date and description, series number, modality and
/// description: the lines radiologists expect in a corner of the view.
fn overlay_lines(study: &render_core::dicom::Study, series: &Series) -> Vec<String> {
    let join = |parts: &[&str]| {
        parts
            .iter()
            .map(|part| part.trim())
            .filter(|part| !part.is_empty())
            .collect::<Vec<_>>()
            .join(" · ")
    };
    let number = series.number.map(|n| format!("Se {n}")).unwrap_or_default();
    [
        join(&[&study.patient_name.replace('^', " "), &study.patient_id]),
        join(&[&study.date, &study.description]),
        join(&[&number, &series.modality, &series.description]),
    ]
    .into_iter()
    .filter(|line| !line.is_empty())
    .collect()
}
