//! This process's memory as the kernel counts it (`/proc/self/status`, Linux only): the
//! resident set now (`VmRSS`), split into anonymous memory (`RssAnon`: voxels, textures a
//! software adapter keeps in host memory, buffers, the heap) and file-backed pages
//! (`RssFile` and `RssShmem`: the code of the program and its libraries), and its
//! high-water mark since the process started (`VmHWM`), and how they compare with the
//! voxels of the volume served.

use serde::Serialize;

/// This process's resident memory now (MiB); `None` where `/proc/self/status` does not
/// say.
pub(super) fn resident_mib() -> Option<f64> {
    status_mib(
        &std::fs::read_to_string("/proc/self/status").ok()?,
        "VmRSS:",
    )
}

/// The most this process has had resident since it started (MiB).
pub(super) fn peak_resident_mib() -> Option<f64> {
    status_mib(
        &std::fs::read_to_string("/proc/self/status").ok()?,
        "VmHWM:",
    )
}

/// This process's resident memory now in two parts (MiB): anonymous, and file-backed
/// (mapped files and shared memory).
pub(super) fn resident_parts_mib() -> Option<ResidentParts> {
    parts_of(&std::fs::read_to_string("/proc/self/status").ok()?)
}

/// The parts of a `/proc/<pid>/status` text's resident set.
fn parts_of(status: &str) -> Option<ResidentParts> {
    Some(ResidentParts {
        anon_mib: status_mib(status, "RssAnon:")?,
        file_mib: status_mib(status, "RssFile:")? + status_mib(status, "RssShmem:").unwrap_or(0.0),
    })
}

/// Resident memory in two parts (MiB).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct ResidentParts {
    /// Anonymous: voxels, textures held in host memory, buffers, the heap.
    pub(super) anon_mib: f64,
    /// File-backed: the program's and its libraries' code and data, shared memory.
    pub(super) file_mib: f64,
}

/// The line `key` of a `/proc/<pid>/status` text (in kB), in MiB.
fn status_mib(status: &str, key: &str) -> Option<f64> {
    let line = status.lines().find_map(|line| line.strip_prefix(key))?;
    let kib: f64 = line.trim().strip_suffix("kB")?.trim().parse().ok()?;
    Some(kib / 1024.0)
}

/// Resident memory against the voxels served, as `bench stream` reports it.
#[derive(Debug, Clone, Copy, Serialize)]
pub(super) struct MemoryFigures {
    /// The volume's voxels, 16 bits each as they are kept (MiB).
    pub(super) voxel_mib: f64,
    /// Resident at the end of the drag, the series open (MiB; the largest any session saw).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) rss_mib: Option<f64>,
    /// The high-water mark of resident memory since the process started, loading included
    /// (MiB).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) peak_rss_mib: Option<f64>,
    /// Of `rss_mib` (as the same session saw it), anonymous memory (MiB): voxels,
    /// textures a software adapter holds in host memory, buffers, the heap.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) rss_anon_mib: Option<f64>,
    /// Of `rss_mib`, file-backed pages (MiB): code of the program and its libraries
    /// (LLVM's and FFmpeg's among them), shared memory.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) rss_file_mib: Option<f64>,
    /// `rss_mib` over `voxel_mib`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) rss_over_voxels: Option<f64>,
    /// `peak_rss_mib` over `voxel_mib`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) peak_rss_over_voxels: Option<f64>,
}

impl MemoryFigures {
    /// The figures of a volume of `dims` with `rss_mib` resident and `peak_rss_mib` at most.
    pub(super) fn of(dims: [usize; 3], rss_mib: Option<f64>, peak_rss_mib: Option<f64>) -> Self {
        let voxel_mib = dims.iter().product::<usize>() as f64 * 2.0 / f64::from(1 << 20);
        let over = |mib: Option<f64>| mib.filter(|_| voxel_mib > 0.0).map(|mib| mib / voxel_mib);
        // The kernel raises its high-water mark lazily: never report a peak under what is
        // resident.
        let peak_rss_mib = match (peak_rss_mib, rss_mib) {
            (Some(peak), Some(now)) => Some(peak.max(now)),
            (peak, _) => peak,
        };
        Self {
            voxel_mib,
            rss_mib,
            peak_rss_mib,
            rss_anon_mib: None,
            rss_file_mib: None,
            rss_over_voxels: over(rss_mib),
            peak_rss_over_voxels: over(peak_rss_mib),
        }
    }

    /// The same, with the resident set's two parts.
    pub(super) fn with_parts(self, parts: Option<ResidentParts>) -> Self {
        Self {
            rss_anon_mib: parts.map(|p| p.anon_mib),
            rss_file_mib: parts.map(|p| p.file_mib),
            ..self
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_resident_lines_are_read_in_mib_and_compared_with_the_voxels() {
        let status = "Name:\thounsfield\nVmHWM:\t  409600 kB\nVmRSS:\t  204800 kB\n";
        assert_eq!(status_mib(status, "VmRSS:"), Some(200.0));
        assert_eq!(status_mib(status, "VmHWM:"), Some(400.0));
        assert_eq!(status_mib("Name:\tx\n", "VmRSS:"), None);
        let parts = "VmRSS:\t 3072 kB\nRssAnon:\t 2048 kB\nRssFile:\t 768 kB\nRssShmem:\t 256 kB\n";
        assert_eq!(
            parts_of(parts),
            Some(ResidentParts {
                anon_mib: 2.0,
                file_mib: 1.0
            })
        );
        assert_eq!(parts_of("VmRSS:\t 3072 kB\n"), None);
        assert!(resident_parts_mib().is_none_or(|p| p.anon_mib > 0.0 && p.file_mib > 0.0));
        // The kernel raises its high-water mark lazily and other tests allocate meanwhile,
        // so the live figures are only checked to be read and plausible, not compared.
        assert!(resident_mib().is_none_or(|mib| mib > 1.0));
        assert!(peak_resident_mib().is_none_or(|peak| peak > 1.0));
        // 512 × 512 × 256 voxels of 16 bits: 128 MiB.
        let figures = MemoryFigures::of([512, 512, 256], Some(256.0), Some(384.0));
        assert_eq!(figures.voxel_mib, 128.0);
        assert_eq!(
            (figures.rss_over_voxels, figures.peak_rss_over_voxels),
            (Some(2.0), Some(3.0))
        );
        assert_eq!(
            MemoryFigures::of([512, 512, 256], None, None).rss_over_voxels,
            None
        );
        assert_eq!(
            MemoryFigures::of([512, 512, 256], Some(300.0), Some(290.0)).peak_rss_mib,
            Some(300.0)
        );
    }
}
