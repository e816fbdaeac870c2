#!/usr/bin/env bash
# hd_pprof.sh MKSNAP HEAPDIFF DECODER SRCDIR GOHOME
# heapdiff --pprof read back by `go tool pprof` and by a protobuf-c decode
# (hd_pprof_check.py) on the snapshots of hd_specs.sh, a sampled one, and
# the cxx ones (HD_FIXTURE: real C++ names). Go's cache and home are
# GOHOME, under the build tree: CI's HOME may not be writable.
set -euo pipefail
MKSNAP=$1 heapdiff=$2 decoder=$3 src=$(cd "$4" && pwd) gohome=$5
command -v go >/dev/null || {
  echo "SKIP: go not found (package golang-go; scripts/deps installs it)"
  exit 77
}
. "$src/hd_specs.sh"
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
hd_make "$dir"
[ -f "${HD_FIXTURE:-}" ] || { echo "FAIL: HD_FIXTURE not set"; exit 1; }
hd_cxx_make "$dir" "$HD_FIXTURE"
# Sampled (one block in 4096 bytes on average): ten 100-byte blocks and
# three of 5000 bytes, each standing for 1/(1 - exp(-size/4096)).
{ hd_common 4000000; cat <<SPEC
sampled 4096
number 1
time 1000000000
blocks 10 0x1000000 0x100 100 1 0
blocks 3 0x2000000 0x2000 5000 2 0
SPEC
} >"$dir/sampled.spec"
"$MKSNAP" "$dir/sampled.spec" "$dir/sampled.snap"
mkdir -p "$gohome/cache" "$gohome/home" "$dir/pprof-tmp" "$dir/no-binaries"
export GOCACHE=$gohome/cache HOME=$gohome/home GOFLAGS= GOTOOLCHAIN=local \
  GOPROXY=off
python3 "$src/hd_pprof_check.py" "$heapdiff" "$decoder" "$dir"
