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

/// The status a command ends with when what reads its output went away: a shell's for a
/// process that SIGPIPE ended (128 + 13).
pub const OUTPUT_CLOSED_STATUS: i32 = 141;

/// Lets a command that prints end quietly, with [`OUTPUT_CLOSED_STATUS`], when what reads
/// its output goes away (`hounsfield render … --json | head -c 10`), as every Unix filter
/// does: Rust's `println!` otherwise panics on that failure ("failed printing to stdout").
/// SIGPIPE itself stays ignored, as Rust's runtime leaves it: setting it back to its
/// default would also end the process, silently, when a socket is written after its peer
/// left, since hyper writes with `writev`, which no flag keeps from raising the signal (a
/// benchmark's own server, a PACS that hangs up). A closed socket stays an error the code
/// handles.
pub fn end_quietly_when_output_closes() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let payload = info.payload();
        let message = payload
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| payload.downcast_ref::<&str>().copied())
            .unwrap_or_default();
        if message.starts_with("failed printing to stdout") && message.contains("Broken pipe") {
            std::process::exit(OUTPUT_CLOSED_STATUS);
        }
        previous(info);
    }));
}
