//! `hounsfield manual` (hidden): the manual page, in roff, generated from the command line
//! clap parses, so it never drifts from `--help`. The Debian package installs it as
//! hounsfield(1) (installers/deb/build.sh).

use std::io::Write;

use clap::CommandFactory;

use crate::cli::Cli;

/// What the generated page does not know from the command line: where the packaged
/// server keeps its configuration, state and logs.
const FILES_SECTION: &str = r#".SH FILES
.TP
\fI/etc/hounsfield/hounsfield.toml\fR
The server's configuration (\fB\-\-serve \-\-config\fR), installed by the package.
.TP
\fI/etc/hounsfield/users.toml\fR
Named users and their roles; managed with \fBhounsfield users\fR.
.TP
\fI/var/lib/hounsfield\fR
The service's state: the self\-signed TLS certificate.
.TP
\fI/var/log/hounsfield/audit.jsonl\fR
The audit log: one JSON object a line.
.SH ENVIRONMENT
.TP
\fBHOUNSFIELD_LOG\fR
The tracing filter of messages on standard error (default \fBwarn\fR).
.SH SEE ALSO
\fBsystemctl\fR(1), \fBjournalctl\fR(1)
"#;

/// Prints the manual page (roff) to standard output.
pub fn run() -> anyhow::Result<()> {
    let mut page = Vec::new();
    clap_mangen::Man::new(Cli::command()).render(&mut page)?;
    page.extend_from_slice(FILES_SECTION.as_bytes());
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(&page)?;
    stdout.flush()?;
    Ok(())
}
