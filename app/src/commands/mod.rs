//! One module per subcommand; `run` dispatches.

mod bench;
mod info;
mod probe;

use crate::cli::{BenchCommand, Cli, Command};

/// Runs what the command line asked for.
pub fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        None => info::describe_sample(),
        Some(Command::Info { json, paths }) => info::run(&paths, json),
        Some(Command::Probe {
            path,
            series,
            at,
            json,
        }) => probe::run(path.as_deref(), series.as_deref(), &at, json),
        Some(Command::Bench {
            which:
                BenchCommand::Load {
                    path,
                    series,
                    runs,
                    json,
                },
        }) => bench::load(&path, series.as_deref(), runs, json),
    }
}
