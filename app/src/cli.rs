//! The command line: what `hounsfield` accepts, as clap parses it.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

/// CT and MR volumes in 3D: on this workstation, or streamed from a server.
#[derive(Debug, Parser)]
#[command(name = "hounsfield", version, about, long_about = None)]
pub struct Cli {
    /// What to do; with none, Hounsfield opens the built-in sample volume.
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// List the studies and series in files, folders or DICOMDIRs (headers only).
    Info {
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
        /// Files, folders or DICOMDIRs; none: the built-in sample volume.
        paths: Vec<PathBuf>,
    },
    /// Print the voxel index and value at points given in patient coordinates (LPS mm).
    Probe {
        /// A file, folder or DICOMDIR; none: the built-in sample volume.
        path: Option<PathBuf>,
        /// Series id (from `info`) or series number; default: the largest series.
        #[arg(long)]
        series: Option<String>,
        /// A point X,Y,Z in LPS millimetres; repeat for more points.
        #[arg(long = "at", value_name = "X,Y,Z", required = true, allow_hyphen_values = true, value_parser = parse_point)]
        at: Vec<[f64; 3]>,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Measure how fast things run and print the figures.
    Bench {
        /// Which benchmark.
        #[command(subcommand)]
        which: BenchCommand,
    },
}

/// The benchmarks.
#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// Scan and load a series N times; print the median time, MB/s and slices.
    Load {
        /// A file, folder or DICOMDIR.
        path: PathBuf,
        /// Series id or number; default: the largest series.
        #[arg(long)]
        series: Option<String>,
        /// How many times to load.
        #[arg(long, default_value_t = 3)]
        runs: usize,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
}

/// Parses `X,Y,Z` into three millimetre values.
fn parse_point(text: &str) -> Result<[f64; 3], String> {
    let values: Vec<f64> = text
        .split(',')
        .map(|part| {
            part.trim()
                .parse::<f64>()
                .map_err(|_| format!("'{part}' is not a number"))
        })
        .collect::<Result<_, _>>()?;
    match values.as_slice() {
        [x, y, z] if values.iter().all(|v| v.is_finite()) => Ok([*x, *y, *z]),
        _ => Err(format!("expected X,Y,Z in mm, got '{text}'")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn points_parse_and_bad_points_are_refused() {
        assert_eq!(parse_point("1.5, -2,3e1"), Ok([1.5, -2.0, 30.0]));
        assert!(parse_point("1,2").is_err());
        assert!(parse_point("a,b,c").is_err());
        assert!(parse_point("1,2,inf").is_err());
    }
}
