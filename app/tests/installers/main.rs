//! What the installers make: the container image, the Kubernetes manifests and the Debian
//! package, unpacked and run; and the crates they are built from, in their layers. One
//! test binary: its suites are its modules.

mod container;
mod kubernetes;
mod layers;
mod package;
