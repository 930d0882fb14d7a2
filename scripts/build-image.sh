#!/usr/bin/env bash
# Builds Takt's container image (deploy/container/Dockerfile) with podman,
# from Debian packages only.
#
# 1. A Debian 12 (bookworm) base image: BASE if set (e.g.
#    docker.io/library/debian:bookworm-slim where a registry is reachable),
#    else the local takt-base:bookworm, made when missing (or with
#    --rebuild-base) by mmdebstrap from the host's Debian apt sources and
#    imported into podman. No registry is needed.
# 2. podman build of the multi-stage Dockerfile with the host's ccache
#    mounted into the build stage, so that a rebuild recompiles only what
#    changed (a cold C++ build takes about 40 minutes on 2 cores).
#
# Usage (as root on Debian 12):
#   ./scripts/build-image.sh [--rebuild-base] [--tag IMAGE] [--git REV]
#     --git REV: build the committed tree of REV (git archive) instead of
#     the working tree (the default, as docker build does)
#   ./scripts/build-image.sh --podman-flags   # print the podman flags this host needs (see below)
# Environment:
#   BASE=IMAGE          base image to build on (skips mmdebstrap)
#   TAKT_IMAGE=IMAGE    tag of the result (default takt:<version>, also takt:latest)
#   CCACHE_HOST_DIR=DIR ccache directory mounted at /ccache (default ~/.cache/ccache)
#   APT_SOURCES=FILE    apt sources (one-line or deb822) for the base
#                       (default: the host's Debian sources)
#   NICE=0              do not run the heavy steps under nice/ionice
#   PRUNE=0             keep earlier builds' untagged intermediate images
set -euo pipefail
cd "$(dirname "$0")/.."

BASE_TAG=takt-base:bookworm
rebuild_base=0
print_flags=0
git_rev=""
tag="${TAKT_IMAGE:-}"
while (($#)); do
  case "$1" in
    --rebuild-base) rebuild_base=1 ;;
    --tag) tag="$2"; shift ;;
    --podman-flags) print_flags=1 ;;
    --git) git_rev="$2"; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "build-image: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done

# Packages needed to BUILD images (not Takt's build dependencies: those are
# in scripts/install-deps.sh and installed inside the build stage).
IMAGE_BUILD_PACKAGES=(
  podman crun conmon golang-github-containers-common netavark aardvark-dns
  catatonit mmdebstrap uidmap runc
)
missing=()
for p in "${IMAGE_BUILD_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "build-image: installing ${missing[*]}" >&2
  SUDO=""
  [[ $(id -u) -ne 0 ]] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

tmpdirs=()
trap 'rm -rf "${tmpdirs[@]}"' EXIT

heavy=(nice -n 19 ionice -c3)
[[ "${NICE:-1}" == 0 ]] && heavy=()

version=$(sed -n 's/^project(takt VERSION \([0-9.]*\).*/\1/p' CMakeLists.txt)
[[ -n "$tag" ]] || tag="takt:${version:-dev}"

# What this host's sandbox needs for a container to start: none on a usual
# host; here (a VM with cgroups v1+v2 "hybrid", a hard RLIMIT_NOFILE of 20000
# and no CAP_SYS_RESOURCE) crun refuses hybrid cgroups and podman's default
# rlimits (nofile and nproc 1048576) cannot be set, so: runc, and rlimits at
# or below the hard ones. Prints the global flags on line 1, the flags of
# build/run on line 2. `build-image.sh --podman-flags` prints them.
podman_flags() {
  local img=$1 n u
  if podman run --rm --network none --no-healthcheck --entrypoint true "$img" >/dev/null 2>&1; then printf '\n\n'; return; fi
  n=$(ulimit -Hn); u=$(ulimit -Hu)
  local per=()
  [[ "$n" != unlimited ]] && per+=(--ulimit "nofile=$n:$n")
  [[ "$u" == unlimited || "$u" -gt 32768 ]] && u=32768  # conmon's own nproc limit
  per+=(--ulimit "nproc=$u:$u")
  if podman --runtime runc run --rm --network none --no-healthcheck --entrypoint true "${per[@]}" "$img" >/dev/null 2>&1; then
    printf '%s\n%s\n' "--runtime runc" "${per[*]}"
    return
  fi
  echo "build-image: podman cannot start a container here, even with runc and ${per[*]}:" >&2
  podman --runtime runc run --rm --network none --no-healthcheck --entrypoint true "${per[@]}" "$img" >&2 || true
  return 1
}
if [[ "$print_flags" == 1 ]]; then  # probe with an image that exists
  for img in "${TAKT_IMAGE:-takt:latest}" "$BASE_TAG"; do
    podman image exists "$img" && { podman_flags "$img"; exit; }
  done
  echo "build-image: no image to probe podman with: build one first" >&2; exit 1
fi
# ---- 1. Base image ----------------------------------------------------------
apt_sources() {
  # The host's Debian sources (so the stages' apt-get reaches the same
  # mirror), else deb.debian.org. Third-party repositories are left out.
  if [[ -n "${APT_SOURCES:-}" ]]; then cat "$APT_SOURCES"; return; fi
  local f found=0
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
    [[ -f "$f" ]] || continue
    if grep -qE '^[^#]*(bookworm)' "$f" && grep -qE '^[^#]*debian' "$f" \
       && ! grep -qE '^[^#]*(https?://[^ ]*(nodesource|google|docker)\.)' "$f"; then
      echo "# from the build host's $f"
      cat "$f"
      echo
      found=1
    fi
  done
  if ((found == 0)); then
    printf '%s\n' "deb http://deb.debian.org/debian bookworm main" \
      "deb http://deb.debian.org/debian bookworm-updates main" \
      "deb http://deb.debian.org/debian-security bookworm-security main"
  fi
}

if [[ -n "${BASE:-}" ]]; then
  base="$BASE"
  echo "build-image: base image $base (from BASE)" >&2
elif ((rebuild_base == 0)) && podman image exists "$BASE_TAG"; then
  base="$BASE_TAG"
  echo "build-image: base image $base (local; --rebuild-base makes it anew)" >&2
else
  base="$BASE_TAG"
  echo "build-image: making $base with mmdebstrap (Debian 12, minbase)" >&2
  work=$(mktemp -d /var/tmp/takt-base.XXXXXX)
  tmpdirs+=("$work")
  apt_sources >"$work/sources"
  sed 's/^/  | /' "$work/sources"
  t0=$SECONDS
  # Like debian:bookworm-slim: merged /usr set up by mmdebstrap's hook (not
  # the usrmerge package, which brings perl); no manuals, translations or
  # documentation other than copyright files (the dpkg options stay in the
  # image, so later apt-get installs leave them out too); no apt lists.
  # shellcheck disable=SC2016  # "$1" is the hook's argument, expanded by mmdebstrap
  "${heavy[@]}" mmdebstrap --variant=minbase --format=tar \
    --hook-dir=/usr/share/mmdebstrap/hooks/merged-usr \
    --aptopt='APT::Install-Recommends "false"' \
    --aptopt='Acquire::Languages "none"' \
    --dpkgopt='path-exclude=/usr/share/man/*' \
    --dpkgopt='path-exclude=/usr/share/info/*' \
    --dpkgopt='path-exclude=/usr/share/locale/*' \
    --dpkgopt='path-include=/usr/share/locale/locale.alias' \
    --dpkgopt='path-exclude=/usr/share/doc/*' \
    --dpkgopt='path-include=/usr/share/doc/*/copyright' \
    --customize-hook='rm -f "$1"/etc/hostname "$1"/etc/resolv.conf' \
    bookworm "$work/rootfs.tar" "$work/sources"
  podman import \
    --change 'CMD ["/bin/bash"]' \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --message "Debian 12 (bookworm) minbase made by mmdebstrap for Takt" \
    "$work/rootfs.tar" "$BASE_TAG" >/dev/null
  echo "build-image: $base made in $((SECONDS - t0)) s" >&2
fi

# ---- 2. The image -----------------------------------------------------------
mapfile -t flags < <(podman_flags "$base")
((${#flags[@]} == 2)) || exit 1
read -r -a global_flags <<<"${flags[0]}"
read -r -a build_flags <<<"${flags[1]}"
[[ -n "${flags[0]}${flags[1]}" ]] && echo "build-image: podman flags for this host: ${flags[*]}" >&2

# The build context: the working tree, or with --git the tree of a commit.
context=.
if [[ -n "$git_rev" ]]; then
  context=$(mktemp -d /var/tmp/takt-context.XXXXXX)
  tmpdirs+=("$context")
  git archive --format=tar "$git_rev" | tar -x -C "$context"
  echo "build-image: context: $(git rev-parse --short "$git_rev^{commit}") (git archive)" >&2
fi

ccache_dir="${CCACHE_HOST_DIR:-$HOME/.cache/ccache}"
mkdir -p "$ccache_dir"
t0=$SECONDS
build() {
  # --format docker: HEALTHCHECK and SHELL are Docker-format instructions.
  "${heavy[@]}" podman "${global_flags[@]}" build "${build_flags[@]}" \
    --format docker \
    --file "$PWD/deploy/container/Dockerfile" \
    --ignorefile "$PWD/deploy/container/Dockerfile.dockerignore" \
    --build-arg "BASE=$base" \
    --build-arg "VERSION=${version:-dev}" \
    --volume "$ccache_dir:/ccache" \
    --layers \
    "$@" "$context"
}
# The build stage first, tagged takt-build:latest so that its layers (the
# build packages, the last build tree) stay as the next build's cache; then
# the image, which reuses them.
build --target build --tag takt-build:latest
build --tag "$tag" --tag takt:latest
echo "build-image: $tag built in $((SECONDS - t0)) s" >&2
# Earlier builds' untagged intermediate images (a few GB each), only
# those of this Dockerfile (label io.takt.image-build). PRUNE=0 keeps them.
if [[ "${PRUNE:-1}" != 0 ]]; then
  podman image prune -f --filter label=io.takt.image-build=true >/dev/null || true
fi
podman images --filter reference=takt --filter reference=takt-base --filter reference=takt-build
