#!/usr/bin/env bash
# THE run command: builds the release server and the wasm module the demo page loads, then serves
# the demo page, the web package (also packed, at /progress-hub-client.tgz) and the API on
# http://127.0.0.1:8000 (Ctrl-C stops it).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash toolchains/install-deps.sh

echo "==== building native-release ===="
cmake --preset native-release
cmake --build --preset native-release -j 2 --target progress-hub progress-watch
echo "==== building wasm and the npm package (served at /progress-hub-client.tgz) ===="
bash toolchains/pack.sh

mkdir -p data
echo "==== progress-hub on http://127.0.0.1:8000 ===="
exec build/native-release/native/server/progress-hub --listen 127.0.0.1:8000 --web-root web --data-dir data
