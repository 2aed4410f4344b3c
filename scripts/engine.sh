#!/usr/bin/env bash
# Ensure a Docker engine answers, and that the host tools the image build and the tests use
# are installed. Idempotent: on a warm machine it only checks, in well under a second.
#
#   scripts/engine.sh          ensure (install with apt-get only what is missing)
#   scripts/engine.sh --stop   stop a dedicated engine this script started on a non-default
#                              DOCKER_HOST socket, and delete its state (never the main engine)
#
# The engine is the one the docker CLI talks to: DOCKER_HOST, else the current context. When it
# does not answer and the endpoint is a local unix socket, dockerd is started in the background
# with flags that need no iptables (recipes/test-engine.md). A socket other than
# /var/run/docker.sock gets a dedicated daemon whose state lives next to it:
# <socket dir>/containai-dockerd/{data,exec,dockerd.pid,dockerd.log}, with its own bridge.
set -euo pipefail

DEFAULT_SOCK=/var/run/docker.sock
START_TIMEOUT=${CONTAINAI_ENGINE_TIMEOUT:-30}
LOG_DIR=/var/cache/containai-rpc
export DEBIAN_FRONTEND=noninteractive

log() { printf 'engine: %s\n' "$*" >&2; }
die() { printf 'engine: error: %s\n' "$*" >&2; exit 1; }

# Re-run this script as root when an action needs it (CI runs as root; this is for laptops).
# Usage: become_root <what needs it> [arguments for the re-run]
become_root() {
  local what=$1
  shift
  [[ $EUID -eq 0 ]] && return 0
  if command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
    log "$what needs root: re-running with sudo"
    exec sudo -n --preserve-env=DOCKER_HOST,DOCKER_CONTEXT,CONTAINAI_ENGINE_TIMEOUT "$0" "$@"
  fi
  die "$what needs root; run: sudo $0 $*"
}

pkg_installed() {
  [[ $(dpkg-query -W -f='${Status}' "$1" 2>/dev/null) == "install ok installed" ]]
}

# apt-get install with a policy-rc.d that keeps package scripts from starting daemons
# (docker.io would otherwise start dockerd with default flags). An existing one is restored.
apt_install() {
  command -v apt-get >/dev/null || die "missing $*, and there is no apt-get to install them"
  local policy=/usr/sbin/policy-rc.d aptlog
  mkdir -p "$LOG_DIR"
  aptlog=$LOG_DIR/apt.log
  if [[ -e $policy || -L $policy ]]; then
    mv -f "$policy" "$policy.containai-saved"
  fi
  # shellcheck disable=SC2064  # expand now: restore exactly this path on any exit
  trap "rm -f '$policy'; [[ ! -e '$policy.containai-saved' ]] || mv -f '$policy.containai-saved' '$policy'" EXIT
  printf '#!/bin/sh\n# written by containai-rpc scripts/engine.sh during apt-get install\nexit 101\n' >"$policy"
  chmod 0755 "$policy"

  local apt=(apt-get -o DPkg::Lock::Timeout=300 -o Dpkg::Use-Pty=0 -q -y)
  log "apt-get update (log: $aptlog)"
  "${apt[@]}" update >"$aptlog" 2>&1 || { tail -n 20 "$aptlog" >&2; die "apt-get update failed"; }
  log "apt-get install $*"
  "${apt[@]}" install "$@" >>"$aptlog" 2>&1 || { tail -n 20 "$aptlog" >&2; die "apt-get install $* failed"; }

  rm -f "$policy"
  [[ ! -e $policy.containai-saved ]] || mv -f "$policy.containai-saved" "$policy"
  trap - EXIT
}

# True when the engine the docker CLI talks to answers; sets ENGINE_VERSION.
engine_answers() {
  ENGINE_VERSION=$(timeout 10 docker info --format '{{.ServerVersion}}' 2>/dev/null) || return 1
  [[ -n $ENGINE_VERSION ]]
}

# exec dockerd in its own session, holding no file descriptor of ours beyond 0-2 (an
# inherited pipe would keep a CI runner waiting after `make test` returns). `setsid -w` forks
# only when it must (we lead a process group under job control) and then waits, so the pid of
# this background job lives exactly as long as dockerd.
launch_dockerd() {
  local fd
  for fd in /proc/"$BASHPID"/fd/*; do
    fd=${fd##*/}
    if ((fd > 2)); then
      eval "exec $fd>&-" 2>/dev/null || true
    fi
  done
  cd /
  exec setsid -w nohup dockerd "$@"
}

# Sets SOCK (the unix socket the CLI uses) and DEDICATED (1 unless it is the default socket).
resolve_socket() {
  local host=${DOCKER_HOST:-} ctx
  if [[ -z $host ]]; then
    ctx=$(docker context show 2>/dev/null || echo default)
    [[ $ctx == default ]] || die "docker context '$ctx' does not answer; start its engine, or 'docker context use default'"
    SOCK=$DEFAULT_SOCK
  elif [[ $host == unix://* ]]; then
    SOCK=${host#unix://}
  else
    die "DOCKER_HOST=$host does not answer, and only a local unix:// engine can be started here"
  fi
  [[ $SOCK == /* ]] || die "the socket path must be absolute: $SOCK"
  if [[ $(realpath -m "$SOCK") == "$(realpath -m "$DEFAULT_SOCK")" ]]; then
    DEDICATED=0
  else
    DEDICATED=1
  fi
}

# State of a dedicated daemon: STATE dir, BRIDGE name (<= 15 chars), containerd namespace ID.
dedicated_paths() {
  STATE=$(dirname "$SOCK")/containai-dockerd
  ID=cai$(printf '%s' "$(realpath -m "$SOCK")" | sha256sum | cut -c1-8)
  BRIDGE=$ID
}

# The first 10.213.N.0/24 that no interface or route of this host uses.
free_subnet() {
  local n used
  used=$(ip -4 -o addr show; ip -4 route show)
  for n in $(seq 1 254); do
    if ! grep -q "10\.213\.$n\." <<<"$used"; then
      printf '10.213.%s.1/24\n' "$n"
      return 0
    fi
  done
  die "no free 10.213.N.0/24 subnet for the dedicated engine's bridge"
}

dockerd_alive() { [[ -n ${1:-} && -r /proc/$1/comm && $(cat "/proc/$1/comm") == dockerd ]]; }

start_dockerd() {
  local pidfile logf pid
  local args=(--host "unix://$SOCK" --iptables=false --ip-masq=false --ip-forward=false
    --ip6tables=false --userland-proxy=true)
  if ((DEDICATED)); then
    dedicated_paths
    mkdir -p "$STATE/data" "$STATE/exec"
    : >"$STATE/.containai-dedicated-engine"
    [[ -s $STATE/daemon.json ]] || printf '{}\n' >"$STATE/daemon.json"
    if ! ip link show "$BRIDGE" >/dev/null 2>&1; then
      local cidr
      cidr=$(free_subnet)
      log "creating bridge $BRIDGE ($cidr) for the dedicated engine"
      ip link add name "$BRIDGE" type bridge
      ip addr add "$cidr" dev "$BRIDGE"
    fi
    ip link set "$BRIDGE" up
    pidfile=$STATE/dockerd.pid
    logf=$STATE/dockerd.log
    args+=(--data-root "$STATE/data" --exec-root "$STATE/exec" --pidfile "$pidfile"
      --config-file "$STATE/daemon.json" --bridge "$BRIDGE"
      --containerd-namespace "$ID" --containerd-plugins-namespace "$ID-plugins")
  else
    pidfile=/var/run/docker.pid
    logf=/var/log/containai-dockerd.log
  fi
  mkdir -p "$(dirname "$SOCK")"

  pid=$(cat "$pidfile" 2>/dev/null || true)
  if dockerd_alive "$pid"; then
    log "dockerd (pid $pid) is already starting on unix://$SOCK; waiting for it"
  else
    log "starting dockerd on unix://$SOCK (log: $logf)"
    launch_dockerd "${args[@]}" >>"$logf" 2>&1 </dev/null &
    pid=$!
  fi

  local deadline=$((SECONDS + START_TIMEOUT))
  until engine_answers; do
    if ! kill -0 "$pid" 2>/dev/null; then
      tail -n 20 "$logf" >&2
      die "dockerd exited before answering; see $logf"
    fi
    ((SECONDS < deadline)) || die "dockerd did not answer within ${START_TIMEOUT}s; see $logf"
    sleep 0.2
  done
  log "engine $ENGINE_VERSION answers on unix://$SOCK (dockerd pid $pid)"
}

stop_dedicated() {
  resolve_socket
  ((DEDICATED)) || die "--stop only stops a dedicated engine (DOCKER_HOST=unix://<other socket>); the main engine on $DEFAULT_SOCK is left alone"
  dedicated_paths
  [[ -e $STATE/.containai-dedicated-engine ]] || die "$STATE was not made by this script; not touching it"
  become_root "stopping the dedicated engine" --stop
  local pid deadline mnt
  pid=$(cat "$STATE/dockerd.pid" 2>/dev/null || true)
  if dockerd_alive "$pid"; then
    log "stopping dockerd pid $pid"
    kill -TERM "$pid"
    deadline=$((SECONDS + START_TIMEOUT))
    while kill -0 "$pid" 2>/dev/null; do
      ((SECONDS < deadline)) || die "dockerd pid $pid did not exit within ${START_TIMEOUT}s"
      sleep 0.2
    done
  fi
  # Anything the daemon left mounted under its state dir (deepest first), then the files.
  while read -r mnt; do
    umount -l "$mnt" || true
  done < <(awk -v p="$STATE/" 'index($2, p) == 1 { print $2 }' /proc/self/mounts | sort -r)
  if ip link show "$BRIDGE" >/dev/null 2>&1; then
    ip link del "$BRIDGE"
  fi
  rm -rf --one-file-system "$STATE"
  rm -f "$SOCK"
  log "dedicated engine on unix://$SOCK stopped and its state deleted"
}

main() {
  if [[ ${1:-} == --stop ]]; then
    stop_dedicated
    return
  fi
  [[ $# -eq 0 ]] || die "usage: $0 [--stop]"

  local need_engine=0 missing=()
  engine_answers || need_engine=1
  if ((need_engine)); then
    resolve_socket
    command -v dockerd >/dev/null || missing+=(docker.io)
  fi
  command -v debootstrap >/dev/null || missing+=(debootstrap)
  pkg_installed busybox-static || missing+=(busybox-static)
  command -v npm >/dev/null || missing+=(npm) # fetches the agent CLIs for containai:latest
  { command -v ssh >/dev/null && command -v ssh-keyscan >/dev/null; } || missing+=(openssh-client)
  { command -v ip >/dev/null && command -v ss >/dev/null; } || missing+=(iproute2)
  # sshd: the tests' remote engine (a Docker context over ssh://127.0.0.1)
  [[ -x /usr/sbin/sshd ]] || missing+=(openssh-server)

  if ((${#missing[@]})); then
    become_root "installing ${missing[*]}"
    apt_install "${missing[@]}"
  fi
  if ((need_engine)); then
    become_root "starting dockerd"
    start_dockerd
  else
    log "engine $ENGINE_VERSION answers; host tools present"
  fi
}

main "$@"
