//! One module per subcommand; `run` dispatches.

mod bench;
mod calcium;
mod config;
mod dimse_search;
mod doctor;
mod findings;
mod info;
mod manual;
pub(crate) mod movie;
mod pacs_search;
mod probe;
pub(crate) mod render;
mod segment;
pub mod serve;
mod suv;
mod users;

use crate::cli::{
    Cli, Command, ConfigCommand, FindingsCommand, OpenArgs, SegmentsCommand, UsersCommand,
};
use hounsfield_desktop as desktop;

/// Runs what the command line asked for.
pub fn run(cli: Cli) -> anyhow::Result<()> {
    if cli.serve.serve {
        return serve::run(&cli.serve);
    }
    match cli.command {
        None => desktop::run(desktop::Launch::Open(OpenArgs {
            rendering: cli.rendering,
            ..OpenArgs::default()
        })),
        Some(Command::Open(args)) => desktop::run(opened(args)?),
        Some(Command::Connect(args)) => desktop::run(desktop::Launch::Connect(args)),
        Some(Command::Info {
            json,
            paths,
            search,
            ae_title,
        }) => info::run(&paths, json, &search, &ae_title),
        Some(Command::Probe {
            path,
            series,
            at,
            json,
            csv,
            over,
        }) => {
            let output = match (json, csv) {
                (true, _) => probe::Output::Json,
                (_, true) => probe::Output::Csv,
                _ => probe::Output::Table,
            };
            let series = probe::Probed {
                path: path.as_deref(),
                series: series.as_deref(),
                over: over.as_deref(),
            };
            probe::run(series, &at, output)
        }
        Some(Command::Calcium {
            path,
            series,
            roi,
            calibration,
            artery,
            json,
        }) => calcium::run(
            calcium::Scored {
                path: path.as_deref(),
                series: series.as_deref(),
                roi,
                calibration,
                arteries: &artery,
            },
            json,
        ),
        Some(Command::Suv {
            path,
            series,
            roi,
            at,
            json,
        }) => suv::run(&path, series.as_deref(), roi, &at, json),
        Some(Command::Segment {
            path,
            series,
            threshold,
            model,
            from,
            seed,
            fill_between,
            grow_from_seeds,
            largest,
            min_island,
            margin,
            closing,
            median,
            label,
            out,
            csv,
            json,
        }) => segment::run(
            path.as_deref(),
            series.as_deref(),
            &segment::SegmentRequest {
                start: match (from, threshold) {
                    (None, None) if let Some(model) = model => segment::Start::Model(model),
                    (Some(seg), _) => segment::Start::From(seg),
                    (None, _) if grow_from_seeds => anyhow::bail!(
                        "--grow-from-seeds: give the segments to grow with --from SEG.dcm"
                    ),
                    (None, Some(range)) => segment::Start::Threshold { range, seed },
                    (None, None) => anyhow::bail!("segment: give --threshold, --from or --model"),
                },
                fill_between,
                grow_from_seeds,
                largest,
                min_island_mm3: min_island,
                margin_mm: margin,
                closing_mm: closing,
                median_mm: median,
                label,
                out,
                csv,
                json,
            },
        ),
        Some(Command::Segments { which }) => match which {
            SegmentsCommand::List { paths, json } => segment::list(&paths, json),
            SegmentsCommand::Measure {
                seg,
                on,
                series,
                csv,
                json,
            } => segment::measure(&seg, &on, series.as_deref(), csv.as_deref(), json),
        },
        Some(Command::Render(args)) => render::run(&args),
        Some(Command::Movie(args)) => movie::run(&args),
        Some(Command::Doctor { json }) => doctor::run(json),
        Some(Command::Config {
            which: ConfigCommand::Check { file, keys_only },
        }) => config::check(&file, !keys_only),
        Some(Command::Findings { which }) => match which {
            FindingsCommand::List {
                path,
                series,
                state_dir,
                json,
            } => findings::list(&path, series.as_deref(), state_dir.as_deref(), json),
            FindingsCommand::Export {
                path,
                series,
                state_dir,
                out,
            } => findings::export(&path, series.as_deref(), state_dir.as_deref(), &out),
        },
        Some(Command::Manual) => manual::run(),
        Some(Command::Users { which }) => match which {
            UsersCommand::Add {
                name,
                role,
                expires,
                file,
            } => users::add(&name, role, expires, &file),
            UsersCommand::List { file } => users::list(&file),
            UsersCommand::Remove { name, file } => users::remove(&name, &file),
        },
        Some(Command::Bench { args }) => bench::forward(&args),
    }
}

/// What `open` starts: the window on a path, or, for a worklist's study link
/// (`hounsfield://…/study/UID`), the study streamed from its server.
fn opened(args: OpenArgs) -> anyhow::Result<desktop::Launch> {
    let link = args
        .path
        .as_deref()
        .and_then(|path| path.to_str())
        .and_then(desktop::study_link::StudyLink::parse);
    match link {
        Some(link) => {
            let link = link.map_err(anyhow::Error::msg)?;
            Ok(desktop::Launch::Connect(link.connect_args(&args)))
        }
        None => Ok(desktop::Launch::Open(args)),
    }
}
