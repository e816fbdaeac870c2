#!/usr/bin/env bash
# hd_badinput.sh MKSNAP HEAPDIFF SRCDIR
# Bad files and bad flags: each gets exit 2, exactly one line on stderr
# (naming the file and the problem where there is a file), nothing on
# stdout, and no crash.
set -euo pipefail
MKSNAP=$1 heapdiff=$2 src=$(cd "$3" && pwd)
. "$src/hd_specs.sh"
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
hd_make "$dir"
cd "$dir"
fails=0

# expect WANT_EXIT PATTERN ARGS...: stderr is one line matching PATTERN
expect() {
  local want=$1 pattern=$2 rc=0
  shift 2
  "$heapdiff" "$@" >out 2>err || rc=$?
  if [ "$rc" != "$want" ] || [ "$(wc -l <err)" != 1 ] ||
     ! grep -Eq -- "$pattern" err || { [ "$want" = 2 ] && [ -s out ]; }; then
    echo "FAIL: heapdiff $(printf '%q ' "$@")-> exit $rc, stderr:" # %q: odd names
    cat -v err
    fails=$((fails + 1))
  else
    echo "ok: heapdiff $(printf '%q ' "$@")-> $(cat -v err)"
  fi
}

good=server.1.snap
: >empty.snap
head -c 200 server.2.snap >truncated.snap
head -c 20 server.2.snap >short.snap
printf 'this is not a heap snapshot at all\n' >garbage.snap
cp server.2.snap newer.snap
printf '\x09' | dd of=newer.snap bs=1 seek=8 conv=notrunc status=none
cp server.2.snap flipped.snap
size=$(stat -c %s flipped.snap)
byte=$(od -An -tu1 -j $((size / 2)) -N1 flipped.snap | tr -d ' ')
printf "\\x$(printf %02x $((byte ^ 0x10)))" |
  dd of=flipped.snap bs=1 seek=$((size / 2)) conv=notrunc status=none
cp server.2.snap trailing.snap
printf 'junk' >>trailing.snap

expect 2 "^heapdiff: missing.snap: No such file or directory$" $good missing.snap
expect 2 "^heapdiff: empty.snap: file is empty$" $good empty.snap
expect 2 "^heapdiff: truncated.snap: snapshot is truncated$" $good truncated.snap
expect 2 "^heapdiff: short.snap: snapshot is truncated$" short.snap $good
expect 2 "^heapdiff: garbage.snap: not a heapsnap snapshot" $good garbage.snap
expect 2 "^heapdiff: newer.snap: snapshot format version is newer" $good newer.snap
expect 2 "^heapdiff: flipped.snap: snapshot (checksum does not match|is corrupted|is truncated)" $good flipped.snap
expect 2 "^heapdiff: trailing.snap: snapshot is corrupted$" $good trailing.snap
expect 2 "^heapdiff: other.snap: a snapshot of /nonexistent/heapdiff-test/other, but server.1.snap is of /nonexistent/heapdiff-test/server; use --force" $good other.snap
expect 2 "^heapdiff: . is a directory|^heapdiff: \.: " $good .
rc=0
"$heapdiff" --force $good other.snap >out 2>err || rc=$?
# the title names both programs (it named the first alone)
if [ "$rc" = 0 ] && [ ! -s err ] && grep -q "sites grew" out &&
   grep -q "^2 snapshots of .*server (pid [0-9]*), then of other (pid [0-9]*)" out; then
  echo "ok: --force compares other programs"
else
  echo "FAIL: --force gave $rc"; cat err; fails=$((fails + 1))
fi

# File names with control characters (a newline, an escape sequence) are
# shown with them as \xNN, as heapsnap dump shows them: a row of the table
# stays one row, an error one line, and nothing drives the terminal.
nl=$'a\nb.snap' esc=$'c\e[31mred.snap'
cp $good "$nl" && cp server.2.snap "$esc"
rc=0
"$heapdiff" "$nl" "$esc" >out 2>err || rc=$?
if [ "$rc" = 0 ] && [ ! -s err ] && ! grep -q $'\e' out &&
  grep -q '^  a\\x0ab\.snap  *+0\.0s  ' out &&
  grep -q '^  c\\x1b\[31mred\.snap  *+10\.0s  ' out; then
  echo "ok: snapshot names with control characters shown as \\xNN in the table"
else
  echo "FAIL: snapshot names with control characters: exit $rc"
  cat -A out err | head -6; fails=$((fails + 1))
fi
head -c 200 server.2.snap >"$esc.cut"
expect 2 "^heapdiff: bad\\\\x0aname\.snap: No such file or directory$" $'bad\nname.snap'
expect 2 "^heapdiff: c\\\\x1b\[31mred\.snap\.cut: snapshot is truncated$" $good "$esc.cut"
cp $good "$esc.same"
expect 2 "^heapdiff: c\\\\x1b\[31mred\.snap\.same: the same snapshot as a\\\\x0ab\.snap; give each once$" "$nl" "$esc.same"
expect 2 "^heapdiff: --html a\\\\x0ab\.snap: that file is a snapshot, not overwritten" --html "$nl" $good
expect 1 "^heapdiff: no\\\\x0adir/p\.pb\.gz: cannot write the profile: No such file or directory$" --pprof $'no\ndir/p.pb.gz' $good
# The line naming a --html or --pprof file written, on stdout.
for opt in --html --pprof; do
  rc=0
  "$heapdiff" $opt $'p\nq\e[1m.out' $good server.2.snap >out 2>err || rc=$?
  if [ "$rc" = 0 ] && [ ! -s err ] && [ "$(wc -l <out)" = 1 ] &&
    grep -Eq '^(wrote )?p\\x0aq\\x1b\[1m\.out: ' out && [ -s $'p\nq\e[1m.out' ]; then
    echo "ok: $opt to a name with control characters: $(cat out)"
  else
    echo "FAIL: $opt to a name with control characters: exit $rc"
    cat -A out err | head -4; fails=$((fails + 1))
  fi
  rm -f $'p\nq\e[1m.out'
done
rm -f "$nl" "$esc" "$esc.cut" "$esc.same"

expect 2 "^heapdiff: needs one or more snapshot files"
expect 2 "^heapdiff: server.1.snap: the same snapshot as server.1.snap; give each once$" $good $good
expect 2 "^heapdiff: \./server.1.snap: the same snapshot as server.1.snap; give each once$" $good server.2.snap ./$good
cp $good copy.snap
expect 2 "^heapdiff: copy.snap: the same snapshot as server.1.snap; give each once$" $good copy.snap
expect 2 "^heapdiff: reattached.snap: pid 100 tracked since another attach than server.1.snap's \(detached and attached again\); use --force" $good reattached.snap
expect 2 "^heapdiff: moved.snap: a snapshot of pid 200, but server.1.snap is of pid 100 \(another process of /nonexistent/heapdiff-test/server\); give one process's snapshots, or use --force to compare them anyway$" $good moved.snap
# named as the shim names them, two runs' files in one folder (a restart):
# the line gives the first process's files as a glob
mkdir runs
cp $good runs/server.100.1.snap
cp moved.snap runs/server.200.1.snap
expect 2 "^heapdiff: runs/server.200.1.snap: a snapshot of pid 200, but runs/server.100.1.snap is of pid 100 \(another process of /nonexistent/heapdiff-test/server\); give one process's snapshots \(runs/server.100.\*.snap\), or use --force to compare them anyway$" runs/server.100.1.snap runs/server.200.1.snap
rm -r runs
expect 2 "^heapdiff: --json and --folded do not go together" --json --folded server.3.snap
expect 2 "^heapdiff: --json and --folded do not go together" --folded server.3.snap --json
expect 2 "^heapdiff: server.1.snap: no reachability scan \(not scanned, HEAPSNAP_SCAN=0\): --fail-over-lost needs one$" --fail-over-lost 0 $good
expect 2 "^heapdiff: server.2.snap: no reachability scan \(not scanned, HEAPSNAP_SCAN=0\): --fail-over-lost needs one$" --fail-over-lost 1M server.1.snap server.2.snap
expect 2 "^heapdiff: server.1.snap: no reachability scan \(not scanned, HEAPSNAP_SCAN=0\): --lost needs one$" --lost $good
expect 2 "^heapdiff: --fail-over-lost: expected a size in bytes" --fail-over-lost 1.5 server.3.snap
expect 2 "^heapdiff: --fail-over-lost: expected a size in bytes" --fail-over-lost '' server.3.snap
expect 2 "^heapdiff: --fail-over-lost needs a value" server.3.snap --fail-over-lost
expect 2 "^heapdiff: --top: expected a count from 0 \(all\) to 1000000000, got '4294967296'" --top 4294967296 $good $good
expect 2 "^heapdiff: --top: expected a count from 0 \(all\) to 1000000000, got '1000000001'" --top 1000000001 $good $good
expect 2 "^heapdiff: --top and --all do not go together" --top 1 --all $good server.3.snap
# Files in the order of their names, as a shell glob gives them (.10
# before .9), are put in time order without the note; another order that
# is not time's gets it (golden unordered.txt)
cp $good order.9.snap
cp server.2.snap order.10.snap
if "$heapdiff" order.*.snap >out 2>err && [ ! -s err ] &&
  [ "$(grep -c '^  order\.' out)" = 2 ] && grep -A1 '^  snapshot' out | grep -q 'order\.9\.snap'; then
  echo "ok: a glob's order (.10 before .9): time order, no note"
else
  echo "FAIL: a glob's order: $(cat err) $(head -4 out)"; fails=$((fails + 1))
fi
rm -f order.9.snap order.10.snap
# --top 0 is --all (as heapsnap dump's): the same report, with or without
# --all beside it; --top 1 shows fewer
"$heapdiff" --color never --all $good server.3.snap >all.txt 2>&1 || true
"$heapdiff" --color never --top 0 $good server.3.snap >top0.txt 2>&1 || true
"$heapdiff" --color never --top 0 --all $good server.3.snap >top0all.txt 2>&1 || true
"$heapdiff" --color never --top 1 $good server.3.snap >top1.txt 2>&1 || true
if cmp -s all.txt top0.txt && cmp -s all.txt top0all.txt && ! cmp -s all.txt top1.txt &&
  grep -q "^  3 " all.txt; then
  echo "ok: --top 0 shows every site, as --all"
else
  echo "FAIL: --top 0 is not --all: $(diff all.txt top0.txt | head -5)"; fails=$((fails + 1))
fi
rm -f all.txt top0.txt top0all.txt top1.txt
if "$heapdiff" --top 1000000000 $good server.2.snap >/dev/null 2>err && [ ! -s err ]; then
  echo "ok: --top 1000000000, the most, is taken"
else
  echo "FAIL: --top 1000000000: $(cat err)"; fails=$((fails + 1))
fi
expect 2 "^heapdiff: --top: expected" --top x $good $good
expect 2 "--top and --all do not go together" --top 3 --all $good $good
expect 2 "^heapdiff: --group-by: expected stack, function or line, got 'foo'" --group-by foo $good $good
expect 2 "^heapdiff: --fail-over: expected" --fail-over -1 $good $good
expect 2 "^heapdiff: --fail-over: expected" --fail-over 10X $good $good
expect 2 "^heapdiff: --fail-over: expected" --fail-over 1P $good $good
# one size rule (docs/heapdiff.md): 3.75K is 3840 bytes, the growth of
# server.1 -> server.3; 3.749K is 3838 (rounded down); 10m is 10 MiB
expect 1 "^heapdiff: growth 3840 bytes is over --fail-over 3838$" --fail-over 3.749K $good server.3.snap
expect 1 "^heapdiff: growth 3840 bytes is over --fail-over 3839$" --fail-over 3839B $good server.3.snap
rc=0
for v in 3.75K 3840 10m 10MB 10MiB 1t; do
  "$heapdiff" --fail-over "$v" $good server.3.snap >out 2>err || rc=$?
  if [ "$rc" = 0 ] && [ ! -s err ]; then
    echo "ok: --fail-over $v passes a growth of 3840"
  else
    echo "FAIL: --fail-over $v gave $rc"; cat err; fails=$((fails + 1))
  fi
done
expect 2 "^heapdiff: --color: expected auto, always or never, got 'sometimes'; try 'heapdiff --help'$" --color sometimes $good $good
expect 2 "^heapdiff: --stack-depth: expected" --stack-depth 0 $good $good
expect 2 "unknown option|unrecognized|--bogus" --bogus $good $good
expect 2 "^heapdiff: --top needs a value" $good $good --top
expect 2 "^heapdiff: --json takes no value" --json=yes $good $good
expect 2 "^heapdiff: -: No such file|^heapdiff: -: " $good -
# A value missing before the files: the option would take a snapshot.
expect 2 "^heapdiff: --sysroot: expected a folder, got '$good'" --sysroot $good $good
expect 2 "^heapdiff: --debug-dir: expected a folder, got '$good'" --debug-dir $good $good
expect 2 "^heapdiff: --alloc-fn: expected a function name, got '$good'" --alloc-fn $good $good
# --pprof: one output at a time; a profile is whole under its name or not
# there (no temporary file left), and bad input writes none.
expect 2 "^heapdiff: --json and --pprof do not go together" --json --pprof p.pb.gz $good
expect 2 "^heapdiff: --folded and --pprof do not go together" --pprof p.pb.gz --folded $good
expect 2 "^heapdiff: --pprof: expected a file name, got ''" --pprof '' $good
expect 2 "^heapdiff: --pprof needs a value" $good --pprof
expect 2 "^heapdiff: truncated.snap: " --pprof p.pb.gz truncated.snap
expect 1 "^heapdiff: nodir/p.pb.gz: cannot write the profile: No such file or directory$" --pprof nodir/p.pb.gz $good
mkdir adir
expect 1 "^heapdiff: adir: cannot write the profile: Is a directory$" --pprof adir $good
# An output named after a snapshot (a file name missing after the option
# takes the next argument): refused, the snapshot left as it was.
cp $good keep.snap
sum=$(cksum <keep.snap)
expect 2 "^heapdiff: --html keep.snap: that file is a snapshot, not overwritten \(a file name missing after --html\?\)" --html keep.snap $good
expect 2 "^heapdiff: --pprof keep.snap: that file is a snapshot, not overwritten" --pprof keep.snap $good
expect 2 "^heapdiff: --pprof keep.snap: that is a snapshot to read" --pprof keep.snap $good keep.snap
ln -s keep.snap keeplink
expect 2 "^heapdiff: --html keeplink: that is a snapshot to read" --html keeplink keep.snap
if [ "$(cksum <keep.snap)" = "$sum" ] && [ -L keeplink ]; then
  echo "ok: no snapshot overwritten"
else
  echo "FAIL: a snapshot was overwritten"; fails=$((fails + 1))
fi
# An output that is no regular file is written into, not replaced (a
# device such as /dev/null was replaced by a regular file before); through
# a symbolic link, the file it names is replaced and the link kept.
mkfifo pipe
timeout 20 sh -c 'gunzip -t <pipe' 2>gz.err & # bounded: the open blocks
reader=$!
"$heapdiff" --pprof pipe $good >/dev/null 2>pipe.err || true
if wait $reader && [ -p pipe ] && [ ! -s pipe.err ]; then
  echo "ok: --pprof into a pipe: a whole gzip, the pipe still one"
else
  echo "FAIL: --pprof into a pipe: $(cat pipe.err gz.err)"; fails=$((fails + 1))
fi
ln -s real.pb.gz plink
"$heapdiff" --pprof plink $good >/dev/null 2>link.err || true
if [ -L plink ] && gunzip -t real.pb.gz 2>/dev/null && [ ! -s link.err ]; then
  echo "ok: --pprof through a symbolic link: the link kept, its file written"
else
  echo "FAIL: --pprof through a link: $(ls -l plink real.pb.gz 2>&1 | xargs) $(cat link.err)"
  fails=$((fails + 1))
fi
# /dev/stdout is this tool's stdout, written into as the shell opened it:
# in a pipe, only the profile (its line on stderr); after >>, appended to.
if "$heapdiff" --pprof /dev/stdout $good 2>so.err | gunzip -t 2>gz.err &&
  grep -q '^/dev/stdout: pprof profile of 1 snapshot' so.err; then
  echo "ok: --pprof /dev/stdout into a pipe: a whole gzip, its line on stderr"
else
  echo "FAIL: --pprof /dev/stdout into a pipe: $(cat so.err gz.err)"
  fails=$((fails + 1))
fi
echo "a line of the log" >app.log
"$heapdiff" --pprof /dev/stdout $good >>app.log 2>so.err || true
if [ "$(head -1 app.log)" = "a line of the log" ] &&
  tail -c +19 app.log | gunzip -t 2>/dev/null; then
  echo "ok: --pprof /dev/stdout >> a file: appended, the file's line kept"
else
  echo "FAIL: --pprof /dev/stdout >> app.log: $(head -c 40 app.log | od -c | head -2)"
  fails=$((fails + 1))
fi
expect 2 "^heapdiff: --html and --pprof name the same file \(same.out\)" --html same.out --pprof same.out $good
expect 2 "^heapdiff: /dev/stdout: the --json report goes to stdout already" --json --html /dev/stdout $good
if "$heapdiff" --html /dev/null --pprof /dev/null $good >/dev/null 2>null.err; then
  echo "ok: --html and --pprof both into /dev/null"
else
  echo "FAIL: --html /dev/null --pprof /dev/null: $(cat null.err)"; fails=$((fails + 1))
fi
# stdout under another name (3>&1): the profile alone in the pipe
if { "$heapdiff" --pprof /dev/fd/3 $good 3>&1 2>fd3.err; } | gunzip -t 2>gz.err &&
  grep -q '^/dev/fd/3: pprof profile' fd3.err; then
  echo "ok: --pprof /dev/fd/3 with 3>&1: a whole gzip, its line on stderr"
else
  echo "FAIL: --pprof /dev/fd/3 3>&1: $(cat fd3.err gz.err)"; fails=$((fails + 1))
fi
# A name of 255 bytes, the most a name may have: its temporary file is
# named otherwise.
long=$(printf 'p%.0s' $(seq 1 249)).pb.gz
if "$heapdiff" --pprof "$long" $good >/dev/null 2>long.err && gunzip -t "$long"; then
  echo "ok: --pprof to a 255-byte name"
else
  echo "FAIL: --pprof to a 255-byte name: $(cat long.err)"; fails=$((fails + 1))
fi
rm -f "$long"
# A link to no file yet, on a file system that fills up: nothing is left
# under the link's target (it was written straight through).
mkdir small
if mount -t tmpfs -o size=16k tmpfs small 2>/dev/null; then
  ln -s small/page.html dangling.html
  rc=0
  "$heapdiff" --html dangling.html $good server.2.snap >/dev/null 2>full.err || rc=$?
  if [ "$rc" = 1 ] && [ -z "$(ls -A small)" ] && [ -L dangling.html ]; then
    echo "ok: --html through a link to no file, the disk full: nothing left"
  else
    echo "FAIL: --html through a dangling link on a full disk: exit $rc, left $(ls -A small | xargs), $(cat full.err)"
    fails=$((fails + 1))
  fi
  umount small
else
  echo "ok (not checked): a full disk needs a tmpfs mount, which this machine refuses"
fi
# Ended by a signal while the file is written: the temporary file is
# removed first, the old file stays as it was, and the status is the
# signal's (128+N). strace stops heapdiff at a chosen system call inside
# the write (the page's second write, halfway; the profile's fsync, whole
# but not renamed) and sends the signal then, every time.
# LeakSanitizer cannot run under ptrace (the ASan build): its exit-time
# check is off for these runs alone.
left() { ls -A | grep '\.tmp\.' | xargs; }
# signalled SIG SYSCALL ARGS...: heapdiff ARGS, SIG sent at SYSCALL; sets rc
signalled() {
  local sig=$1 at=$2
  shift 2
  rc=0
  local call=${at%%:*}
  { # the braces keep the shell's own "Hangup" off the log
    # (ulimit -c 0: SIGQUIT's core dump stays out of the folder)
    ulimit -c 0
    strace -qq -o /dev/null -e trace="$call" -e inject="$call:signal=$(kill -l "$sig")${at#"$call"}" \
      env --default-signal="$(kill -l "$sig")" ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
      "$heapdiff" "$@" >/dev/null 2>sig.err &
    wait $! || rc=$?
  } 2>/dev/null
}
if strace -qq -o /dev/null true 2>/dev/null; then
  for sig in INT TERM HUP PIPE QUIT USR1 USR2 ALRM VTALRM PROF PWR RTMIN RTMIN+5 RTMAX; do
    for out in page.html:write:when=2 prof.pb.gz:fsync; do
      file=${out%%:*} at=${out#*:}
      echo old >"$file"
      opt=--html && [ "$file" = prof.pb.gz ] && opt=--pprof
      signalled $sig "$at" $opt "$file" $good server.2.snap
      if [ "$rc" = $((128 + $(kill -l $sig))) ] && [ -z "$(left)" ] &&
        [ "$(cat "$file")" = old ]; then
        echo "ok: SIG$sig during $opt's write: no temporary file, the old file kept"
      else
        echo "FAIL: SIG$sig during $opt's write: exit $rc, left '$(left)', $file $(head -c 20 "$file" | od -An -c | head -1) $(cat sig.err)"
        fails=$((fails + 1))
      fi
      rm -f ./*.tmp.* "$file"
    done
  done
  # An ignored signal (nohup) stays ignored: the page is written whole.
  rc=0
  strace -qq -o /dev/null -e trace=fsync -e inject=fsync:signal=HUP \
    env --ignore-signal=HUP ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
    "$heapdiff" --html page.html $good >/dev/null 2>sig.err &
  wait $! || rc=$?
  if [ "$rc" = 0 ] && [ -z "$(left)" ] && grep -q '</html>' page.html; then
    echo "ok: SIGHUP ignored (nohup) during --html's write: the page written"
  else
    echo "FAIL: ignored SIGHUP during --html's write: exit $rc, left '$(left)' $(cat sig.err)"
    fails=$((fails + 1))
  fi
  rm -f page.html
else
  echo "ok (not checked): signals during the write need strace (its fault injection)"
fi
# The file size limit (ulimit -f, in KiB) reached by the page's write: the
# write raises SIGXFSZ, which ends heapdiff as the others do, the
# temporary file removed; ignored, the write fails (exit 1, one line).
xfsz() { # xfsz DISPOSITION: --html page.html under ulimit -f 8; sets rc
  rc=0
  { (ulimit -f 8 -c 0 && exec env --"$1"-signal=XFSZ "$heapdiff" --html page.html \
    $good server.2.snap >/dev/null 2>sig.err) & wait $! || rc=$?; } 2>/dev/null
}
echo old >page.html
xfsz default
if [ "$rc" = $((128 + $(kill -l XFSZ))) ] && [ -z "$(left)" ] && [ "$(cat page.html)" = old ]; then
  echo "ok: SIGXFSZ (ulimit -f) during --html's write: no temporary file, the old file kept"
else
  echo "FAIL: SIGXFSZ during --html's write: exit $rc, left '$(left)', $(head -c 20 page.html | od -An -c | head -1) $(cat sig.err)"
  fails=$((fails + 1))
fi
xfsz ignore
if [ "$rc" = 1 ] && [ -z "$(left)" ] && [ "$(cat page.html)" = old ] &&
  [ "$(cat sig.err)" = "heapdiff: page.html: cannot write the page: File too large" ]; then
  echo "ok: SIGXFSZ ignored during --html's write: exit 1, $(cat sig.err)"
else
  echo "FAIL: SIGXFSZ ignored during --html's write: exit $rc, left '$(left)', $(cat sig.err)"
  fails=$((fails + 1))
fi
rm -f ./*.tmp.* page.html
# An existing file this user may not write is refused as a plain write
# would be, not replaced by the rename (root may write any file: a file
# without a write bit is read-only to root too).
echo kept >readonly.html
chmod 444 readonly.html
expect 1 "^heapdiff: readonly.html: cannot write the page: Permission denied$" --html readonly.html $good
expect 1 "^heapdiff: readonly.html: cannot write the profile: Permission denied$" --pprof readonly.html $good
if echo kept | cmp -s - readonly.html && [ -z "$(left)" ]; then
  echo "ok: a read-only file kept"
else
  echo "FAIL: a read-only file replaced: $(ls -l readonly.html) $(left)"; fails=$((fails + 1))
fi
# A file replaced keeps its mode: a private page stays private (mkstemp
# makes 0600, a new file gets the umask's 0644 or so).
echo kept >private.html && chmod 640 private.html
if "$heapdiff" --html private.html $good >/dev/null 2>&1 &&
  [ "$(stat -c %a private.html)" = 640 ] && grep -q '</html>' private.html; then
  echo "ok: a file replaced keeps its mode"
else
  echo "FAIL: a file replaced: $(ls -l private.html)"; fails=$((fails + 1))
fi
rm -f private.html
# As another user (nobody): a writable file in a folder it may not write
# is not what fails, the folder is (the line names it); root's file in a
# folder anyone may write (not sticky) is not nobody's to replace.
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null && id nobody >/dev/null 2>&1; then
  chmod 755 "$dir" && chmod a+r ./*.snap
  mkdir locked open && chmod 777 open
  echo kept >locked/mine.html && chmod 666 locked/mine.html
  echo kept >open/roots.html && chmod 644 open/roots.html
  nobody() { setpriv --reuid=nobody --regid="$(id -g nobody)" --clear-groups "$@"; }
  expect_nobody() {
    local want=$1 pattern=$2 rc=0
    shift 2
    nobody "$heapdiff" "$@" >out 2>err || rc=$?
    if [ "$rc" = "$want" ] && [ "$(wc -l <err)" = 1 ] && grep -Eq -- "$pattern" err; then
      echo "ok: (as nobody) heapdiff $* -> $(cat err)"
    else
      echo "FAIL: (as nobody) heapdiff $* -> exit $rc, stderr:"; cat err; fails=$((fails + 1))
    fi
  }
  tmpline="cannot create a temporary file in /.*/locked \(Permission denied\): the file is written there first, then renamed into place; choose a writable folder$"
  expect_nobody 1 "^heapdiff: locked/mine.html: $tmpline" --html locked/mine.html $good
  expect_nobody 1 "^heapdiff: locked/mine.html: $tmpline" --pprof locked/mine.html $good
  expect_nobody 1 "^heapdiff: open/roots.html: cannot write the page: Permission denied$" --html open/roots.html $good
  expect_nobody 1 "^heapdiff: open/roots.html: cannot write the profile: Permission denied$" --pprof open/roots.html $good
  if echo kept | cmp -s - locked/mine.html && echo kept | cmp -s - open/roots.html &&
    [ "$(stat -c %U open/roots.html)" = root ] && [ -z "$(ls -A open locked | grep '\.tmp\.')" ]; then
    echo "ok: (as nobody) both files kept, root's still root's"
  else
    echo "FAIL: (as nobody) files replaced: $(ls -l locked open | tr '\n' ' ')"
    fails=$((fails + 1))
  fi
  # Root replacing nobody's file keeps its owner, group and mode; nobody
  # replacing root's file that anyone may write keeps its mode (the owner
  # cannot be kept: the new file is nobody's, as with any rename).
  echo kept >open/nobodys.html && chown nobody:"$(id -g nobody)" open/nobodys.html &&
    chmod 640 open/nobodys.html
  echo kept >open/shared.html && chmod 666 open/shared.html
  if "$heapdiff" --pprof open/nobodys.html $good >/dev/null 2>&1 &&
    nobody "$heapdiff" --html open/shared.html $good >/dev/null 2>&1 &&
    [ "$(stat -c '%U %g %a' open/nobodys.html)" = "nobody $(id -g nobody) 640" ] &&
    [ "$(stat -c '%U %a' open/shared.html)" = "nobody 666" ] && grep -q '</html>' open/shared.html; then
    echo "ok: files replaced keep their owner, group and mode where this user may set them"
  else
    echo "FAIL: owner, group or mode of a replaced file: $(ls -ln open | tr '\n' ' ')"
    fails=$((fails + 1))
  fi
  chmod 700 "$dir"
else
  echo "ok (not checked): the checks as user nobody need root and setpriv"
fi
# Over a gate with --json: the JSON on stdout, the line on stderr, exit 1.
expect 1 "^heapdiff: growth [0-9]+ bytes is over --fail-over 1$" --json --fail-over 1 $good server.2.snap
# --folded: a module without symbols whose file name holds ';' (the
# separator) and a control character: one frame all the same.
for n in 1 2; do
  printf 'number %s\ntime %s\nmodule /nonexistent/le;aky\001sv 0x400000 0x500000 0x400000 main\nstack 0x401100 0x402000\nblocks %s 0x1000000 0x100 100 1 0\n' \
    "$n" "$((1000000000 + n))" "$((n * 3))" >odd.$n.spec
  "$MKSNAP" odd.$n.spec odd.$n.snap
done
"$heapdiff" --folded odd.1.snap odd.2.snap >odd.folded 2>odd.err || true
if [ "$(cat odd.folded)" = "le:aky sv+0x2000;le:aky sv+0x1100 300" ]; then
  echo "ok: --folded module names without ';' or control characters"
else
  echo "FAIL: --folded with an odd module name: $(od -c odd.folded | head -3)"
  fails=$((fails + 1))
fi
leftover=$(ls -d p.pb.gz* adir.tmp* 2>/dev/null || true)
if [ -n "$leftover" ]; then
  echo "FAIL: --pprof left $leftover"; fails=$((fails + 1))
else
  echo "ok: --pprof left no file behind"
fi
exit $((fails > 0))
