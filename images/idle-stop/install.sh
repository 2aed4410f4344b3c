#!/bin/bash
# Install the idle auto-stop (script + enabled unit) into the root filesystem ROOT.
# Usage: install.sh [ROOT]   Used by images/test-systemd/Dockerfile and Dockerfile.registry.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=${1:-/}
root=${root%/}
install -D -m 0755 "$here/containai-idle" "$root/usr/local/lib/containai/idle"
install -D -m 0644 "$here/containai-idle.service" "$root/etc/systemd/system/containai-idle.service"
mkdir -p "$root/etc/systemd/system/multi-user.target.wants"
ln -sfn /etc/systemd/system/containai-idle.service \
  "$root/etc/systemd/system/multi-user.target.wants/containai-idle.service"
