# shellcheck shell=bash
# attach_lib.sh - sourced by the attach tests (BIN SRC are their first
# two arguments): real_lib.sh's folder, cleanup and waits, plus
#   al_attach PID ARGS   heapsnap attach, its line kept in $al_line; exits
#                        77 (skipped) when heapsnap says this machine does
#                        not let it ptrace the process (Yama, no
#                        CAP_SYS_PTRACE in a container), 1 on any other
#                        failure
#   al_held_ms           the milliseconds that line says a thread was held
bin=$1 src=$2
# shellcheck source=tests/support/real_lib.sh
. "$src/../support/real_lib.sh"
hs=$bin/heapsnap

al_attach() {
  local pid=$1
  shift
  if ! al_line=$("$hs" attach "$@" "$pid" 2>&1); then
    case $al_line in
    *"ptrace not permitted"*) skip "this machine does not let us ptrace: $al_line" ;;
    esac
    fail "attach $pid: $al_line"
  fi
  case $al_line in
  "heapsnap: attached to process $pid: tracking since "*) ;;
  *) fail "attach $pid printed: $al_line" ;;
  esac
}

al_held_ms() {
  sed -n 's/.* held \([0-9.]*\) ms.*/\1/p' <<<"$al_line"
}
