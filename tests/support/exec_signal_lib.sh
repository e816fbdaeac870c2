# shellcheck shell=bash
# exec_signal_lib.sh - sourced by attach_exec.sh and stress_exec_signal.sh,
# (real_lib.sh sourced first; $pid is the running `exec_signal serve
# $rl_dir`):
#   es_ask NAME           a request to the service, and its report read:
#                         waits for $rl_dir/r-NAME, sets $es_ign and
#                         $es_cgt (SIGUSR2's bit of each: 0 or 1),
#                         $es_view (ign, dfl or hnd, as sigaction says),
#                         $es_int (SIGINT's bit in SigIgn) and $es_errno
#                         for "fail"
#   es_read WHAT LINE     the same from a report line itself (WHAT names
#                         it in a failure)
#   es_usr2 PID FIELD     SIGUSR2's bit (0 or 1) in FIELD of PID's status
es_bit=$((1 << (12 - 1))) # SIGUSR2

es_usr2() {
  local v
  v=$(awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status")
  echo $(((0x$v & es_bit) != 0))
}

es_ask() {
  local r=$rl_dir/r-$1 line
  touch "$rl_dir/$1"
  hs_wait_for 20 test -e "$r" || fail "no report for '$1' in 20 s"
  es_read "'$1'" "$(cat "$r")"
}

es_read() {
  local line=$2 ign cgt
  es_errno=$(sed -n 's/^errno \([0-9]*\) .*/\1/p' <<<"$line")
  ign=$(sed -n 's/.*ign \([0-9a-f]*\) .*/\1/p' <<<"$line")
  cgt=$(sed -n 's/.*cgt \([0-9a-f]*\) .*/\1/p' <<<"$line")
  [ -n "$ign" ] && [ -n "$cgt" ] || fail "$1 reported: $line"
  es_ign=$(((0x$ign & es_bit) != 0))
  es_int=$(((0x$ign & 2) != 0))
  es_cgt=$(((0x$cgt & es_bit) != 0))
  es_view=$(sed -n 's/.* view \([a-z]*\)$/\1/p' <<<"$line")
}
