#!/usr/bin/env bash
# attach_refuse.sh BIN SRC
# Each refusal of heapsnap attach (and detach) is one line on stderr and
# exit 2, and leaves the process untouched: a pid that does not exist, a
# thread id, a statically linked program, a process running the shim
# preloaded, one attached already (detach then works, and detaching again
# is refused), ptrace not permitted (heapsnap run as user nobody against a
# process of ours: needs root to switch users, said when not), and a
# 32-bit x86 program (where the kernel runs them, said when not); bad
# options and operands are usage errors (2).
set -euo pipefail
. "$2/attach_lib.sh"
shim=$bin/../lib/libheapsnap.so

# refuse PATTERN CMD...: CMD fails with status 2 and one stderr line
# matching PATTERN, and prints nothing on stdout.
refuse() {
  local pattern=$1 rc=0
  shift
  "$@" >"$rl_dir/o" 2>"$rl_dir/e" || rc=$?
  [ "$rc" = 2 ] || fail "$*: exit $rc, want 2 ($(cat "$rl_dir/e"))"
  [ "$(wc -l <"$rl_dir/e")" = 1 ] || fail "$*: stderr has $(wc -l <"$rl_dir/e") lines"
  grep -q -- "$pattern" "$rl_dir/e" || fail "$*: '$(cat "$rl_dir/e")' does not say '$pattern'"
  [ ! -s "$rl_dir/o" ] || fail "$*: printed on stdout"
  echo "ok: $(cat "$rl_dir/e")"
}
alive() { kill -0 "$1" 2>/dev/null || fail "process $1 died"; }

refuse "missing the process id" "$hs" attach
refuse "expected a process id" "$hs" attach 12x
refuse "unknown option" "$hs" attach --bogus 1
refuse "interval" "$hs" attach --interval -1 1
refuse "unexpected argument" "$hs" detach 1 2
sh -c 'exit 0' &
gone=$!
wait $gone
refuse "no process $gone" "$hs" attach $gone
refuse "no process $gone" "$hs" detach $gone
# a process another tracer holds: the tracer named, exit 2
sleep 60 &
traced=$!
rl_track $traced
"$bin/attach_tracer" $traced "$rl_dir/untrace" >"$rl_dir/tracer" &
tracer=$!
hs_wait_for 10 grep -q tracing "$rl_dir/tracer" || fail "the tracer did not seize"
refuse "process $traced is traced by process $tracer (attach_tracer): a debugger or strace; detach it first" \
  "$hs" attach $traced
touch "$rl_dir/untrace"
wait $tracer
alive $traced
# a process that has exited, not reaped yet (a zombie of a sleep that
# never waits): said so, exit 1
sh -c 'sleep 0 & echo $!; exec sleep 30' >"$rl_dir/zpid" &
rl_track $!
is_zombie() { z=$(cat "$rl_dir/zpid") && [ -n "$z" ] && grep -q '^State:.Z' "/proc/$z/status" 2>/dev/null; }
hs_wait_for 10 is_zombie || fail "no zombie made"
for c in attach detach; do
  rc=0
  line=$("$hs" $c "$z" 2>&1) || rc=$?
  [ "$rc" = 1 ] && [ "$line" = "heapsnap $c: process $z has exited (its parent has not reaped it yet)" ] ||
    fail "$c of a zombie: exit $rc: $line"
done

"$bin/attach_static" &
st=$!
rl_track $st
# until the exec is done, $st is a copy of this shell (dynamically linked)
exec_done() { [ "$(readlink "/proc/$st/exe")" = "$(readlink -f "$bin/attach_static")" ]; }
hs_wait_for 10 exec_done || fail "attach_static did not start"
refuse "process $st is statically linked" "$hs" attach $st
alive $st

mkfifo "$rl_dir/in"
LD_PRELOAD=$shim HEAPSNAP_DIR=$rl_dir "$bin/attach_grow" <"$rl_dir/in" >/dev/null &
pre=$!
rl_track $pre
exec 3>"$rl_dir/in"
mapped() { grep -q libheapsnap.so "/proc/$pre/maps"; }
hs_wait_for 10 mapped || fail "the preloaded shim is not mapped"
refuse "already runs the heapsnap shim (preloaded)" "$hs" attach $pre
refuse "runs the shim preloaded, not attached" "$hs" detach $pre
alive $pre

"$bin/attach_grow" <"$rl_dir/in" >/dev/null &
svc=$!
rl_track $svc
two_threads() { [ "$(ls /proc/$svc/task | wc -l)" = 2 ]; }
hs_wait_for 10 two_threads || fail "its worker thread did not start"
task=$(ls /proc/$svc/task | grep -vx "$svc")
refuse "is a thread of process $svc" "$hs" attach "$task"
refuse "process $svc is not attached" "$hs" detach $svc
if [ "$(id -u)" = 0 ]; then
  # the file that could not be read, by its real path
  refuse "process $svc: ptrace not permitted (/proc/$svc/exe: Permission denied)" \
    setpriv --reuid=65534 --regid=65534 --clear-groups "$hs" attach $svc
else
  echo "note: not root, so heapsnap cannot be run as another user here: the ptrace refusal is not exercised"
fi
al_attach $svc --dir "$rl_dir"
refuse "is attached already" "$hs" attach $svc
if [ "$(id -u)" = 0 ]; then
  refuse "process $svc: ptrace not permitted (/proc/$svc/maps: Permission denied)" \
    setpriv --reuid=65534 --regid=65534 --clear-groups "$hs" detach $svc
fi
"$hs" detach $svc >/dev/null || fail "detach"
refuse "process $svc is not attached" "$hs" detach $svc
alive $svc

python3 "$src/attach_i386.py" "$rl_dir/i386"
chmod +x "$rl_dir/i386"
if "$rl_dir/i386" 2>/dev/null & then
  x86=$!
  rl_track $x86
  sleep 0.2
  if kill -0 $x86 2>/dev/null; then
    refuse "process $x86 is a 32-bit x86 program" "$hs" attach $x86
  else
    echo "note: this kernel does not run 32-bit x86 programs (ia32_emulation off): the architecture refusal is not exercised"
  fi
fi
echo q >&3
exec 3>&-
echo "ok: every refusal"
