#!/usr/bin/env bash
# attach_dlpath.sh BIN SRC
# A program attached before it loads plugins finds them as it would
# without heapsnap: by name through its own DT_RUNPATH or DT_RPATH
# ($ORIGIN/plug), and by a name that starts with $ORIGIN (before the
# dlopen hook searched as the program's caller, both failed: the C library
# took the shim for the caller). Both builds of attach_dlpath, each first
# without heapsnap, then attached. (The executable's own DT_RPATH is
# searched for any caller: the rpath build checks the search does not
# break it.) The two dlopen calls take at most 8 KiB more of the loading
# thread's stack attached (the hook's paths are mapped, not on the stack:
# they took 12 KiB of it before).
set -euo pipefail
. "$2/attach_lib.sh"
want=$'by name: 42\nby $ORIGIN: 42'

for kind in runpath rpath; do
  prog=$bin/attach_dlpath_$kind
  rm -f "$rl_dir/go"
  touch "$rl_dir/go"
  out=$("$prog" "$rl_dir/go") || fail "$kind: failed without heapsnap"
  bare_stack=$(sed -n 's/^stack: //p' <<<"$out")
  out=$(grep -v '^stack: ' <<<"$out")
  [ "$out" = "$want" ] || fail "$kind: without heapsnap it says: $out"
  rm -f "$rl_dir/go"
  "$prog" "$rl_dir/go" >"$rl_dir/$kind.out" 2>"$rl_dir/$kind.err" &
  pid=$!
  rl_track $pid
  al_attach "$pid" --dir "$rl_dir"
  touch "$rl_dir/go"
  rl_wait_exit "$pid" 30
  [ "$rl_status" = 0 ] || fail "$kind: exited with $rl_status"
  [ "$(grep -v '^stack: ' "$rl_dir/$kind.out")" = "$want" ] ||
    fail "$kind: attached, it says: $(cat "$rl_dir/$kind.out")"
  stack=$(sed -n 's/^stack: //p' "$rl_dir/$kind.out")
  [ -n "$bare_stack" ] && [ -n "$stack" ] || fail "$kind: no stack line"
  [ $((stack - bare_stack)) -le 8192 ] ||
    fail "$kind: the two dlopen calls took $stack bytes of the thread's stack attached, $bare_stack without heapsnap: over 8 KiB more"
  echo "ok: $kind: both plugins load attached, taking $((stack - bare_stack)) bytes more of the thread's stack"
done
