#!/usr/bin/env bash
# stress_disk.sh BIN SHIM SRC
# The snapshot folder is a small tmpfs (skipped, 77, where mounting is not
# allowed). stress_disk runs under the shim (interval and API snapshots
# every 100 ms) while the driver:
#   full:      fills the folder, waits, frees it;
#   readonly:  remounts it read-only, waits, makes it writable again.
# Checks: the program's output and status are as without the shim; while
# the folder cannot be written every snapshot fails (API result negative),
# one line on stderr says so, and nothing is left in the folder; once it
# can, snapshots succeed again, numbered from 1 without a gap, every file
# whole and readable, no temporary file left; `heapsnap snap` on a
# read-only folder says why at once, status 1, without waiting its timeout.
set -euo pipefail
bin=$1 shim=$2 src=$3
. "$src/../support/real_lib.sh"
prog=$bin/stress_disk
d=$rl_dir/small
mkdir "$d"
mount -t tmpfs -o size=1m tmpfs "$d" 2>/dev/null ||
  skip "cannot mount a small tmpfs here"
trap 'umount -l "$d" 2>/dev/null; rl_cleanup' EXIT

mkfifo "$rl_dir/bare.in"
"$prog" <"$rl_dir/bare.in" >"$rl_dir/bare.out" &
pid=$!
rl_track $pid
exec 4>"$rl_dir/bare.in"
sleep 0.3
exec 4>&-
rl_wait_exit $pid 60
[ "$rl_status" = 0 ] || fail "failed without the shim"

only_filler() { [ -z "$(ls -A "$d" | grep -v '^filler$')" ]; }

# case NAME BLOCK UNBLOCK WANT_ERROR
case_() {
  local name=$1
  rm -rf "${d:?}"/* "$d"/.[!.]* 2>/dev/null || true
  eval "$2"
  mkfifo "$rl_dir/$name.in"
  HEAPSNAP_INTERVAL=0.1 HEAPSNAP_DIR=$d LD_PRELOAD=$shim "$prog" \
    <"$rl_dir/$name.in" >"$rl_dir/$name.out" 2>"$rl_dir/$name.err" \
    3>"$rl_dir/$name.api" &
  pid=$!
  rl_track $pid
  exec 4>"$rl_dir/$name.in"
  hs_wait_for 30 rl_has_lines "$rl_dir/$name.api" '^api' 4 ||
    fail "$name: the program took no API snapshot"
  if [ "$name" = readonly ]; then
    local rc=0 start=$SECONDS
    timeout 60 "$bin/heapsnap" snap --timeout 30 "$pid" >/dev/null \
      2>"$rl_dir/snap.err" || rc=$?
    [ $rc = 1 ] || fail "heapsnap snap on a read-only folder: status $rc, want 1"
    [ "$(cat "$rl_dir/snap.err")" = "heapsnap snap: process $pid could not write its snapshot in $d: Read-only file system" ] ||
      fail "heapsnap snap on a read-only folder: $(cat "$rl_dir/snap.err")"
    [ $((SECONDS - start)) -lt 10 ] ||
      fail "heapsnap snap on a read-only folder waited for its timeout"
  fi
  # A failing snapshot's temporary file lives for the moment between its
  # open and its unlink (on a full disk): nothing must stay, but one may be
  # seen in passing, so look until a moment shows none.
  hs_wait_for 5 only_filler ||
    fail "$name: left in the folder: $(ls -A "$d")"
  grep -q '^api -' "$rl_dir/$name.api" || fail "$name: no API snapshot failed"
  grep -q '^api 0' "$rl_dir/$name.api" && fail "$name: an API snapshot succeeded"
  eval "$3"
  local failed
  failed=$(rl_lines "$rl_dir/$name.api" '^api')
  hs_wait_for 30 rl_count_is "$d" 3 || fail "$name: no snapshot after the folder was freed"
  exec 4>&-
  rl_wait_exit $pid 60
  [ "$rl_status" = 0 ] || fail "$name: exited with $rl_status"
  cmp "$rl_dir/bare.out" "$rl_dir/$name.out" || fail "$name: output differs"
  cat "$rl_dir/$name.err"
  [ "$(wc -l <"$rl_dir/$name.err")" = 1 ] &&
    grep -q "^heapsnap: cannot write a snapshot in $d: $4 (the program runs on)$" \
      "$rl_dir/$name.err" || fail "$name: want one line saying '$4'"
  mapfile -t snaps < <(rl_snaps "$d")
  "$bin/real_snapinfo" "${snaps[@]}" >/dev/null || fail "$name: unreadable snapshot"
  for i in $(seq 1 ${#snaps[@]}); do
    [ -e "$d/stress_disk.$pid.$i.snap" ] || fail "$name: no snapshot $i of ${#snaps[@]}"
  done
  [ -z "$(find "$d" -name '*.tmp')" ] || fail "$name: temporary file left"
  echo "ok: $name: $failed API snapshots failed, then ${#snaps[@]} written"
}

case_ full 'cat /dev/zero >"$d/filler" 2>/dev/null || true' \
  'rm "$d/filler"' 'No space left on device'
case_ readonly 'mount -o remount,ro "$d"' 'mount -o remount,rw "$d"' \
  'Read-only file system'
