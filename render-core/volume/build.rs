//! Compiles `native/jpeg12.cc`, the shim into GDCM's 12-bit JPEG codec, against the
//! distribution's GDCM (Debian's and Ubuntu's `libgdcm-dev`; `HOUNSFIELD_GDCM_INCLUDE`
//! names another folder of its headers), and links its libraries.

use std::path::PathBuf;

/// Where Debian and Ubuntu put GDCM 3.0's headers.
const DISTRIBUTION_HEADERS: &str = "/usr/include/gdcm-3.0";

/// GDCM's libraries the shim calls into (images and their codecs, data sets, the common
/// types), as the linker names them.
const GDCM_LIBRARIES: [&str; 3] = ["gdcmMSFF", "gdcmDSED", "gdcmCommon"];

fn main() {
    println!("cargo:rerun-if-changed=native/jpeg12.cc");
    println!("cargo:rerun-if-env-changed=HOUNSFIELD_GDCM_INCLUDE");
    let headers = std::env::var_os("HOUNSFIELD_GDCM_INCLUDE")
        .map_or_else(|| PathBuf::from(DISTRIBUTION_HEADERS), PathBuf::from);
    if !headers.join("gdcmImage.h").is_file() {
        eprintln!(
            "GDCM's headers are not in {} (no gdcmImage.h): install libgdcm-dev \
             (scripts/setup-debian.sh does), or name their folder in HOUNSFIELD_GDCM_INCLUDE",
            headers.display()
        );
        std::process::exit(1);
    }
    cc::Build::new()
        .cpp(true)
        .std("c++14")
        .file("native/jpeg12.cc")
        .include(&headers)
        .compile("hounsfield_jpeg12");
    for library in GDCM_LIBRARIES {
        println!("cargo:rustc-link-lib=dylib={library}");
    }
}
