# shellcheck shell=bash
# wait_lib.sh - the bounded wait every test script uses; sourced, not run
# (by tests/support/real_lib.sh and tests/heapsnap/cli_lib.sh).

# hs_wait_for SECONDS CMD...: runs CMD every 20 ms until it succeeds;
# returns 1 once SECONDS more have passed (whole seconds of bash's
# $SECONDS, so it may wait up to one more).
hs_wait_for() {
  local end=$((SECONDS + $1))
  shift
  until "$@"; do
    [ "$SECONDS" -le "$end" ] || return 1
    sleep 0.02
  done
}
