#!/bin/bash
# Make a Debian bookworm root filesystem boot systemd as PID 1 inside a container, with sshd.
# Usage: container-setup.sh [ROOT]   (ROOT defaults to /; the script only edits files)
# Used by the offline builder (scripts/images.sh, via images/test-systemd/Dockerfile) and by
# images/containai/Dockerfile.registry, so both kinds of image behave the same.
set -euo pipefail

root=${1:-/}
root=${root%/}
sys=$root/etc/systemd/system

# A machine id per container: empty here, so systemd generates one at boot.
: >"$root/etc/machine-id"
rm -f "$root/var/lib/dbus/machine-id"

# Units that make no sense in a container: consoles, timers doing host maintenance,
# hardware and kernel facilities a container does not own.
mask=(
  getty@tty1.service console-getty.service serial-getty@.service getty-static.service
  apt-daily.timer apt-daily.service apt-daily-upgrade.timer apt-daily-upgrade.service
  e2scrub_all.timer e2scrub_all.service e2scrub_reap.service
  fstrim.timer fstrim.service
  systemd-pstore.service
  systemd-firstboot.service
  systemd-udevd.service systemd-udev-trigger.service systemd-udev-settle.service
  systemd-hwdb-update.service systemd-modules-load.service kmod-static-nodes.service
  systemd-remount-fs.service systemd-machine-id-commit.service
  sys-kernel-config.mount sys-kernel-debug.mount sys-kernel-tracing.mount
  sys-fs-fuse-connections.mount dev-hugepages.mount
)
mkdir -p "$sys" "$sys/multi-user.target.wants"
for unit in "${mask[@]}"; do
  ln -sfn /dev/null "$sys/$unit"
done
ln -sfn /lib/systemd/system/multi-user.target "$sys/default.target"

# sshd: enabled; key login only; no host keys in the image - every container generates its
# own at first boot (ssh-keygen -A only creates the missing ones, so restarts keep them).
rm -f "$root"/etc/ssh/ssh_host_*
ln -sfn /lib/systemd/system/ssh.service "$sys/multi-user.target.wants/ssh.service"
ln -sfn /lib/systemd/system/ssh.service "$sys/sshd.service"
mkdir -p "$sys/ssh.service.d" "$root/etc/ssh/sshd_config.d"
cat >"$sys/ssh.service.d/containai-host-keys.conf" <<'EOF'
[Service]
ExecStartPre=
ExecStartPre=/usr/bin/ssh-keygen -A
ExecStartPre=/usr/sbin/sshd -t
EOF
cat >"$root/etc/ssh/sshd_config.d/containai.conf" <<'EOF'
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
UseDNS no
EOF

# Nothing left over from the build.
rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin "$root"/var/cache/apt/archives/*.deb
rm -f "$root"/var/log/bootstrap.log "$root"/var/log/apt/* "$root"/var/log/dpkg.log
