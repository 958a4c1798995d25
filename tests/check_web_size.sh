#!/usr/bin/env bash
# What a browser downloads for the web package stays within its budget (issue 23): the wasm
# module, its glue, the package's own JavaScript (web/src/*.js but the React entry) and the React
# entry, each compressed with `gzip -9`, at most 70,611 bytes together. Prints every part, so a
# failure says which one grew.
#   check_web_size.sh MODULE_DIR WEB_SRC_DIR   (MODULE_DIR holds progress_wasm.{wasm,js})
set -euo pipefail
module=${1:?usage: check_web_size.sh MODULE_DIR WEB_SRC_DIR}
src=${2:?usage: check_web_size.sh MODULE_DIR WEB_SRC_DIR}
budget=70611

gzipped() {  # the sum of gzip -9 sizes of the files given
  local total=0 file
  for file in "$@"; do
    [[ -s $file ]] || { echo "web size: $file is missing" >&2; exit 1; }
    total=$((total + $(gzip -9 -c "$file" | wc -c)))
  done
  echo "$total"
}

package_js=()
for file in "$src"/*.js; do
  [[ $(basename "$file") == react.js ]] || package_js+=("$file")
done
wasm=$(gzipped "$module/progress_wasm.wasm")
glue=$(gzipped "$module/progress_wasm.js")
package=$(gzipped "${package_js[@]}")
react=$(gzipped "$src/react.js")
total=$((wasm + glue + package + react))
printf 'wasm %d + glue %d + package JS %d + React %d = %d bytes (gzip -9; budget %d)\n' \
  "$wasm" "$glue" "$package" "$react" "$total" "$budget"
if ((total > budget)); then
  echo "web size: $((total - budget)) bytes over the budget" >&2
  exit 1
fi
