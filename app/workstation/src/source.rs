//! Where a volume comes from: DICOM files and folders through the catalog, a PACS over
//! DICOMweb (a series retrieved into the local cache, then read as a folder), a PACS over
//! DICOM networking (`dimse://AE@HOST:PORT`: a series retrieved with C-GET into a folder
//! of the cache, read, then let go), or the built-in phantom when no data is given.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use anyhow::Context;
use hounsfield_dicomweb::{
    ArrivedSeries, DicomWeb, Limits, PacsCredentials, RetrievalProgress, SeriesCache,
    is_dicomweb_url,
};
use hounsfield_findings::report::ReportSubject;
use render_core::Volume;
use render_core::dicom::header::{SuvFactor, series_suv_factor};
use render_core::dicom::{
    Catalog, DicomError, PreDecoded, Series, VolumeAtTime, VoxelBudget, load_series_over_time,
    load_series_predecoded, plan_time_points,
};
use render_core::phantom::ct_phantom;
use render_core::progress::{Progress, ProgressFn, Stage, no_progress};

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
    /// The patient, study and series a findings report names (none for the phantom).
    pub subject: Option<ReportSubject>,
    /// FrameOfReferenceUID: the patient coordinate system its positions are in (empty
    /// for the phantom).
    pub frame_of_reference: String,
    /// Every volume of a series over time, `volume` first, when asked for
    /// ([`open_volumes_with_progress`]); empty otherwise.
    pub over_time: Vec<VolumeAtTime>,
    /// SUV a Bq/ml, for a PET whose header gives what it is computed from.
    pub suv_factor: Option<f64>,
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
    open_with(path, series, progress, false)
}

/// [`open_volume_with_progress`], loading every volume of a series over time into
/// `over_time` (the first is `volume`), within one voxel budget for all of them: what a
/// viewer that steps through them opens. A series retrieved from DICOMweb loads its first
/// volume alone.
pub fn open_volumes_with_progress(
    path: Option<&Path>,
    series: Option<&str>,
    progress: ProgressFn<'_>,
) -> anyhow::Result<OpenedVolume> {
    open_with(path, series, progress, true)
}

/// Opens the series at `path` (the phantom without one), every volume of a series over
/// time when `over_time` asks.
fn open_with(
    path: Option<&Path>,
    series: Option<&str>,
    progress: ProgressFn<'_>,
    over_time: bool,
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
            subject: None,
            frame_of_reference: String::new(),
            over_time: Vec::new(),
            suv_factor: None,
        });
    };
    let opened = open_catalog(path, series, progress)?;
    let chosen = choose(&opened.catalog, series)?;
    if over_time && opened.decoded.is_none() && plan_time_points(&chosen.images).len() > 1 {
        let loaded = load_series_over_time(chosen, VoxelBudget::for_machine(), progress)
            .with_context(|| format!("loading series {}", chosen.id))?;
        let first = loaded
            .volumes
            .first()
            .map(|first| first.volume.clone())
            .ok_or_else(|| anyhow::anyhow!("series {}: no volume", chosen.id))?;
        let mut warnings = opened.missing.clone();
        warnings.extend(loaded.warnings.iter().map(ToString::to_string));
        let suv_factor = suv_factor_of(chosen, &mut warnings);
        return Ok(OpenedVolume {
            volume: first,
            label: chosen.id.clone(),
            warnings,
            overlay: overlay_of(&opened.catalog, chosen),
            subject: Some(ReportSubject::of_series(chosen)),
            frame_of_reference: chosen.images[0].frame_of_reference_uid.clone(),
            over_time: loaded.volumes,
            suv_factor,
        });
    }
    let loaded = load_series_predecoded(
        chosen,
        VoxelBudget::for_machine(),
        progress,
        opened.decoded.as_ref(),
    )
    .with_context(|| format!("loading series {}", chosen.id))?;
    let missing = opened.missing.clone();
    let overlay = overlay_of(&opened.catalog, chosen);
    let mut warnings = missing;
    warnings.extend(loaded.warnings.iter().map(ToString::to_string));
    let suv_factor = suv_factor_of(chosen, &mut warnings);
    Ok(OpenedVolume {
        volume: loaded.volume,
        label: chosen.id.clone(),
        warnings,
        overlay,
        subject: Some(ReportSubject::of_series(chosen)),
        frame_of_reference: chosen.images[0].frame_of_reference_uid.clone(),
        over_time: Vec::new(),
        suv_factor,
    })
}

/// The SUV factor of a PET series; why a PET has none joins the `warnings`.
fn suv_factor_of(series: &Series, warnings: &mut Vec<String>) -> Option<f64> {
    match series_suv_factor(series)? {
        Ok(suv) => Some(suv.factor),
        Err(why) => {
            warnings.push(format!("no SUV: {why}"));
            None
        }
    }
}

/// The overlay's lines of `chosen`, a series of `catalog`.
fn overlay_of(catalog: &Catalog, chosen: &Series) -> Vec<String> {
    catalog
        .studies
        .iter()
        .find(|study| study.series.iter().any(|s| s.id == chosen.id))
        .map(|study| overlay_lines(study, chosen))
        .unwrap_or_default()
}

/// A catalogue read from a folder, or of a series retrieved from a PACS, with what the
/// retrieval missed; a series retrieved over DICOM networking lives in a folder removed
/// when this is dropped.
struct OpenedCatalog {
    catalog: Catalog,
    missing: Vec<String>,
    decoded: Option<PreDecoded>,
    _retrieved_over_dimse: Option<tempfile::TempDir>,
}

/// Reads the catalogue at `path`: a folder, a DICOMweb URL or `dimse://AE@HOST:PORT`
/// (whose `series` is retrieved first).
fn open_catalog(
    path: &Path,
    series: Option<&str>,
    progress: ProgressFn<'_>,
) -> anyhow::Result<OpenedCatalog> {
    let paths = [path.to_path_buf()];
    let retrieving = |done, total| {
        progress(Progress {
            stage: Stage::Retrieving,
            done,
            total,
        });
    };
    let opened = match (dimse_address(path), dicomweb_url(path)) {
        (Some(address), _) => {
            let got = get_series_over_dimse(address, series, &retrieving)?;
            OpenedCatalog {
                catalog: Catalog::scan(&[got.folder.path().to_path_buf()], progress),
                missing: got.missing,
                decoded: None,
                _retrieved_over_dimse: Some(got.folder),
            }
        }
        (None, Some(url)) => {
            let retrieved = retrieve_series(url, series, &retrieving)?;
            OpenedCatalog {
                catalog: retrieved.catalog,
                missing: retrieved.missing,
                decoded: Some(retrieved.decoded),
                _retrieved_over_dimse: None,
            }
        }
        (None, None) => OpenedCatalog {
            catalog: Catalog::scan(&paths, progress),
            missing: Vec::new(),
            decoded: None,
            _retrieved_over_dimse: None,
        },
    };
    ensure_images(&opened.catalog, &paths)?;
    Ok(opened)
}

/// Every volume of a series over time, ready to use.
pub struct OpenedSeriesOverTime {
    /// The volumes in order (one for a series that is not over time).
    pub volumes: Vec<VolumeAtTime>,
    /// Series id, or `phantom`.
    pub label: String,
    /// FrameOfReferenceUID: the patient coordinate system its positions are in (empty
    /// for the phantom).
    pub frame_of_reference: String,
    /// A PET's factor from its values to SUV (body weight), when its header gives one.
    pub suv: Option<SuvFactor>,
    /// Warnings to show.
    pub warnings: Vec<String>,
}

/// Opens every volume of the series at `path` (the phantom's one when there is no path).
pub fn open_series_over_time(
    path: Option<&Path>,
    series: Option<&str>,
) -> anyhow::Result<OpenedSeriesOverTime> {
    let Some(path) = path else {
        return Ok(OpenedSeriesOverTime {
            volumes: vec![VolumeAtTime {
                label: String::new(),
                time_s: None,
                volume: ct_phantom(),
            }],
            label: "phantom".to_string(),
            frame_of_reference: String::new(),
            suv: None,
            warnings: Vec::new(),
        });
    };
    let opened = open_catalog(path, series, &no_progress)?;
    let chosen = choose(&opened.catalog, series)?;
    let loaded = load_series_over_time(chosen, VoxelBudget::for_machine(), &no_progress)
        .with_context(|| format!("loading series {}", chosen.id))?;
    let mut warnings = opened.missing;
    warnings.extend(loaded.warnings.iter().map(ToString::to_string));
    Ok(OpenedSeriesOverTime {
        volumes: loaded.volumes,
        label: chosen.id.clone(),
        frame_of_reference: chosen.images[0].frame_of_reference_uid.clone(),
        // Read while a series retrieved from a PACS is still in its folder.
        suv: series_suv_factor(chosen).and_then(Result::ok),
        warnings,
    })
}

/// Refuses to draw series `over` over series `first` (each a label and its
/// FrameOfReferenceUID) unless both are in one known frame of reference: in another, the
/// same LPS point is another place in the patient.
pub fn ensure_one_frame_of_reference(
    (first, first_frame): (&str, &str),
    (over, over_frame): (&str, &str),
) -> anyhow::Result<()> {
    anyhow::ensure!(
        !over_frame.is_empty() && over_frame == first_frame,
        "series {over} (frame of reference {over_frame}) is not in series {first}'s frame of reference ({first_frame}): its points would be other places in the patient"
    );
    Ok(())
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

/// The environment variable holding the password of `--dicomweb-user`.
pub const PASSWORD_VARIABLE: &str = "HOUNSFIELD_DICOMWEB_PASSWORD";

/// The credentials the command line gives DICOMweb sources, set once by `main`.
static DICOMWEB_CREDENTIALS: OnceLock<Option<PacsCredentials>> = OnceLock::new();

/// The credentials the command line gives DICOMweb sources: `--dicomweb-token` as a
/// bearer token, or `--dicomweb-user` with the password in [`PASSWORD_VARIABLE`] for
/// basic authentication (clap refuses both at once); the error says what is missing.
pub fn command_line_credentials(
    token: Option<String>,
    user: Option<String>,
) -> anyhow::Result<Option<PacsCredentials>> {
    if let Some(token) = token.filter(|token| !token.trim().is_empty()) {
        return Ok(Some(PacsCredentials::Bearer(token.trim().to_string())));
    }
    let Some(user) = user.filter(|user| !user.trim().is_empty()) else {
        return Ok(None);
    };
    let password = std::env::var(PASSWORD_VARIABLE).with_context(|| {
        format!("--dicomweb-user {user}: set the password in {PASSWORD_VARIABLE}")
    })?;
    Ok(Some(PacsCredentials::Basic {
        user: user.trim().to_string(),
        password,
    }))
}

/// Sets the credentials sent to DICOMweb sources (the first call wins).
pub fn set_dicomweb_credentials(credentials: Option<PacsCredentials>) {
    let _ = DICOMWEB_CREDENTIALS.set(credentials);
}

/// Whether the command line gave credentials for DICOMweb sources.
pub fn has_command_line_credentials() -> bool {
    DICOMWEB_CREDENTIALS.get().is_some_and(Option::is_some)
}

/// Where retrieved series are cached: `HOUNSFIELD_DICOMWEB_CACHE`, else the user's cache
/// folder; at most `HOUNSFIELD_DICOMWEB_CACHE_MB` (default 10240) MiB.
pub const CACHE_VARIABLE: &str = "HOUNSFIELD_DICOMWEB_CACHE";
/// The cache's size budget in MiB.
pub const CACHE_MB_VARIABLE: &str = "HOUNSFIELD_DICOMWEB_CACHE_MB";

/// The text of `path` when it is a DICOMweb URL rather than a file or folder.
pub fn dicomweb_url(path: &Path) -> Option<&str> {
    path.to_str().filter(|text| is_dicomweb_url(text))
}

/// `path` as `dimse://AE@HOST:PORT`, when it names a PACS over DICOM networking.
pub fn dimse_address(path: &Path) -> Option<&str> {
    path.to_str().filter(|text| text.starts_with("dimse://"))
}

/// The AE title this program calls a PACS over DICOM networking as, when not
/// `HOUNSFIELD` (one the PACS knows).
pub const CALLING_AE_VARIABLE: &str = "HOUNSFIELD_AE_TITLE";

/// The AE title to call a PACS as: [`CALLING_AE_VARIABLE`]'s, or `HOUNSFIELD`.
pub fn calling_ae() -> String {
    std::env::var(CALLING_AE_VARIABLE)
        .ok()
        .map(|title| title.trim().to_string())
        .filter(|title| !title.is_empty())
        .unwrap_or_else(|| "HOUNSFIELD".to_string())
}

/// A series retrieved over DICOM networking: the folder it was stored in (removed when
/// dropped), and what the PACS failed to send.
pub struct GotSeries {
    /// The folder, holding `STUDY/SERIES/SOP.dcm`.
    pub folder: tempfile::TempDir,
    /// A line for each instance the PACS failed to send.
    pub missing: Vec<String>,
}

/// Retrieves `series` (a SeriesInstanceUID) from the PACS at `address` with C-GET, calling
/// as [`CALLING_AE_VARIABLE`] says, into a new folder of the user's cache, within twice
/// the voxels this machine may load.
pub fn get_series_over_dimse(
    address: &str,
    series: Option<&str>,
    progress: RetrievalProgress<'_>,
) -> anyhow::Result<GotSeries> {
    let series = series.with_context(|| {
        format!("a DICOM PACS needs --series (a SeriesInstanceUID: `hounsfield info {address}` lists them)")
    })?;
    let pacs = hounsfield_dimse::RemoteAe::parse(address)?;
    let scu = hounsfield_dimse::Scu::new(pacs, &calling_ae());
    let study = scu
        .study_of_series(series)?
        .with_context(|| format!("{address} holds no series {series}"))?;
    let root = dirs::cache_dir()
        .map(|dir| dir.join("hounsfield").join("dimse"))
        .context("no cache folder for series retrieved over DICOM networking")?;
    std::fs::create_dir_all(&root).with_context(|| format!("creating {}", root.display()))?;
    let folder = tempfile::Builder::new()
        .prefix("series-")
        .tempdir_in(&root)
        .with_context(|| format!("a folder in {}", root.display()))?;
    let most_bytes = VoxelBudget::for_machine().max_bytes.saturating_mul(2);
    let store = hounsfield_dimse::StoreFolder::open(folder.path(), most_bytes)
        .with_context(|| format!("opening {}", folder.path().display()))?;
    let got = scu
        .get_series(&study, series, &store)
        .with_context(|| format!("retrieving series {series} from {address}"))?;
    progress(got.completed, got.completed + got.failed);
    anyhow::ensure!(
        got.completed > 0,
        "{address} sent no instance of series {series} ({} failed)",
        got.failed
    );
    let missing = (0..got.failed)
        .map(|_| format!("series {series}: an instance the PACS failed to send"))
        .collect();
    Ok(GotSeries { folder, missing })
}

/// Seconds a PACS may take to begin an answer (default 30).
pub const PACS_FIRST_BYTE_VARIABLE: &str = "HOUNSFIELD_PACS_FIRST_BYTE_S";
/// Seconds a search of a PACS may take, its requests and retries (default 30).
pub const PACS_SEARCH_VARIABLE: &str = "HOUNSFIELD_PACS_SEARCH_S";
/// Seconds a series' metadata may take (default 120).
pub const PACS_METADATA_VARIABLE: &str = "HOUNSFIELD_PACS_METADATA_S";
/// Seconds a store of documents into a study may take (default 120).
pub const PACS_STORE_VARIABLE: &str = "HOUNSFIELD_PACS_STORE_S";
/// Seconds the listing of a whole PACS may take, every page of it (default 900).
pub const PACS_CALL_VARIABLE: &str = "HOUNSFIELD_PACS_CALL_S";
/// KiB a retrieval must receive in any window, or it ends (default 64).
pub const PACS_RATE_KIB_VARIABLE: &str = "HOUNSFIELD_PACS_RATE_KIB";
/// Seconds of that window (default 30).
pub const PACS_RATE_WINDOW_VARIABLE: &str = "HOUNSFIELD_PACS_RATE_WINDOW_S";

/// The DICOMweb source at `url`, with the command line's credentials and the time limits
/// the environment sets.
pub fn dicomweb(url: &str) -> anyhow::Result<DicomWeb> {
    let credentials = DICOMWEB_CREDENTIALS.get().cloned().flatten();
    Ok(DicomWeb::new(url, None)?
        .with_credentials(credentials)
        .with_limits(pacs_limits()?))
}

/// The PACS's limits: the defaults, with the environment's time limits where it sets them.
fn pacs_limits() -> anyhow::Result<Limits> {
    let number = |variable: &str, most: u64, unit: &str| -> anyhow::Result<Option<u64>> {
        match std::env::var(variable) {
            Err(_) => Ok(None),
            Ok(text) => text
                .trim()
                .parse::<u64>()
                .ok()
                .filter(|&n| (1..=most).contains(&n))
                .map(Some)
                .with_context(|| format!("{variable}={text:?} is not 1 to {most} {unit}")),
        }
    };
    let seconds = |variable: &str, most: u64| -> anyhow::Result<Option<std::time::Duration>> {
        Ok(number(variable, most, "seconds")?.map(std::time::Duration::from_secs))
    };
    let mut limits = Limits::default();
    if let Some(first_byte) = seconds(PACS_FIRST_BYTE_VARIABLE, 3600)? {
        limits.first_byte_timeout = first_byte;
    }
    let deadlines = &mut limits.deadlines;
    for (variable, most, figure) in [
        (PACS_SEARCH_VARIABLE, 3600, &mut deadlines.search),
        (PACS_METADATA_VARIABLE, 3600, &mut deadlines.metadata),
        (PACS_STORE_VARIABLE, 3600, &mut deadlines.store),
        (PACS_CALL_VARIABLE, 86_400, &mut deadlines.listing),
        (
            PACS_RATE_WINDOW_VARIABLE,
            3600,
            &mut deadlines.retrieval_rate.window,
        ),
    ] {
        if let Some(value) = seconds(variable, most)? {
            *figure = value;
        }
    }
    if let Some(kib) = number(PACS_RATE_KIB_VARIABLE, 1 << 20, "KiB")? {
        deadlines.retrieval_rate.bytes = kib << 10;
    }
    Ok(limits)
}

/// The cache of retrieved series.
pub fn dicomweb_cache() -> anyhow::Result<SeriesCache> {
    let root = match std::env::var_os(CACHE_VARIABLE) {
        Some(root) => PathBuf::from(root),
        None => dirs::cache_dir()
            .map(|dir| dir.join("hounsfield").join("dicomweb"))
            .with_context(|| {
                format!("no cache folder for DICOMweb series: set {CACHE_VARIABLE}")
            })?,
    };
    let megabytes = match std::env::var(CACHE_MB_VARIABLE) {
        Ok(text) => text
            .trim()
            .parse::<u64>()
            .ok()
            .filter(|&mb| mb > 0)
            .with_context(|| format!("{CACHE_MB_VARIABLE}={text:?} is not a size in MiB"))?,
        Err(_) => 10240,
    };
    Ok(SeriesCache::new(root, megabytes << 20))
}

/// Retrieves series `id` (a SeriesInstanceUID, or one with `-N` for a part of a split
/// series) from the PACS at `url` into `cache`, reporting instances received; an error
/// when no instance arrived.
pub fn retrieve_series_into(
    url: &str,
    cache: &SeriesCache,
    id: Option<&str>,
    progress: RetrievalProgress<'_>,
) -> anyhow::Result<ArrivedSeries> {
    let id = id.with_context(|| {
        format!("a DICOMweb source needs --series (a SeriesInstanceUID: `hounsfield info {url}` lists them)")
    })?;
    let source = dicomweb(url)?;
    let found = match source.find_series(id) {
        Ok(found) => found,
        Err(first) => match id.rsplit_once('-') {
            Some((uid, part)) if part.chars().all(|c| c.is_ascii_digit()) => {
                source.find_series(uid).map_err(|_| first)?
            }
            _ => return Err(first.into()),
        },
    };
    let mut arrived = hounsfield_dicomweb::retrieve_series(
        cache,
        &source,
        (&found.study_uid, &found.uid),
        progress,
        VoxelBudget::for_machine().max_bytes,
    )
    .with_context(|| format!("retrieving series {} from {url}", found.uid))?;
    // Said to the user among other series' warnings: name the series.
    for line in &mut arrived.missing {
        *line = format!("series {}: {line}", found.uid);
    }
    Ok(arrived)
}

/// [`retrieve_series_into`] the user's cache.
pub fn retrieve_series(
    url: &str,
    id: Option<&str>,
    progress: RetrievalProgress<'_>,
) -> anyhow::Result<ArrivedSeries> {
    retrieve_series_into(url, &dicomweb_cache()?, id, progress)
}
