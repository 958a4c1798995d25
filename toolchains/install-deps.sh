#!/usr/bin/env bash
# Installs what building and testing progress-hub needs, from Debian packages only. Idempotent and
# quiet when everything is there; `apt-get update` runs only when something is missing.
set -euo pipefail

packages=(
  cmake ninja-build g++ clang libclang-rt-14-dev
  libboost1.81-dev nlohmann-json3-dev libsqlite3-dev libgtest-dev googletest libssl-dev
  emscripten
  python3 python3-websockets python3-fastapi python3-uvicorn python3-multipart
  redis-server libhiredis-dev pkg-config libmimalloc-dev liburing-dev libsystemd-dev systemd dpkg-dev faketime
  chromium curl
)

missing=()
for pkg in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$pkg")
done
# A Node 20 with its own npm may already be on the machine (not as Debian's nodejs/npm): keep it,
# and fall back to Debian's packages only when there is no node at all.
if ! command -v node >/dev/null 2>&1; then
  missing+=(nodejs npm)
fi

if ((${#missing[@]} == 0)); then
  exit 0
fi

if [[ $(id -u) -ne 0 ]]; then
  if command -v sudo >/dev/null 2>&1; then
    sudo=(sudo)
  else
    echo "install-deps: missing ${missing[*]}; run this script as root to install them" >&2
    exit 1
  fi
else
  sudo=()
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq "${missing[@]}" >/dev/null
echo "install-deps: done"
