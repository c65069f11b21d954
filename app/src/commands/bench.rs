//! `hounsfield bench …`: the benchmarks are a program of their own, `hounsfield-bench`,
//! installed beside `hounsfield` (so that the installed `hounsfield` carries no benchmark
//! code); this runs it with the same arguments and ends with its status.

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::Command;

use anyhow::Context;

/// The benchmark program's name.
const BENCH: &str = "hounsfield-bench";

/// Runs `hounsfield-bench ARGS` (beside this program, else on the `PATH`) and ends this
/// process with its exit status once it has ended.
pub fn forward(args: &[OsString]) -> anyhow::Result<()> {
    let program = beside_this_program().unwrap_or_else(|| PathBuf::from(BENCH));
    let status = Command::new(&program)
        .args(args)
        .status()
        .with_context(|| {
            format!(
                "running {} (installed beside hounsfield by the package)",
                program.display()
            )
        })?;
    std::process::exit(status.code().unwrap_or(1));
}

/// `hounsfield-bench` in the folder of the running `hounsfield`, when it is there.
fn beside_this_program() -> Option<PathBuf> {
    let this = std::env::current_exe().ok()?;
    let bench = this.with_file_name(BENCH);
    bench.is_file().then_some(bench)
}
