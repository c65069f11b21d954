//! `bench dimse`: a series received over DICOM networking. DCMTK's `storescu` pushes the
//! series' files (in their own transfer syntax) to this program's Storage SCP and then to
//! DCMTK's `storescp` (writing what it receives as it comes, `+B`), in turn, in the same
//! run; both receive with the same largest PDU. Printed: each one's MB/s and images/s, and
//! the time from the end of our association to the series listed in the library. Given a
//! PACS that answers both (`--pacs dimse://AE@HOST:PORT --dicomweb URL --series UID`), it
//! also times the series retrieved with C-MOVE into our Storage SCP beside the same series
//! retrieved over DICOMweb (WADO-RS) into the cache, in turn, in the same run.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use serde::Serialize;

use super::client::ms;

use hounsfield_dimse::{Callers, MOST_PDU_BYTES, StorageScp, StoreFolder};
use hounsfield_server::AuditLog;
use hounsfield_server::dicom_reception::LibraryReception;
use hounsfield_server::library::Library;

/// The AE title both SCPs answer to.
const AE_TITLE: &str = "BENCH";
/// How long the series may take to be listed after its association ends.
const LISTED_WITHIN: Duration = Duration::from_secs(60);

/// What `bench dimse` is asked.
pub struct DimseBench<'a> {
    /// The series' files (pushed with storescu).
    pub path: &'a Path,
    /// Runs of each.
    pub runs: usize,
    /// Print JSON.
    pub json: bool,
    /// A PACS to retrieve from both ways, when given.
    pub retrieval: Option<Retrieval<'a>>,
}

/// A series on a PACS that answers DICOM networking and DICOMweb.
pub struct Retrieval<'a> {
    /// `dimse://AE@HOST:PORT`.
    pub pacs: &'a str,
    /// Its DICOMweb base URL.
    pub dicomweb: &'a str,
    /// The SeriesInstanceUID.
    pub series: &'a str,
    /// Our AE title (a destination the PACS knows) and the port it sends to.
    pub ae_title: &'a str,
    pub port: u16,
}

/// The two retrievals' figures.
#[derive(Debug, Serialize)]
struct RetrievalFigures {
    series: String,
    images: usize,
    c_move_p50_ms: f64,
    c_move_p95_ms: f64,
    /// The same series with C-GET, over the association that asks (no port of ours).
    c_get_p50_ms: f64,
    c_get_p95_ms: f64,
    /// The images C-GET stored.
    c_get_images: usize,
    wado_rs_p50_ms: f64,
    wado_rs_p95_ms: f64,
    /// C-MOVE's time over WADO-RS's (below 1: C-MOVE is faster).
    ratio: f64,
}

/// What `bench dimse --json` prints.
#[derive(Debug, Serialize)]
struct DimseFigures {
    #[serde(skip_serializing_if = "Option::is_none")]
    retrieval: Option<RetrievalFigures>,
    files: usize,
    bytes: u64,
    runs: usize,
    ours: Received,
    storescp: Received,
    /// Ours over storescp's time (below 1: ours is faster).
    ratio: f64,
    /// From the end of our association (storescu's exit) to the series listed.
    listed_p50_ms: f64,
    listed_p95_ms: f64,
}

/// One receiver's figures (the median run).
#[derive(Debug, Serialize)]
struct Received {
    p50_ms: f64,
    p95_ms: f64,
    mb_per_s: f64,
    images_per_s: f64,
}

/// Runs `bench dimse`.
pub fn dimse(bench: &DimseBench) -> anyhow::Result<()> {
    let (path, runs, json) = (bench.path, bench.runs, bench.json);
    let files = dicom_files(path)?;
    anyhow::ensure!(!files.is_empty(), "no DICOM file under {}", path.display());
    let bytes: u64 = files
        .iter()
        .filter_map(|file| std::fs::metadata(file).ok())
        .map(|meta| meta.len())
        .sum();
    let runs = runs.max(1);
    let (mut ours, mut theirs, mut listed) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..runs {
        let (took, to_list) = into_ours(&files)?;
        ours.push(took);
        listed.push(to_list);
        theirs.push(into_storescp(&files)?);
    }
    let figures = |times: &mut Vec<f64>| {
        let p50 = percentile(times, 0.5);
        Received {
            p50_ms: p50,
            p95_ms: percentile(times, 0.95),
            mb_per_s: bytes as f64 / 1e6 / (p50 / 1000.0),
            images_per_s: files.len() as f64 / (p50 / 1000.0),
        }
    };
    let (ours, storescp) = (figures(&mut ours), figures(&mut theirs));
    let retrieval = bench
        .retrieval
        .as_ref()
        .map(|retrieval| retrieved(retrieval, runs))
        .transpose()?;
    let report = DimseFigures {
        retrieval,
        files: files.len(),
        bytes,
        runs,
        ratio: ours.p50_ms / storescp.p50_ms,
        ours,
        storescp,
        listed_p50_ms: percentile(&mut listed, 0.5),
        listed_p95_ms: percentile(&mut listed, 0.95),
    };
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(());
    }
    println!(
        "dimse: {} files, {:.1} MB pushed by storescu, {} runs, largest PDU {} KiB:",
        report.files,
        report.bytes as f64 / 1e6,
        report.runs,
        MOST_PDU_BYTES >> 10
    );
    for (name, received) in [("ours", &report.ours), ("storescp", &report.storescp)] {
        println!(
            "  {name:>9}: p50 {:8.1} ms  p95 {:8.1} ms  {:6.2} MB/s  {:7.1} images/s",
            received.p50_ms, received.p95_ms, received.mb_per_s, received.images_per_s
        );
    }
    println!("  ours / storescp: {:.2}", report.ratio);
    println!(
        "  association's end to listed: p50 {:.1} ms  p95 {:.1} ms",
        report.listed_p50_ms, report.listed_p95_ms
    );
    if let Some(retrieval) = &report.retrieval {
        println!(
            "series {} ({} images) retrieved: C-MOVE p50 {:.1} ms (p95 {:.1}), C-GET p50 {:.1} ms (p95 {:.1}), WADO-RS p50 {:.1} ms (p95 {:.1}), C-MOVE / WADO-RS {:.2}",
            retrieval.series,
            retrieval.images,
            retrieval.c_move_p50_ms,
            retrieval.c_move_p95_ms,
            retrieval.c_get_p50_ms,
            retrieval.c_get_p95_ms,
            retrieval.wado_rs_p50_ms,
            retrieval.wado_rs_p95_ms,
            retrieval.ratio
        );
    }
    Ok(())
}

/// The series of `retrieval` retrieved `runs` times each way, into fresh folders: with
/// C-MOVE into a Storage SCP of ours, with C-GET over the association that asks (stored
/// as the SCP stores), and over WADO-RS into a DICOMweb cache (nothing decoded ahead, so
/// all three only store).
fn retrieved(retrieval: &Retrieval, runs: usize) -> anyhow::Result<RetrievalFigures> {
    let scu = hounsfield_dimse::Scu::new(
        hounsfield_dimse::RemoteAe::parse(retrieval.pacs)?,
        retrieval.ae_title,
    );
    let study = scu
        .studies()?
        .into_iter()
        .find(|study| {
            scu.series(&study.uid)
                .is_ok_and(|series| series.iter().any(|s| s.uid == retrieval.series))
        })
        .with_context(|| {
            format!(
                "no study of {} holds series {}",
                retrieval.pacs, retrieval.series
            )
        })?;
    let source = hounsfield_workstation::source::dicomweb(retrieval.dicomweb)?;
    // One SCP for every run (its listener stays for the process); each run's series is
    // removed after it, so that the next stores it whole again.
    let folder = tempfile::tempdir().context("a store folder")?;
    let store = Arc::new(StoreFolder::open(folder.path(), u64::MAX).context("the store")?);
    let scp = StorageScp::bind(
        std::net::SocketAddr::from(([127, 0, 0, 1], retrieval.port)),
        retrieval.ae_title,
        Callers::default(),
        store,
        1000,
    )?;
    scp.serve(Arc::new(Quiet))?;
    let (mut moved, mut wado, mut images) = (Vec::new(), Vec::new(), 0);
    let (mut got, mut got_images) = (Vec::new(), 0);
    for _ in 0..runs {
        let started = Instant::now();
        let done = scu.move_series(&study.uid, retrieval.series, retrieval.ae_title)?;
        moved.push(ms(started.elapsed()));
        images = done.completed;
        std::fs::remove_dir_all(folder.path().join(&study.uid))
            .context("the moved series removed")?;
        let get_folder = tempfile::tempdir().context("a C-GET folder")?;
        let get_store = StoreFolder::open(get_folder.path(), u64::MAX).context("a store")?;
        let started = Instant::now();
        let done = scu.get_series(&study.uid, retrieval.series, &get_store)?;
        got.push(ms(started.elapsed()));
        got_images = done.completed;
        let cache_folder = tempfile::tempdir().context("a cache folder")?;
        let cache = hounsfield_dicomweb::SeriesCache::new(cache_folder.path(), u64::MAX);
        let started = Instant::now();
        hounsfield_dicomweb::retrieve_series(
            &cache,
            &source,
            (&study.uid, retrieval.series),
            &|_, _| {},
            0,
        )?;
        wado.push(ms(started.elapsed()));
    }
    let (c_move_p50_ms, wado_rs_p50_ms) = (percentile(&mut moved, 0.5), percentile(&mut wado, 0.5));
    Ok(RetrievalFigures {
        series: retrieval.series.to_string(),
        images,
        c_move_p50_ms,
        c_move_p95_ms: percentile(&mut moved, 0.95),
        c_get_p50_ms: percentile(&mut got, 0.5),
        c_get_p95_ms: percentile(&mut got, 0.95),
        c_get_images: got_images,
        wado_rs_p50_ms,
        wado_rs_p95_ms: percentile(&mut wado, 0.95),
        ratio: c_move_p50_ms / wado_rs_p50_ms,
    })
}

/// A reception that only logs (the retrieval's own answer says what arrived).
struct Quiet;

impl hounsfield_dimse::Reception for Quiet {
    fn refused(&self, refusal: &hounsfield_dimse::Refusal) {
        tracing::warn!(?refusal, "the PACS was refused");
    }

    fn ended(&self, _report: &hounsfield_dimse::AssociationReport) {}
}

/// Pushes `files` to a Storage SCP of ours (a fresh store and library): the push's time and
/// the time from its end to the series listed (ms).
fn into_ours(files: &[PathBuf]) -> anyhow::Result<(f64, f64)> {
    let folder = tempfile::tempdir().context("a store folder")?;
    let store = Arc::new(StoreFolder::open(folder.path(), u64::MAX).context("the store")?);
    let library = Arc::new(Library::scan(&[], 1 << 30));
    let before = library.series_count();
    let scp = StorageScp::bind(
        "127.0.0.1:0".parse()?,
        AE_TITLE,
        Callers::default(),
        store,
        1000,
    )?;
    let port = scp.local_addr()?.port();
    let reception = LibraryReception::new(
        library.clone(),
        Arc::new(AuditLog::disabled()),
        folder.path().to_path_buf(),
    );
    scp.serve(Arc::new(reception))?;
    let took = push(port, files)?;
    let ended = Instant::now();
    while library.series_count() == before {
        anyhow::ensure!(
            ended.elapsed() < LISTED_WITHIN,
            "the series was not listed within {LISTED_WITHIN:?}"
        );
        std::thread::sleep(Duration::from_millis(1));
    }
    Ok((took, ms(ended.elapsed())))
}

/// Pushes `files` to DCMTK's `storescp` (a fresh folder): the push's time (ms).
fn into_storescp(files: &[PathBuf]) -> anyhow::Result<f64> {
    let folder = tempfile::tempdir().context("a folder for storescp")?;
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let child = Command::new("storescp")
        .args(["+B", "+xa", "-aet", AE_TITLE, "--max-pdu"])
        .arg(MOST_PDU_BYTES.to_string())
        .arg("-od")
        .arg(folder.path())
        .arg(port.to_string())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .context("storescp (DCMTK) is not installed: scripts/setup-debian.sh installs it")?;
    let _stopped = Stopped(child);
    let until = Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        anyhow::ensure!(Instant::now() < until, "storescp never listened");
        std::thread::sleep(Duration::from_millis(20));
    }
    push(port, files)
}

/// Kills a child when dropped.
struct Stopped(Child);

impl Drop for Stopped {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Runs `storescu` pushing `files` to `port` in JPEG 2000 as they are (the shared data's
/// transfer syntax): its time (ms).
fn push(port: u16, files: &[PathBuf]) -> anyhow::Result<f64> {
    let started = Instant::now();
    let output = Command::new("storescu")
        .args(["-xw", "-R", "-aet", "SCU", "-aec", AE_TITLE, "127.0.0.1"])
        .arg(port.to_string())
        .args(files)
        .output()
        .context("storescu (DCMTK) is not installed: scripts/setup-debian.sh installs it")?;
    let took = ms(started.elapsed());
    anyhow::ensure!(
        output.status.success(),
        "storescu failed: {}",
        String::from_utf8_lossy(&output.stderr)
            .lines()
            .filter(|line| !line.starts_with("W:"))
            .collect::<Vec<_>>()
            .join("; ")
    );
    Ok(took)
}

/// The DICOM files under `path` (a file, or a folder walked as the library walks one):
/// those with `DICM` at byte 128 (storescu sends nothing else).
fn dicom_files(path: &Path) -> anyhow::Result<Vec<PathBuf>> {
    use render_core::dicom::library_walk::{files_under, starts_as_part10};
    let (files, _skipped) = files_under(&[path.to_path_buf()]);
    Ok(files
        .into_iter()
        .filter(|file| starts_as_part10(file))
        .collect())
}

/// The `q` quantile of `times` (nearest rank), sorted first.
fn percentile(times: &mut [f64], q: f64) -> f64 {
    times.sort_by(f64::total_cmp);
    super::client::percentile(times, q)
}
