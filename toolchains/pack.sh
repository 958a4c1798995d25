#!/usr/bin/env bash
# Builds the wasm core and packs the npm package with it: progress-hub-client-<version>.tgz in
# OUT_DIR (default build/pack), plus web/progress-hub-client.tgz, which the hub serves from its
# web root at /progress-hub-client.tgz so `npm install http://HUB/progress-hub-client.tgz` works
# on machines without Emscripten. Prints the tarball's path last.
#   bash toolchains/pack.sh [OUT_DIR]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
out=$(mkdir -p "${1:-build/pack}" && cd "${1:-build/pack}" && pwd)

bash toolchains/install-deps.sh
cmake --preset wasm >/dev/null
cmake --build --preset wasm -j 2 --target progress_wasm

# npm pack takes what package.json's "files" lists; a missing module would make a package that
# installs and then fails in every browser.
for file in web/dist/progress_wasm.js web/dist/progress_wasm.wasm; do
  [[ -s $file ]] || { echo "pack: $file is missing after the wasm build" >&2; exit 1; }
done
tarball=$(cd web && npm pack --silent --pack-destination "$out" | tail -n 1)
tar -tzf "$out/$tarball" | grep -qx 'package/dist/progress_wasm.wasm' ||
  { echo "pack: $tarball has no dist/progress_wasm.wasm" >&2; exit 1; }
cp "$out/$tarball" web/progress-hub-client.tgz
echo "$out/$tarball"
