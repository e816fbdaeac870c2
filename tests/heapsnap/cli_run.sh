#!/bin/bash
# cli_run.sh - `heapsnap run`: exec in place, exit status, the environment
# it builds, how it finds the shim, and programs that cannot run.
# The shim is fakeshim_tools.c, which does nothing without FAKESHIM_MODE.
# shellcheck source=tests/heapsnap/cli_lib.sh
. "$(dirname "$0")/cli_lib.sh"

mkdir -p "$T/lib" "$T/snaps"
LIB=$T/lib/libheapsnap.so
cp "$HS_FAKESHIM" "$LIB"
cp "$HS_FAKESHIM" "$T/lib/libother.so"
export HEAPSNAP_LIB=$LIB

# Same pid: the launcher's parent sees as its child the program itself.
got=$(bash -c '"$1" run -- sh -c "echo \$\$" & c=$!; wait "$c"; echo "$c"' \
  _ "$H")
child=${got%%$'\n'*}
seen=${got#*$'\n'}
if [ -z "$child" ] || [ "$child" != "$seen" ]; then
  fail "exec in place: the program's pid '$child', the launcher's '$seen'"
fi

# The program's exit status is the launcher's.
cap "$H" run -- sh -c 'exit 7'
expect_rc 7 "exit 7"
expect_err_lines 0 "exit 7"
cap "$H" run sh -c 'kill -TERM $$'
expect_rc 143 "killed by SIGTERM"
cap "$H" run true
expect_rc 0 "true"

# Options after CMD belong to CMD.
cap "$H" run sh -c 'echo "$1"' x --dir
expect_rc 0 "options after CMD"
expect_eq "$out" "--dir" "options after CMD"

# LD_PRELOAD: the shim first, the caller's entries kept.
cap "$H" run -- sh -c 'printf %s "$LD_PRELOAD"'
expect_eq "$out" "$LIB" "LD_PRELOAD alone"
cap env LD_PRELOAD="$T/lib/libother.so" "$H" run -- sh -c 'printf %s "$LD_PRELOAD"'
expect_eq "$out" "$LIB:$T/lib/libother.so" "LD_PRELOAD prepended"
expect_err_lines 0 "LD_PRELOAD prepended"
cap env LD_PRELOAD="$T/lib/libother.so $T/lib/libother.so" "$H" run -- \
  sh -c 'printf %s "$LD_PRELOAD"'
expect_eq "$out" "$LIB:$T/lib/libother.so $T/lib/libother.so" \
  "LD_PRELOAD with spaces kept"

# Every option sets exactly its variable.
vars() { env | grep '^HEAPSNAP_' | grep -v '^HEAPSNAP_LIB=' | sort; }
export -f vars
cap "$H" run --dir "$T/snaps" --interval 0.5 --signal USR1 --at-exit \
  --keep 3 --depth 32 --verbose --sample 512K --no-scan --scan-registers \
  -- bash -c vars
expect_rc 0 "all options"
expect_eq "$out" "HEAPSNAP_AT_EXIT=1
HEAPSNAP_DEPTH=32
HEAPSNAP_DIR=$T/snaps
HEAPSNAP_INTERVAL=0.5
HEAPSNAP_KEEP=3
HEAPSNAP_SAMPLE_BYTES=512K
HEAPSNAP_SCAN=0
HEAPSNAP_SCAN_REGISTERS=1
HEAPSNAP_SIGNAL=USR1
HEAPSNAP_VERBOSE=1" "all options"

cap "$H" run --keep=4 --signal=RTMIN+3 --dir="$T/snaps" bash -c vars
expect_eq "$out" "HEAPSNAP_DIR=$T/snaps
HEAPSNAP_KEEP=4
HEAPSNAP_SIGNAL=RTMIN+3" "--opt=value"

# Options not given leave the caller's variables alone, even odd ones.
cap env HEAPSNAP_KEEP=9 HEAPSNAP_DIR=rel "$H" run --depth 8 bash -c vars
expect_eq "$out" "HEAPSNAP_DEPTH=8
HEAPSNAP_DIR=rel
HEAPSNAP_KEEP=9" "caller's variables kept"
cap env HEAPSNAP_DEPTH=9 "$H" run --depth 8 bash -c vars
expect_eq "$out" "HEAPSNAP_DEPTH=8" "option overrides the caller's variable"
cap "$H" run bash -c vars
expect_eq "$out" "" "no options, no variables"

# --dir is made absolute (symlinks resolved).
ln -s "$T/snaps" "$T/link"
cap bash -c 'cd "$1" && "$2" run --dir link/. bash -c vars' _ "$T" "$H"
expect_eq "$out" "HEAPSNAP_DIR=$T/snaps" "relative --dir"

# A folder no file can be made in: refused, also as root (access(2)
# says yes to root there), and the program not started.
if [ -d /sys/kernel ]; then
  usage_error "--dir where no file can be made" \
    "heapsnap run: --dir: '/sys/kernel' is not writable (creating a file there: " \
    "$H" run --dir /sys/kernel touch "$T/started"
  [ ! -e "$T/started" ] || fail "--dir not writable: the program ran"
fi

# Programs that cannot run: 127 not found, 126 not executable, as shells.
cap "$H" run "$T/no-such-program" arg
expect_rc 127 "missing program"
expect_err_lines 1 "missing program"
expect_eq "$err" \
  "heapsnap: cannot run $T/no-such-program: No such file or directory" \
  "missing program"
cap "$H" run hs-no-such-program-on-path
expect_rc 127 "missing program on PATH"
expect_eq "$err" \
  "heapsnap: cannot run hs-no-such-program-on-path: No such file or directory" \
  "missing program on PATH"
cap "$H" run -- -dash
expect_rc 127 "program named -dash"
printf 'not a program\n' >"$T/plain"
chmod 644 "$T/plain"
cap "$H" run "$T/plain"
expect_rc 126 "not executable"
expect_eq "$err" "heapsnap: cannot run $T/plain: Permission denied" \
  "not executable"

# HEAPSNAP_LIB must name an existing file; its path must suit LD_PRELOAD.
usage_error "HEAPSNAP_LIB missing" \
  "heapsnap run: HEAPSNAP_LIB=$T/none.so: No such file or directory" \
  env HEAPSNAP_LIB="$T/none.so" "$H" run true
usage_error "HEAPSNAP_LIB a folder" "HEAPSNAP_LIB=$T/lib: not a regular file" \
  env HEAPSNAP_LIB="$T/lib" "$H" run true
printf 'not a library\n' >"$T/text.so"
usage_error "HEAPSNAP_LIB not ELF" "HEAPSNAP_LIB=$T/text.so: not a shared library (no ELF header)" \
  env HEAPSNAP_LIB="$T/text.so" "$H" run true
# An ELF file that is not the shim (here the launcher itself): ld.so
# would refuse or preload it and run the program untracked.
usage_error "HEAPSNAP_LIB another ELF file" \
  "HEAPSNAP_LIB=$H: not the heapsnap shim (it does not define hs_snapshot_now)" \
  env HEAPSNAP_LIB="$H" "$H" run true
# The library attach loads defines the shim's API too, but preloaded it
# is never set up: the program crashed at its first allocation.
usage_error "HEAPSNAP_LIB the attach library" \
  "HEAPSNAP_LIB=$(dirname "$HS_SHIM")/libheapsnap-attach.so: the library heapsnap attach loads, not the shim to preload: name libheapsnap.so (beside it)" \
  env HEAPSNAP_LIB="$(dirname "$HS_SHIM")/libheapsnap-attach.so" "$H" run true
# Preloaded by hand, the attach library interposes nothing (it exports
# its API alone): the program runs as without it.
cap env LD_PRELOAD="$(dirname "$HS_SHIM")/libheapsnap-attach.so" \
  python3 -c 'print(sorted({3: "a", 1: "b"}.items()))'
expect_rc 0 "the attach library preloaded by hand"
expect_eq "$out" "[(1, 'b'), (3, 'a')]" "the attach library preloaded by hand"
mkdir "$T/a:b"
cp "$LIB" "$T/a:b/libheapsnap.so"
usage_error "shim path with a colon" "has a space or colon" \
  env HEAPSNAP_LIB="$T/a:b/libheapsnap.so" "$H" run true

# Without HEAPSNAP_LIB, the shim beside the launcher: the build tree's
# bin/../lib, then the installed lib/heapsnap/.
unset HEAPSNAP_LIB
mkdir -p "$T/inst/bin" "$T/inst/lib/heapsnap"
cp "$H" "$T/inst/bin/heapsnap"
usage_error "no shim anywhere" "heapsnap run: cannot find libheapsnap.so; looked for $T/inst/bin/../lib/libheapsnap.so, $T/inst/bin/../lib/heapsnap/libheapsnap.so" \
  "$T/inst/bin/heapsnap" run true
expect_has "$err" "set HEAPSNAP_LIB" "no shim anywhere"
cp "$LIB" "$T/inst/lib/heapsnap/libheapsnap.so"
cap "$T/inst/bin/heapsnap" run -- sh -c 'printf %s "$LD_PRELOAD"'
expect_eq "$out" "$T/inst/lib/heapsnap/libheapsnap.so" "installed layout"
cp "$LIB" "$T/inst/lib/libheapsnap.so"
cap "$T/inst/bin/heapsnap" run -- sh -c 'printf %s "$LD_PRELOAD"'
expect_eq "$out" "$T/inst/lib/libheapsnap.so" "build tree layout first"

finish
