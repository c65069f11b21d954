//! `hounsfield`: CT and MR volumes in 3D. One binary: the desktop app, the streaming
//! server and the command-line tools (info, probe, bench) share one render core.

mod cli;
mod commands;
mod desktop;
mod heap;
mod source;
#[cfg(test)]
mod test_data;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    heap::settle();
    quieten_vulkan_device_select();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("HOUNSFIELD_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = cli::Cli::parse();
    match source::command_line_credentials(cli.dicomweb_token.clone(), cli.dicomweb_user.clone()) {
        Ok(credentials) => source::set_dicomweb_credentials(credentials),
        Err(error) => {
            eprintln!("hounsfield: {error:#}");
            return ExitCode::FAILURE;
        }
    }
    match commands::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("hounsfield: {error:#}");
            ExitCode::FAILURE
        }
    }
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
        // SAFETY: the first thing `main` does, while this is the process's only thread:
        // nothing reads or writes the environment at the same time.
        unsafe { std::env::set_var("NODEVICE_SELECT", "1") };
    }
}
