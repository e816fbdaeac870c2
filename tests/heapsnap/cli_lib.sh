# shellcheck shell=bash
# cli_lib.sh - helpers for the heapsnap tool tests; sourced, not run.
#
# The test scripts get their programs from the environment (set by
# tests/heapsnap/CMakeLists.txt): HS_HEAPSNAP (the launcher), HS_FAKESHIM
# (fakeshim_tools.c built), HS_MKSNAP (mksnap_tools), HS_VERSION and
# HS_SRCDIR (this folder). Every check is exact; each failure prints one
# FAIL line and the script exits 1 at the end.

set -u
# shellcheck source=tests/support/wait_lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../support/wait_lib.sh"
: "${HS_HEAPSNAP:?} ${HS_FAKESHIM:?} ${HS_MKSNAP:?} ${HS_VERSION:?}"
: "${HS_SRCDIR:?}"

# The caller's settings must not leak into what the tests compare.
unset LD_PRELOAD
for v in ${!HEAPSNAP_@}; do unset "$v"; done
# A sanitized launcher must not abort because a test preloads something.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0"

# shellcheck disable=SC2034 # H is for the scripts that source this
H=$HS_HEAPSNAP
T=$(mktemp -d "${TMPDIR:-/tmp}/hs-cli.XXXXXX")
T=$(cd "$T" && pwd -P)
HS_FAILS=0
HS_CHECKS=0
HS_PIDS=()

hs_cleanup() {
  local p
  for p in "${HS_PIDS[@]}"; do kill -KILL "$p" 2>/dev/null; done
  wait 2>/dev/null
  rm -rf "$T"
}
trap hs_cleanup EXIT

fail() {
  echo "FAIL: $*" >&2
  HS_FAILS=$((HS_FAILS + 1))
}

# cap CMD...: runs CMD; sets rc, out (stdout) and err (stderr).
cap() {
  "$@" >"$T/.out" 2>"$T/.err"
  rc=$?
  out=$(cat "$T/.out")
  err=$(cat "$T/.err")
  HS_CHECKS=$((HS_CHECKS + 1))
}

# expect_rc WANT WHAT
expect_rc() {
  [ "$rc" -eq "$1" ] || fail "$2: exit status $rc, expected $1 (stderr: $err)"
}

# expect_err_lines N WHAT: stderr has exactly N lines.
expect_err_lines() {
  local n
  n=$(wc -l <"$T/.err")
  [ "$n" -eq "$1" ] || fail "$2: $n lines on stderr, expected $1: $err"
}

# expect_eq GOT WANT WHAT
expect_eq() {
  [ "$1" == "$2" ] || fail "$3: got '$1', expected '$2'"
}

# expect_has HAYSTACK NEEDLE WHAT: fixed-string containment.
expect_has() {
  [[ "$1" == *"$2"* ]] || fail "$3: '$2' not in '$1'"
}

# usage_error WHAT NEEDLE CMD...: exit 2, exactly one stderr line holding
# NEEDLE, nothing on stdout.
usage_error() {
  local what=$1 needle=$2
  shift 2
  cap "$@"
  expect_rc 2 "$what"
  expect_err_lines 1 "$what"
  expect_has "$err" "$needle" "$what"
  expect_eq "$out" "" "$what: stdout"
}

finish() {
  if [ "$HS_FAILS" -ne 0 ]; then
    echo "$HS_FAILS of the checks failed" >&2
    exit 1
  fi
  echo "ok: $HS_CHECKS commands checked"
  exit 0
}
