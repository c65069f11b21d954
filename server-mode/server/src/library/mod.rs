//! The library the server serves: the catalog of its `--library` folders and PACSes (or
//! the built-in phantom), exposed by series id only, and a memory-bounded cache of loaded
//! volumes shared by every session (least recently used out first); sessions opening one
//! series at once share one load.

mod catalogue;
mod loading;
mod names;
mod pacs;
mod received;
mod volume_cache;

pub use catalogue::CatalogueSummary;
pub use pacs::{MAX_PACS_STUDIES, PacsLibrary};
pub use received::ReceivedListed;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, RwLock, Weak};
use std::time::Duration;

use hounsfield_findings::report::{ReportSubject, one_patient};
use render_core::Volume;
use render_core::dicom::thumbnail::{GreyImage, series_thumbnail, volume_thumbnail};
use render_core::dicom::{Catalog, SeriesKind, VoxelBudget};

use crate::series_volumes::SeriesVolumes;
use hounsfield_protocol::{SeriesInfo, StudyInfo};

use catalogue::CatalogueProgress;
use loading::Loading;
use names::{is_plausible_id, printable};
pub use names::{modalities_of, thumbnail_path};
use volume_cache::VolumeCache;

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
    /// The loader failed unexpectedly (it panicked); the details are logged, not sent to
    /// clients. A file the loader refused makes the series [`LibraryError::Unavailable`].
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
    /// A series received over DICOM networking since the server started, catalogued when
    /// its association ended.
    Received(Arc<render_core::dicom::Series>),
}

/// What the library lists: where each series id comes from, and the studies as `studies`
/// sends them (newest first).
#[derive(Clone, Default)]
struct Listing {
    index: HashMap<String, Source>,
    studies: Vec<StudyInfo>,
}

impl Listing {
    /// The study that lists series `id`.
    fn study_of(&self, id: &str) -> Option<&StudyInfo> {
        self.studies
            .iter()
            .find(|study| study.series.iter().any(|series| series.id == id))
    }

    /// Adds the series of `study` (a PACS's) that this listing does not hold yet, each
    /// from the source `source_of` names (a series it names none of is left out): a series
    /// on disk too keeps its folder's copy. A study left with no series is not added.
    fn add_beside(
        &mut self,
        mut study: StudyInfo,
        source_of: impl Fn(&SeriesInfo) -> Option<Source>,
    ) {
        let mut sources = Vec::with_capacity(study.series.len());
        study.series.retain(|series| {
            if self.index.contains_key(&series.id) {
                tracing::debug!(series = %series.id, "on disk and on the PACS: the disk's copy is served");
                return false;
            }
            let source = source_of(series);
            let kept = source.is_some();
            sources.extend(source.map(|source| (series.id.clone(), source)));
            kept
        });
        if study.series.is_empty() {
            return;
        }
        self.index.extend(sources);
        self.studies.push(study);
    }
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
    /// The folders' catalog, once catalogued.
    catalog: OnceLock<Catalog>,
    /// How far the folders' catalogue has come.
    progress: CatalogueProgress,
    /// Whether the PACSes are yet to be listed for the first time.
    pacs_pending: AtomicBool,
    /// The PACSes whose studies are listed.
    pacs: Vec<PacsLibrary>,
    /// The folders' listing (or the phantom's, or a shared volume's), once catalogued.
    folders: OnceLock<Listing>,
    /// The folders' listing with the PACSes' as last listed (replaced whole when they are
    /// listed again, or when the folders' catalogue is in place).
    listing: RwLock<Arc<Listing>>,
    /// Held while a new listing is made of the folders' and the PACSes' and put in place,
    /// so that neither a catalogue nor a PACS listing undoes the other.
    listing_update: Mutex<()>,
    /// The studies received over DICOM networking since the server started.
    received: Mutex<Listing>,
    /// The most one series may take while it loads.
    series_budget: VoxelBudget,
    cache: Mutex<VolumeCache>,
    /// The series being loaded: sessions opening the same series at once wait for one
    /// load instead of decoding it twice, and all of them can tell how far it has come.
    loading: Mutex<HashMap<String, Arc<Loading>>>,
    /// What each series loaded so far must tell the reader (`opened.warnings`), by id:
    /// at most one entry per listed series.
    warnings: Mutex<HashMap<String, Vec<String>>>,
    /// The patient, study and images of each series loaded so far, by id, for the
    /// reports of its findings: at most one entry per listed series.
    subjects: Mutex<HashMap<String, Arc<ReportSubject>>>,
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
        let library = Self::to_catalogue(pacs, cache_bytes, series_budget);
        library.catalogue(folders);
        library.list_pacs()?;
        library.pacs_pending.store(false, Ordering::Release);
        Ok(library)
    }

    /// A library of `pacs` and of folders, neither listed yet: both are, folders first,
    /// by [`Self::catalogue_in_background`].
    pub fn to_catalogue(
        pacs: Vec<PacsLibrary>,
        cache_bytes: usize,
        series_budget: VoxelBudget,
    ) -> Self {
        let mut library = Self::pending(cache_bytes, series_budget);
        library.pacs_pending = AtomicBool::new(!pacs.is_empty());
        library.pacs = pacs;
        library
    }

    /// Lists every PACS again and replaces their part of the listing; a series whose count
    /// of images changed, or that went, leaves the volume cache (sessions showing it keep
    /// their copy). On an error the listing before stays whole. The studies listed.
    pub fn list_pacs(&self) -> Result<usize, hounsfield_dicomweb::PacsError> {
        let mut listed = Vec::with_capacity(self.pacs.len());
        for source in &self.pacs {
            listed.push(source.list()?);
        }
        let _updating = self.lock_listing_update();
        let mut listing = self.folders.get().cloned().unwrap_or_default();
        for (n, studies) in listed.into_iter().enumerate() {
            for study in studies {
                let study_uid = study.id.clone();
                listing.add_beside(study, |_| {
                    Some(Source::Pacs {
                        pacs: n,
                        study_uid: study_uid.clone(),
                    })
                });
            }
        }
        self.with_received(&mut listing);
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

    /// Puts `listing` in place of the one listed now.
    fn replace_listing(&self, listing: Listing) {
        *self
            .listing
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = Arc::new(listing);
    }

    fn lock_received(&self) -> MutexGuard<'_, Listing> {
        self.received
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn lock_listing_update(&self) -> MutexGuard<'_, ()> {
        self.listing_update
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
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

    /// The library of `folders` alone (none: an empty library), catalogued now.
    fn of_folders(folders: &[PathBuf], cache_bytes: usize, series_budget: VoxelBudget) -> Self {
        let library = Self::pending(cache_bytes, series_budget);
        library.catalogue(folders);
        library
    }

    /// A library listing nothing yet, its folders to be catalogued.
    fn pending(cache_bytes: usize, series_budget: VoxelBudget) -> Self {
        Self {
            catalog: OnceLock::new(),
            progress: CatalogueProgress::default(),
            pacs_pending: AtomicBool::new(false),
            pacs: Vec::new(),
            listing: RwLock::default(),
            listing_update: Mutex::default(),
            folders: OnceLock::new(),
            received: Mutex::default(),
            series_budget: series_budget.at_most(cache_bytes as u64),
            cache: Mutex::new(VolumeCache::new(cache_bytes)),
            loading: Mutex::default(),
            warnings: Mutex::default(),
            subjects: Mutex::default(),
        }
    }

    /// A library listing `listing` alone (no folder to catalogue, no PACS).
    fn listing_alone(listing: Listing, series_budget: VoxelBudget, cache_bytes: usize) -> Self {
        let library = Self::pending(cache_bytes, series_budget);
        let _ = library.catalog.set(Catalog::default());
        let _ = library.folders.set(listing.clone());
        library.replace_listing(listing);
        library
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
        Self::listing_alone(listing, VoxelBudget::for_machine(), 0)
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
                    body_part: String::new(),
                    images: dims[2],
                    dims: Some(dims),
                    unavailable: None,
                    kind: SeriesKind::Volume,
                    thumbnail: Some(thumbnail_path(PHANTOM_ID)),
                }],
            }],
        };
        Self::listing_alone(listing, VoxelBudget::for_machine(), cache_bytes)
    }

    /// Every study with its series, newest first, as `studies` sends them.
    pub fn studies(&self) -> Studies {
        Studies(self.listing())
    }

    /// Why series `id` of the folders or of those received cannot be loaded, if it
    /// cannot.
    fn unavailable(&self, id: &str) -> Option<String> {
        let why = |listing: &Listing| {
            listing
                .studies
                .iter()
                .flat_map(|study| study.series.iter())
                .find(|series| series.id == id)
                .and_then(|series| series.unavailable.clone())
        };
        self.folders
            .get()
            .and_then(why)
            .or_else(|| why(&self.lock_received()))
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
        let source = self.listing().index.get(id).cloned().ok_or_else(unknown)?;
        match &source {
            Source::Loaded(volume) => Ok(volume_thumbnail(volume, max_side)),
            // Retrieving a series for its thumbnail would cost the PACS the whole series.
            Source::Pacs { .. } => Err(LibraryError::NoThumbnail(printable(id))),
            Source::Phantom => Ok(volume_thumbnail(&*self.open(id)?, max_side)),
            Source::Catalog(..) | Source::Received(_) => {
                let series = self.on_disk(&source).ok_or_else(unknown)?;
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

    /// Study `id` (its StudyInstanceUID, as `studies` lists it) and the same patient's
    /// other studies, newest first.
    pub fn study_with_priors(&self, id: &str) -> Option<(StudyInfo, Vec<StudyInfo>)> {
        let listing = self.listing();
        let study = listing.studies.iter().find(|study| study.id == id)?;
        Some((
            study.clone(),
            hounsfield_hanging::priors_of(study, &listing.studies),
        ))
    }

    /// The same patient's other studies than the one that holds series `id`, newest
    /// first (none for a series not listed or a study without a PatientID).
    pub fn priors_of_series(&self, id: &str) -> Vec<StudyInfo> {
        let listing = self.listing();
        listing
            .study_of(id)
            .map(|study| hounsfield_hanging::priors_of(study, &listing.studies))
            .unwrap_or_default()
    }

    /// PatientID of the study that holds series `id` (for the audit log).
    pub fn patient_id(&self, id: &str) -> Option<String> {
        self.listing()
            .study_of(id)
            .map(|study| study.patient_id.clone())
    }

    /// Whether series `a` and `b` are one patient's: listed in one study, or in studies of
    /// one PatientID that is not empty. A series drawn over another must be (`over`).
    pub fn one_patient(&self, a: &str, b: &str) -> bool {
        let listing = self.listing();
        match (listing.study_of(a), listing.study_of(b)) {
            (Some(first), Some(second)) => one_patient(
                (&first.id, &first.patient_id),
                (&second.id, &second.patient_id),
            ),
            _ => false,
        }
    }

    /// The FrameOfReferenceUID of series `id`, once it has loaded from DICOM files.
    pub fn frame_of_reference(&self, id: &str) -> Option<String> {
        self.report_subject(id)
            .map(|subject| subject.frame_of_reference_uid.clone())
            .filter(|uid| !uid.trim().is_empty())
    }

    /// The patient, study and images of series `id`, once it has loaded from DICOM files
    /// (not the phantom's or a volume a desktop shares): what its findings' report is about.
    pub fn report_subject(&self, id: &str) -> Option<Arc<ReportSubject>> {
        self.subjects
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .get(id)
            .cloned()
    }

    /// The PACS series `id` is listed from, if it is a PACS's: where its findings go.
    pub fn pacs_of(&self, id: &str) -> Option<hounsfield_dicomweb::DicomWeb> {
        match self.listing().index.get(id)? {
            Source::Pacs { pacs, .. } => self.pacs.get(*pacs).and_then(PacsLibrary::dicomweb),
            _ => None,
        }
    }

    /// Number of series listed.
    pub fn series_count(&self) -> usize {
        self.listing().index.len()
    }

    /// The volume of series `id` (the first of a series over time), from the cache or
    /// loaded now (slow: call it off the async threads). Only ids the catalog lists are
    /// looked up.
    pub fn open(&self, id: &str) -> Result<Arc<Volume>, LibraryError> {
        self.open_volumes(id).map(|volumes| volumes.first().clone())
    }

    /// Every volume of series `id` (one, or each of a series over time), from the cache
    /// or loaded now (slow: call it off the async threads). Only ids the catalog lists
    /// are looked up.
    pub fn open_volumes(&self, id: &str) -> Result<SeriesVolumes, LibraryError> {
        let unknown = || LibraryError::UnknownSeries(printable(id));
        if !is_plausible_id(id) {
            return Err(unknown());
        }
        let source = self.listing().index.get(id).cloned().ok_or_else(unknown)?;
        if let Some(volumes) = self.lock_cache().get(id) {
            return Ok(volumes);
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
                Some(volumes) => Ok(volumes),
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

    /// The catalogued series a source on disk names (a folder's or one received).
    fn on_disk<'a>(&'a self, source: &'a Source) -> Option<&'a render_core::dicom::Series> {
        match source {
            &Source::Catalog(study, series) => {
                self.catalog.get()?.studies.get(study)?.series.get(series)
            }
            Source::Received(series) => Some(series),
            _ => None,
        }
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

#[cfg(test)]
mod tests {
    use super::names::without_file_paths;
    use super::*;
    use render_core::{Modality, Voxels};

    fn small_volume(voxels: usize) -> SeriesVolumes {
        let volume = Volume::new(
            Voxels::I16(vec![0; voxels]),
            [voxels, 1, 1],
            glam::DMat4::IDENTITY,
            Modality::CT,
            None,
        )
        .expect("a valid volume");
        SeriesVolumes::one(Arc::new(volume))
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
        assert!(first.same_as(&second));
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
