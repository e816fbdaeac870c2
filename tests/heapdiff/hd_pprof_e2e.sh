#!/usr/bin/env bash
# hd_pprof_e2e.sh SHIM HEAPDIFF DECODER PROG SRCDIR GOHOME
# heapdiff --pprof on a real process: hd_cxx_svc (C++17, -O2, inlined
# code) under the shim, three API snapshots; `go tool pprof` and the
# decoder read the profile back (hd_pprof_check.py, e2e).
set -euo pipefail
shim=$1 heapdiff=$2 decoder=$3 prog=$4 src=$(cd "$5" && pwd) gohome=$6
command -v go >/dev/null || {
  echo "SKIP: go not found (package golang-go; scripts/deps installs it)"
  exit 77
}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cp "$prog" "$dir/svc"
mapfile -t snaps < <(HEAPSNAP_DIR=$dir LD_PRELOAD=$shim "$dir/svc")
[ ${#snaps[@]} = 3 ] || { echo "FAIL: expected 3 snapshots"; exit 1; }
mkdir -p "$gohome/cache" "$gohome/home" "$dir/pprof-tmp" "$dir/no-binaries"
export GOCACHE=$gohome/cache HOME=$gohome/home GOFLAGS= GOTOOLCHAIN=local \
  GOPROXY=off
python3 "$src/hd_pprof_check.py" "$heapdiff" "$decoder" "$dir" "${snaps[@]}"
