//! A series loaded once however many sessions open it at once: from disk within the
//! memory budget, or retrieved from a PACS first, with its progress and warnings.

use std::sync::{Arc, Mutex};

use hounsfield_findings::report::ReportSubject;
use render_core::Volume;
use render_core::dicom::header::series_suv_factor;
use render_core::dicom::{load_series_over_time, load_series_predecoded, plan_time_points};
use render_core::phantom::ct_phantom;
use render_core::progress::{Progress, Stage};

use super::names::{printable, without_paths};
use super::{Library, LibraryError, Source};
use crate::series_volumes::{SeriesVolumes, TimePointVolume};

/// A series retrieved from a PACS and loaded: one volume (packed and kept by the caller),
/// or every volume of a series over time (kept already).
enum Retrieved {
    /// One volume, with a PET's SUV a Bq/ml.
    Volume(Box<Volume>, Option<f64>),
    OverTime(SeriesVolumes),
}

/// One series being loaded.
#[derive(Default)]
pub(super) struct Loading {
    /// Held by the session that loads; the others wait on it.
    pub(super) gate: Mutex<()>,
    /// How far the load has come (none before decoding starts).
    pub(super) progress: Mutex<Option<Progress>>,
}

impl Loading {
    pub(super) fn report(&self, step: Progress) {
        // A plain value: a panic elsewhere cannot leave it half written.
        *self
            .progress
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(step);
    }

    pub(super) fn progress(&self) -> Option<Progress> {
        *self
            .progress
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl Library {
    /// What the reader must be told about series `id` as last loaded (missing slices,
    /// images the PACS did not deliver, resampling, tilt): nothing before it is loaded.
    /// The lines name no file, folder or URL.
    pub fn warnings(&self, id: &str) -> Vec<String> {
        self.warnings
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .get(id)
            .cloned()
            .unwrap_or_default()
    }

    /// Keeps what series `id`'s load must tell the reader, replacing an earlier load's.
    pub(super) fn record_warnings(&self, id: &str, warnings: Vec<String>) {
        let mut all = self
            .warnings
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if warnings.is_empty() {
            all.remove(id);
        } else {
            all.insert(id.to_string(), warnings);
        }
    }

    /// How far the load of series `id` has come, while one is under way (for the
    /// `progress` messages of every session waiting for it).
    pub fn load_progress(&self, id: &str) -> Option<Progress> {
        let loading = self.lock_loading().get(id).cloned()?;
        loading.progress()
    }

    /// Loads series `id` from its source into the cache, reporting to `loading`.
    pub(super) fn load(
        &self,
        id: &str,
        source: &Source,
        loading: &Loading,
    ) -> Result<SeriesVolumes, LibraryError> {
        let unknown = || LibraryError::UnknownSeries(printable(id));
        let mut suv_factor = None;
        let volume = match source {
            Source::Loaded(volume) => return Ok(SeriesVolumes::one(volume.clone())),
            Source::Phantom => ct_phantom(),
            Source::Catalog(..) | Source::Received(_) => {
                let series = self.on_disk(source).ok_or_else(unknown)?;
                if let Some(reason) = self.unavailable(id) {
                    return Err(LibraryError::Unavailable {
                        id: id.to_string(),
                        reason,
                    });
                }
                let time_points = plan_time_points(&series.images).len();
                if time_points > 1 {
                    return self.load_over_time(id, series, time_points, loading, Vec::new());
                }
                let loaded = self.load_within_budget(id, series, loading, None)?;
                suv_factor = pet_suv_factor(id, series);
                for warning in &loaded.warnings {
                    tracing::info!(series = id, %warning, "loaded with a warning");
                }
                self.record_warnings(
                    id,
                    loaded.warnings.iter().map(ToString::to_string).collect(),
                );
                loaded.volume
            }
            Source::Pacs { pacs, study_uid } => {
                match self.load_from_pacs(id, *pacs, study_uid, loading)? {
                    Retrieved::Volume(volume, suv) => {
                        suv_factor = suv;
                        *volume
                    }
                    Retrieved::OverTime(volumes) => return Ok(volumes),
                }
            }
        };
        // Kept compressed: frames are drawn from the renderer's texture, and the CPU copy
        // is read only to upload it and to measure (see `render_core::packed`).
        let started = std::time::Instant::now();
        let volume = Arc::new(volume.packed());
        tracing::debug!(
            series = id,
            packed = ?started.elapsed(),
            bytes = volume.voxels.held_bytes(),
            of = volume.size_bytes(),
            "voxels kept compressed"
        );
        let volumes = SeriesVolumes::one(volume).with_suv_factor(suv_factor);
        Ok(self.lock_cache().insert(id, volumes))
    }

    /// Loads every volume of series `id`, `time_points` of them, into the cache as one
    /// entry, after reserving their peak bytes together; the loader refuses the series
    /// before decoding when they are over the series budget together. `warnings` come
    /// first among what the reader is told (images a PACS did not deliver).
    fn load_over_time(
        &self,
        id: &str,
        series: &render_core::dicom::Series,
        time_points: usize,
        loading: &Loading,
        mut warnings: Vec<String>,
    ) -> Result<SeriesVolumes, LibraryError> {
        let loaded = self.reserving(id, series, time_points, || {
            let report = |step: Progress| loading.report(step);
            load_series_over_time(series, self.series_budget, &report)
        })?;
        warnings.extend(loaded.warnings.iter().map(ToString::to_string));
        for warning in &warnings {
            tracing::info!(series = id, %warning, "loaded with a warning");
        }
        self.record_warnings(id, warnings);
        let volumes = loaded
            .volumes
            .into_iter()
            .map(|at_time| TimePointVolume {
                label: at_time.label,
                time_s: at_time.time_s,
                volume: Arc::new(at_time.volume.packed()),
            })
            .collect();
        let volumes = SeriesVolumes::over_time(volumes)
            .ok_or_else(|| LibraryError::LoadFailed(id.to_string()))?
            .with_suv_factor(pet_suv_factor(id, series));
        tracing::debug!(
            series = id,
            volumes = volumes.count(),
            bytes = volumes.size_bytes(),
            "series over time loaded"
        );
        Ok(self.lock_cache().insert(id, volumes))
    }

    /// Retrieves a PACS's series `id` (its SeriesInstanceUID) into its cache (reporting
    /// images received), then loads it as a folder's (every volume of a series over time,
    /// from the files the cache keeps); instances the PACS would not deliver are left out,
    /// the gap reported as the loader reports missing slices (both logged as warnings).
    fn load_from_pacs(
        &self,
        id: &str,
        pacs: usize,
        study_uid: &str,
        loading: &Loading,
    ) -> Result<Retrieved, LibraryError> {
        let pacs = self
            .pacs
            .get(pacs)
            .ok_or_else(|| LibraryError::UnknownSeries(printable(id)))?;
        let report = |done, total| {
            loading.report(Progress {
                stage: Stage::Retrieving,
                done,
                total,
            });
        };
        let arrived = pacs.retrieve(id, (study_uid, id), &report, self.series_budget.max_bytes)?;
        let series = match arrived.catalog.find(id) {
            Ok(series) => series,
            // A series the catalog splits (two orientations, say): its largest volume.
            Err(_) => {
                arrived
                    .catalog
                    .default_series()
                    .ok_or_else(|| LibraryError::Unavailable {
                        id: id.to_string(),
                        reason: "its images do not form a volume".to_string(),
                    })?
            }
        };
        let mut told = Vec::new();
        if !arrived.missing.is_empty() {
            told.push(format!(
                "{} of {} images were not delivered by the PACS and are left out",
                arrived.missing.len(),
                arrived.expected
            ));
        }
        for warning in &arrived.missing {
            tracing::warn!(series = id, %warning, "loaded with a gap");
        }
        let time_points = plan_time_points(&series.images).len();
        if time_points > 1 {
            let volumes = self.load_over_time(id, series, time_points, loading, told)?;
            return Ok(Retrieved::OverTime(volumes));
        }
        let loaded = self.load_within_budget(id, series, loading, Some(&arrived.decoded))?;
        for warning in &loaded.warnings {
            tracing::warn!(series = id, %warning, "loaded with a warning");
        }
        told.extend(loaded.warnings.iter().map(ToString::to_string));
        self.record_warnings(id, told);
        Ok(Retrieved::Volume(
            Box::new(loaded.volume),
            pet_suv_factor(id, series),
        ))
    }

    /// Loads a catalogued series after reserving its peak bytes against the cache (older
    /// volumes are evicted first), so loads at once never take more than the budget; a
    /// panic in the loader fails this load alone.
    pub(super) fn load_within_budget(
        &self,
        id: &str,
        series: &render_core::dicom::Series,
        loading: &Loading,
        decoded: Option<&render_core::dicom::PreDecoded>,
    ) -> Result<render_core::dicom::LoadedSeries, LibraryError> {
        let budget = self.series_budget;
        let report = |step: Progress| loading.report(step);
        self.reserving(id, series, 1, || {
            load_series_predecoded(series, budget, &report, decoded)
        })
    }

    /// Runs `load` of series `id` after reserving `volumes` times the peak bytes of its
    /// first volume's plan against the cache (older volumes are evicted first), so loads
    /// at once never take more than the budget; a panic in the loader fails this load
    /// alone, and a file refused is named by its name, never its path.
    fn reserving<T>(
        &self,
        id: &str,
        series: &render_core::dicom::Series,
        volumes: usize,
        load: impl FnOnce() -> Result<T, render_core::dicom::DicomError>,
    ) -> Result<T, LibraryError> {
        let unavailable = |reason: String| LibraryError::Unavailable {
            id: id.to_string(),
            reason,
        };
        let plan = series
            .plan
            .as_ref()
            .map_err(|reason| unavailable(without_paths(reason, &series.images)))?;
        let bytes = self
            .series_budget
            .check(id, plan)
            .map_err(|error| unavailable(error.to_string()))?;
        let bytes = usize::try_from(bytes)
            .map_err(|error| unavailable(error.to_string()))?
            .saturating_mul(volumes);
        if !self.lock_cache().reserve(bytes) {
            return Err(unavailable(
                "the server is loading other series and has no memory left for this one; try again shortly"
                    .to_string(),
            ));
        }
        self.subjects
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .insert(id.to_string(), Arc::new(ReportSubject::of_series(series)));
        let loaded = std::panic::catch_unwind(std::panic::AssertUnwindSafe(load));
        self.lock_cache().release(bytes);
        match loaded {
            Ok(Ok(loaded)) => Ok(loaded),
            Ok(Err(error)) => {
                // A file refused (a frame that lies about its size, an unreadable file):
                // the client is told why, by the file's name, never its path.
                tracing::warn!(series = id, %error, "series failed to load");
                Err(unavailable(without_paths(
                    &error.to_string(),
                    &series.images,
                )))
            }
            Err(_) => {
                tracing::error!(series = id, "the loader panicked");
                Err(LibraryError::LoadFailed(id.to_string()))
            }
        }
    }
}

/// A PET series' SUV (body weight) a Bq/ml, from its first image's header; none for
/// another modality, or a PET whose header lacks what SUV is computed from (logged).
fn pet_suv_factor(id: &str, series: &render_core::dicom::Series) -> Option<f64> {
    match series_suv_factor(series)? {
        Ok(suv) => Some(suv.factor),
        Err(why) => {
            tracing::info!(series = id, %why, "a PET without SUV");
            None
        }
    }
}
