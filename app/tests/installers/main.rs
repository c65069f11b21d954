//! What the installers make: the container image, the Kubernetes manifests and the Debian
//! package, unpacked and run. One test binary: its suites are its modules.

mod container;
mod kubernetes;
mod package;
