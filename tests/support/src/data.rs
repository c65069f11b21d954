//! The shared data (`../shared/data`) and what the tests do with it: its paths, its series
//! scanned and loaded, the test scripts that read it with pydicom, users to serve it to.

use std::path::{Path, PathBuf};

use render_core::dicom::{Catalog, LoadedSeries, Series, load_series};
use render_core::progress::no_progress;

/// `../shared/data` beside the repository, or `HOUNSFIELD_DATA` when set.
pub fn data_dir() -> PathBuf {
    std::env::var_os("HOUNSFIELD_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data"))
}

/// Runs one of the test scripts (`tests/scripts/NAME`) with Debian's Python (pydicom,
/// numpy, PIL) and reads the JSON it prints.
pub fn python_script(name: &str, args: &[&str]) -> serde_json::Value {
    run_script(std::path::Path::new("/usr/bin/python3"), name, args)
}

/// Runs one of the test scripts with the imaging tests' Python (SimpleITK, SciPy,
/// highdicom, pydicom 3: `scripts/imaging-python-requirements.txt`) and reads the JSON it
/// prints.
pub fn imaging_python_script(name: &str, args: &[&str]) -> serde_json::Value {
    run_script(&imaging_python(), name, args)
}

/// The imaging tests' Python: `HOUNSFIELD_IMAGING_PYTHON`, or the virtual environment
/// `scripts/setup-debian.sh` makes under the cache folder.
pub fn imaging_python() -> PathBuf {
    if let Some(path) = std::env::var_os("HOUNSFIELD_IMAGING_PYTHON") {
        return PathBuf::from(path);
    }
    cache_folder().join("imaging-python/bin/python")
}

/// The project's cache folder (`$XDG_CACHE_HOME/hounsfield`, else `~/.cache/hounsfield`),
/// where `scripts/setup-debian.sh` makes the tests' virtual environments.
pub fn cache_folder() -> PathBuf {
    std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cache")))
        .expect("HOME or XDG_CACHE_HOME is set")
        .join("hounsfield")
}

fn run_script(python: &std::path::Path, name: &str, args: &[&str]) -> serde_json::Value {
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../scripts")
        .join(name);
    let output = std::process::Command::new(python)
        .arg(&script)
        .args(args)
        .output()
        .unwrap_or_else(|error| {
            panic!(
                "{} runs {name}: {error} (scripts/setup-debian.sh installs it)",
                python.display()
            )
        });
    assert!(
        output.status.success(),
        "{name}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "{name} prints JSON: {e}: {}",
            String::from_utf8_lossy(&output.stdout)
        )
    })
}

/// Real studies of the shared data for the study browser: the lumbar MR with its
/// localisers, pydicom's DICOMDIR studies, an oblique MR, a GE EPI and a lone CT image.
pub fn study_library() -> Vec<PathBuf> {
    [
        "mr-lumbar",
        "mr-sag-oblique",
        "ge-epi",
        "pydicom-test-files/pydicom/data/test_files/dicomdirtests/77654033",
        "pydicom-test-files/pydicom/data/test_files/dicomdirtests/98892001",
        "pydicom-test-files/pydicom/data/test_files/dicomdirtests/98892003",
        "pydicom-test-files/pydicom/data/test_files/693_J2KI.dcm",
    ]
    .into_iter()
    .map(data)
    .collect()
}

/// A table of `users`, each a name, a role and the token it logs in with.
pub fn users_table(
    users: &[(&str, hounsfield_server::users::Role, &str)],
) -> hounsfield_server::users::UserTable {
    use hounsfield_server::users::{User, UserTable, token_sha256};
    let mut table = UserTable::default();
    for &(name, role, token) in users {
        table
            .add(User {
                name: name.to_string(),
                role,
                token_sha256: token_sha256(token),
                expires: None,
            })
            .expect("a new user");
    }
    table
}

/// A path inside the shared data.
pub fn data(relative: &str) -> PathBuf {
    data_dir().join(relative)
}

/// The `.dcm` files of a data folder, sorted by name.
pub fn dcm_files(relative: &str) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(data(relative))
        .unwrap_or_else(|e| panic!("{relative}: {e}"))
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "dcm"))
        .collect();
    files.sort();
    files
}

/// The DICOM Part 10 files under `folder` (`DICM` at byte 128), its subfolders too,
/// sorted: the data's folders hold a thumbnail picture beside the images.
pub fn dicom_files_under(folder: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut pending = vec![folder.to_path_buf()];
    while let Some(next) = pending.pop() {
        for entry in std::fs::read_dir(&next)
            .unwrap_or_else(|e| panic!("{}: {e}", next.display()))
            .flatten()
        {
            let path = entry.path();
            if path.is_dir() {
                pending.push(path);
            } else if render_core::dicom::library_walk::starts_as_part10(&path) {
                found.push(path);
            }
        }
    }
    found.sort();
    found
}

/// Scans one path into a catalog.
pub fn scan(relative: &str) -> Catalog {
    scan_folder(&data(relative))
}

/// The catalogue of `folder` (one the test made), as the server's library scans it.
pub fn scan_folder(folder: &Path) -> Catalog {
    Catalog::scan(&[folder.to_path_buf()], &no_progress)
}

/// Loads a catalogued series, failing the test with the loader's message.
pub fn load(series: &Series) -> LoadedSeries {
    let loaded = load_series(series, &no_progress)
        .unwrap_or_else(|e| panic!("series {} should load: {e}", series.id));
    // The loader measures the value range while decoding: it must be the voxels' own.
    assert_eq!(
        Some(loaded.volume.value_range),
        loaded.volume.voxels.value_range(),
        "series {}: value range",
        series.id
    );
    loaded
}
