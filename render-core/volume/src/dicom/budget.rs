//! The voxel budget: the most memory one series may take while it loads. A header can
//! declare 65535 × 65535 × 1000 voxels in a few hundred bytes; the budget refuses such a
//! series by its planned size, before a byte of it is allocated, with an error that names
//! the series, the size and the budget.

use super::error::DicomError;
use super::stack::StackPlan;

/// Environment variable that sets the budget (MiB) for every command.
pub const BUDGET_VARIABLE: &str = "HOUNSFIELD_MAX_SERIES_MB";
/// Share of the machine's memory one series may take by default.
const MEMORY_SHARE: f64 = 0.5;
/// The budget when the machine's memory cannot be read.
const FALLBACK_BYTES: u64 = 4 << 30;

/// The most bytes one series may take while it loads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VoxelBudget {
    /// Bytes allowed.
    pub max_bytes: u64,
}

impl VoxelBudget {
    /// A budget of `max_bytes`.
    pub fn new(max_bytes: u64) -> Self {
        Self { max_bytes }
    }

    /// `HOUNSFIELD_MAX_SERIES_MB` when set, else half the machine's memory.
    pub fn for_machine() -> Self {
        if let Some(mib) = std::env::var(BUDGET_VARIABLE)
            .ok()
            .and_then(|v| v.trim().parse::<u64>().ok())
        {
            return Self::new(mib.saturating_mul(1 << 20));
        }
        let max_bytes = physical_memory_bytes()
            .map_or(FALLBACK_BYTES, |bytes| (bytes as f64 * MEMORY_SHARE) as u64);
        Self::new(max_bytes)
    }

    /// This budget, no larger than `bytes` (a cache's whole budget).
    pub fn at_most(self, bytes: u64) -> Self {
        Self::new(self.max_bytes.min(bytes))
    }

    /// The bytes loading `plan` takes at its peak, when within the budget.
    pub fn check(&self, series_id: &str, plan: &StackPlan) -> Result<u64, DicomError> {
        let bytes = peak_load_bytes(plan);
        match bytes {
            Some(bytes) if bytes <= self.max_bytes => Ok(bytes),
            _ => Err(DicomError::OverBudget {
                series: series_id.to_string(),
                dims: plan.dims,
                bytes: bytes.unwrap_or(u64::MAX),
                budget: self.max_bytes,
            }),
        }
    }

    /// The bytes loading every volume of a series over time takes at its peak (each
    /// volume's peak, summed: the loaded volumes are kept while the next is decoded), when
    /// within the budget.
    pub fn check_volumes(&self, series_id: &str, plans: &[&StackPlan]) -> Result<u64, DicomError> {
        let bytes = plans
            .iter()
            .try_fold(0u64, |sum, plan| sum.checked_add(peak_load_bytes(plan)?));
        match bytes {
            Some(bytes) if bytes <= self.max_bytes => Ok(bytes),
            _ => Err(DicomError::VolumesOverBudget {
                series: series_id.to_string(),
                volumes: plans.len(),
                dims: plans.first().map_or([0; 3], |plan| plan.dims),
                bytes: bytes.unwrap_or(u64::MAX),
                budget: self.max_bytes,
            }),
        }
    }
}

/// Bytes a load of `plan` holds at once: the decoded stack (4 bytes a voxel, the widest
/// the loader decodes to) and, when slices are resampled, the resampled grid beside it.
/// `None` when the count overflows.
pub fn peak_load_bytes(plan: &StackPlan) -> Option<u64> {
    let [columns, rows, nk] = plan.dims.map(|d| d as u64);
    let slice = columns.checked_mul(rows)?;
    let decoded = slice.checked_mul(plan.slices.len() as u64)?;
    let resampled = if plan.resample_at_mm.is_some() {
        slice.checked_mul(nk)?
    } else {
        0
    };
    decoded.checked_add(resampled)?.checked_mul(4)
}

/// MemTotal of /proc/meminfo (Linux); `None` elsewhere. Read by hand: one line of a text
/// file does not warrant a system-information crate.
fn physical_memory_bytes() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|l| l.starts_with("MemTotal:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    kib.checked_mul(1024)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dicom::error::human_bytes;
    use crate::dicom::stack::SliceSource;
    use glam::DMat4;

    fn plan(dims: [usize; 3], resampled: bool) -> StackPlan {
        StackPlan {
            slices: (0..dims[2])
                .map(|image| SliceSource {
                    image,
                    normal_mm: image as f64,
                })
                .collect(),
            dims,
            voxel_to_lps: DMat4::IDENTITY,
            resample_at_mm: resampled.then(|| vec![0.0; dims[2]]),
            warnings: Vec::new(),
            time_points: 1,
        }
    }

    #[test]
    fn a_plan_within_the_budget_passes_with_its_peak() {
        let budget = VoxelBudget::new(1 << 30);
        assert_eq!(
            budget.check("s", &plan([512, 512, 100], false)).ok(),
            Some(512 * 512 * 100 * 4)
        );
        assert_eq!(
            peak_load_bytes(&plan([10, 10, 10], true)),
            Some(10 * 10 * 10 * 4 * 2)
        );
    }

    #[test]
    fn an_oversized_plan_is_refused_naming_series_size_and_budget() {
        let budget = VoxelBudget::new(1 << 30);
        let error = budget
            .check("1.2.3", &plan([65535, 65535, 4], false))
            .expect_err("over budget");
        let text = error.to_string();
        assert!(text.contains("1.2.3"), "{text}");
        assert!(text.contains("65535 × 65535 × 4"), "{text}");
        assert!(
            text.contains("68.7 GB") && text.contains("1.1 GB"),
            "{text}"
        );
    }

    #[test]
    fn the_budget_never_exceeds_a_cap() {
        let budget = VoxelBudget::new(10 << 30).at_most(1 << 30);
        assert_eq!(budget.max_bytes, 1 << 30);
        assert!(VoxelBudget::for_machine().max_bytes > 0);
    }

    #[test]
    fn sizes_read_as_people_write_them() {
        assert_eq!(human_bytes(512), "512 bytes");
        assert_eq!(human_bytes(34_359_738_368), "34.4 GB");
    }
}
