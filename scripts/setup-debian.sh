#!/usr/bin/env bash
# Installs the Debian/Ubuntu packages Hounsfield builds and tests with, using sudo when
# not root. Does nothing when they are all there already.
#
# `setup-debian.sh build` installs only what compiling needs, `setup-debian.sh tests` only
# what running the tests needs besides (so CI installs the second while it compiles);
# without an argument, both.
set -euo pipefail

part="${1:-all}"
case "$part" in
  all | build | tests) ;;
  *)
    echo "setup-debian.sh: expected build, tests or nothing, not $part" >&2
    exit 2
    ;;
esac

# What compiling needs.
build_packages=(
  pkg-config      # finds system libraries for -sys crates
  cmake           # builds the bundled CharLS (JPEG-LS decoder)
  make
  g++             # compiles CharLS (C++) and OpenJPEG (C) for JPEG-LS and JPEG 2000, and
                  # the shim into GDCM's 12-bit lossy JPEG codec
  binutils        # the linker; readelf (the libraries the binary links), objcopy (strips
                  # its debug info) for the installers
  libgdcm-dev     # GDCM's headers and libraries: its 12-bit IJG codec for lossy 12-bit JPEG
  # H.264 streaming through FFmpeg (ffmpeg-next): the headers and libraries it links, and
  # libclang for the bindings it generates from those headers at build time.
  libavcodec-dev      # encoders (libx264 and the hardware ones) and the H.264 decoder
  libavformat-dev     # linked by ffmpeg-next even though no container is used
  libavutil-dev       # frames, options, errors
  libswscale-dev      # RGBA <-> YUV conversion
  libssl-dev          # WebRTC's DTLS (str0m's OpenSSL backend, openssl-sys links it)
  clang               # with libclang-dev: bindgen parses the FFmpeg headers
  libclang-dev
  libx11-dev          # Xlib, opened by winit at run time
  libxkbcommon-dev    # libxkbcommon itself (keyboard layouts, X11 and Wayland)
)

# What running the tests needs besides.
test_packages=(
  dcmtk           # dcmdjpeg/dcmcjpeg: the decoding tests' independent reference for lossy JPEG;
                  # dsrdump reads the findings' structured reports back
  dicom3tools     # dciodvfy: checks every DICOM object the product writes (findings' SR)
  python3-pydicom # the findings tests' independent statistics from the same DICOM files
  python3-numpy   #   (with Debian's /usr/bin/python3), and the numbers read back from the
  python3-pil     #   reports; Pillow decodes the CT's JPEG 2000 for pydicom
  python3-scipy   # the calcium tests' independent scoring (SciPy's connected components)
  time            # GNU time (/usr/bin/time): the peak memory of each child process (wait4's
                  # ru_maxrss) in app/tests/commands/hostile_files.rs and tests/tests/studies/structured_fuzz.rs
  libvulkan1          # the Vulkan loader wgpu renders through
  mesa-vulkan-drivers # lavapipe: software Vulkan for machines without a GPU (servers, CI)
  chromium            # headless browser for the web client's test (tests/tests/web_page/browser.rs)
  ffmpeg              # ffprobe and ffmpeg: independent readers of the MP4s `hounsfield movie`
                      # writes (app/tests/commands/movie.rs)
  # The desktop window (eframe on winit, X11): the test app/tests/desktop/main.rs opens a real
  # window in a virtual X server and screenshots it.
  xvfb                # Xvfb and xvfb-run: a virtual X display for that test
  xauth               # xvfb-run needs it to authorise the test's connection
  libx11-xcb1         # Xlib over XCB, used by the Vulkan surface on X11
  libxcursor1         # mouse cursors under X11
  libxrandr2          # monitor sizes under X11
  libxi6              # X input (mouse, keyboard) under X11
  libxkbcommon-x11-0  # keyboard layouts under X11
  xdotool             # moves and drags the pointer in that virtual display: the `connect`
                      # test reads the value under the cursor and draws a ruler with it
  # The container image (installers/container/build.sh) and its test app/tests/installers/container.rs.
  mmdebstrap          # the image's root file system from Debian 12 packages, no engine needed
  umoci               # makes that root file system an OCI image; unpacks it for the test
  runc                # runs the unpacked image as a container in the test
  # Scale-out: the proxy in front of render nodes (installers/kubernetes/haproxy.cfg), run
  # by tests/tests/sessions/scale_out.rs and `bench stream --proxy`, checked by app/tests/installers/kubernetes.rs.
  haproxy
  # `bench stream --transport websocket --loss`: a lossy TCP link of a network namespace
  # and TUN devices, made with ip (app/src/commands/bench/lossy_link).
  iproute2
  # A real PACS for the DICOMweb tests (tests/tests/pacs/dicomweb.rs): Orthanc and its DICOMweb
  # plugin (QIDO-RS, WADO-RS). The tests run it in the foreground on loopback ports with a
  # configuration of their own; the packaged service is not needed (nor started in
  # containers, where policy-rc.d forbids it).
  orthanc
  orthanc-dicomweb
  python3-venv        # a virtual environment for the offline schema validator (below)
  # The Debian package (installers/deb/build.sh) and its test app/tests/installers/package.rs.
  dpkg-dev            # dpkg-shlibdeps: the package's dependencies from the libraries linked
  lintian             # the package is checked for errors
  systemd             # systemd-analyze verify checks the service unit
                      # (binutils, above, strips the packaged binary too)
)

packages=()
if [ "$part" != tests ]; then
  packages+=("${build_packages[@]}")
fi
if [ "$part" != build ]; then
  packages+=("${test_packages[@]}")
fi
missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" \
    || missing+=("$package")
done

sudo=""
if [ "$(id -u)" -ne 0 ]; then
  sudo="sudo"
fi
if [ ${#missing[@]} -ne 0 ]; then
  echo "Installing: ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

if [ "$part" = build ]; then
  exit 0
fi

# kubernetes-validate checks the Kubernetes manifests against the API schemas it ships (no
# cluster, no network at check time). Pinned, in a virtual environment of its own outside
# the work tree (so a fresh clone reuses it); app/tests/installers/kubernetes.rs finds it there, or
# where HOUNSFIELD_KUBERNETES_VALIDATE points.
validator_venv="${XDG_CACHE_HOME:-$HOME/.cache}/hounsfield/kubernetes-validate-1.37.0"
if [ ! -e "$validator_venv/installed" ]; then
  echo "Installing kubernetes-validate 1.37.0 into $validator_venv"
  rm -rf "$validator_venv"
  /usr/bin/python3 -m venv "$validator_venv"
  "$validator_venv/bin/pip" install --quiet --disable-pip-version-check \
    -r "$(dirname "$0")/kubernetes-validate-requirements.txt"
  # Written last: a half-done install is done again next time.
  touch "$validator_venv/installed"
fi

# The segmentation tests' independent side (SimpleITK, SciPy, highdicom: none is packaged
# by Debian 12 in the versions needed), pinned, in a virtual environment outside the work
# tree; tests/support finds it there, or where HOUNSFIELD_IMAGING_PYTHON points. It is made
# again whenever the requirements change.
# A virtual environment under the cache folder with the pinned packages of a requirements
# file, made again whenever the file changes: `pinned_venv NAME REQUIREMENTS WHAT`.
pinned_venv() {
  local venv="${XDG_CACHE_HOME:-$HOME/.cache}/hounsfield/$1"
  local requirements
  requirements="$(dirname "$0")/$2"
  local stamp
  stamp="$(sha256sum "$requirements" | cut -d' ' -f1)"
  if [ "$(cat "$venv/installed" 2>/dev/null)" != "$stamp" ]; then
    echo "Installing $3 into $venv"
    rm -rf "$venv"
    /usr/bin/python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$requirements"
    # Written last: a half-done install is done again next time.
    echo "$stamp" > "$venv/installed"
  fi
}
pinned_venv imaging-python imaging-python-requirements.txt "the imaging tests' Python packages"

# The single sign-on tests' OpenID Connect provider, pinned, in a virtual environment of
# its own (tests/support/src/identity_provider.rs finds it there).
pinned_venv identity-provider identity-provider-requirements.txt "the sign-on tests' identity provider"

if ! command -v cargo >/dev/null 2>&1; then
  echo "cargo is missing: install Rust 1.95 or newer (https://rustup.rs), then run this again." >&2
  exit 1
fi
