//! The on-disk cache of retrieved series: one folder per series (its instances as files,
//! and a manifest of what they are), within a size budget, least recently used series out.
//!
//! Every retrieval reads the series' metadata and compares it, instance by instance, with
//! the manifest: instances whose metadata is unchanged are served from disk, new or
//! changed ones are fetched, and ones gone from the PACS are deleted. So a series opened
//! twice is fetched once, and a series that changed on the PACS is never served stale.
//!
//! A series of which nothing is cached is asked for whole, in one streamed answer, while
//! its metadata is read beside it (a PACS takes longer to describe a series than to send
//! it); what the stream did not deliver is then fetched instance by instance.
//!
//! A retrieval is one call of [`CallKind::Retrieval`], all its requests together: no fixed
//! total, it goes on while its answers arrive at the minimum rate; the metadata within it
//! is over at the metadata deadline.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::call::{Call, call};
use super::deadlines::CallKind;
use super::wado::{self, InstanceMetadata, SeriesAddress, StreamedInstance};
use super::{DicomWeb, PacsError};

/// The manifest's file name in a series folder.
const MANIFEST: &str = "manifest.json";
/// The instances' folder in a series folder.
const INSTANCES: &str = "instances";

/// Receives how many instances of a series are on disk so far, of how many.
pub type RetrievalProgress<'a> = &'a (dyn Fn(usize, usize) + Sync);
/// Told the file of each instance of the series on disk: those already cached first, then
/// each as it arrives (to decode it while the rest are on their way).
pub type Arrival<'a> = &'a (dyn Fn(&Path) + Sync);

/// A cache of series retrieved over DICOMweb, under one folder.
#[derive(Debug, Clone)]
pub struct SeriesCache {
    root: PathBuf,
    budget_bytes: u64,
}

/// A series ready on disk.
#[derive(Debug)]
pub struct Retrieved {
    /// The folder holding its instances (and nothing else): give it to the catalog.
    pub folder: PathBuf,
    /// Instances the series has.
    pub instances: usize,
    /// Instances fetched by this retrieval (the others came from the cache).
    pub fetched: usize,
    /// Bytes of its instances on disk.
    pub bytes: u64,
    /// The instances that could not be retrieved, each error naming its URL (empty from
    /// [`SeriesCache::retrieve`], which fails instead).
    pub failed: Vec<PacsError>,
    /// When the first instance was on disk (at the start, for one already cached).
    pub first_arrival: Option<Instant>,
}

/// What a series folder holds, written after each retrieval.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Manifest {
    base: String,
    study_uid: String,
    series_uid: String,
    /// When the series was last retrieved or served (ms since 1970), for least recently used.
    last_used_ms: u64,
    /// SOPInstanceUID → what is on disk for it.
    instances: BTreeMap<String, CachedInstance>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct CachedInstance {
    /// Digest of the instance's metadata when it was fetched.
    digest: String,
    /// File name in the instances folder.
    file: String,
    /// Its size.
    bytes: u64,
}

impl SeriesCache {
    /// A cache under `root` keeping at most `budget_bytes` of instances (a single series
    /// larger than that is kept alone).
    pub fn new(root: impl Into<PathBuf>, budget_bytes: u64) -> Self {
        Self {
            root: root.into(),
            budget_bytes,
        }
    }

    /// The cache's folder.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Brings series `series_uid` of study `study_uid` up to date on disk: metadata first,
    /// then the instances missing or changed, `parallel` at a time; reports progress in
    /// instances. An error names the series and the first instance URL that failed; the
    /// instances that did arrive stay cached for the next try.
    pub fn retrieve(
        &self,
        source: &DicomWeb,
        study_uid: &str,
        series_uid: &str,
        progress: RetrievalProgress<'_>,
    ) -> Result<Retrieved, PacsError> {
        let mut retrieved = self.retrieve_available(source, study_uid, series_uid, progress)?;
        let failed = retrieved.failed.len();
        let expected = retrieved.instances + failed;
        match std::mem::take(&mut retrieved.failed).into_iter().next() {
            None => Ok(retrieved),
            Some(first) => Err(PacsError::Incomplete {
                series: series_uid.to_string(),
                failed,
                expected,
                first: Box::new(first),
            }),
        }
    }

    /// [`Self::retrieve`], except that instances the PACS would not deliver (after the
    /// retries) are left out and listed in [`Retrieved::failed`], so the series can be
    /// loaded with the gap reported; an error only when none arrived.
    pub fn retrieve_available(
        &self,
        source: &DicomWeb,
        study_uid: &str,
        series_uid: &str,
        progress: RetrievalProgress<'_>,
    ) -> Result<Retrieved, PacsError> {
        self.retrieve_arriving(source, study_uid, series_uid, progress, &|_| {})
    }

    /// [`Self::retrieve_available`], telling `arrival` each instance's file once it is on
    /// disk.
    pub fn retrieve_arriving(
        &self,
        source: &DicomWeb,
        study_uid: &str,
        series_uid: &str,
        progress: RetrievalProgress<'_>,
        arrival: Arrival<'_>,
    ) -> Result<Retrieved, PacsError> {
        let address = SeriesAddress {
            study_uid: study_uid.to_string(),
            series_uid: series_uid.to_string(),
        };
        let folder = self.series_folder(source, &address);
        let instances_folder = folder.join(INSTANCES);
        std::fs::create_dir_all(&instances_folder).map_err(|error| io(&instances_folder, error))?;
        remove_partial_files(&instances_folder);
        let old = read_manifest(&folder).unwrap_or_default();
        let first_arrival = std::sync::OnceLock::new();
        let arrival = &|file: &Path| {
            first_arrival.get_or_init(Instant::now);
            arrival(file);
        };
        let series_url = address.series_url(source)?;
        let (address, instances_folder) = (&address, &instances_folder);
        let result = call(
            source,
            CallKind::Retrieval,
            &series_url,
            |call| async move {
                let (listed, streamed) = if old.instances.is_empty() {
                    self.stream_series(&call, address, instances_folder, (progress, arrival))
                        .await?
                } else {
                    let listed = wado::series_metadata(&call, address).await?;
                    (listed, BTreeMap::new())
                };
                if listed.is_empty() {
                    discard(instances_folder, streamed.values());
                    return Err(PacsError::UnknownSeries {
                        series: series_uid.to_string(),
                        base: super::without_credentials(source.base()),
                    });
                }
                Ok(self
                    .bring_up_to_date(
                        &call,
                        address,
                        instances_folder,
                        (old, streamed),
                        &listed,
                        (progress, arrival),
                    )
                    .await)
            },
        )?;
        let (manifest, fetched, failures) = result;
        write_manifest(&folder, &manifest)?;
        if manifest.instances.is_empty() && !failures.is_empty() {
            let failed = failures.len();
            let mut failures = failures;
            let first = failures.swap_remove(0);
            return Err(PacsError::Incomplete {
                series: series_uid.to_string(),
                failed,
                expected: failed,
                first: Box::new(first),
            });
        }
        let bytes = manifest.instances.values().map(|i| i.bytes).sum();
        self.evict(&folder);
        Ok(Retrieved {
            folder: instances_folder.clone(),
            instances: manifest.instances.len(),
            fetched,
            bytes,
            failed: failures,
            first_arrival: first_arrival.get().copied(),
        })
    }

    /// The series' metadata and, beside it, the whole series in one streamed answer, each
    /// instance moved into place and announced to `arrival` as it lands. A stream that
    /// fails is logged and left there (the caller fetches what is missing); a failed
    /// metadata request fails the retrieval and discards what the stream brought.
    async fn stream_series(
        &self,
        call: &Call<'_>,
        address: &SeriesAddress,
        instances_folder: &Path,
        (progress, arrival): (RetrievalProgress<'_>, Arrival<'_>),
    ) -> Result<(Vec<InstanceMetadata>, BTreeMap<String, CachedInstance>), PacsError> {
        // Instances the metadata lists (0 until it has come), and those streamed so far.
        let total = AtomicUsize::new(0);
        let streamed = Mutex::new(BTreeMap::new());
        let report = |done: usize| {
            let total = total.load(Ordering::Relaxed);
            if total > 0 {
                progress(done.min(total), total);
            }
        };
        let metadata = async {
            let listed = wado::series_metadata(call, address).await;
            if let Ok(listed) = &listed {
                total.store(listed.len(), Ordering::Relaxed);
                report(lock(&streamed).len());
            }
            listed
        };
        let mut moved_into_place = |instance: StreamedInstance| {
            let file = instance_file_name(&instance.sop_uid);
            let path = instances_folder.join(&file);
            std::fs::rename(&instance.file, &path).map_err(|error| io(&path, error))?;
            arrival(&path);
            let done = {
                let mut streamed = lock(&streamed);
                streamed.insert(
                    instance.sop_uid,
                    CachedInstance {
                        // Set from the metadata once it has come.
                        digest: String::new(),
                        file,
                        bytes: instance.bytes,
                    },
                );
                streamed.len()
            };
            report(done);
            Ok(())
        };
        let stream = wado::retrieve_series(call, address, instances_folder, &mut moved_into_place);
        let (listed, stream) = tokio::join!(metadata, stream);
        let streamed = streamed
            .into_inner()
            .unwrap_or_else(PoisonError::into_inner);
        if let Err(error) = stream {
            tracing::warn!(%error, series = %address.series_uid, arrived = streamed.len(),
                "the series stream stopped; the rest comes instance by instance");
        }
        match listed {
            Ok(listed) => Ok((listed, streamed)),
            Err(error) => {
                discard(instances_folder, streamed.values());
                Err(error)
            }
        }
    }

    /// Keeps the unchanged instances of `old` and the `streamed` ones the metadata lists,
    /// deletes the ones gone or changed, fetches the rest; returns the new manifest, how
    /// many were fetched (streamed included), and the failures.
    async fn bring_up_to_date(
        &self,
        call: &Call<'_>,
        address: &SeriesAddress,
        instances_folder: &Path,
        (old, mut streamed): (Manifest, BTreeMap<String, CachedInstance>),
        listed: &[InstanceMetadata],
        (progress, arrival): (RetrievalProgress<'_>, Arrival<'_>),
    ) -> (Manifest, usize, Vec<PacsError>) {
        let source = call.source();
        let mut manifest = Manifest {
            base: source.base().to_string(),
            study_uid: address.study_uid.clone(),
            series_uid: address.series_uid.clone(),
            last_used_ms: now_ms(),
            instances: BTreeMap::new(),
        };
        let mut old_instances = old.instances;
        let mut wanted = Vec::new();
        let mut fetched = 0;
        let mut kept_files = Vec::new();
        for instance in listed {
            if let Some(arrived) = streamed.remove(&instance.sop_uid) {
                let digest = instance.digest.clone();
                manifest.instances.insert(
                    instance.sop_uid.clone(),
                    CachedInstance { digest, ..arrived },
                );
                fetched += 1;
                continue;
            }
            let kept = old_instances.remove(&instance.sop_uid).filter(|cached| {
                cached.digest == instance.digest
                    && std::fs::metadata(instances_folder.join(&cached.file))
                        .is_ok_and(|m| m.len() == cached.bytes)
            });
            match kept {
                Some(cached) => {
                    kept_files.push(instances_folder.join(&cached.file));
                    manifest.instances.insert(instance.sop_uid.clone(), cached);
                }
                None => wanted.push(instance),
            }
        }
        // Instances gone from the PACS, or changed there, leave the cache; so do streamed
        // ones the metadata does not list.
        discard(
            instances_folder,
            old_instances.values().chain(streamed.values()),
        );
        for kept in &kept_files {
            arrival(kept);
        }
        let total = listed.len();
        let done = AtomicUsize::new(manifest.instances.len());
        progress(done.load(Ordering::Relaxed), total);
        let results: Vec<_> = futures_util::stream::iter(wanted)
            .map(|instance| {
                let file = instance_file_name(&instance.sop_uid);
                let path = instances_folder.join(&file);
                let done = &done;
                async move {
                    let result =
                        wado::retrieve_instance(call, address, &instance.sop_uid, &path).await;
                    if result.is_ok() {
                        arrival(&path);
                        progress(done.fetch_add(1, Ordering::Relaxed) + 1, total);
                    }
                    (instance, file, result)
                }
            })
            .buffer_unordered(source.limits().parallel.max(1))
            .collect()
            .await;
        let mut failures = Vec::new();
        for (instance, file, result) in results {
            match result {
                Ok(bytes) => {
                    fetched += 1;
                    manifest.instances.insert(
                        instance.sop_uid.clone(),
                        CachedInstance {
                            digest: instance.digest.clone(),
                            file,
                            bytes,
                        },
                    );
                }
                Err(error) => failures.push(error),
            }
        }
        (manifest, fetched, failures)
    }

    /// The folder of a series: a digest of the base URL and its UIDs (nothing the PACS
    /// sends becomes a path).
    fn series_folder(&self, source: &DicomWeb, address: &SeriesAddress) -> PathBuf {
        let key = format!(
            "{}\n{}\n{}",
            source.base(),
            address.study_uid,
            address.series_uid
        );
        self.root
            .join(hex::encode(&Sha256::digest(key.as_bytes())[..16]))
    }

    /// Deletes the least recently used series other than `keep` while the cache is over
    /// its budget.
    fn evict(&self, keep: &Path) {
        let Ok(entries) = std::fs::read_dir(&self.root) else {
            return;
        };
        let mut series: Vec<(u64, u64, PathBuf)> = entries
            .filter_map(Result::ok)
            .map(|entry| entry.path())
            .filter_map(|folder| {
                let manifest = read_manifest(&folder)?;
                let bytes = manifest.instances.values().map(|i| i.bytes).sum();
                Some((manifest.last_used_ms, bytes, folder))
            })
            .collect();
        let mut total: u64 = series.iter().map(|(_, bytes, _)| bytes).sum();
        series.sort();
        for (_, bytes, folder) in series {
            if total <= self.budget_bytes {
                break;
            }
            if folder == keep {
                continue;
            }
            match std::fs::remove_dir_all(&folder) {
                Ok(()) => total -= bytes,
                Err(error) => {
                    tracing::warn!(folder = %folder.display(), %error, "cannot evict a cached series")
                }
            }
        }
    }
}

/// Deletes what a retrieval cut off (a crash, a killed process) left half written, so the
/// loader never reads it.
fn remove_partial_files(instances_folder: &Path) {
    let Ok(entries) = std::fs::read_dir(instances_folder) else {
        return;
    };
    for path in entries.filter_map(Result::ok).map(|entry| entry.path()) {
        if path
            .extension()
            .is_some_and(|extension| extension == "part")
        {
            let _ = std::fs::remove_file(&path);
        }
    }
}

/// Deletes the files of `instances` from the instances folder.
fn discard<'a>(instances_folder: &Path, instances: impl Iterator<Item = &'a CachedInstance>) {
    for instance in instances {
        let _ = std::fs::remove_file(instances_folder.join(&instance.file));
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The file name of an instance: a digest of its SOPInstanceUID.
fn instance_file_name(sop_uid: &str) -> String {
    format!(
        "{}.dcm",
        hex::encode(&Sha256::digest(sop_uid.as_bytes())[..16])
    )
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| {
            u64::try_from(since.as_millis()).unwrap_or(u64::MAX)
        })
}

/// The manifest of a series folder; none when missing or unreadable (then the series is
/// fetched again).
fn read_manifest(folder: &Path) -> Option<Manifest> {
    let text = std::fs::read(folder.join(MANIFEST)).ok()?;
    serde_json::from_slice(&text).ok()
}

/// Writes the manifest through a temporary file, so a crash leaves the old one or the new.
fn write_manifest(folder: &Path, manifest: &Manifest) -> Result<(), PacsError> {
    let path = folder.join(MANIFEST);
    let text = serde_json::to_vec_pretty(manifest)
        .map_err(|error| io(&path, std::io::Error::other(error)))?;
    hounsfield_files::write_whole(&path, &text, hounsfield_files::Permissions::OwnerOnly)
        .map_err(|error| io(&path, error))
}

fn io(path: &Path, source: std::io::Error) -> PacsError {
    PacsError::Cache {
        path: path.to_path_buf(),
        source,
    }
}
