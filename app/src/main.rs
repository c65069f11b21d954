//! `hounsfield`: CT and MR volumes in 3D. One binary: the desktop app, the streaming
//! server and the command-line tools (info, probe, bench) share one render core.

mod cli;
mod commands;
mod desktop;
mod source;
#[cfg(test)]
mod test_data;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
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
