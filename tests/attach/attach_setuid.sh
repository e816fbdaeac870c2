#!/usr/bin/env bash
# attach_setuid.sh BIN SRC
# A process attached as root that then drops to user nobody (a server's
# worker) is detached, and then reads as not attached: its status file
# lies in root's folder, which it can no longer remove it from, so detach
# clears the file's magic instead. `heapsnap ps` no longer lists it, and
# a second attach and detach work (before, attach said "attached
# already" and detach "the shim is not loaded", for good).
set -euo pipefail
. "$2/attach_lib.sh"
[ "$(id -u)" = 0 ] || skip "needs root, to start a process that drops to user nobody"
chmod 0777 "$rl_dir" # the folders the dropped process reads
"$bin/attach_setuid" "$rl_dir/drop" "$rl_dir/stop" >"$rl_dir/out" 2>"$rl_dir/err" &
pid=$!
rl_track $pid
hs_wait_for 10 grep -q '^ready' "$rl_dir/out" || fail "never ready"
al_attach "$pid" --dir "$rl_dir"
touch "$rl_dir/drop"
hs_wait_for 10 grep -q '^dropped' "$rl_dir/out" || fail "never dropped to nobody: $(cat "$rl_dir/err")"
line=$("$hs" detach "$pid" 2>&1) || fail "detach: $line"
listed() { "$hs" ps 2>/dev/null | awk -v p="$pid" '$1 == p' | grep -q .; }
! listed || fail "still listed by heapsnap ps after detach: $("$hs" ps)"
al_attach "$pid" --dir "$rl_dir"
line=$("$hs" detach "$pid" 2>&1) || fail "second detach: $line"
touch "$rl_dir/stop"
rl_wait_exit "$pid" 30
[ "$rl_status" = 0 ] || fail "exited with $rl_status"
# the marked file stays in root's folder: the process could not remove it
rm -f "/dev/shm/heapsnap-0/$pid" "/tmp/heapsnap-0/$pid"
echo "ok: detached after dropping to nobody, then attached and detached again"
