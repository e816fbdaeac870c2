# shellcheck shell=bash
# real_lib.sh - sourced by the real-program and stress tests (bash), as
# "$src/../support/real_lib.sh". A fresh folder per test, removed at exit
# with every process the test started still alive killed first; bounded
# waits (hs_wait_for, wait_lib.sh); one FAIL line. Callers set -euo
# pipefail themselves.

# shellcheck source=tests/support/wait_lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/wait_lib.sh"

rl_dir=$(mktemp -d /tmp/hsreal.XXXXXX)
rl_pids=()
rl_groups=()

rl_cleanup() {
  local p
  for p in "${rl_groups[@]+"${rl_groups[@]}"}"; do
    kill -9 -- "-$p" 2>/dev/null || true
  done
  for p in "${rl_pids[@]+"${rl_pids[@]}"}"; do
    kill -9 "$p" 2>/dev/null || true
  done
  for p in "${rl_pids[@]+"${rl_pids[@]}"}"; do
    wait "$p" 2>/dev/null || true
  done
  rm -rf "$rl_dir"
}
trap rl_cleanup EXIT

# With RL_KEEP=DIR, a failing test leaves a copy of its folder in DIR.
fail() {
  echo "FAIL: $*"
  [ -z "${RL_KEEP:-}" ] || cp -r "$rl_dir" "$RL_KEEP/" || true
  exit 1
}

skip() {
  echo "SKIP: $*"
  exit 77
}

# rl_program NAME: the Debian package's NAME (/usr/bin first, as the
# packages scripts/deps installs put it there; a python3 from pyenv or a
# virtualenv earlier in PATH is not the one tested), else NAME from PATH.
# Skips the test when there is none.
rl_program() {
  local p=/usr/bin/$1
  [ -x "$p" ] || p=$(command -v "$1" || true)
  [ -n "$p" ] && [ -x "$p" ] ||
    skip "$1 is not installed (scripts/deps installs it)" >&2
  echo "$p"
}

# rl_track PID: killed at exit if still alive. rl_untrack PID once it is
# known gone (reaped), so that its pid, reused later, is not killed.
rl_track() {
  rl_pids+=("$1")
}

# rl_track_group PGID: a program started with setsid, with every process
# it forked, is killed at exit (a child stuck after its parent died too).
rl_track_group() {
  rl_groups+=("$1")
}

rl_untrack() {
  local keep=() p
  for p in "${rl_pids[@]+"${rl_pids[@]}"}"; do
    [ "$p" = "$1" ] || keep+=("$p")
  done
  rl_pids=("${keep[@]+"${keep[@]}"}")
}

# rl_lines FILE PATTERN: how many lines of FILE match PATTERN (0 if none).
rl_lines() {
  grep -c -- "$2" "$1" 2>/dev/null || true
}

rl_has_lines() {
  [ "$(rl_lines "$1" "$2")" -ge "$3" ]
}

# rl_snaps DIR [PID]: the snapshot files in DIR (of PID), oldest first.
rl_snaps() {
  local pat='*.snap'
  [ -z "${2:-}" ] || pat="*.$2.*.snap"
  find "$1" -maxdepth 1 -name "$pat" -printf '%f\n' |
    awk -F. '{ print $(NF-1), $(NF-2), $0 }' | sort -k1,1n -k2,2n |
    sed "s|^[0-9]* [0-9]* |$1/|"
}

rl_count() {
  rl_snaps "$@" | wc -l
}

# rl_count_is DIR N [PID]: for hs_wait_for (evaluated at each try).
rl_count_is() {
  [ "$(rl_count "$1" "${3:-}")" -ge "$2" ]
}

# rl_wait_exit PID SECONDS: waits for a child; its status in rl_status.
rl_wait_exit() {
  local end=$((SECONDS + $2))
  while kill -0 "$1" 2>/dev/null; do
    [ $SECONDS -lt $end ] || fail "process $1 still runs after $2 s"
    sleep 0.02
  done
  rl_status=0
  wait "$1" || rl_status=$?
  rl_untrack "$1"
}

# rl_start TAG CMD...: runs CMD in the background reading the fifo
# $rl_dir/TAG.in, which the driver holds open on fd 3 (closing it ends the
# program's input), writing TAG.out and TAG.err; its pid in pid.
rl_start() {
  local tag=$1
  shift
  mkfifo "$rl_dir/$tag.in"
  "$@" <"$rl_dir/$tag.in" >"$rl_dir/$tag.out" 2>"$rl_dir/$tag.err" &
  pid=$!
  rl_track "$pid"
  exec 3>"$rl_dir/$tag.in"
}

# rl_finish TAG WHAT N: closes the program's input (fd 3); it must exit 0
# within 60 s with nothing on stderr and the output of the run without
# the shim ($rl_dir/bare.out), and leave N snapshots in $rl_dir, whose
# paths go in snaps.
rl_finish() {
  exec 3>&-
  rl_wait_exit "$pid" 60
  [ "$rl_status" = 0 ] || fail "$2 exited with $rl_status under the shim"
  [ ! -s "$rl_dir/$1.err" ] ||
    fail "stderr under the shim: $(cat "$rl_dir/$1.err")"
  cmp "$rl_dir/bare.out" "$rl_dir/$1.out" || fail "output differs under the shim"
  tail -1 "$rl_dir/$1.out"
  mapfile -t snaps < <(rl_snaps "$rl_dir")
  [ ${#snaps[@]} = "$3" ] || fail "${#snaps[@]} snapshots, want $3"
}

# rl_free_port: a TCP port on 127.0.0.1 nobody listens on now.
rl_free_port() {
  local p
  for _ in $(seq 50); do
    p=$((20000 + RANDOM % 30000))
    (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || {
      echo "$p"
      return 0
    }
  done
  return 1
}
