#!/usr/bin/env bash
# Builds the `fuzz` preset and runs every libFuzzer target for SECONDS each (default 60), starting
# from the committed seed corpus. New corpus entries go to a temporary folder, never the repo.
# Exit status non-zero when any target found a crash, a leak, a timeout or a broken invariant;
# the input is kept under <build>/fuzz-artifacts/<target>/ and the command to replay it is printed.
#   tests/fuzz/run.sh [SECONDS]          PROGRESS_FUZZ_BUILD_DIR overrides build/fuzz
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

seconds=${1:-60}
build_dir=${PROGRESS_FUZZ_BUILD_DIR:-build/fuzz}
targets=(fuzz_decode fuzz_hub fuzz_client_session fuzz_http_request fuzz_ws_frames)

cmake --preset fuzz -B "$build_dir" >/dev/null
cmake --build "$build_dir" -j 2 --target "${targets[@]}"

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

failed=()
for target in "${targets[@]}"; do
  artifacts="$build_dir/fuzz-artifacts/$target"
  mkdir -p "$artifacts" "$scratch/$target"
  args=(-max_total_time="$seconds" -max_len=4096 -timeout=10 -print_final_stats=1
        -artifact_prefix="$artifacts/")
  [[ -f tests/fuzz/$target.dict ]] && args+=(-dict="tests/fuzz/$target.dict")
  printf '\n---- %s for %ss\n' "$target" "$seconds"
  if "$build_dir/tests/fuzz/$target" "${args[@]}" "$scratch/$target" "tests/fuzz/corpus/$target" \
      >"$scratch/$target.log" 2>&1; then
    grep -E '^(stat::number_of_executed_units|stat::peak_rss_mb)' "$scratch/$target.log" || true
  else
    failed+=("$target")
    grep -E 'invariant violated|ERROR:|SUMMARY|Test unit written' "$scratch/$target.log" ||
      tail -20 "$scratch/$target.log"
    echo "replay: PROGRESS_FUZZ_TRACE=1 $build_dir/tests/fuzz/$target $artifacts/<crash file>"
    # CI machines are thrown away: the input itself goes to the log, so it can be replayed anywhere.
    for found in "$artifacts"/*; do
      [[ -f $found ]] && printf 'input %s base64: %s\n' "${found##*/}" "$(base64 -w0 "$found")"
    done
  fi
done

if ((${#failed[@]})); then
  printf '\nFUZZ FAILED: %s\n' "${failed[*]}"
  exit 1
fi
printf '\nfuzz: all targets ran %ss without a finding\n' "$seconds"
