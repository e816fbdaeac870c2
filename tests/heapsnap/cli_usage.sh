#!/bin/bash
# cli_usage.sh - heapsnap's usage errors, help and version.
# Every usage error must exit 2 with exactly one line on stderr that says
# what is wrong, and print nothing on stdout.
# shellcheck source=tests/heapsnap/cli_lib.sh
. "$(dirname "$0")/cli_lib.sh"

try="try 'heapsnap --help'"

# The command itself.
usage_error "no command" "missing command; $try" "$H"
usage_error "unknown command" "heapsnap: unknown command 'frobnicate'; $try" \
  "$H" frobnicate
usage_error "unknown top option" "unknown option '--frob'; $try" "$H" --frob
usage_error "help unknown" "unknown command 'frob'" "$H" help frob

# run: options.
usage_error "run unknown option" "heapsnap run: unknown option '--frob'; try 'heapsnap run --help'" \
  "$H" run --frob -- true
usage_error "run short option" "unknown option '-x'" "$H" run -x true
# a bad value is a usage error too: the command's help named
usage_error "run bad value's hint" "heapsnap run: --interval: expected" \
  "$H" run --interval -1 true
expect_has "$err" "; try 'heapsnap run --help'" "run bad value's hint"
usage_error "--keep's range" "from 0 to 1000000000" "$H" run --keep 1000000001 true
usage_error "run flag with value" "--at-exit takes no value" \
  "$H" run --at-exit=1 true
usage_error "run missing value" "--dir needs a value" "$H" run --dir
for v in abc -1 1e3 .5 1. "" 1000000001; do
  usage_error "run --interval '$v'" "heapsnap run: --interval: expected" \
    "$H" run --interval "$v" true
done
# an out-of-range value: the line says the range
usage_error "run --interval's range" "0 (off) or from 0.000000001 to 1000000000" \
  "$H" run --interval 1000000001 true
usage_error "attach --interval's range" "0 (off) or from 0.000000001 to 1000000000" \
  "$H" attach --interval 1000000001 1
# above 0 but below a nanosecond: it read as 0, interval snapshots off
usage_error "run --interval below 1 ns" "0 (off) or from 0.000000001" \
  "$H" run --interval 0.0000000001 true
usage_error "attach --interval below 1 ns" "0 (off) or from 0.000000001" \
  "$H" attach --interval 0.0000000001 1
usage_error "snap --timeout's range" "up to 1000000000" \
  "$H" snap --timeout 4294967296 1
usage_error "dump --top's range" "from 0 to 4294967295" \
  "$H" dump --top 4294967296 x.snap
for v in KILL SIGSTOP SEGV FOO 99999 -3 ""; do
  usage_error "run --signal '$v'" "heapsnap run: --signal: expected" \
    "$H" run --signal "$v" true
done
for v in -1 x 3x 1000000001 ""; do
  usage_error "run --keep '$v'" "heapsnap run: --keep: expected" \
    "$H" run --keep "$v" true
done
for v in 0 257 x; do
  usage_error "run --depth '$v'" "heapsnap run: --depth: expected" \
    "$H" run --depth "$v" true
done
for v in x 5KBx 1.5 1P K -1 2T 1025G ""; do
  usage_error "run --sample '$v'" "heapsnap run: --sample: expected" \
    "$H" run --sample "$v" true
done
usage_error "run without CMD" "heapsnap run: missing the program to run" \
  "$H" run
usage_error "run options without CMD" "missing the program to run" \
  "$H" run --keep 3 --
usage_error "run --dir a file" "heapsnap run: --dir: '/etc/passwd' is not a dir" \
  "$H" run --dir /etc/passwd true
usage_error "run --dir missing" "heapsnap run: --dir: '$T/none': No such file" \
  "$H" run --dir "$T/none" true

# run: the values the shim accepts pass (the program is `true`).
export HEAPSNAP_LIB=$HS_FAKESHIM
for args in "--interval 0.25" "--interval 0" "--signal RTMIN+3" \
  "--signal sigusr1" "--signal none" "--signal 0" "--signal 10" \
  "--keep 0" "--keep 1000000000" "--depth 1" "--depth 256" "--at-exit" \
  "--verbose" "--sample 0" "--sample 4096" "--sample 512k" "--sample 1024G" \
  "--no-scan" "--scan-registers"; do
  # shellcheck disable=SC2086 # the words are the point
  cap "$H" run $args true
  expect_rc 0 "run $args"
  expect_err_lines 0 "run $args"
done
unset HEAPSNAP_LIB

# snap and dump.
usage_error "snap without PID" "heapsnap snap: missing the process id" \
  "$H" snap
usage_error "snap bad PID" "heapsnap snap: PID: expected a process id, got '12x'" \
  "$H" snap 12x
usage_error "snap PID 0" "PID: expected a process id" "$H" snap 0
usage_error "snap two PIDs" "unexpected argument '2'" "$H" snap 1 2
for v in 0 x -1; do
  usage_error "snap --timeout '$v'" "heapsnap snap: --timeout: expected" \
    "$H" snap --timeout "$v" 1
done
usage_error "snap unknown option" "heapsnap snap: unknown option '--frob'" \
  "$H" snap --frob 1
usage_error "dump without FILE" "heapsnap dump: missing the snapshot file" \
  "$H" dump
usage_error "dump two files" "unexpected argument 'b'" "$H" dump a b
usage_error "dump --top x" "heapsnap dump: --top: expected" "$H" dump --top x f

# Help goes to stdout and exits 0.
cap "$H" --help
expect_rc 0 "--help"
expect_err_lines 0 "--help"
for want in "usage: heapsnap COMMAND" "  run " "  snap " "  dump " \
  "exit status:" "  1    snap" "  2    usage error" "127" "126" "128+N" "no thread came to a"; do
  expect_has "$out" "$want" "--help"
done
cap "$H" help
expect_rc 0 "help"
expect_has "$out" "usage: heapsnap COMMAND" "help"
for form in "help --help" "help -h" "help help"; do
  # shellcheck disable=SC2086
  cap "$H" $form
  expect_rc 0 "$form"
  expect_err_lines 0 "$form"
  expect_has "$out" "usage: heapsnap COMMAND" "$form"
done
for cmd in run snap dump; do
  for form in "help $cmd" "$cmd --help" "$cmd -h" "--help $cmd"; do
    # shellcheck disable=SC2086
    cap "$H" $form
    expect_rc 0 "$form"
    expect_err_lines 0 "$form"
    [[ "$out" == "usage: heapsnap $cmd "* ]] || fail "$form: starts '${out:0:40}'"
    expect_has "$out" "exit status:" "$form"
  done
done

cap "$H" --version
expect_rc 0 "--version"
expect_eq "$out" "heapsnap $HS_VERSION" "--version"
expect_err_lines 0 "--version"

finish
