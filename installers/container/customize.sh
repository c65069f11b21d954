#!/bin/sh
# Customize hook of installers/container/build.sh: runs once the Debian packages are in the
# root file system ($1) and puts Hounsfield into it. Reads HOUNSFIELD_BINARY and
# HOUNSFIELD_CONFIG (paths on the building machine) from the environment.
set -eu
root="$1"

# The render node and its default configuration.
install -D -m 0755 "$HOUNSFIELD_BINARY" "$root/usr/bin/hounsfield"
install -D -m 0644 "$HOUNSFIELD_CONFIG" "$root/etc/hounsfield/hounsfield.toml"
# Mount points for the Secrets (certificate, key, users) and the DICOM library.
install -d -m 0755 "$root/etc/hounsfield/tls" "$root/etc/hounsfield/users" "$root/srv/dicom"

# The unprivileged user the server runs as (uid and gid 10001, no login, no password).
echo 'hounsfield:x:10001:10001:Hounsfield render node:/var/lib/hounsfield:/usr/sbin/nologin' \
  >> "$root/etc/passwd"
echo 'hounsfield:x:10001:' >> "$root/etc/group"
echo 'hounsfield:!*:19000:0:99999:7:::' >> "$root/etc/shadow"
install -d -m 0750 -o 10001 -g 10001 "$root/var/lib/hounsfield"

# Nothing of the package manager's download state stays in the image.
rm -rf "$root/var/lib/apt/lists/"* "$root/var/cache/debconf/"*-old "$root/var/log/"*.log \
  "$root/var/log/apt" "$root/var/cache/ldconfig/aux-cache"
