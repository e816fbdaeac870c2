#!/usr/bin/env bash
# stress_sigmask.sh BIN SHIM SRC
# stress_sigmask's two cases (mask: signals 32 and 33 stay blocked in a
# thread that allocates from new stacks; timer: a SIGEV_THREAD timer whose
# callbacks allocate) print the same under the shim, full and sampling
# every allocation, as bare, and exit 0 (the timer case died of signal 32).
set -euo pipefail
bin=$1 shim=$2 src=$3
. "$src/../support/real_lib.sh"
prog=$bin/stress_sigmask
for case in mask timer; do
  want=$(timeout 60 "$prog" $case) || fail "$case: exit $? bare"
  echo "bare: $want"
  for sample in 0 1; do
    got=$(env HEAPSNAP_SAMPLE_BYTES=$sample HEAPSNAP_DIR="$rl_dir" \
      LD_PRELOAD="$shim" timeout 60 "$prog" $case) ||
      fail "$case, HEAPSNAP_SAMPLE_BYTES=$sample: exit $? under the shim ($got)"
    [ "$got" = "$want" ] ||
      fail "$case, HEAPSNAP_SAMPLE_BYTES=$sample: '$got' under the shim, '$want' bare"
  done
done
echo "ok: the shim's mask changes leave the program's mask as it was"
