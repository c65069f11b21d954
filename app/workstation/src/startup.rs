//! What a Hounsfield program does first in `main`, before any thread starts: the
//! allocator's policy ([`crate::heap`]), Mesa's device-selection layer kept quiet where no
//! display runs, and its log (`HOUNSFIELD_LOG`, `warn` by default) on standard error.

/// Settles the allocator, quietens Vulkan's device selection and starts the log. To be
/// called first thing in `main`, while the process has one thread.
pub fn begin() {
    crate::heap::settle();
    quieten_vulkan_device_select();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("HOUNSFIELD_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
}

/// Mesa's Vulkan device-selection layer connects to a Wayland display to find the GPU that
/// drives it; without a login session (no `XDG_RUNTIME_DIR`: a server, a container, CI,
/// ssh) libwayland prints "error: XDG_RUNTIME_DIR is invalid or not set" twice, which
/// reads as a failure. The render core ranks the adapters itself, so there the layer is
/// turned off (`NODEVICE_SELECT=1`, unless the environment says otherwise).
#[allow(unsafe_code)]
fn quieten_vulkan_device_select() {
    if std::env::var_os("XDG_RUNTIME_DIR").is_none()
        && std::env::var_os("NODEVICE_SELECT").is_none()
    {
        // SAFETY: called from `begin`, the first thing `main` does, while this is the process's only thread:
        // nothing reads or writes the environment at the same time.
        unsafe { std::env::set_var("NODEVICE_SELECT", "1") };
    }
}

/// Lets a command that prints end quietly, with a non-zero status, when what reads its
/// output goes away (`hounsfield render … --json | head -c 10`): the default action of
/// SIGPIPE, the end every Unix filter has. Rust's runtime ignores the signal, so each
/// print to a closed pipe would fail, and `println!` panics on that failure ("failed
/// printing to stdout"). Only for commands that print and end: a server or a window keeps
/// the signal ignored, and a write to a closed socket stays an error it handles.
#[allow(unsafe_code)]
pub fn end_quietly_when_output_closes() {
    // SAFETY: setting a signal's disposition to its default changes no memory of this
    // process; SIG_DFL is a valid handler for SIGPIPE.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}
