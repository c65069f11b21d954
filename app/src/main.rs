//! `hounsfield`: CT and MR volumes in 3D. One binary: the desktop window
//! (`hounsfield-desktop`), the streaming server (`hounsfield-server`) and the command-line
//! tools (info, probe, render, movie…); this crate is the command line and its wiring.
//! `hounsfield bench …` runs `hounsfield-bench`, installed beside it.

mod cli;
mod commands;

use std::process::ExitCode;

use clap::Parser;
use hounsfield_workstation::source;

fn main() -> ExitCode {
    hounsfield_workstation::startup::begin();
    let cli = cli::Cli::parse();
    if !cli.keeps_running() {
        hounsfield_workstation::startup::end_quietly_when_output_closes();
    }
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
