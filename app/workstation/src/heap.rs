//! How the C library's allocator keeps the memory the program frees.
//!
//! glibc gives each thread that allocates its own arena (up to 8 a core) and keeps what a
//! thread frees in that arena for its next allocation; a block above the mmap threshold is
//! mapped on its own and handed back when freed, but the threshold rises to the size of
//! the largest such block freed (up to 32 MiB). A server that decodes slices on many
//! threads and encodes frames of a few MiB then holds tens of MiB it no longer uses. Two
//! arenas and a fixed 128 KiB threshold hand frames, slices and staging back as soon as
//! they are freed: a served CT held 571 MiB with glibc's defaults and 516 MiB so, at the
//! same frames a second (`bench stream`, ct-head-neck).

/// Arenas the allocator may make.
pub const ARENAS: i32 = 2;
/// Blocks of at least this many bytes are mapped on their own and returned when freed.
pub const MMAP_THRESHOLD: i32 = 128 << 10;

/// The environment variables through which an administrator sets the same policy; one
/// that is set wins over the program's own setting.
const ARENAS_VARIABLE: &str = "MALLOC_ARENA_MAX";
const MMAP_THRESHOLD_VARIABLE: &str = "MALLOC_MMAP_THRESHOLD_";

/// Applies [`ARENAS`] and [`MMAP_THRESHOLD`] where the environment does not set them. To be
/// called first thing in `main`, before any thread is started.
pub fn settle() {
    for (setting, value) in settings(|name| std::env::var_os(name).is_some()) {
        apply(setting, value);
    }
}

/// Which allocator settings to make: those whose variable `is_set` does not report.
fn settings(is_set: impl Fn(&str) -> bool) -> Vec<(Setting, i32)> {
    [
        (Setting::Arenas, ARENAS_VARIABLE, ARENAS),
        (
            Setting::MmapThreshold,
            MMAP_THRESHOLD_VARIABLE,
            MMAP_THRESHOLD,
        ),
    ]
    .into_iter()
    .filter(|(_, variable, _)| !is_set(variable))
    .map(|(setting, _, value)| (setting, value))
    .collect()
}

/// An allocator parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Setting {
    Arenas,
    MmapThreshold,
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code)]
fn apply(setting: Setting, value: i32) {
    let parameter = match setting {
        Setting::Arenas => libc::M_ARENA_MAX,
        Setting::MmapThreshold => libc::M_MMAP_THRESHOLD,
    };
    // SAFETY: `mallopt` takes two integers and touches only the allocator's own settings;
    // it is called from `main` before any other thread exists. The libc crate has no safe
    // wrapper for it.
    let accepted = unsafe { libc::mallopt(parameter, value) };
    if accepted != 1 {
        tracing::debug!(?setting, value, "the allocator kept its own setting");
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn apply(_setting: Setting, _value: i32) {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_setting_the_environment_makes_is_left_to_it() {
        assert_eq!(
            settings(|_| false),
            vec![
                (Setting::Arenas, ARENAS),
                (Setting::MmapThreshold, MMAP_THRESHOLD)
            ]
        );
        assert_eq!(
            settings(|name| name == "MALLOC_ARENA_MAX"),
            vec![(Setting::MmapThreshold, MMAP_THRESHOLD)]
        );
        assert!(settings(|_| true).is_empty());
    }
}
