#!/usr/bin/env bash
# CI's `package` stage (toolchains/test.sh): from a build folder whose progress-hub and
# progress-watch are built (native-release), checks the install layout, packs the .deb and checks
# what is in it: `cmake --install` into a DESTDIR lists the expected files, `dpkg-deb -c` lists the
# same in the package, the extracted binary answers --version, `systemd-analyze verify` accepts the
# unit.
#   usage: packaging/check_package.sh BUILD_DIR
set -euo pipefail
build=$(realpath "${1:?usage: check_package.sh BUILD_DIR}")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

expected=(
  usr/bin/progress-hub
  usr/bin/progress-watch
  usr/share/progress-hub/web/index.html
  usr/share/progress-hub/web/package.json
  usr/share/progress-hub/web/demo/app.js
  usr/share/progress-hub/web/src/index.js
  usr/lib/systemd/system/progress-hub.service
  usr/share/doc/progress-hub/env.example
  usr/share/doc/progress-hub/deploy.md
)
# Present in the web root only when the wasm build or toolchains/pack.sh made them.
optional=(usr/share/progress-hub/web/dist/progress_wasm.wasm usr/share/progress-hub/web/progress-hub-client.tgz)

missing=0
expect_files() {  # LISTING_FILE WHAT
  local path
  for path in "${expected[@]}"; do
    grep -qx "$path" "$1" || { echo "package: $2 lacks $path" >&2; missing=1; }
  done
  for path in "${optional[@]}"; do
    grep -qx "$path" "$1" && echo "package: $2 has $path" || echo "package: $2 has no $path (not built)"
  done
}

echo "== cmake --install into a DESTDIR"
DESTDIR="$work/destdir" cmake --install "$build" --prefix /usr >/dev/null
(cd "$work/destdir" && find . -type f -o -type l | sed 's|^\./||' | sort) | tee "$work/installed.txt"
expect_files "$work/installed.txt" "cmake --install"

echo "== cpack -G DEB"
(cd "$build" && cpack -G DEB -B "$work/deb" >/dev/null)
deb=$(ls "$work"/deb/progress-hub_*.deb)
dpkg-deb -c "$deb"
dpkg-deb -c "$deb" | awk '$1 !~ /^d/ {print $6}' | sed 's|^\./||' | sort >"$work/packaged.txt"
expect_files "$work/packaged.txt" "$(basename "$deb")"
diff "$work/installed.txt" "$work/packaged.txt" ||
  { echo "package: the .deb and cmake --install differ (above)" >&2; missing=1; }
echo "== dependencies"
dpkg-deb -f "$deb" Depends

echo "== the extracted binary"
dpkg-deb -x "$deb" "$work/root"
"$work/root/usr/bin/progress-hub" --version
"$work/root/usr/bin/progress-watch" --help >/dev/null

echo "== systemd-analyze verify"
unit="$work/root/usr/lib/systemd/system/progress-hub.service"
grep -q '^ExecStart=/usr/bin/progress-hub ' "$unit" || { echo "package: ExecStart is not /usr/bin" >&2; missing=1; }
# verify also checks that ExecStart's binary exists, and /usr/bin/progress-hub is not installed on
# this machine: the same unit, its ExecStart pointed at the extracted binary, is verified on the
# host's systemd units (--root= would need /bin/kill and sysinit.target inside the extracted tree).
mkdir -p "$work/verify"
sed "s|^ExecStart=/usr/bin/progress-hub |ExecStart=$work/root/usr/bin/progress-hub |" "$unit" \
  >"$work/verify/progress-hub.service"
# An unknown key or a bad value is only a warning (exit status 0): any output fails the check.
verify_status=0
verify_log=$(systemd-analyze verify "$work/verify/progress-hub.service" 2>&1) || verify_status=$?
if [[ -n "$verify_log" || $verify_status -ne 0 ]]; then
  echo "$verify_log" >&2
  echo "package: systemd-analyze verify found problems in progress-hub.service" >&2
  missing=1
else
  echo "package: systemd-analyze verify accepted progress-hub.service"
fi
exit "$missing"
