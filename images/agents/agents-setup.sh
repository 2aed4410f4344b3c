#!/bin/bash
# Puts the agent CLIs (unpacked by images/containai/Dockerfile to /opt/containai/agents, see
# images/agents/package.json for the versions) on PATH, and links each agent's settings and
# credentials from the agent's home to the data volume, so recreating the container
# (fresh) keeps them. A oneshot unit creates the folders on a volume that lacks them.
set -euo pipefail

dir=/opt/containai/agents
for tool in node claude gemini codex; do
  ln -sfn "$dir/node_modules/.bin/$tool" "/usr/local/bin/$tool"
done

data=/mnt/agent-data
home=/home/agent
folders=("$data/claude" "$data/gemini" "$data/codex")
install -d -o agent -g agent -m 0700 "${folders[@]}" "$home/.config"
link() { ln -sfn "$1" "$2" && chown -h agent:agent "$2"; }
link "$data/claude" "$home/.claude"
link "$data/claude/claude.json" "$home/.claude.json"
link "$data/claude" "$home/.config/claude"
link "$data/gemini" "$home/.gemini"
link "$data/gemini" "$home/.config/gemini"
link "$data/codex" "$home/.codex"
link "$data/codex" "$home/.config/codex"

cat >/etc/systemd/system/containai-agent-data.service <<UNIT
[Unit]
Description=ContainAI: agent settings folders on the data volume
Before=ssh.service
ConditionPathIsMountPoint=$data

[Service]
Type=oneshot
ExecStart=/usr/bin/install -d -o agent -g agent -m 0700 ${folders[*]}

[Install]
WantedBy=multi-user.target
UNIT
ln -sfn /etc/systemd/system/containai-agent-data.service \
  /etc/systemd/system/multi-user.target.wants/containai-agent-data.service
# Each one runs (in a throwaway home: nothing of the check stays in the image).
check_home=$(mktemp -d)
for tool in node claude gemini codex; do
  HOME=$check_home "/usr/local/bin/$tool" --version >/dev/null
done
rm -rf "$check_home"
