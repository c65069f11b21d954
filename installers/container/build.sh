#!/usr/bin/env bash
# Builds the Hounsfield render node's container image from Debian 12 packages, with no
# container engine and no registry: mmdebstrap makes the root file system (only the
# libraries the binary links, the Vulkan loader and Mesa's drivers, CA certificates) and
# umoci makes it an OCI image.
#
#   installers/container/build.sh [--out DIR]
#
# Writes DIR/oci (an OCI image layout, tag = the binary's version) and
# DIR/hounsfield-VERSION.oci.tar (the same layout as an oci-archive, for
# `podman load`, `skopeo copy oci-archive:…`, `ctr images import`). DIR defaults to
# target/container. Must run as root (mmdebstrap's root mode, files owned by uid 10001).
#
# Environment:
#   HOUNSFIELD_BINARY   the binary to put in the image (default target/release/hounsfield,
#                       built with `cargo build --release --locked -p hounsfield`, without
#                       the developer's test bench;
#                       must be built on Debian 12 so the libraries it links exist there)
#   HOUNSFIELD_APT_CACHE  where downloaded .deb files are kept between builds, outside the
#                       image (default ${XDG_CACHE_HOME:-~/.cache}/hounsfield/container-apt)
#   DEBIAN_MIRROR       the Debian archive (default http://deb.debian.org/debian)
#   DEBIAN_SECURITY_MIRROR  its security updates (default http://deb.debian.org/debian-security)
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
out="$repo/target/container"
while [ $# -gt 0 ]; do
  case "$1" in
    --out) out="${2:?--out needs a folder}"; shift 2 ;;
    --out=*) out="${1#--out=}"; shift ;;
    -h|--help) awk 'NR > 1 && /^#/ { print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    *) echo "build.sh: unknown argument $1 (usage: build.sh [--out DIR])" >&2; exit 2 ;;
  esac
done

binary="${HOUNSFIELD_BINARY:-$repo/target/release/hounsfield}"
cache="${HOUNSFIELD_APT_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/hounsfield/container-apt}"
mirror="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
security="${DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}"

for tool in mmdebstrap mmtarfilter umoci readelf objcopy ldd dpkg-query; do
  command -v "$tool" >/dev/null \
    || { echo "build.sh: $tool is missing (scripts/setup-debian.sh installs it)" >&2; exit 1; }
done
[ "$(id -u)" -eq 0 ] || { echo "build.sh: must run as root (mmdebstrap's root mode)" >&2; exit 1; }
[ -x "$binary" ] || { echo "build.sh: no executable binary at $binary" >&2; exit 1; }
# A developer build (the test bench of --features test-bench) knows `--test-faults`; the
# product, built with `cargo build --release --locked -p hounsfield`, does not. The
# default binary must be the product's; one named in HOUNSFIELD_BINARY (a test's) is put
# in with a warning.
if "$binary" --test-faults --help >/dev/null 2>&1; then
  if [ -z "${HOUNSFIELD_BINARY:-}" ]; then
    echo "build.sh: $binary is a developer build (the test bench): build the product with cargo build --release --locked -p hounsfield" >&2
    exit 1
  fi
  echo "build.sh: warning: $binary is a developer build (the test bench): not for installing" >&2
fi

version="$("$binary" --version | awk '{print $2}')"
[ -n "$version" ] || { echo "build.sh: $binary --version printed no version" >&2; exit 1; }

# The Debian packages that hold the libraries the binary links (its NEEDED entries, found
# where the dynamic linker finds them on this machine); apt adds what they depend on.
libraries() {
  readelf -d "$binary" | sed -n 's/.*(NEEDED).*Shared library: \[\(.*\)\]/\1/p'
}
package_of() {
  local library="$1" path
  path="$(ldd "$binary" | awk -v lib="$library" '$1 == lib && $3 ~ /^\// { print $3 }')"
  [ -n "$path" ] || { echo "build.sh: the dynamic linker finds no $library for $binary" >&2; return 1; }
  # Merged /usr: dpkg may know the file by its /usr path, its / path or its real path.
  for candidate in "$path" "$(readlink -f "$path")" "/usr$path" "${path#/usr}"; do
    if owner="$(dpkg-query -S "$candidate" 2>/dev/null)"; then
      echo "${owner%%:*}"
      return 0
    fi
  done
  echo "build.sh: no Debian package owns $path ($library)" >&2
  return 1
}
# usr-is-merged and python3-minimal take the place of alternatives apt would otherwise fill
# with usrmerge (and all of Perl) and the whole of Python (mesa-vulkan-drivers asks for
# "python3 | python3-minimal" for a tool it ships that the server never runs).
packages=(mesa-vulkan-drivers libvulkan1 ca-certificates usr-is-merged python3-minimal)
while read -r library; do
  case "$library" in ld-linux*) continue ;; esac   # the dynamic linker itself: libc6
  packages+=("$(package_of "$library")")
done < <(libraries)
mapfile -t packages < <(printf '%s\n' "${packages[@]}" | sort -u)
echo "build.sh: hounsfield $version with ${packages[*]}"

mkdir -p "$out" "$cache"
work="$(mktemp -d "$out/.build.XXXXXX")"
trap 'rm -rf "$work"' EXIT
rootfs="$work/rootfs.tar"

# The binary without its debug sections (line tables for debuggers): a third of its size.
# The symbol table stays, so a panic's backtrace still names functions.
objcopy --strip-debug "$binary" "$work/hounsfield"

# The essential set (coreutils, dash: no apt, no dpkg database needed at run time beyond
# what dpkg leaves) plus the packages above, without documentation, manuals or
# translations. Downloads are synced in from and out to the cache, outside the image;
# mmdebstrap's cleanup then empties the image's own apt cache and lists.
HOUNSFIELD_BINARY="$work/hounsfield" HOUNSFIELD_CONFIG="$here/hounsfield.toml" \
mmdebstrap --mode=root --variant=essential --format=tar --skip=essential/unlink \
  --include="$(IFS=,; echo "${packages[*]}")" \
  --dpkgopt='path-exclude=/usr/share/man/*' \
  --dpkgopt='path-exclude=/usr/share/locale/*' \
  --dpkgopt='path-include=/usr/share/locale/locale.alias' \
  --dpkgopt='path-exclude=/usr/share/doc/*' \
  --dpkgopt='path-include=/usr/share/doc/*/copyright' \
  --dpkgopt='path-exclude=/usr/share/info/*' \
  --dpkgopt='path-exclude=/usr/share/lintian/*' \
  --setup-hook='mkdir -p "$1/var/cache/apt/archives"' \
  --setup-hook="sync-in $cache /var/cache/apt/archives/" \
  --customize-hook="$here/customize.sh" \
  --customize-hook="sync-out /var/cache/apt/archives $cache" \
  bookworm - \
  "deb $mirror bookworm main" \
  "deb $mirror bookworm-updates main" \
  "deb $security bookworm-security main" \
  | mmtarfilter --path-exclude='/dev/*' > "$rootfs"

# The OCI image: one layer, the configuration a runtime needs.
layout="$work/oci"
umoci init --layout "$layout"
umoci new --image "$layout:$version"
umoci raw add-layer --image "$layout:$version" \
  --history.created_by "installers/container/build.sh (Debian 12, mmdebstrap)" "$rootfs"
umoci config --image "$layout:$version" \
  --author "Hounsfield" --os linux --architecture amd64 \
  --config.user 10001 \
  --config.entrypoint /usr/bin/hounsfield --config.entrypoint --serve \
  --config.entrypoint --config --config.entrypoint /etc/hounsfield/hounsfield.toml \
  --config.exposedports 8443/tcp \
  --config.env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
  --config.workingdir /var/lib/hounsfield \
  --config.stopsignal SIGTERM \
  --config.label "org.opencontainers.image.title=hounsfield" \
  --config.label "org.opencontainers.image.version=$version" \
  --history.created_by "installers/container/build.sh (image configuration)"
umoci gc --layout "$layout"

rm -rf "$out/oci" "$out/hounsfield-$version.oci.tar"
mv "$layout" "$out/oci"
# An oci-archive is the layout folder as a tar file.
tar -C "$out/oci" -cf "$out/hounsfield-$version.oci.tar" .
echo "build.sh: image hounsfield:$version in $out/oci and $out/hounsfield-$version.oci.tar" \
  "($(du -sh "$out/oci" | cut -f1) compressed; rootfs $(du -sh "$rootfs" | cut -f1))"
