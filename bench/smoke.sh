#!/usr/bin/env bash
# bench/smoke.sh SCRIPT BUILD_DIR - the CI smoke run of a benchmark script
# that prints a table: its quick mode must run and print every row. No
# timing is judged. Exit 77: cannot run here.
#   overhead  overhead.sh: the workload bare and under the shim in both
#             modes, three rows
#   parts     parts.sh: its patch still applies to the shim and builds,
#             and each of its seven configurations runs
set -uo pipefail
case ${1:-} in
overhead)
  cmd=(overhead.sh --quick --build "$2") want=3
  rows='^\| 2 thr, depth 12, fp, -p 300 \| (bare glibc|heapsnap full|heapsnap sampling) \| [0-9]'
  ;;
parts)
  cmd=(parts.sh --quick --build "$2") want=7
  rows='^\| (bare glibc|hooks only|table, no stacks|stacks, no table|hash trusted|compare deferred|full) \| [0-9.]+ \| [0-9.]+ \| [0-9.]+x \| [0-9.]+x \|$'
  ;;
*) echo "usage: bench/smoke.sh overhead|parts BUILD_DIR" >&2; exit 2 ;;
esac
out=$(mktemp)
trap 'rm -f "$out"' EXIT
"$(dirname "$0")/${cmd[0]}" "${cmd[@]:1}" >"$out"
rc=$?
cat "$out"
[ $rc = 0 ] || exit $rc
n=$(grep -cE "$rows" "$out")
[ "$n" = "$want" ] || { echo "FAIL: expected $want table rows, got $n"; exit 1; }
echo "ok: the table has its rows"
