#!/usr/bin/env bash
# THE test command: every build the project ships, and every test suite, on 2 cores.
#   native-asan   build everything (server, CLI, bench, tests) under AddressSanitizer +
#                 UndefinedBehaviorSanitizer and run ctest: the whole native suite, sanitized
#   wasm          em++ build; ctest runs the protocol vectors and core tests under node
#   native-clang  clang 14 build of everything, each file compiled on its own (the other stages
#                 are unity builds), so clang's warnings and a file's missing includes fail here;
#                 ctest runs the core's suites (the server's run in native-asan and native-tsan)
#   native-release  the optimised build of what `toolchains/run.sh` starts (server + CLI), so
#                 warnings only -O3 raises cannot break the README's first command
#   web           the npm package's tests against the (sanitized) server and the wasm module
#   apps          toolchains/pack.sh, then the Vite and webpack 5 apps of tests/apps/ install the
#                 tarball from the hub, type-check, build (webpack with no warning) and reach
#                 `completed` in Chromium against the hub (the Vite app under `vite` dev too)
#   package       from the native-release build (after apps, so the web root has the
#                 wasm and the tarball): `cmake --install` into a DESTDIR, the .deb
#                 (cpack), its listing, the extracted binary's --version, `systemd-analyze verify`
#                 of the unit (packaging/check_package.sh)
#   bench-smoke   a few seconds of every benchmark scenario against the server, so bench/ never
#                 rots; it fails on lost, duplicated or refused events, never on speed
#   fuzz          clang libFuzzer targets (decoder, hub, client session) for 30 s each from the
#                 committed seed corpus; any crash or broken invariant fails the run
#   native-tsan   the server's suites under ThreadSanitizer (the server runs upload jobs on a worker
#                 thread, and with --threads send lanes, beside the event loop); TSan reports of
#                 spawned servers fail the stage. Left out, for CI's time: the core's suites (the
#                 core has no threads by design)
# native-debug (the same build without sanitizers) is not in the default list: native-asan covers
# it. Run it with PROGRESS_TEST_STAGES.
# A failing stage does not stop the later ones (one run reports everything); the exit status is
# non-zero when any stage failed. PROGRESS_TEST_STAGES="wasm native-clang" runs only those stages.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

jobs=2
failed=()
passed=()

header() {
  printf '\n==== %s ====\n' "$1"
}

# Runs one stage function, timing it and recording the outcome. `if` disables errexit inside the
# function, so the stage functions chain their commands with && to stop at the first failure.
# Each stage's output is also kept in build/test-logs/<stage>.log; the summary repeats the end of a
# failed stage's log, so the last lines of a CI run say why it failed.
log_dir=build/test-logs
stage() {
  local name=$1
  header "$name"
  local start=$SECONDS
  mkdir -p "$log_dir"
  if "stage_${name//-/_}" 2>&1 | tee "$log_dir/$name.log"; then
    passed+=("$name")
    printf -- '---- %s: ok (%ds)\n' "$name" $((SECONDS - start))
  else
    failed+=("$name")
    printf -- '---- %s: FAILED (%ds)\n' "$name" $((SECONDS - start))
  fi
}

preset() {  # configure, build and test one preset
  cmake --preset "$1" &&
    cmake --build --preset "$1" -j "$jobs" &&
    ctest --preset "$1"
}

stage_native_debug() { preset native-debug; }
stage_native_asan() { preset native-asan; }
stage_wasm() { preset wasm; }

stage_native_clang() {
  cmake --preset native-clang &&
    cmake --build --preset native-clang -j "$jobs" &&
    ctest --preset native-clang -R '^(protocol_vectors|core_tests)$'
}

stage_native_release() {
  cmake --preset native-release &&
    cmake --build --preset native-release -j "$jobs" --target progress-hub progress-watch
}

# Reuses native-release's build: configuring again builds nothing new.
stage_package() {
  cmake --preset native-release >/dev/null &&
    cmake --build --preset native-release -j "$jobs" --target progress-hub progress-watch &&
    bash packaging/check_package.sh build/native-release
}

native_bin=$PWD/build/native-asan

stage_web() {
  PROGRESS_HUB_BIN=$native_bin/native/server/progress-hub \
    PROGRESS_WATCH_BIN=$native_bin/native/cli/progress-watch \
    PROGRESS_WASM_DIR=$PWD/web/dist \
    bash -c 'npm ci --prefix web --no-audit --no-fund && npm test --prefix web'
}

stage_apps() {
  bash toolchains/pack.sh &&
    { [[ -d web/node_modules/playwright-core ]] || npm ci --prefix web --no-audit --no-fund; } &&
    PROGRESS_HUB_BIN=$native_bin/native/server/progress-hub node tests/apps/run.mjs
}

stage_bench_smoke() {
  # Both of the hub's write paths, and the generator's recv() reads in a second run.
  python3 bench/run.py --smoke --servers hub,hub-send-calls --hub "$native_bin/native/server/progress-hub" \
    --loadgen "$native_bin/bench/progress-loadgen" &&
  python3 bench/run.py --smoke --servers hub --loadgen-recv --hub "$native_bin/native/server/progress-hub" \
    --loadgen "$native_bin/bench/progress-loadgen"
}

stage_fuzz() { bash tests/fuzz/run.sh 30; }

stage_native_tsan() {
  local suites='server_integration|server_units|server_access_units|python_client|durability|chaos'
  suites+='|redis_integration|tls_integration|ws_conformance'
  cmake --preset native-tsan &&
    cmake --build --preset native-tsan -j "$jobs" \
      --target progress-hub progress-watch server_integration_tests server_unit_tests server_access_units \
      durability_tests chaos_tests redis_integration_tests tls_integration_tests ws_conformance_tests &&
    rm -f build/native-tsan/tsan-report.* &&
    ctest --preset native-tsan \
      -R "^(${suites})\$" &&
    { ! compgen -G 'build/native-tsan/tsan-report.*' >/dev/null || { cat build/native-tsan/tsan-report.*; false; }; }
}

header "dependencies"
bash toolchains/install-deps.sh

all_stages=(native-asan wasm native-clang native-release web apps package bench-smoke fuzz native-tsan)
read -r -a stages <<<"${PROGRESS_TEST_STAGES:-${all_stages[*]}}"
for name in "${stages[@]}"; do
  if ! declare -F "stage_${name//-/_}" >/dev/null; then
    echo "unknown stage $name (stages: ${all_stages[*]} native-debug)" >&2
    exit 2
  fi
done

total_start=$SECONDS
for name in "${stages[@]}"; do
  if [[ $name == web && ! -f web/package.json ]]; then
    printf '\n(no web/package.json: web stage skipped)\n'
    continue
  fi
  stage "$name"
done

elapsed=$((SECONDS - total_start))
printf '\n==== summary ====\n'
if ((${#failed[@]} == 0)); then
  printf 'ALL PASSED: %s (%dm%02ds)\n' "${passed[*]}" $((elapsed / 60)) $((elapsed % 60))
  exit 0
fi
for name in "${failed[@]}"; do
  printf '\n---- end of the %s log (%s):\n' "$name" "$log_dir/$name.log"
  grep -v '^\[[0-9]*/[0-9]*\] ' "$log_dir/$name.log" | tail -n 18
done
printf '\nFAILED: %s; passed: %s (%dm%02ds)\n' "${failed[*]}" "${passed[*]:-none}" $((elapsed / 60)) $((elapsed % 60))
exit 1
