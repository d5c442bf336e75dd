# Shared by the compat scripts: a cached Debian trixie root, entered with the source bind-mounted.
# Sourced, not run. Needs root (debootstrap, chroot, mount) and Debian's archive.

compat_src=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
compat_dir=${CTMQ_COMPAT_DIR:-/var/cache/ctmq-compat}
compat_jobs=${CTMQ_COMPAT_JOBS:-2}

# The host's own mirror (deb822 or one-line sources), so a machine behind a local mirror uses it.
compat_mirror() {
  if [ -n "${CTMQ_DEBIAN_MIRROR:-}" ]; then echo "$CTMQ_DEBIAN_MIRROR"; return; fi
  local url
  url=$(grep -hsE '^(URIs:|deb )' /etc/apt/sources.list /etc/apt/sources.list.d/* |
        grep -v security | sed -E 's/^URIs: *//; s/^deb (\[[^]]*\] )?//; s/ .*//' | head -n 1)
  echo "${url:-http://deb.debian.org/debian}"
}

# compat_root ROOT COMPONENTS PACKAGES...: creates ROOT once (debootstrap minbase) and installs the
# packages that are missing. A root whose first creation failed half-way is started again.
compat_root() {
  local root=$1 components=$2; shift 2
  local mirror; mirror=$(compat_mirror)
  if [ ! -f "$root/.ctmq-debootstrap-done" ]; then
    command -v debootstrap >/dev/null || { echo "install debootstrap (apt-get install debootstrap)" >&2; exit 1; }
    rm -rf "$root"; mkdir -p "$root"
    echo "debootstrap trixie into $root from $mirror"
    debootstrap --variant=minbase --components="$components" trixie "$root" "$mirror"
    touch "$root/.ctmq-debootstrap-done"
  fi
  printf 'deb %s trixie %s\n' "$mirror" "${components//,/ }" >"$root/etc/apt/sources.list"
  cp /etc/resolv.conf "$root/etc/resolv.conf" 2>/dev/null || true
  local missing=() p
  for p in "$@"; do
    chroot "$root" dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok" || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    echo "installing in $root: ${missing[*]}"
    chroot "$root" apt-get update -qq
    chroot "$root" env DEBIAN_FRONTEND=noninteractive \
      apt-get install -y -qq --no-install-recommends "${missing[@]}"
  fi
}

# compat_run ROOT COMMAND: runs COMMAND (bash) in ROOT with /proc, /sys, /dev and the source at
# /src. A private mount namespace drops every mount when the command ends, even on failure.
compat_run() {
  local root=$1 command=$2
  mkdir -p "$root/src"
  unshare --mount --propagation private bash -euc '
    root=$1 src=$2 command=$3
    mount --bind "$src" "$root/src"
    mount -t proc proc "$root/proc"
    mount --rbind /sys "$root/sys"
    mount --rbind /dev "$root/dev"
    exec chroot "$root" /usr/bin/env -i HOME=/root PATH=/usr/sbin:/usr/bin:/sbin:/bin \
      LANG=C.UTF-8 CI="${CI:-}" bash -euc "$command"
  ' compat "$root" "$compat_src" "$command"
}
