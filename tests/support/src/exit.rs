//! Ending a test process before the GPU driver's teardown: servers kept running until the
//! process ends may still be drawing when it exits, and lavapipe compiles shaders with
//! LLVM on threads of its own. The exit handlers then destroyed LLVM's state under a
//! compiling thread: a test binary whose tests had all passed died of SIGSEGV. The
//! folders such servers read and write until then are removed as the process ends.

// Rust's standard library has no at-exit hook (nor one that sees the exit status), so
// this module registers one with the C library itself.
#![allow(unsafe_code)]

use std::ffi::{c_int, c_void};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};

/// Folders removed as the process ends ([`remove_at_exit`]).
static REMOVED_AT_EXIT: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

unsafe extern "C" {
    /// glibc's `on_exit`: registers a handler that `exit` calls with the exit status,
    /// after the handlers registered later and before those registered earlier.
    fn on_exit(handler: extern "C" fn(c_int, *mut c_void), argument: *mut c_void) -> c_int;
}

/// Removes the folders of [`remove_at_exit`], then ends the process at once with
/// `status`: the handlers registered before this one (the GPU driver's among them) do not
/// run. Rust has flushed its standard output by then.
extern "C" fn end_now(status: c_int, _argument: *mut c_void) {
    // A thread holding the list as the process ends keeps its folders.
    if let Ok(folders) = REMOVED_AT_EXIT.try_lock() {
        for folder in folders.iter() {
            let _ = std::fs::remove_dir_all(folder);
        }
    }
    // SAFETY: `_exit` takes any status and never returns; the exit handlers that would
    // have run after this one are what it is meant to skip.
    unsafe { libc::_exit(status) }
}

/// Makes the process end with its exit status, without running the exit handlers
/// registered before this call: call it after a GPU device was opened (which loads the
/// driver and registers its teardown), each time, as a driver reloaded later registers
/// its teardown again.
pub fn end_before_the_gpu_driver_teardown() {
    // SAFETY: `end_now` is a plain function that ignores its argument, so a null
    // argument is fine, and it stays valid for the life of the process. A failed
    // registration (glibc's table full) leaves the process as it was.
    unsafe {
        on_exit(end_now, std::ptr::null_mut());
    }
}

/// Removes `folder` as the process ends, where [`end_before_the_gpu_driver_teardown`]
/// ends it: the certificates and audit logs of servers that run until then, which a value
/// kept in a `static` would never remove.
pub fn remove_at_exit(folder: &Path) {
    REMOVED_AT_EXIT
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .push(folder.to_path_buf());
}

#[cfg(test)]
mod tests {
    use std::process::Command;

    use super::*;

    /// Set in the child process: the exit status it ends with.
    const CHILD_STATUS: &str = "HOUNSFIELD_TEST_EXIT_STATUS";
    /// Set in the child process: a folder it makes, to be removed as it ends.
    const CHILD_FOLDER: &str = "HOUNSFIELD_TEST_EXIT_FOLDER";

    /// Stands for a driver's teardown that crashes.
    extern "C" fn crashing_teardown() {
        std::process::abort();
    }

    #[test]
    fn child_exits_past_a_crashing_teardown() {
        let Some(status) = std::env::var(CHILD_STATUS)
            .ok()
            .and_then(|status| status.parse::<i32>().ok())
        else {
            return;
        };
        // SAFETY: a plain function, valid for the life of the process.
        unsafe {
            libc::atexit(crashing_teardown);
        }
        end_before_the_gpu_driver_teardown();
        if let Some(folder) = std::env::var_os(CHILD_FOLDER) {
            let folder = Path::new(&folder);
            std::fs::create_dir_all(folder.join("inside")).expect("the folder is made");
            remove_at_exit(folder);
        }
        println!("written before the exit");
        std::process::exit(status);
    }

    #[test]
    fn the_process_ends_with_its_status_output_and_folders_removed_before_a_teardown_registered_earlier()
     {
        if std::env::var_os(CHILD_STATUS).is_some() {
            return;
        }
        let me = std::env::current_exe().expect("the test binary's path");
        for status in [0, 3, 101] {
            let folder = std::env::temp_dir().join(format!(
                "hounsfield-exit-test-{}-{status}",
                std::process::id()
            ));
            let child = Command::new(&me)
                .args([
                    "--exact",
                    "exit::tests::child_exits_past_a_crashing_teardown",
                    "--nocapture",
                ])
                .env(CHILD_STATUS, status.to_string())
                .env(CHILD_FOLDER, &folder)
                .output()
                .expect("the test binary runs");
            assert_eq!(
                child.status.code(),
                Some(status),
                "the child ended with {:?}",
                child.status
            );
            let output = String::from_utf8_lossy(&child.stdout);
            assert!(
                output.contains("written before the exit"),
                "its output was lost: {output}"
            );
            assert!(!folder.exists(), "{} was left behind", folder.display());
        }
    }
}
