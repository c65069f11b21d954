//! The library the server serves: the catalog of its `--library` folders and PACSes (or
//! the built-in phantom), exposed by series id only, and a memory-bounded cache of loaded
//! volumes shared by every session (least recently used out first); sessions opening one
//! series at once share one load.

mod pacs;

pub use pacs::{MAX_PACS_STUDIES, PacsLibrary};

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, RwLock, Weak};
use std::time::Duration;

use render_core::Volume;
use render_core::dicom::thumbnail::{GreyImage, series_thumbnail, volume_thumbnail};
use render_core::dicom::{Catalog, SeriesKind, VoxelBudget, load_series_predecoded};
use render_core::phantom::ct_phantom;
use render_core::progress::{Progress, Stage, no_progress};

use crate::study_query::sort_newest_first;
use hounsfield_protocol::{SeriesInfo, StudyInfo};

/// The series id of the built-in phantom (served when no library folder is given).
pub const PHANTOM_ID: &str = "phantom";

/// Longest series id accepted (DICOM UIDs are at most 64 characters, plus a part suffix).
const MAX_ID_LEN: usize = 96;

/// Why a series could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum LibraryError {
    /// The id is not one the catalog lists (paths and other shapes are never looked up).
    #[error("no series \"{0}\" in the library (ids come from list_studies)")]
    UnknownSeries(String),
    /// The series is listed but does not form a loadable volume.
    #[error("series \"{id}\" cannot be opened: {reason}")]
    Unavailable {
        /// The series id.
        id: String,
        /// Why.
        reason: String,
    },
    /// Loading failed; the details (with file names) are logged, not sent to clients.
    #[error("series \"{0}\" failed to load (the server log says why)")]
    LoadFailed(String),
    /// The series has no image a thumbnail can be made of (colour, undecodable).
    #[error("series \"{0}\" has no thumbnail")]
    NoThumbnail(String),
}

/// Where a listed series comes from.
#[derive(Clone)]
enum Source {
    /// The built-in phantom.
    Phantom,
    /// Study and series index in the catalog.
    Catalog(usize, usize),
    /// A volume already in memory (a desktop sharing the series it shows).
    Loaded(Arc<Volume>),
    /// A series on the library's PACS number `pacs` (its id is its SeriesInstanceUID),
    /// retrieved into its cache when opened.
    Pacs {
        /// Index into the library's PACSes.
        pacs: usize,
        /// StudyInstanceUID.
        study_uid: String,
    },
}

/// What the library lists: where each series id comes from, and the studies as `studies`
/// sends them (newest first).
#[derive(Clone, Default)]
struct Listing {
    index: HashMap<String, Source>,
    studies: Vec<StudyInfo>,
}

/// The studies listed at one moment (a later listing of the PACSes does not change them).
pub struct Studies(Arc<Listing>);

impl std::ops::Deref for Studies {
    type Target = [StudyInfo];

    fn deref(&self) -> &[StudyInfo] {
        &self.0.studies
    }
}

/// The catalog by id plus the volume cache.
pub struct Library {
    catalog: Catalog,
    /// The PACSes whose studies are listed.
    pacs: Vec<PacsLibrary>,
    /// The folders' listing (or the phantom's, or a shared volume's): fixed.
    folders: Listing,
    /// The folders' listing with the PACSes' as last listed (replaced whole when they are
    /// listed again).
    listing: RwLock<Arc<Listing>>,
    /// The most one series may take while it loads.
    series_budget: VoxelBudget,
    cache: Mutex<VolumeCache>,
    /// The series being loaded: sessions opening the same series at once wait for one
    /// load instead of decoding it twice, and all of them can tell how far it has come.
    loading: Mutex<HashMap<String, Arc<Loading>>>,
    /// What each series loaded so far must tell the reader (`opened.warnings`), by id:
    /// at most one entry per listed series.
    warnings: Mutex<HashMap<String, Vec<String>>>,
}

/// One series being loaded.
#[derive(Default)]
struct Loading {
    /// Held by the session that loads; the others wait on it.
    gate: Mutex<()>,
    /// How far the load has come (none before decoding starts).
    progress: Mutex<Option<Progress>>,
}

impl Loading {
    fn report(&self, step: Progress) {
        // A plain value: a panic elsewhere cannot leave it half written.
        *self
            .progress
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(step);
    }

    fn progress(&self) -> Option<Progress> {
        *self
            .progress
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl Library {
    /// Scans `folders` (headers only); with none, the library holds the built-in phantom.
    /// `cache_bytes` bounds the voxel memory the cache keeps.
    pub fn scan(folders: &[PathBuf], cache_bytes: usize) -> Self {
        Self::scan_within(folders, cache_bytes, VoxelBudget::for_machine())
    }

    /// [`Self::scan`] with the most one series may take while it loads (never more than
    /// `cache_bytes`); larger series are listed as unavailable, saying why.
    pub fn scan_within(
        folders: &[PathBuf],
        cache_bytes: usize,
        series_budget: VoxelBudget,
    ) -> Self {
        if folders.is_empty() {
            return Self::phantom(cache_bytes);
        }
        Self::of_folders(folders, cache_bytes, series_budget)
    }

    /// [`Self::scan_within`] with the studies of every PACS of `pacs` beside the folders'
    /// (their catalogs listed now over QIDO-RS, headers only; a series on disk too keeps its
    /// folder's copy). `list_studies` searches the catalog listed here, as it searches
    /// folders', instead of asking the PACS each time: the same query fields and paging for
    /// every source, and no load on the PACS per keystroke of the web client's search;
    /// [`Self::refresh_every`] lists the PACSes again, so studies added later appear. The
    /// error names the PACS that could not be listed.
    pub fn scan_with_pacs(
        folders: &[PathBuf],
        pacs: Vec<PacsLibrary>,
        cache_bytes: usize,
        series_budget: VoxelBudget,
    ) -> Result<Self, hounsfield_dicomweb::PacsError> {
        if pacs.is_empty() {
            return Ok(Self::scan_within(folders, cache_bytes, series_budget));
        }
        let mut library = Self::of_folders(folders, cache_bytes, series_budget);
        library.pacs = pacs;
        library.list_pacs()?;
        Ok(library)
    }

    /// Lists every PACS again and replaces their part of the listing; a series whose count
    /// of images changed, or that went, leaves the volume cache (sessions showing it keep
    /// their copy). On an error the listing before stays whole. The studies listed.
    pub fn list_pacs(&self) -> Result<usize, hounsfield_dicomweb::PacsError> {
        let mut listing = self.folders.clone();
        for (n, source) in self.pacs.iter().enumerate() {
            for mut study in source.list()? {
                study.series.retain(|series| {
                    let listed = listing.index.contains_key(&series.id);
                    if listed {
                        tracing::debug!(series = %series.id, "on disk and on the PACS: the disk's copy is served");
                    }
                    !listed
                });
                if study.series.is_empty() {
                    continue;
                }
                for series in &study.series {
                    listing.index.insert(
                        series.id.clone(),
                        Source::Pacs {
                            pacs: n,
                            study_uid: study.id.clone(),
                        },
                    );
                }
                listing.studies.push(study);
            }
        }
        sort_newest_first(&mut listing.studies);
        let before = self.listing();
        let images = |listing: &Listing| -> HashMap<String, usize> {
            listing
                .studies
                .iter()
                .flat_map(|study| study.series.iter())
                .map(|series| (series.id.clone(), series.images))
                .collect()
        };
        let now = images(&listing);
        let changed: Vec<String> = images(&before)
            .into_iter()
            .filter(|(id, count)| now.get(id) != Some(count))
            .map(|(id, _)| id)
            .collect();
        {
            let mut cache = self.lock_cache();
            for id in &changed {
                if cache.forget(id) {
                    tracing::info!(series = %id, "changed on the PACS: its volume will be retrieved again");
                }
            }
        }
        let studies = listing.studies.len();
        *self
            .listing
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = Arc::new(listing);
        Ok(studies)
    }

    /// Lists the library's PACSes again every `every`, on a thread of its own, for as long
    /// as the library lives; a PACS that cannot be listed leaves the listing as it was
    /// (logged). Nothing is started for a library without a PACS.
    pub fn refresh_every(library: &Arc<Self>, every: Duration) {
        if library.pacs.is_empty() {
            return;
        }
        let weak: Weak<Self> = Arc::downgrade(library);
        let spawned = std::thread::Builder::new()
            .name("pacs-listing".to_string())
            .spawn(move || {
                loop {
                    std::thread::sleep(every);
                    let Some(library) = weak.upgrade() else {
                        return;
                    };
                    match library.list_pacs() {
                        Ok(studies) => tracing::debug!(studies, "the PACS listed again"),
                        Err(error) => tracing::warn!(
                            %error,
                            "the PACS could not be listed again; its studies as listed before stay"
                        ),
                    }
                }
            });
        if let Err(error) = spawned {
            tracing::warn!(%error, "the PACS will not be listed again: no thread");
        }
    }

    /// The listing as it is now.
    fn listing(&self) -> Arc<Listing> {
        self.listing
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    /// The library of `folders` alone (none: an empty library).
    fn of_folders(folders: &[PathBuf], cache_bytes: usize, series_budget: VoxelBudget) -> Self {
        let series_budget = series_budget.at_most(cache_bytes as u64);
        let catalog = Catalog::scan(folders, &no_progress);
        for skipped in &catalog.skipped {
            tracing::debug!(file = %skipped.file.display(), reason = %skipped.reason, "not catalogued");
        }
        let mut index = HashMap::new();
        let mut studies = Vec::with_capacity(catalog.studies.len());
        for (s, study) in catalog.studies.iter().enumerate() {
            let mut series = Vec::with_capacity(study.series.len());
            for (n, part) in study.series.iter().enumerate() {
                if index
                    .insert(part.id.clone(), Source::Catalog(s, n))
                    .is_some()
                {
                    // The catalog makes ids unique; this would hide a series.
                    tracing::error!(series = %part.id, "two series share one id");
                }
                let unavailable = match (&part.plan, &part.unsupported) {
                    (Err(reason), _) => Some(without_paths(reason, &part.images)),
                    (Ok(_), Some(what)) => Some(what.clone()),
                    (Ok(plan), None) => series_budget
                        .check(&part.id, plan)
                        .err()
                        .map(|error| error.to_string()),
                };
                let grey = part
                    .images
                    .first()
                    .is_some_and(|image| image.pixel_format.samples_per_pixel == 1);
                series.push(SeriesInfo {
                    id: part.id.clone(),
                    number: part.number,
                    modality: part.modality.clone(),
                    description: part.description.clone(),
                    images: part.images.len(),
                    dims: part.plan.as_ref().ok().map(|plan| plan.dims),
                    unavailable,
                    kind: part.kind,
                    thumbnail: grey.then(|| thumbnail_path(&part.id)),
                });
            }
            studies.push(StudyInfo {
                id: study.uid.clone(),
                description: study.description.clone(),
                date: study.date.clone(),
                patient_name: study.patient_name.clone(),
                patient_id: study.patient_id.clone(),
                accession: study.accession.clone(),
                modalities: modalities_of(&series),
                series,
            });
        }
        sort_newest_first(&mut studies);
        Self::listing_alone(
            catalog,
            Listing { index, studies },
            series_budget,
            cache_bytes,
        )
    }

    /// A library listing `listing` (of `catalog`) alone, until PACSes are added.
    fn listing_alone(
        catalog: Catalog,
        listing: Listing,
        series_budget: VoxelBudget,
        cache_bytes: usize,
    ) -> Self {
        Self {
            catalog,
            pacs: Vec::new(),
            listing: RwLock::new(Arc::new(listing.clone())),
            folders: listing,
            series_budget,
            cache: Mutex::new(VolumeCache::new(cache_bytes)),
            loading: Mutex::default(),
            warnings: Mutex::default(),
        }
    }

    /// A library of one volume already loaded, listed under `id` with `study` (a desktop
    /// sharing what it shows: nothing is read from disk again).
    pub fn single(id: &str, study: StudyInfo, volume: Arc<Volume>) -> Self {
        let mut index = HashMap::new();
        index.insert(id.to_string(), Source::Loaded(volume));
        let listing = Listing {
            index,
            studies: vec![study],
        };
        Self::listing_alone(Catalog::default(), listing, VoxelBudget::for_machine(), 0)
    }

    /// A library of the built-in phantom alone.
    pub fn phantom(cache_bytes: usize) -> Self {
        let dims = render_core::phantom::DIMS;
        let mut index = HashMap::new();
        index.insert(PHANTOM_ID.to_string(), Source::Phantom);
        let listing = Listing {
            index,
            studies: vec![StudyInfo {
                id: PHANTOM_ID.to_string(),
                description: "Built-in sample: a synthetic CT torso".to_string(),
                date: String::new(),
                patient_name: String::new(),
                patient_id: String::new(),
                accession: String::new(),
                modalities: vec!["CT".to_string()],
                series: vec![SeriesInfo {
                    id: PHANTOM_ID.to_string(),
                    number: Some(1),
                    modality: "CT".to_string(),
                    description: "Synthetic CT torso".to_string(),
                    images: dims[2],
                    dims: Some(dims),
                    unavailable: None,
                    kind: SeriesKind::Volume,
                    thumbnail: Some(thumbnail_path(PHANTOM_ID)),
                }],
            }],
        };
        Self::listing_alone(
            Catalog::default(),
            listing,
            VoxelBudget::for_machine().at_most(cache_bytes as u64),
            cache_bytes,
        )
    }

    /// Every study with its series, newest first, as `studies` sends them.
    pub fn studies(&self) -> Studies {
        Studies(self.listing())
    }

    /// The listing of series `id` of the folders (or the phantom, or a shared volume).
    fn series_info(&self, id: &str) -> Option<&SeriesInfo> {
        self.folders
            .studies
            .iter()
            .flat_map(|study| study.series.iter())
            .find(|series| series.id == id)
    }

    /// A thumbnail of series `id` no side of which exceeds `max_side`: its middle image
    /// decoded alone, or the middle slice of a volume in memory (slow: call it off the
    /// async threads). The volume cache is neither filled nor touched for a catalogued
    /// series.
    pub fn thumbnail(&self, id: &str, max_side: usize) -> Result<GreyImage, LibraryError> {
        let unknown = || LibraryError::UnknownSeries(printable(id));
        if !is_plausible_id(id) {
            return Err(unknown());
        }
        let source = self.listing().index.get(id).cloned();
        match source.ok_or_else(unknown)? {
            Source::Loaded(volume) => Ok(volume_thumbnail(&volume, max_side)),
            // Retrieving a series for its thumbnail would cost the PACS the whole series.
            Source::Pacs { .. } => Err(LibraryError::NoThumbnail(printable(id))),
            Source::Phantom => Ok(volume_thumbnail(&*self.open(id)?, max_side)),
            Source::Catalog(study, series) => {
                let series = self.catalogued(study, series).ok_or_else(unknown)?;
                let made = std::panic::catch_unwind(|| series_thumbnail(series, max_side));
                match made {
                    Ok(Ok(image)) => Ok(image),
                    Ok(Err(error)) => {
                        tracing::info!(series = id, %error, "no thumbnail");
                        Err(LibraryError::NoThumbnail(printable(id)))
                    }
                    Err(_) => {
                        tracing::error!(series = id, "the thumbnail's decoder panicked");
                        Err(LibraryError::NoThumbnail(printable(id)))
                    }
                }
            }
        }
    }

    /// PatientID of the study that holds series `id` (for the audit log).
    pub fn patient_id(&self, id: &str) -> Option<String> {
        self.listing()
            .studies
            .iter()
            .find(|study| study.series.iter().any(|series| series.id == id))
            .map(|study| study.patient_id.clone())
    }

    /// Number of series listed.
    pub fn series_count(&self) -> usize {
        self.listing().index.len()
    }

    /// The volume of series `id`, from the cache or loaded now (slow: call it off the
    /// async threads). Only ids the catalog lists are looked up.
    pub fn open(&self, id: &str) -> Result<Arc<Volume>, LibraryError> {
        let unknown = || LibraryError::UnknownSeries(printable(id));
        if !is_plausible_id(id) {
            return Err(unknown());
        }
        let source = self.listing().index.get(id).cloned().ok_or_else(unknown)?;
        if let Some(volume) = self.lock_cache().get(id) {
            return Ok(volume);
        }
        let gate = self
            .lock_loading()
            .entry(id.to_string())
            .or_default()
            .clone();
        let result = {
            let _loading = gate
                .gate
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            // Another session may have loaded it while this one waited.
            let cached = self.lock_cache().get(id);
            match cached {
                Some(volume) => Ok(volume),
                None => self.load(id, &source, &gate),
            }
        };
        // The last one out removes the gate (the map and this call hold one each); clones
        // are taken and dropped under the map's lock, so the count is exact.
        let mut loading = self.lock_loading();
        if Arc::strong_count(&gate) <= 2 {
            loading.remove(id);
        }
        drop(gate);
        drop(loading);
        result
    }

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
    fn record_warnings(&self, id: &str, warnings: Vec<String>) {
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
    fn load(
        &self,
        id: &str,
        source: &Source,
        loading: &Loading,
    ) -> Result<Arc<Volume>, LibraryError> {
        let unknown = || LibraryError::UnknownSeries(printable(id));
        let volume = match source {
            Source::Loaded(volume) => return Ok(volume.clone()),
            Source::Phantom => ct_phantom(),
            &Source::Catalog(study, series) => {
                let series = self.catalogued(study, series).ok_or_else(unknown)?;
                if let Some(reason) = self
                    .series_info(id)
                    .and_then(|info| info.unavailable.clone())
                {
                    return Err(LibraryError::Unavailable {
                        id: id.to_string(),
                        reason,
                    });
                }
                let loaded = self.load_within_budget(id, series, loading, None)?;
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
                self.load_from_pacs(id, *pacs, study_uid, loading)?
            }
        };
        Ok(self.lock_cache().insert(id, Arc::new(volume)))
    }

    /// Retrieves a PACS's series `id` (its SeriesInstanceUID) into its cache (reporting
    /// images received), then loads it as a folder's; instances the PACS would not deliver
    /// are left out, the gap reported as the loader reports missing slices (both logged as
    /// warnings).
    fn load_from_pacs(
        &self,
        id: &str,
        pacs: usize,
        study_uid: &str,
        loading: &Loading,
    ) -> Result<Volume, LibraryError> {
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
        let loaded = self.load_within_budget(id, series, loading, Some(&arrived.decoded))?;
        for warning in &arrived.missing {
            tracing::warn!(series = id, %warning, "loaded with a gap");
        }
        for warning in &loaded.warnings {
            tracing::warn!(series = id, %warning, "loaded with a warning");
        }
        let mut told = Vec::with_capacity(loaded.warnings.len() + 1);
        if !arrived.missing.is_empty() {
            told.push(format!(
                "{} of {} images were not delivered by the PACS and are left out",
                arrived.missing.len(),
                arrived.expected
            ));
        }
        told.extend(loaded.warnings.iter().map(ToString::to_string));
        self.record_warnings(id, told);
        Ok(loaded.volume)
    }

    /// Loads a catalogued series after reserving its peak bytes against the cache (older
    /// volumes are evicted first), so loads at once never take more than the budget; a
    /// panic in the loader fails this load alone.
    fn load_within_budget(
        &self,
        id: &str,
        series: &render_core::dicom::Series,
        loading: &Loading,
        decoded: Option<&render_core::dicom::PreDecoded>,
    ) -> Result<render_core::dicom::LoadedSeries, LibraryError> {
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
        let bytes = usize::try_from(bytes).map_err(|error| unavailable(error.to_string()))?;
        if !self.lock_cache().reserve(bytes) {
            return Err(unavailable(
                "the server is loading other series and has no memory left for this one; try again shortly"
                    .to_string(),
            ));
        }
        let budget = self.series_budget;
        let report = |step: Progress| loading.report(step);
        let loaded =
            std::panic::catch_unwind(|| load_series_predecoded(series, budget, &report, decoded));
        self.lock_cache().release(bytes);
        match loaded {
            Ok(Ok(loaded)) => Ok(loaded),
            Ok(Err(error)) => {
                tracing::warn!(series = id, %error, "series failed to load");
                Err(LibraryError::LoadFailed(id.to_string()))
            }
            Err(_) => {
                tracing::error!(series = id, "the loader panicked");
                Err(LibraryError::LoadFailed(id.to_string()))
            }
        }
    }

    /// Series `series` of study `study` in the catalog.
    fn catalogued(&self, study: usize, series: usize) -> Option<&render_core::dicom::Series> {
        self.catalog.studies.get(study)?.series.get(series)
    }

    /// Bytes of voxels the cache holds now.
    pub fn cached_bytes(&self) -> usize {
        self.lock_cache().bytes
    }

    fn lock_loading(&self) -> MutexGuard<'_, HashMap<String, Arc<Loading>>> {
        // The map is consistent between statements.
        self.loading
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn lock_cache(&self) -> MutexGuard<'_, VolumeCache> {
        // The cache is consistent between statements: a panic elsewhere leaves it usable.
        self.cache
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// The path a series' thumbnail is served at.
pub fn thumbnail_path(id: &str) -> String {
    format!("/thumbnail/{id}")
}

/// The modalities of `series`, each once, in their order.
pub fn modalities_of(series: &[SeriesInfo]) -> Vec<String> {
    let mut modalities: Vec<String> = Vec::new();
    for modality in series.iter().map(|s| &s.modality) {
        if !modality.is_empty() && !modalities.contains(modality) {
            modalities.push(modality.clone());
        }
    }
    modalities
}

/// A reason with every image's full path cut to its file name: folder names often hold
/// patients' names, and clients are never told the server's paths.
fn without_paths(reason: &str, images: &[render_core::dicom::header::ImageHeader]) -> String {
    without_file_paths(reason, images.iter().map(|image| image.file.as_path()))
}

/// [`without_paths`] over bare paths.
fn without_file_paths<'a>(reason: &str, files: impl IntoIterator<Item = &'a Path>) -> String {
    let mut text = reason.to_string();
    for file in files {
        let path = file.display().to_string();
        if text.contains(&path) {
            let name = file.file_name().map_or_else(
                || "a file".to_string(),
                |n| n.to_string_lossy().into_owned(),
            );
            text = text.replace(&path, &name);
        }
    }
    text
}

/// Whether `id` has the shape of a catalog id (UID characters and a part suffix): paths,
/// empty and overlong strings are refused before any lookup.
fn is_plausible_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= MAX_ID_LEN
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
        && !id.contains("..")
}

/// An id cut short and stripped of control characters, safe to echo in a message.
fn printable(id: &str) -> String {
    id.chars()
        .filter(|c| !c.is_control())
        .take(MAX_ID_LEN)
        .collect()
}

/// Loaded volumes by series id, within a byte budget, least recently used out first.
/// Sessions holding an evicted volume keep it alive until they let go.
struct VolumeCache {
    budget_bytes: usize,
    bytes: usize,
    /// Bytes promised to loads under way.
    reserved: usize,
    clock: u64,
    entries: Vec<CacheEntry>,
}

struct CacheEntry {
    id: String,
    volume: Arc<Volume>,
    last_used: u64,
}

impl VolumeCache {
    fn new(budget_bytes: usize) -> Self {
        Self {
            budget_bytes,
            bytes: 0,
            reserved: 0,
            clock: 0,
            entries: Vec::new(),
        }
    }

    /// Promises `bytes` to a load, evicting the least recently used volumes to make room;
    /// `false` when loads under way already hold too much of the budget.
    fn reserve(&mut self, bytes: usize) -> bool {
        while self.bytes + self.reserved + bytes > self.budget_bytes && !self.entries.is_empty() {
            self.evict_oldest(None);
        }
        let fits = self.reserved + bytes <= self.budget_bytes || self.reserved == 0;
        if fits {
            self.reserved += bytes;
        }
        fits
    }

    /// Gives back what [`Self::reserve`] promised.
    fn release(&mut self, bytes: usize) {
        self.reserved = self.reserved.saturating_sub(bytes);
    }

    /// Drops the least recently used volume other than `keep`; `false` when none is left.
    fn evict_oldest(&mut self, keep: Option<&str>) -> bool {
        let Some(oldest) = self
            .entries
            .iter()
            .enumerate()
            .filter(|(_, e)| Some(e.id.as_str()) != keep)
            .min_by_key(|(_, e)| e.last_used)
            .map(|(n, _)| n)
        else {
            return false;
        };
        let evicted = self.entries.swap_remove(oldest);
        self.bytes -= evicted.volume.size_bytes();
        tracing::debug!(series = %evicted.id, "volume evicted from the cache");
        true
    }

    /// Drops the volume of `id`, if kept; whether it was.
    fn forget(&mut self, id: &str) -> bool {
        let Some(at) = self.entries.iter().position(|e| e.id == id) else {
            return false;
        };
        let forgotten = self.entries.swap_remove(at);
        self.bytes -= forgotten.volume.size_bytes();
        true
    }

    fn get(&mut self, id: &str) -> Option<Arc<Volume>> {
        self.clock += 1;
        let entry = self.entries.iter_mut().find(|e| e.id == id)?;
        entry.last_used = self.clock;
        Some(entry.volume.clone())
    }

    /// Keeps `volume` (or the copy another session loaded meanwhile) and returns it,
    /// evicting the least recently used others until the budget holds. The newest entry
    /// stays even when it alone exceeds the budget.
    fn insert(&mut self, id: &str, volume: Arc<Volume>) -> Arc<Volume> {
        if let Some(existing) = self.get(id) {
            return existing;
        }
        self.clock += 1;
        self.bytes += volume.size_bytes();
        self.entries.push(CacheEntry {
            id: id.to_string(),
            volume: volume.clone(),
            last_used: self.clock,
        });
        while self.bytes > self.budget_bytes && self.entries.len() > 1 {
            if !self.evict_oldest(Some(id)) {
                break;
            }
        }
        volume
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use render_core::{Modality, Voxels};

    fn small_volume(voxels: usize) -> Arc<Volume> {
        let volume = Volume::new(
            Voxels::I16(vec![0; voxels]),
            [voxels, 1, 1],
            glam::DMat4::IDENTITY,
            Modality::CT,
            None,
        )
        .expect("a valid volume");
        Arc::new(volume)
    }

    #[test]
    fn the_cache_evicts_the_least_recently_used_first() {
        // Three 100-byte volumes (50 i16 voxels) in a 250-byte budget.
        let mut cache = VolumeCache::new(250);
        cache.insert("a", small_volume(50));
        cache.insert("b", small_volume(50));
        assert!(cache.get("a").is_some(), "touching a makes b the oldest");
        cache.insert("c", small_volume(50));
        assert!(cache.get("b").is_none(), "b was evicted");
        assert!(cache.get("a").is_some() && cache.get("c").is_some());
        assert_eq!(cache.bytes, 200);
    }

    #[test]
    fn an_oversized_volume_stays_alone() {
        let mut cache = VolumeCache::new(100);
        cache.insert("a", small_volume(40));
        cache.insert("big", small_volume(500));
        assert!(cache.get("a").is_none());
        assert!(cache.get("big").is_some());
        assert_eq!(cache.bytes, 1000);
    }

    #[test]
    fn a_load_reserves_its_bytes_before_it_decodes() {
        let mut cache = VolumeCache::new(300);
        cache.insert("a", small_volume(50));
        cache.insert("b", small_volume(50));
        assert!(cache.reserve(150), "room is made by evicting the oldest");
        assert!(cache.get("a").is_none() && cache.get("b").is_some());
        assert!(
            !cache.reserve(200),
            "another load may not take what is promised"
        );
        cache.release(150);
        assert!(cache.reserve(200));
        assert_eq!(cache.reserved, 200);
    }

    #[test]
    fn reasons_sent_to_clients_name_no_folder() {
        let file = PathBuf::from("/srv/pacs/DOE^JANE/IMG0042.dcm");
        let reason = without_file_paths(
            "ImagePositionPatient (0020,0032) missing in /srv/pacs/DOE^JANE/IMG0042.dcm",
            [file.as_path()],
        );
        assert_eq!(
            reason,
            "ImagePositionPatient (0020,0032) missing in IMG0042.dcm"
        );
    }

    #[test]
    fn inserting_twice_keeps_the_first_copy() {
        let mut cache = VolumeCache::new(1000);
        let first = cache.insert("a", small_volume(10));
        let second = cache.insert("a", small_volume(10));
        assert!(Arc::ptr_eq(&first, &second));
        assert_eq!(cache.bytes, 20);
    }

    #[test]
    fn without_folders_the_phantom_is_served_and_paths_are_refused() {
        let library = Library::scan(&[], 1 << 30);
        assert_eq!(library.series_count(), 1);
        assert_eq!(library.studies()[0].series[0].id, PHANTOM_ID);
        let volume = library.open(PHANTOM_ID).expect("the phantom opens");
        assert_eq!(volume.dims, render_core::phantom::DIMS);
        let again = library.open(PHANTOM_ID).expect("cached");
        assert!(Arc::ptr_eq(&volume, &again), "one shared copy");
        for bad in [
            "../../etc/passwd",
            "/etc/passwd",
            "",
            "phantom/..",
            "C:\\x",
            "nope",
        ] {
            assert!(
                matches!(library.open(bad), Err(LibraryError::UnknownSeries(_))),
                "{bad:?} must be refused"
            );
        }
    }

    #[test]
    fn sessions_opening_one_series_at_once_share_one_load() {
        let library = Library::scan(&[], 1 << 30);
        let volumes: Vec<Arc<Volume>> = std::thread::scope(|scope| {
            let opening: Vec<_> = (0..4)
                .map(|_| scope.spawn(|| library.open(PHANTOM_ID)))
                .collect();
            opening
                .into_iter()
                .map(|handle| handle.join().expect("no panic").expect("the phantom opens"))
                .collect()
        });
        assert!(volumes.iter().all(|v| Arc::ptr_eq(v, &volumes[0])));
        assert!(library.lock_loading().is_empty(), "no gate is left behind");
        assert_eq!(library.cached_bytes(), volumes[0].size_bytes());
    }

    #[test]
    fn ids_with_path_shapes_are_implausible() {
        assert!(is_plausible_id("1.2.840.113619.2.55.3-2"));
        assert!(is_plausible_id(PHANTOM_ID));
        assert!(!is_plausible_id("../../etc/passwd"));
        assert!(!is_plausible_id("a/b"));
        assert!(!is_plausible_id("1..2"));
        assert!(!is_plausible_id(&"1".repeat(200)));
    }
}
