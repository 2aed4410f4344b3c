#!/bin/bash
# The product image's user: `agent` (uid 1000, home /home/agent, bash, passwordless sudo),
# the workspace and data mount points it owns, and an empty ~/.ssh for the key containai adds.
# Used by images/containai/Dockerfile and images/containai/Dockerfile.registry.
set -euo pipefail

if ! id agent >/dev/null 2>&1; then
  useradd --uid 1000 --user-group --create-home --home-dir /home/agent --shell /bin/bash agent
fi
# No password, but not "locked" ('!'), so key-only SSH logins work with or without PAM.
usermod --password '*' agent
install -d -o agent -g agent -m 0755 /home/agent/workspace /mnt/agent-data
install -d -o agent -g agent -m 0700 /home/agent/.ssh
printf 'agent ALL=(ALL) NOPASSWD:ALL\n' >/etc/sudoers.d/agent
chmod 0440 /etc/sudoers.d/agent
test -L /etc/systemd/system/multi-user.target.wants/ssh.service
