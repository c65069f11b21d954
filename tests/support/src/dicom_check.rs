//! What an independent DICOM checker says of a file the product wrote.

use std::path::Path;
use std::process::Command;

/// Runs `dciodvfy` (Debian's dicom3tools) on `file`, fails the test if it reports an
/// error, and returns all it said (warnings and the object's name) for more checks.
pub fn dciodvfy_passes(file: &Path) -> String {
    let verify = Command::new("dciodvfy")
        .arg(file)
        .output()
        .expect("dciodvfy runs (Debian's dicom3tools; scripts/setup-debian.sh installs it)");
    let said = String::from_utf8_lossy(&verify.stderr).to_string()
        + &String::from_utf8_lossy(&verify.stdout);
    assert!(
        !said.lines().any(|line| line.starts_with("Error")),
        "dciodvfy found errors in {}:\n{said}",
        file.display()
    );
    said
}
